// What the LMDB board promises beyond the concept: it persists, shares one environment per file,
// refuses what is not a board without touching it, survives corrupt records, grows its map.

#include "support.hpp"

#include <flowkit/lmdb.hpp>

#include <catch2/catch.hpp>

#include <lmdb.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fk = flowkit;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fk::test::listing;
using fk::test::poke;
using fk::test::slurp;

namespace {

struct checkout {
  static constexpr fk::name name = "checkout";
};

}  // namespace

TEST_CASE("an LMDB board keeps its jobs, claims and order across reopening", "[jobboard]") {
  fk::test::temp_dir dir;
  fk::job_id first, claimed;
  std::uint64_t token = 0;
  {
    fk::lmdb_jobboard board{dir / "board"};
    first = board.post("a", checkout{}, fk::store<"order_id">(1));
    claimed = board.post("b", checkout{}, fk::store<"order_id">(2));
    token = board.claim(claimed, "w", 1h).token();
  }
  CHECK(listing(dir / "board") == std::vector<std::string>{"data.mdb", "flowkit-notify", "lock.mdb"});
  const std::string before = slurp(dir / "board" / "data.mdb");
  fk::lmdb_jobboard board{dir / "board"};
  CHECK(slurp(dir / "board" / "data.mdb") == before);  // opening an existing board writes nothing
  REQUIRE(board.size() == 2);
  CHECK(board.get(first).store<decltype(fk::store<"order_id">(0))>().get<"order_id">() == 1);
  CHECK(board.get(claimed).owner() == "w");
  CHECK(board.get(claimed).token() == token);
  board.post("c", checkout{}, fk::store<"order_id">(3));
  const auto js = board.jobs();
  REQUIRE(js.size() == 3);
  CHECK(js.back().name() == "c");  // sequence continues: the new job is the youngest
  CHECK(board.check().empty());
}

TEST_CASE("boards on one file in one process share one LMDB environment", "[jobboard]") {
  fk::test::temp_dir dir;
  fk::lmdb_jobboard a{dir / "board"};
  fk::lmdb_jobboard b{dir / "board"};
  fk::lmdb_jobboard c{dir / "board" / "data.mdb"};  // the data file itself: still the same board
  CHECK(a.environment() == b.environment());
  CHECK(a.environment() == c.environment());
  const fk::job_id id = a.post("j", checkout{}, fk::store<"order_id">(1));
  b.claim(id, "w2", 1h);
  CHECK_THROWS_AS(c.claim(id, "w3", 1h), fk::unclaimable_job);
  CHECK(c.get(id).owner() == "w2");

  // One environment has one durability mode.
  CHECK_THROWS_AS((fk::lmdb_jobboard{dir / "board", {.durability = fk::durability::process_crash_safe}}),
                  std::invalid_argument);
}

TEST_CASE("a single-file board lives in one file and its lock file", "[jobboard]") {
  fk::test::temp_dir dir;
  {
    fk::lmdb_jobboard board{dir / "jobs.fkb", {.single_file = true}};
    board.post("j", checkout{}, fk::store<"order_id">(1));
  }
  CHECK(listing(dir.path()) == std::vector<std::string>{"jobs.fkb", "jobs.fkb-lock", "jobs.fkb-notify"});
  fk::lmdb_jobboard again{dir / "jobs.fkb"};  // an existing file opens as a file board
  CHECK(again.size() == 1);
}

