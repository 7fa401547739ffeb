// What the LMDB board promises beyond the concept: it persists, shares one environment per file,
// refuses what is not a board without touching it, survives corrupt records, grows its map.

#include "common/job_record_v2.hpp"
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

using order_store = decltype(fk::store<"order_id">(0));

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

namespace {

// Entries of one key space of fk.jobs.index: 'r' claimable, 'x' by time (claimed, backing off).
std::size_t index_entries(fk::lmdb_jobboard& board, char space) {
  return board.environment()->read([&](const fk::detail::lmdb_txn& t) {
    MDB_dbi dbi{};
    REQUIRE(mdb_dbi_open(t.handle(), "fk.jobs.index", 0, &dbi) == 0);
    std::size_t n = 0;
    fk::detail::lmdb_cursor cur{t, dbi};
    for (auto kv = cur.first(); kv; kv = cur.next()) n += kv->first[0] == space ? 1 : 0;
    return n;
  });
}

// The stored record of a job, as bytes.
std::string stored_record(fk::lmdb_jobboard& board, const fk::job_id& id) {
  return board.environment()->read([&](const fk::detail::lmdb_txn& t) {
    MDB_dbi dbi{};
    REQUIRE(mdb_dbi_open(t.handle(), "fk.jobs", 0, &dbi) == 0);
    const auto bytes = t.get(dbi, fk::detail::id_key(id));
    REQUIRE(bytes);
    return std::string{*bytes};
  });
}

}  // namespace

TEST_CASE("jobs that back off wait in the expiry index, not among the claimable jobs", "[jobboard]") {
  fk::test::temp_dir dir;
  fk::manual_clock clock;
  fk::lmdb_jobboard board{dir / "board", {.clock = clock}};
  std::vector<fk::job_id> ids;
  for (int i = 0; i < 300; ++i) ids.push_back(board.post("j", checkout{}, fk::store<"order_id">(i)));
  for (int i = 0; i < 300; ++i) board.abandon(board.claim_next("w", 1h)->claim, "busy", 1h);
  CHECK(index_entries(board, 'r') == 0);
  CHECK(index_entries(board, 'x') == 300);
  CHECK_FALSE(board.claim_next("w", 1h));  // claim_next stops at the first future time in 'x'

  const fk::job_id late = board.post("late", checkout{}, fk::store<"order_id">(300));
  CHECK(board.claim_next("w", 2h)->claim.job() == late);
  clock.advance(1h);  // every back-off has ended; late is still held
  const auto n = board.claim_next("v", 1h);
  REQUIRE(n);
  CHECK(n->claim.job() == ids[0]);
  CHECK(index_entries(board, 'r') == 299);  // released once, in job order
  CHECK(index_entries(board, 'x') == 2);    // late, and ids[0]'s new claim
  CHECK(board.jobs(fk::only_unclaimed).size() == 299);
}

