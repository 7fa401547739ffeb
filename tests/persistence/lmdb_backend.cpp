// What the LMDB backend promises beyond the concept: it persists across processes, shares one
// environment per file with jobboards, keeps batches whole when its writer is killed, refuses
// what is not a store (or a store it cannot read) without touching it, refuses corrupt records
// naming run and atom, and grows its map up to a limit. Children are forked before any thread
// exists; nothing here sleeps to synchronise.

#include "support.hpp"

#include <flowkit/jobs/lmdb_jobboard.hpp>
#include <flowkit/persistence/lmdb_backend.hpp>

#include <catch2/catch.hpp>

#include <lmdb.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fk = flowkit;
namespace fs = std::filesystem;
using fk::test::listing;
using fk::test::poke;
using fk::test::result_of;
using fk::test::slurp;
using fk::test::spec_of;
using fk::test::succeeded;
using namespace std::chrono_literals;

namespace {

struct checkout {
  static constexpr fk::name name = "checkout";
};

std::string peek(fk::lmdb_backend& b, const char* db, std::string_view key) {
  return b.environment()->read([&](const fk::detail::lmdb_txn& t) {
    MDB_dbi dbi{};
    REQUIRE(mdb_dbi_open(t.handle(), db, 0, &dbi) == 0);
    const auto v = t.get(dbi, key);
    REQUIRE(v);
    return std::string{*v};
  });
}

std::string atom_key(std::string_view run, std::string_view atom) {
  std::string k;
  fk::detail::ckpt::atom_key(run, atom, k);
  return k;
}

}  // namespace

TEST_CASE("an LMDB store keeps its runs across reopening and reopening writes nothing", "[persistence]") {
  fk::test::temp_dir dir;
  {
    fk::lmdb_backend b{dir / "store"};
    b.open_run(spec_of("r1"));
    fk::batch changes;
    changes.put(succeeded("a", 1));
    changes.set_flow_state(fk::flow_state::running);
    b.commit("r1", changes);
  }
  CHECK(listing(dir / "store") == std::vector<std::string>{"data.mdb", "lock.mdb"});
  const std::string before = slurp(dir / "store" / "data.mdb");
  fk::lmdb_backend b{dir / "store"};
  CHECK(slurp(dir / "store" / "data.mdb") == before);
  const auto r = b.load_run("r1");
  REQUIRE(r);
  CHECK(r->flow.state == fk::flow_state::running);
  REQUIRE(r->atoms.size() == 1);
  CHECK(result_of(r->atoms[0]) == 1);
  CHECK(slurp(dir / "store" / "data.mdb") == before);  // reading writes nothing either
}

TEST_CASE("another process reads what this one committed and this one reads what it commits",
          "[persistence][multiprocess]") {
  fk::test::temp_dir dir;
  const auto path = dir / "store";
  fk::lmdb_backend b{path};  // open across the fork: the child must get its own environment
  b.open_run(spec_of("r1"));
  fk::batch changes;
  changes.put(succeeded("parent", 1));
  b.commit("r1", changes);

  const pid_t child = fk::test::spawn([&] {
    fk::lmdb_backend mine{path};
    if (mine.environment() == b.environment()) return 2;
    const auto r = mine.load_run("r1");
    if (!r || r->atoms.size() != 1 || fk::deserialize_from<int>(*r->atoms[0].result_bytes()) != 1) return 3;
    fk::batch more;
    more.put(succeeded("child", 2));
    more.set_flow_state(fk::flow_state::success);
    mine.commit("r1", more);
    return 0;
  });
  REQUIRE(fk::test::join(child) == 0);
  const auto r = b.load_run("r1");
  CHECK(r->flow.state == fk::flow_state::success);
  REQUIRE(r->atoms.size() == 2);
  CHECK(r->atoms[0].name == "child");
  CHECK(result_of(r->atoms[0]) == 2);
  CHECK(b.reader_check() == 0);
}

