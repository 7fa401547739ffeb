// The LMDB checkpoint store under faults: a truncated file, a full disk (while creating the store
// and while committing), a read-only filesystem, permission denied, a missing parent, a mistyped
// path (must_exist). Every case that could kill a process (SIGBUS) runs in a forked child, so that
// a regression fails the test instead of the test runner; children report through a pipe and only
// the parent asserts. Disks are real: real store files truncated, a real tmpfs filled up (mounted
// in the child's private mount namespace, so it vanishes with the child and needs no clean-up).

#include "support.hpp"

#include <flowkit/flowkit.hpp>
#include <flowkit/jobs/lmdb_jobboard.hpp>
#include <flowkit/persistence/lmdb_backend.hpp>
#include <flowkit/persistence/persist.hpp>

#include <catch2/catch.hpp>

#include <lmdb.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace fk = flowkit;
namespace fs = std::filesystem;
using Catch::Contains;
using fk::test::attempt;
using fk::test::cat;
using fk::test::child_result;
using fk::test::in_child;
using fk::test::listing;
using fk::test::report;
using fk::test::slurp;
using fk::test::spec_of;
using fk::test::starts_with;

namespace {

// Batch i of run r1: one atom, "a<i>", whose result is (i, payload).
const fk::batch& batch_number(fk::batch& b, int i, const std::string& payload) {
  b.clear();
  fk::atom_detail& a = b.next();
  a.name = fk::test::numbered("a", i);
  a.state = fk::atom_state::success;
  fk::serialize_to(a.result.emplace<std::string>(), std::make_pair(i, payload));
  return b;
}

// How many atoms of r1 are stored, if each is the batch that wrote it; -1 otherwise.
long sound_batches(const fk::lmdb_backend& store) {
  const auto run = store.load_run("r1");
  if (!run) return -1;
  std::set<int> seen;
  for (const fk::atom_detail& a : run->atoms) {
    if (!a.result_bytes()) return -1;
    const auto [i, payload] = fk::deserialize_from<std::pair<int, std::string>>(*a.result_bytes());
    if (a.name != fk::test::numbered("a", i) || !seen.insert(i).second) return -1;
  }
  // Committed in order: batches 0..n-1, no gap.
  if (!seen.empty() && (*seen.begin() != 0 || *seen.rbegin() != static_cast<int>(seen.size()) - 1)) return -1;
  return static_cast<long>(seen.size());
}

void make_store(const fs::path& path, int batches) {
  fk::lmdb_backend store{path, {.durability = fk::durability::process_crash_safe}};
  store.open_run(spec_of("r1"));
  fk::batch b;
  const std::string payload(200, 'p');
  for (int i = 0; i < batches; ++i) store.commit("r1", batch_number(b, i, payload));
}

}  // namespace

TEST_CASE("a truncated checkpoint store is refused at open naming its file and nothing dies of SIGBUS",
          "[persistence][faults]") {
  fk::test::temp_dir dir;
  const fs::path original = dir / "original";
  make_store(original, 3000);
  const auto full = fs::file_size(original / "data.mdb");
  REQUIRE(full > 100 * 4096);

  // 1/2, 1/4, 1/10 of the file, and less than LMDB's two meta pages.
  const std::uintmax_t cut = GENERATE_COPY(full / 2, full / 4, full / 10, std::uintmax_t{6000});
  const fs::path store = dir / "cut";
  fs::copy(original, store, fs::copy_options::recursive);
  fs::resize_file(store / "data.mdb", cut);
  INFO("data.mdb cut from " << full << " to " << cut << " bytes");

  const child_result r = in_child([&](report& rep) {
    rep.set("open", attempt([&] {
              fk::lmdb_backend s{store};
              // Had it opened, these read pages past the end of the file: SIGBUS.
              rep.set("atoms", std::to_string(sound_batches(s)));
              rep.set("runs", std::to_string(s.runs().size()));
            }));
    try {
      fk::lmdb_backend s{store, {.must_exist = true}};
    } catch (const fk::corrupt_store& e) {
      rep.set("type", "corrupt_store");
      rep.set("path", e.path());
    } catch (...) {
    }
    // The board refuses the same file with its own error.
    rep.set("board", attempt([&] { fk::lmdb_jobboard b{store}; }));
    return 0;
  });
  REQUIRE(r.code == 0);  // 135: the child died of SIGBUS
  CHECK_THAT(r.values.at("open"),
             Contains(cat("store: flowkit: checkpoint store file ", (store / "data.mdb").string())) &&
                 Contains("truncated"));
  CHECK(r.values.at("type") == "corrupt_store");
  CHECK(r.values.at("path") == (store / "data.mdb").string());
  CHECK(r.values.count("atoms") == 0);
  CHECK_THAT(r.values.at("board"),
             Contains(cat("board: flowkit: jobboard file ", (store / "data.mdb").string())) &&
                 Contains("truncated"));
  CHECK(slurp(store / "data.mdb").size() == cut);  // refused, not repaired or grown
  CHECK(fk::test::listing(store) == std::vector<std::string>{"data.mdb", "lock.mdb"});
}