TEST_CASE("a path that is not a board is refused and left as it was", "[jobboard]") {
  fk::test::temp_dir dir;

  SECTION("a text file") {
    const fs::path f = dir / "notes.txt";
    std::ofstream{f} << "not a board, and longer than a page header\n";
    try {
      fk::lmdb_jobboard board{f};
      FAIL("opened a text file as a board");
    } catch (const fk::not_a_board& e) {
      CHECK(e.path() == f.string());
      CHECK_THAT(e.what(), Catch::Contains("notes.txt"));
    }
    CHECK(slurp(f) == "not a board, and longer than a page header\n");
    CHECK(listing(dir.path()) == std::vector<std::string>{"notes.txt"});
  }
  SECTION("a directory holding other files") {
    fs::create_directory(dir / "src");
    std::ofstream{dir / "src" / "main.cpp"} << "int main() {}\n";
    CHECK_THROWS_AS(fk::lmdb_jobboard{dir / "src"}, fk::not_a_board);
    CHECK(listing(dir / "src") == std::vector<std::string>{"main.cpp"});
  }
  SECTION("an LMDB environment of someone else") {
    fk::test::make_lmdb_environment(dir / "other", {{"", {{"hello", "world"}}}});
    const std::string before = slurp(dir / "other" / "data.mdb");
    CHECK_THROWS_AS(fk::lmdb_jobboard{dir / "other"}, fk::not_a_board);
    CHECK(slurp(dir / "other" / "data.mdb") == before);
    CHECK(listing(dir / "other") == std::vector<std::string>{"data.mdb", "lock.mdb"});
  }
}

TEST_CASE("a board of a newer or an older format is refused and left as it was", "[jobboard]") {
  fk::test::temp_dir dir;
  const std::uint32_t other = GENERATE(3u, 1u);  // newer, and format 1 (before the claim index)
  {
    fk::lmdb_jobboard board{dir / "board"};
    board.post("j", checkout{}, fk::store<"order_id">(1));
    std::string f(4, '\0');
    f[0] = static_cast<char>(other);
    poke(board, "fk.jobs.meta", "format", f);
  }
  const std::string before = slurp(dir / "board" / "data.mdb");
  try {
    fk::lmdb_jobboard board{dir / "board"};
    FAIL("opened a board of format " << other);
  } catch (const fk::incompatible_board_format& e) {
    CHECK(e.found() == other);
    CHECK(e.supported() == 2);
    CHECK_THAT(e.what(), Catch::Contains((dir / "board").string()));
    CHECK_THAT(e.what(), Catch::Contains("format " + std::to_string(other)));
  }
  CHECK(slurp(dir / "board" / "data.mdb") == before);
}

TEST_CASE("a corrupt job record is skipped and reported and the others are served", "[jobboard]") {
  fk::test::temp_dir dir;
  fk::lmdb_jobboard board{dir / "board"};
  std::vector<fk::job_event> reported;
  board.listen([&](const fk::job_event& e) {
    if (e.kind == fk::job_event_kind::corrupt) reported.push_back(e);
  });
  const fk::job_id a = board.post("a", checkout{}, fk::store<"order_id">(1));
  const fk::job_id b = board.post("b", checkout{}, fk::store<"order_id">(2));
  const fk::job_id c = board.post("c", checkout{}, fk::store<"order_id">(3));
  const std::string key{fk::detail::id_key(b)};

  SECTION("garbage") { poke(board, "fk.jobs", key, "garbage"); }
  SECTION("a flipped byte") {
    std::string rec;
    board.environment()->read([&](const fk::detail::lmdb_txn& t) {
      MDB_dbi dbi{};
      REQUIRE(mdb_dbi_open(t.handle(), "fk.jobs", 0, &dbi) == 0);
      rec = std::string{*t.get(dbi, key)};
    });
    rec[rec.size() - 3] ^= 0x20;
    poke(board, "fk.jobs", key, rec);
  }

  const auto js = board.jobs();
  REQUIRE(js.size() == 2);
  CHECK(js[0].id() == a);
  CHECK(js[1].id() == c);
  REQUIRE(reported.size() == 1);
  CHECK(reported[0].job == b);
  CHECK_THAT(reported[0].detail, Catch::Contains(b.str()));

  CHECK_THROWS_AS(board.get(b), fk::corrupt_job);
  CHECK_THROWS_AS(board.claim(b, "w", 1h), fk::corrupt_job);
  CHECK(board.claim_next("w", 1h)->claim.job() == a);
  CHECK(board.claim_next("w", 1h)->claim.job() == c);
  CHECK_FALSE(board.claim_next("w", 1h));
  const auto bad = board.check();
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].job_id() == b.str());
}