TEST_CASE("a writer killed with SIGKILL leaves each batch wholly written or not at all",
          "[persistence][multiprocess]") {
  const auto mode = GENERATE(fk::durability::power_loss_safe, fk::durability::process_crash_safe);
  const int kill_after = GENERATE(1, 3, 7);
  CAPTURE(static_cast<int>(mode), kill_after);
  constexpr int atoms = 300;
  fk::test::temp_dir dir;
  const auto path = dir / "store";
  fk::batch changes;
  auto fill = [&](int generation) {
    changes.clear();
    for (int i = 0; i < atoms; ++i) {
      fk::atom_detail& a = changes.next();
      a.name = "atom-" + std::to_string(i);
      a.state = fk::atom_state::success;
      a.version = static_cast<std::uint32_t>(generation);
      a.result = std::string(200, static_cast<char>('a' + generation % 26));
    }
    changes.set_flow_state(generation % 2 ? fk::flow_state::running : fk::flow_state::suspended);
  };
  {
    fk::lmdb_backend b{path, {.durability = mode}};
    b.open_run(spec_of("r1"));
    fill(0);
    b.commit("r1", changes);
  }

  fk::test::channel committed;
  const pid_t writer = fk::test::spawn([&]() -> int {
    fk::lmdb_backend mine{path, {.durability = mode}};
    for (int g = 1;; ++g) {
      fill(g);
      mine.commit("r1", changes);
      committed.send_value(g);
    }
  });
  int seen = 0;
  while (seen < kill_after) seen = committed.receive_value<int>();
  ::kill(writer, SIGKILL);  // the writer is somewhere in its next batches, likely inside a commit
  REQUIRE(fk::test::join(writer) == 128 + SIGKILL);

  fk::lmdb_backend b{path, {.durability = mode}};
  const auto r = b.load_run("r1");
  REQUIRE(r);
  REQUIRE(r->atoms.size() == std::size_t{atoms});
  const std::uint32_t generation = r->atoms[0].version;
  CHECK(generation >= static_cast<std::uint32_t>(seen));  // what the writer reported committed is there
  for (const fk::atom_detail& a : r->atoms) {
    CHECK(a.version == generation);
    CHECK(*a.result_bytes() == std::string(200, static_cast<char>('a' + generation % 26)));
  }
  CHECK(r->flow.state == (generation % 2 ? fk::flow_state::running : fk::flow_state::suspended));
  // The store takes new commits after the crash.
  fill(static_cast<int>(generation) + 1);
  b.commit("r1", changes);
  CHECK(b.load_run("r1")->atoms[0].version == generation + 1);
}

TEST_CASE("a backend and a jobboard on one file share one environment and a guard checks a claim",
          "[persistence]") {
  fk::test::temp_dir dir;
  fk::lmdb_jobboard board{dir / "store"};
  fk::lmdb_backend b{dir / "store"};
  fk::lmdb_backend again{dir / "store" / "data.mdb"};
  CHECK(b.environment() == board.environment());
  CHECK(again.environment() == b.environment());

  const fk::job_id id = board.post("order 42", checkout{}, fk::store<"order_id">(42));
  const fk::claim mine = board.claim(id, "worker-1", 1h);
  b.open_run(spec_of(id.str()));
  fk::batch changes;
  changes.put(succeeded("fetch", 1));
  const auto fenced = [&](const fk::claim& c) {
    return [&](fk::detail::lmdb_txn& t) { board.verify(c, t); };
  };
  b.commit(id.str(), changes, fenced(mine));
  CHECK(b.load_run(id.str())->atoms.size() == 1);

  // The claim is lost: another owner takes the job. The old owner's checkpoint is refused whole.
  board.abandon(mine);
  const fk::claim theirs = board.claim(id, "worker-2", 1h);
  changes.clear();
  changes.put(succeeded("fetch", 2));
  changes.put(succeeded("charge", 3));
  CHECK_THROWS_AS(b.commit(id.str(), changes, fenced(mine)), fk::claim_lost);
  auto r = b.load_run(id.str());
  REQUIRE(r->atoms.size() == 1);
  CHECK(result_of(r->atoms[0]) == 1);
  b.commit(id.str(), changes, fenced(theirs));
  CHECK(b.load_run(id.str())->atoms.size() == 2);

  // The board still reads as a board, and both kinds of data reopen.
  CHECK(board.size() == 1);
  CHECK(board.check().empty());
  // One environment has one durability mode.
  CHECK_THROWS_AS((fk::lmdb_backend{dir / "store", {.durability = fk::durability::process_crash_safe}}),
                  std::invalid_argument);
}

TEST_CASE("a jobboard opens a file that holds a checkpoint store", "[persistence]") {
  fk::test::temp_dir dir;
  {
    fk::lmdb_backend b{dir / "store.fk", {.single_file = true}};
    b.open_run(spec_of("r1"));
  }
  fk::lmdb_jobboard board{dir / "store.fk"};
  fk::lmdb_backend b{dir / "store.fk"};
  CHECK(board.environment() == b.environment());
  CHECK(b.load_run("r1"));
}

TEST_CASE("durability modes set the environment's sync flags", "[persistence]") {
  fk::test::temp_dir dir;
  const auto [mode, flag] = GENERATE(std::pair{fk::durability::power_loss_safe, 0u},
                                     std::pair{fk::durability::no_meta_sync, unsigned{MDB_NOMETASYNC}},
                                     std::pair{fk::durability::process_crash_safe, unsigned{MDB_NOSYNC}});
  fk::lmdb_backend b{dir / "store", {.durability = mode}};
  unsigned flags = 0;
  REQUIRE(mdb_env_get_flags(b.environment()->handle(), &flags) == 0);
  CHECK((flags & (MDB_NOSYNC | MDB_NOMETASYNC)) == flag);
  b.open_run(spec_of("r1"));
  CHECK_NOTHROW(b.sync());
}