TEST_CASE(
    "on a full disk creating a store and committing fail with no space left on device and no commit is lost",
    "[persistence][faults]") {
  fk::test::temp_dir dir;
  const fs::path mnt = dir / "mnt";
  fs::create_directory(mnt);
  const child_result r = fk::test::in_child_on_tmpfs(mnt, std::size_t{4} << 20, [&](report& rep) {
    const fs::path filler = mnt / "filler";

    // A new store on a full filesystem.
    fk::test::fill_filesystem(filler);
    rep.set("full.open", attempt([&] { fk::lmdb_backend s{mnt / "new"}; }));
    try {
      fk::lmdb_backend s{mnt / "new"};
    } catch (const fk::storage_error& e) {
      rep.set("full.is_io_error", dynamic_cast<const fk::io_error*>(&e) ? "yes" : "no");
      rep.set("full.is_persistence_error", dynamic_cast<const fk::persistence_error*>(&e) ? "yes" : "no");
    }
    fs::remove_all(mnt / "new");

    // Every amount of free space from none to enough: each step fails at a later file (the lock
    // file, LMDB's first pages, the store's first commit) or opens, creates a run and commits.
    fk::batch b;
    fk::test::sweep_free_space(rep, filler, mnt / "sweep", [&](const fs::path& p) {
      fk::lmdb_backend s{p};
      s.open_run(spec_of("r1"));
      s.commit("r1", batch_number(b, 0, "x"));
    });

    // Committing until the disk is full: the commit that does not fit fails, the others stay.
    fs::remove(filler);
    const fs::path path = mnt / "store";
    long committed = 0;
    {
      fk::lmdb_backend s{path};
      s.open_run(spec_of("r1"));
      for (; committed < 20; ++committed)
        s.commit("r1", batch_number(b, static_cast<int>(committed), "small"));
      fk::test::fill_filesystem(filler);
      const std::string big(16 * 1024, 'x');
      std::string outcome = "ok";
      for (int i = 0; i < 100000 && outcome == "ok"; ++i) {
        outcome = attempt([&] { s.commit("r1", batch_number(b, static_cast<int>(committed), big)); });
        if (outcome == "ok") ++committed;
      }
      rep.set("commit", outcome);
      // The store stays usable: a failed commit was aborted whole.
      rep.set("after_failure.atoms", std::to_string(sound_batches(s)));
    }
    rep.set("committed", std::to_string(committed));
    rep.set("reopen", attempt([&] {
              fk::lmdb_backend s{path, {.must_exist = true}};
              rep.set("reopen.atoms", std::to_string(sound_batches(s)));
            }));
    fs::remove(filler);
    rep.set("after_freeing", attempt([&] {
              fk::lmdb_backend s{path};
              s.commit("r1", batch_number(b, static_cast<int>(committed), "small"));
              rep.set("after_freeing.atoms", std::to_string(sound_batches(s)));
            }));
    return 0;
  });
  if (fk::test::skipped(
          r,
          "skipped: cannot mount a tmpfs in a private mount namespace here (needs root or user namespaces)"))
    return;
  REQUIRE(r.code == 0);  // 135: SIGBUS
  const auto& v = r.values;
  CHECK_THAT(v.at("full.open"), Contains("nospace: flowkit: ") && Contains("no space left on device") &&
                                    Contains((mnt / "new").string()));
  CHECK(v.at("full.is_io_error") == "yes");
  CHECK(v.at("full.is_persistence_error") == "no");

  fk::test::check_sweep(v, mnt / "sweep", {"lock.mdb", "data.mdb"});

  CHECK_THAT(v.at("commit"), Contains("nospace: ") && Contains("no space left on device") &&
                                 Contains((mnt / "store" / "data.mdb").string()));
  const long committed = std::stol(v.at("committed"));
  CHECK(committed >= 20);
  CHECK(std::stol(v.at("after_failure.atoms")) == committed);
  CHECK(v.at("reopen") == "ok");  // an existing store opens on a full disk
  CHECK(std::stol(v.at("reopen.atoms")) == committed);
  CHECK(v.at("after_freeing") == "ok");
  CHECK(std::stol(v.at("after_freeing.atoms")) == committed + 1);
}