TEST_CASE("a job record of version 2 is read, and written as version 3 at the job's next change",
          "[jobboard]") {
  fk::test::temp_dir dir;
  fk::manual_clock clock;
  fk::lmdb_jobboard board{dir / "board", {.clock = clock}};
  const fk::job_id id = board.post("old", checkout{}, fk::store<"order_id">(42), fk::job_priority::high);
  const fk::claim c = board.claim(id, "w", 30s);

  // The record as flowkit wrote it before the history: the same job, as version 2's bytes.
  const fk::job before = board.get(id);
  const fk::detail::job_record r = fk::detail::job_access::record(before);
  const std::string v2 = fk::test::job_record_v2(r);
  REQUIRE(v2.size() == 40 + 7 * 4 + r.owner.size() + r.owner_id.size() + r.name.size() + r.flow.size() +
                           r.flow_detail.size() + r.store_signature.size() + r.store_bytes.size());
  poke(board, "fk.jobs", fk::detail::id_key(id), v2);
  REQUIRE(stored_record(board, id)[0] == 2);

  // Decoded alone: the same record, with no claim time (unknown) and no history.
  fk::detail::job_record expected = r;
  expected.claimed = {};
  CHECK(fk::detail::decode_record(id, v2) == expected);
  const fk::detail::record_view view = fk::detail::view_record(id, v2);
  CHECK(view.owner == "w");
  CHECK(view.token == 1);
  CHECK(view.claimed_at(clock.now()));

  const fk::job j = board.get(id);
  CHECK(j.name() == "old");
  CHECK(j.priority() == fk::job_priority::high);
  CHECK(j.owner() == "w");
  CHECK(j.token() == 1);
  CHECK(j.expires() == c.expires());
  CHECK(j.claimed() == fk::job_time{});
  CHECK(j.attempts().empty());
  CHECK_FALSE(j.not_before());
  CHECK(j.store<order_store>().get<"order_id">() == 42);
  CHECK(board.check().empty());
  CHECK(board.jobs(fk::only_unclaimed).empty());
  CHECK_NOTHROW(board.verify(c));

  // Its claim expires and another owner takes it: the record is version 3 from then on, and its
  // history starts with the old claim (made at an unknown time).
  clock.advance(31s);
  const fk::claim d = board.claim(id, "v", 30s);
  CHECK(stored_record(board, id)[0] == 3);
  const fk::job k = board.get(id);
  REQUIRE(k.attempts().size() == 1);
  CHECK(k.attempts()[0].token == 1);
  CHECK(k.attempts()[0].owner == "w");
  CHECK(k.attempts()[0].claimed == fk::job_time{});
  CHECK(k.attempts()[0].ended == c.expires());
  CHECK(k.attempts()[0].how == fk::attempt_end::expired);
  CHECK(k.claimed() == clock.now());
  board.abandon(d, "later", 5s);
  CHECK(board.get(id).not_before() == clock.now() + 5s);
  CHECK(board.check().empty());

  // A version 2 record that is damaged is still refused.
  std::string bad = v2;
  bad[bad.size() - 1] ^= 0x01;
  CHECK_THROWS_AS(fk::detail::decode_record(id, bad), fk::corrupt_job);
}

TEST_CASE("a version 3 record with a history and a back-off round-trips through its bytes", "[jobboard]") {
  fk::detail::job_record r;
  r.id = fk::job_id::generate();
  r.name = "n";
  r.flow = "f";
  r.sequence = 9;
  r.created = fk::job_time{std::chrono::seconds{1700000000}};
  r.token = 3;
  r.not_before = r.created + 90s;
  r.attempts.push_back({1, "a", "h/1/x", r.created, r.created + 5s, fk::attempt_end::abandoned, "why"});
  r.attempts.push_back({2, "b", "h/2/y", r.created + 6s, r.created + 36s, fk::attempt_end::expired, ""});
  r.attempts.push_back(
      {3, "c", "h/3/z", r.created + 40s, r.created + 41s, fk::attempt_end::revoked, "ops: no"});
  std::string bytes;
  fk::detail::encode_record(r, bytes);
  CHECK(bytes[0] == 3);
  CHECK(fk::detail::decode_record(r.id, bytes) == r);
  CHECK(fk::detail::view_record(r.id, bytes).backing_off_at(r.created + 89s));
  CHECK_FALSE(fk::detail::view_record(r.id, bytes).backing_off_at(r.created + 90s));
  r.not_before.reset();
  fk::detail::encode_record(r, bytes);
  CHECK(fk::detail::decode_record(r.id, bytes) == r);

  // An attempt's end out of range, and a count the bytes cannot hold, are corrupt.
  const std::size_t history = fk::detail::record_header + 7 * 4 + r.name.size() + r.flow.size();
  REQUIRE(fk::detail::get_le(bytes, history, 4) == 3);
  auto damaged = [&](std::size_t at, std::uint64_t value, int width) {
    std::string b = bytes;
    fk::detail::set_le(b, at, value, width);
    fk::detail::set_le(b, 4, fk::detail::record_checksum(b), 4);  // damage the checksum does not see
    return b;
  };
  CHECK_THROWS_WITH(fk::detail::decode_record(r.id, damaged(history + 4 + 24, 7, 1)),
                    Catch::Contains("attempt end 7"));
  CHECK_THROWS_WITH(fk::detail::decode_record(r.id, damaged(history, 1000, 4)), Catch::Contains("overruns"));
  CHECK_THROWS_WITH(fk::detail::decode_record(r.id, damaged(history, 2, 4)),
                    Catch::Contains("trailing bytes"));
  CHECK_THROWS_WITH(fk::detail::decode_record(r.id, damaged(2, 1, 2)), Catch::Contains("reserved"));
  CHECK_NOTHROW(fk::detail::decode_record(r.id, damaged(history + 4 + 24, 2, 1)));
}