TEST_CASE("a corrupt record is refused naming the run and the atom", "[persistence]") {
  fk::test::temp_dir dir;
  fk::lmdb_backend b{dir / "store"};
  b.open_run(spec_of("r1"));
  b.open_run(spec_of("r2"));
  fk::batch changes;
  changes.put(succeeded("fetch", 1));
  changes.put(succeeded("charge", 2));
  b.commit("r1", changes);
  b.commit("r2", changes);

  SECTION("an atom's record") {
    std::string rec = peek(b, "fk.atoms", atom_key("r1", "charge"));
    rec[rec.size() - 6] ^= 0x01;
    poke(b, "fk.atoms", atom_key("r1", "charge"), rec);
    try {
      (void)b.load_run("r1");
      FAIL("loaded a corrupt atom record");
    } catch (const fk::corrupt_record& e) {
      CHECK(e.run() == "r1");
      CHECK(e.atom() == "charge");
      CHECK_THAT(e.what(),
                 Catch::Contains("'r1'") && Catch::Contains("'charge'") && Catch::Contains("checksum"));
    }
    CHECK_THROWS_AS(b.open_run(spec_of("r1")), fk::corrupt_record);
    CHECK(b.load_run("r2")->atoms.size() == 2);  // the other run is served
  }
  SECTION("a run's flow detail") {
    poke(b, "fk.runs", "r1", "garbage");
    try {
      (void)b.load_run("r1");
      FAIL("loaded a corrupt flow detail");
    } catch (const fk::corrupt_record& e) {
      CHECK(e.run() == "r1");
      CHECK(e.atom().empty());
      CHECK_THAT(e.what(), Catch::Contains("flow detail of run 'r1'"));
    }
    CHECK_THROWS_AS(b.commit("r1", changes), fk::corrupt_record);  // a commit does not paper over it
    CHECK_THROWS_AS(b.runs(), fk::corrupt_record);
    CHECK(b.load_run("r2")->atoms.size() == 2);
  }
}

TEST_CASE("a path that is not a checkpoint store is refused and left as it was", "[persistence]") {
  fk::test::temp_dir dir;

  SECTION("a text file") {
    const fs::path f = dir / "notes.txt";
    std::ofstream{f} << "not a store, and longer than a page header\n";
    try {
      fk::lmdb_backend b{f};
      FAIL("opened a text file as a store");
    } catch (const fk::not_a_store& e) {
      CHECK(e.path() == f.string());
      CHECK_THAT(e.what(), Catch::Contains("notes.txt"));
    }
    CHECK(slurp(f) == "not a store, and longer than a page header\n");
    CHECK(listing(dir.path()) == std::vector<std::string>{"notes.txt"});
  }
  SECTION("a directory holding other files") {
    fs::create_directory(dir / "src");
    std::ofstream{dir / "src" / "main.cpp"} << "int main() {}\n";
    CHECK_THROWS_AS(fk::lmdb_backend{dir / "src"}, fk::not_a_store);
    CHECK(listing(dir / "src") == std::vector<std::string>{"main.cpp"});
  }
  SECTION("an LMDB environment of someone else") {
    fk::test::make_lmdb_environment(dir / "other", {{"", {{"hello", "world"}}}});
    const std::string before = slurp(dir / "other" / "data.mdb");
    try {
      fk::lmdb_backend b{dir / "other"};
      FAIL("opened a foreign LMDB environment");
    } catch (const fk::not_a_store& e) {
      CHECK_THAT(e.what(), Catch::Contains((dir / "other").string()));
    }
    CHECK(slurp(dir / "other" / "data.mdb") == before);
    CHECK(listing(dir / "other") == std::vector<std::string>{"data.mdb", "lock.mdb"});
  }
  SECTION("fk.runs.meta of something else") {
    {
      fk::lmdb_backend b{dir / "store"};
      poke(b, "fk.runs.meta", "kind", "flowkit.something-else");
    }
    const std::string before = slurp(dir / "store" / "data.mdb");
    CHECK_THROWS_AS(fk::lmdb_backend{dir / "store"}, fk::not_a_store);
    CHECK(slurp(dir / "store" / "data.mdb") == before);
  }
}