TEST_CASE("the map grows when the board fills it", "[jobboard]") {
  fk::test::temp_dir dir;
  fk::lmdb_jobboard board{dir / "board", {.map_size = std::size_t{1} << 20}};
  const std::size_t start = board.environment()->map_size();
  const std::string payload(16 * 1024, 'x');
  for (int i = 0; i < 200; ++i) board.post("j", checkout{}, fk::store<"blob">(payload));
  CHECK(board.size() == 200);
  CHECK(board.environment()->map_size() > start);
  CHECK(board.jobs().size() == 200);

  fk::lmdb_jobboard small{dir / "small",
                          {.map_size = std::size_t{1} << 20, .max_map_size = std::size_t{1} << 20}};
  CHECK_THROWS_AS(
      [&] {
        for (int i = 0; i < 200; ++i) small.post("j", checkout{}, fk::store<"blob">(payload));
      }(),
      fk::lmdb_error);
}

TEST_CASE("a claim's fencing token can be checked, also inside another transaction", "[jobboard]") {
  fk::test::temp_dir dir;
  fk::lmdb_jobboard board{dir / "board"};
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  const fk::claim c = board.claim(id, "w", 1h);
  CHECK_NOTHROW(board.verify(c));
  CHECK_NOTHROW(board.environment()->read([&](const fk::detail::lmdb_txn& t) { board.verify(c, t); }));
  board.abandon(c);
  const fk::claim d = board.claim(id, "v", 1h);
  CHECK_THROWS_AS(board.verify(c), fk::claim_lost);
  CHECK_THROWS_AS(board.environment()->read([&](const fk::detail::lmdb_txn& t) { board.verify(c, t); }),
                  fk::claim_lost);
  CHECK_NOTHROW(board.verify(d));

  // An operator's revoke fences the holder's checkpoint writes too.
  board.revoke(id, "admin", "moved to another host");
  CHECK_THROWS_AS(board.verify(d), fk::claim_lost);
  CHECK_THROWS_AS(board.environment()->read([&](const fk::detail::lmdb_txn& t) { board.verify(d, t); }),
                  fk::claim_lost);
  CHECK(board.reader_check() == 0);
}

TEST_CASE("every job is claimable or claimed in the index after every kind of change", "[jobboard]") {
  fk::test::temp_dir dir;
  fk::manual_clock clock;
  fk::lmdb_jobboard board{dir / "board", {.clock = clock}};
  // Entries of one key space of fk.jobs.index: 'r' claimable, 'x' claimed (by expiry).
  auto count = [&](char space) {
    return board.environment()->read([&](const fk::detail::lmdb_txn& t) {
      MDB_dbi dbi{};
      REQUIRE(mdb_dbi_open(t.handle(), "fk.jobs.index", 0, &dbi) == 0);
      std::size_t n = 0;
      fk::detail::lmdb_cursor cur{t, dbi};
      for (auto kv = cur.first(); kv; kv = cur.next()) n += kv->first[0] == space ? 1 : 0;
      return n;
    });
  };
  std::vector<fk::job_id> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(board.post("j", checkout{}, fk::store<"order_id">(i)));
  CHECK(count('r') == 10);
  CHECK(count('x') == 0);
  std::vector<fk::claim> held;  // ids 0, 2..9
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (i != 1) held.push_back(board.claim(ids[i], "w", 1h));
  board.claim(ids[1], "w", 30s);
  CHECK(count('r') == 0);
  CHECK(count('x') == 10);
  clock.advance(31s);
  REQUIRE(board.wait(0s));       // ids[1]'s claim expired (nothing else is claimable)
  board.claim(ids[0], "w", 2h);  // renewal
  board.extend(held[0], 3h);
  board.abandon(held[1]);       // ids[2]
  board.consume(held[2]);       // ids[3]
  board.trash(held[8], "why");  // ids[9]
  CHECK(count('r') == 1);
  CHECK(count('x') == 7);
  CHECK(board.claim_next("v", 1h)->claim.job() == ids[1]);  // expired: moved to ready and taken first
  CHECK(count('r') == 1);
  CHECK(count('x') == 7);
  CHECK(count('r') + count('x') == board.size());
  const auto listed = board.jobs();  // both key spaces merged back into job order
  REQUIRE(listed.size() == 8);
  for (std::size_t i = 1; i < listed.size(); ++i) CHECK(listed[i - 1].created() <= listed[i].created());
  CHECK(board.size() == 8);
}