TEST_CASE("errors of the storage under a checkpoint store are io_errors that name the path",
          "[persistence][faults]") {
  fk::test::temp_dir dir;

  fk::test::check_missing_parent<fk::lmdb_backend, fk::persistence_error>(dir, "store");
  SECTION("permission denied") {
    fk::test::check_permission_denied(
        dir, "store", [](const fs::path& p) { make_store(p, 3); },
        [](const fs::path& p) { fk::lmdb_backend s{p}; });
  }
  SECTION("a read-only filesystem") {
    fk::test::check_read_only_filesystem(
        dir, "store", [](const fs::path& p) { make_store(p, 3); },
        [](const fs::path& p) { fk::lmdb_backend s{p}; });
  }
  SECTION("a store at its maximum map size is full: a persistence_error, not an io_error") {
    fk::lmdb_backend small{dir / "small",
                           {.map_size = std::size_t{1} << 20, .max_map_size = std::size_t{1} << 20}};
    small.open_run(spec_of("r1"));
    fk::batch b;
    const std::string payload(16 * 1024, 'x');
    try {
      for (int i = 0; i < 200; ++i) small.commit("r1", batch_number(b, i, payload));
      FAIL("a 1 MiB map held 3 MiB");
    } catch (const fk::storage_error& e) {
      CHECK(dynamic_cast<const fk::store_full*>(&e));
      CHECK_FALSE(dynamic_cast<const fk::io_error*>(&e));
      CHECK_THAT(e.what(), Contains(dir.path().string()));
    }
  }
}

TEST_CASE("must_exist opens only a checkpoint store that exists", "[persistence][faults]") {
  fk::test::temp_dir dir;
  const fk::lmdb_backend_options only_existing{.must_exist = true};

  SECTION("a mistyped path") {
    const fs::path p = dir / "chekpoints";
    try {
      fk::lmdb_backend store{p, only_existing};
      FAIL("opened a store that does not exist");
    } catch (const fk::store_not_found& e) {
      CHECK(e.path() == p.string());
      CHECK_THAT(e.what(), Contains(p.string()) && Contains("does not exist"));
    }
    fk::lmdb_backend_options single = only_existing;
    single.single_file = true;
    CHECK_THROWS_AS((fk::lmdb_backend{dir / "runs.fks", single}), fk::store_not_found);
    CHECK(listing(dir.path()).empty());
  }
  SECTION("an empty directory") {
    fs::create_directory(dir / "empty");
    CHECK_THROWS_AS((fk::lmdb_backend{dir / "empty", only_existing}), fk::store_not_found);
    CHECK(listing(dir / "empty").empty());
  }
  SECTION("a jobboard's file without a store") {
    { fk::lmdb_jobboard board{dir / "board"}; }
    const std::string before = slurp(dir / "board" / "data.mdb");
    try {
      fk::lmdb_backend store{dir / "board", only_existing};
      FAIL("opened a board's file as a store");
    } catch (const fk::store_not_found& e) {
      CHECK_THAT(e.what(), Contains("jobboard"));
    }
    CHECK(slurp(dir / "board" / "data.mdb") == before);
  }
  SECTION("an existing store opens") {
    make_store(dir / "store", 2);
    fk::lmdb_backend store{dir / "store", only_existing};
    CHECK(store.load_run("r1")->atoms.size() == 2);
  }
}