TEST_CASE("a store of a newer format is refused and left as it was", "[persistence]") {
  fk::test::temp_dir dir;
  {
    fk::lmdb_backend b{dir / "store"};
    b.open_run(spec_of("r1"));
    poke(b, "fk.runs.meta", "format", std::string{"\x02\x00\x00\x00", 4});
  }
  const std::string before = slurp(dir / "store" / "data.mdb");
  try {
    fk::lmdb_backend b{dir / "store"};
    FAIL("opened a store of a newer format");
  } catch (const fk::incompatible_store_format& e) {
    CHECK(e.found() == 2);
    CHECK(e.supported() == 1);
    CHECK(e.path() == (dir / "store").string());
    CHECK_THAT(e.what(), Catch::Contains((dir / "store").string()));
  }
  CHECK(slurp(dir / "store" / "data.mdb") == before);
}

TEST_CASE("the map grows for a run bigger than it and a limit is refused naming its size", "[persistence]") {
  fk::test::temp_dir dir;
  constexpr std::size_t one_mib = std::size_t{1} << 20;
  const std::string payload(16 * 1024, 'x');
  fk::batch changes;
  auto commit_atoms = [&](fk::lmdb_backend& b, int from, int to) {
    changes.clear();
    for (int i = from; i < to; ++i) {
      fk::atom_detail& a = changes.next();
      a.name = "atom-" + std::to_string(i);
      a.state = fk::atom_state::success;
      a.result = payload;
    }
    b.commit("big", changes);
  };

  fk::lmdb_backend b{dir / "store", {.map_size = one_mib}};
  const std::size_t start = b.environment()->map_size();
  b.open_run(spec_of("big"));
  for (int i = 0; i < 300; i += 10) commit_atoms(b, i, i + 10);  // about 5 MiB of results
  CHECK(b.environment()->map_size() > start);
  const auto r = b.load_run("big");
  REQUIRE(r->atoms.size() == 300);
  for (const auto& a : r->atoms) CHECK(*a.result_bytes() == payload);

  fk::lmdb_backend small{dir / "small", {.map_size = one_mib, .max_map_size = one_mib}};
  small.open_run(spec_of("big"));
  commit_atoms(small, 0, 10);
  try {
    commit_atoms(small, 10, 100);
    FAIL("committed past the map's limit");
  } catch (const fk::store_full& e) {
    CHECK(e.limit() == one_mib);
    CHECK_THAT(e.what(), Catch::Contains("1048576") && Catch::Contains((dir / "small").string()));
  }
  CHECK(small.load_run("big")->atoms.size() == 10);  // the batch that did not fit wrote nothing
}

TEST_CASE("commits that wait for a transaction share the next one and a refused guard undoes its batch only",
          "[persistence]") {
  fk::test::temp_dir dir;
  fk::lmdb_backend b{dir / "store", {.durability = fk::durability::process_crash_safe}};
  b.open_run(spec_of("r1"));
  auto last_txn = [&] {
    MDB_envinfo info{};
    mdb_env_info(b.environment()->handle(), &info);
    return info.me_last_txnid;
  };
  const auto before = last_txn();

  std::atomic<bool> a_in_guard{false};
  std::thread::id b_guard_thread, c_guard_thread;
  std::exception_ptr c_error;
  auto batch_of = [](const std::string& name, int v) {
    fk::batch out;
    out.put(succeeded(name, v));
    return out;
  };
  const fk::batch ba = batch_of("a", 1), bb = batch_of("b", 2), bc = batch_of("c", 3);
  std::thread ta{[&] {
    b.commit("r1", ba, [&](fk::lmdb_backend::transaction&) {
      a_in_guard = true;
      while (b.waiting_commits() < 2) std::this_thread::yield();  // b and c queue behind this transaction
    });
  }};
  while (!a_in_guard) std::this_thread::yield();
  std::thread tb{[&] {
    b.commit("r1", bb, [&](fk::lmdb_backend::transaction&) { b_guard_thread = std::this_thread::get_id(); });
  }};
  std::thread tc{[&] {
    try {
      b.commit("r1", bc, [&](fk::lmdb_backend::transaction&) {
        c_guard_thread = std::this_thread::get_id();
        throw std::runtime_error("c refused");
      });
    } catch (...) {
      c_error = std::current_exception();
    }
  }};
  ta.join();
  tb.join();
  tc.join();

  CHECK(last_txn() == before + 2);          // a's transaction, then one for b and c together
  CHECK(b_guard_thread == c_guard_thread);  // one thread wrote both
  REQUIRE(c_error);
  CHECK_THROWS_WITH(std::rethrow_exception(c_error), "c refused");
  const auto r = b.load_run("r1");
  REQUIRE(r->atoms.size() == 2);  // c's batch was undone, b's kept
  CHECK(r->atoms[0].name == "a");
  CHECK(r->atoms[1].name == "b");
  CHECK(b.waiting_commits() == 0);
}