TEST_CASE("a persisted run on a full disk stops, throws no space left on device, and loses no record",
          "[persistence][faults][resume]") {
  fk::test::temp_dir dir;
  const fs::path mnt = dir / "mnt";
  fs::create_directory(mnt);
  const child_result r = fk::test::in_child_on_tmpfs(mnt, std::size_t{4} << 20, [&](report& rep) {
    const fs::path filler = mnt / "filler";
    fk::lmdb_backend store{mnt / "store"};
    // Ten atoms in a chain, each with a 64 KiB result: more than the room left once the disk is
    // filled after the run is created.
    int runs[10] = {};
    auto step = [&runs]<int I>(std::integral_constant<int, I>) {
      return [&runs](const std::string& in) {
        ++runs[I];
        return std::string(64 * 1024, static_cast<char>('a' + I)) + in.substr(0, 1);
      };
    };
    auto t = [&]<int I>(std::integral_constant<int, I> i) {
      constexpr char name[] = {'t', static_cast<char>('0' + I), '\0'};
      return fk::task<fk::name<3>{name}>(fk::inputs<"s">, fk::outputs<"s">, step(i));
    };
    auto flow =
        fk::linear_flow<"big">(t(std::integral_constant<int, 0>{}), t(std::integral_constant<int, 1>{}),
                               t(std::integral_constant<int, 2>{}), t(std::integral_constant<int, 3>{}),
                               t(std::integral_constant<int, 4>{}), t(std::integral_constant<int, 5>{}),
                               t(std::integral_constant<int, 6>{}), t(std::integral_constant<int, 7>{}),
                               t(std::integral_constant<int, 8>{}), t(std::integral_constant<int, 9>{}));
    fk::engine eng{flow, fk::store<"s">(std::string{"x"}), fk::persist(store, "run-1")};
    fk::test::fill_filesystem(filler);
    rep.set("first", attempt([&] { eng.run(); }));
    rep.set("state", std::string{fk::to_string(eng.state())});
    const auto stored = store.load_run("run-1");
    // What is stored is a prefix of the run: no atom SUCCESS after one that is not.
    bool gap = false, prefix = true;
    int stored_done = 0;
    for (int i = 0; i < 10; ++i) {
      const fk::atom_detail* d = stored->find(std::string{"t"} + static_cast<char>('0' + i));
      const bool done = d && d->state == fk::atom_state::success;
      if (done && gap) prefix = false;
      if (!done) gap = true;
      stored_done += done;
    }
    rep.set("prefix", prefix ? "yes" : "no");
    rep.set("stored_done", std::to_string(stored_done));
    fs::remove(filler);
    rep.set("second", attempt([&] {
              if (!eng.run().succeeded()) throw std::runtime_error("not succeeded");
            }));
    const auto after = store.load_run("run-1");
    int after_done = 0;
    for (const auto& d : after->atoms) after_done += d.state == fk::atom_state::success;
    rep.set("after_done", std::to_string(after_done));
    rep.set("after_flow", std::string{fk::to_string(after->flow.state)});
    int most = 0;
    for (int n : runs) most = std::max(most, n);
    rep.set("most_runs", std::to_string(most));
    return 0;
  });
  if (fk::test::skipped(
          r,
          "skipped: cannot mount a tmpfs in a private mount namespace here (needs root or user namespaces)"))
    return;
  REQUIRE(r.code == 0);  // 135: SIGBUS
  const auto& v = r.values;
  CHECK_THAT(v.at("first"), Contains("nospace: ") && Contains("no space left on device") &&
                                Contains((mnt / "store" / "data.mdb").string()));
  CHECK(v.at("state") == "SUSPENDED");
  CHECK(v.at("prefix") == "yes");
  CHECK(std::stoi(v.at("stored_done")) < 10);
  CHECK(v.at("second") == "ok");
  CHECK(v.at("after_done") == "10");
  CHECK(v.at("after_flow") == "SUCCESS");
  CHECK(v.at("most_runs") == "1");  // nothing ran twice: the engine kept its state and its records
}
