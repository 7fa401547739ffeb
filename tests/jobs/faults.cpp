// The LMDB board under faults: a truncated file, a full disk, a read-only filesystem, permission
// denied, a missing parent, a mistyped path, someone else's LMDB environment. Every case that
// could kill a process (SIGBUS) runs in a forked child, so that a regression fails the test
// instead of the test runner; children report through a pipe and only the parent asserts. Disks
// are real: real board files truncated, a real tmpfs filled up (mounted in the child's private
// mount namespace, so it vanishes with the child and needs no clean-up).

#include "support.hpp"

#include <flowkit/lmdb.hpp>

#include <catch2/catch.hpp>

#include <lmdb.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace fk = flowkit;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Catch::Contains;
using fk::test::attempt;
using fk::test::cat;
using fk::test::child_result;
using fk::test::in_child;
using fk::test::listing;
using fk::test::report;
using fk::test::slurp;
using fk::test::starts_with;

namespace {

struct checkout {
  static constexpr fk::name name = "checkout";
};

void make_board(const fs::path& path, int jobs, int claims) {
  fk::lmdb_jobboard board{path, {.durability = fk::durability::process_crash_safe}};
  const std::string payload(200, 'p');
  for (int i = 0; i < jobs; ++i) board.post("j", checkout{}, fk::store<"order_id", "note">(i, payload));
  for (int i = 0; i < claims; ++i) board.claim_next("w", 1h);
}

}  // namespace

TEST_CASE("a truncated board file is refused at open with an error naming it, and nothing dies of SIGBUS",
          "[jobboard][faults]") {
  fk::test::temp_dir dir;
  const fs::path original = dir / "original";
  make_board(original, 3000, 100);
  const auto full = fs::file_size(original / "data.mdb");
  REQUIRE(full > 100 * 4096);

  // 1/2, 1/4, 1/10 of the file, and less than LMDB's two meta pages.
  const std::uintmax_t cut = GENERATE_COPY(full / 2, full / 4, full / 10, std::uintmax_t{6000});
  const fs::path board = dir / "cut";
  fs::copy(original, board, fs::copy_options::recursive);
  fs::resize_file(board / "data.mdb", cut);
  INFO("data.mdb cut from " << full << " to " << cut << " bytes");

  const child_result r = in_child([&](report& rep) {
    rep.set("open", attempt([&] {
              fk::lmdb_jobboard b{board};
              // Had it opened, these are the calls that used to die of SIGBUS.
              rep.set("jobs", std::to_string(b.jobs().size()));
              rep.set("check", std::to_string(b.check().size()));
              rep.set("claim_next", b.claim_next("w", 1h) ? "a job" : "none");
            }));
    try {
      fk::lmdb_jobboard b{board};
    } catch (const fk::corrupt_board& e) {
      rep.set("type", "corrupt_board");
      rep.set("path", e.path());
    } catch (...) {
    }
    return 0;
  });
  REQUIRE(r.code == 0);  // 135: the child died of SIGBUS
  CHECK_THAT(r.values.at("open"),
             Contains(cat("board: flowkit: jobboard file ", (board / "data.mdb").string())) &&
                 Contains("truncated"));
  CHECK(r.values.at("type") == "corrupt_board");
  CHECK(r.values.at("path") == (board / "data.mdb").string());
  CHECK(r.values.count("jobs") == 0);
  CHECK(slurp(board / "data.mdb").size() == cut);  // refused, not repaired or grown
}

TEST_CASE(
    "on a full disk opening and posting fail with no space left on device and nothing committed is lost",
    "[jobboard][faults]") {
  fk::test::temp_dir dir;
  const fs::path mnt = dir / "mnt";
  fs::create_directory(mnt);
  const child_result r = fk::test::in_child_on_tmpfs(mnt, std::size_t{4} << 20, [&](report& rep) {
    const fs::path filler = mnt / "filler";

    // A new board on a full filesystem: LMDB's lock file is where it used to die (SIGBUS).
    fk::test::fill_filesystem(filler);
    rep.set("full.open", attempt([&] { fk::lmdb_jobboard b{mnt / "new"}; }));
    try {
      fk::lmdb_jobboard b{mnt / "new"};
    } catch (const fk::storage_error& e) {
      rep.set("full.is_io_error", dynamic_cast<const fk::io_error*>(&e) ? "yes" : "no");
    }
    fs::remove_all(mnt / "new");

    // Every amount of free space from none to enough: each step fails at a later file (the lock
    // file, LMDB's first pages, its first commit, the notify file) or opens and posts.
    fk::test::sweep_free_space(rep, filler, mnt / "sweep", [](const fs::path& p) {
      fk::lmdb_jobboard b{p};
      b.post("j", checkout{}, fk::store<"order_id">(1));
    });

    // Posting until the disk is full: the post that does not fit fails, the others stay.
    fs::remove(filler);
    const fs::path path = mnt / "board";
    std::size_t committed = 0;
    fk::job_id claimed;
    {
      fk::lmdb_jobboard b{path};
      for (int i = 0; i < 20; ++i, ++committed) b.post("j", checkout{}, fk::store<"order_id">(i));
      claimed = b.claim_next("w", 1h)->claim.job();
      fk::test::fill_filesystem(filler);
      const std::string big(16 * 1024, 'x');
      std::string outcome = "ok";
      for (int i = 0; i < 100000 && outcome == "ok"; ++i) {
        outcome = attempt([&] { b.post("j", checkout{}, fk::store<"order_id", "blob">(i, big)); });
        if (outcome == "ok") ++committed;
      }
      rep.set("post", outcome);
    }
    rep.set("committed", std::to_string(committed));
    rep.set("reopen", attempt([&] {
              fk::lmdb_jobboard b{path};
              rep.set("reopen.jobs", std::to_string(b.jobs().size()));
              rep.set("reopen.check", std::to_string(b.check().size()));
              rep.set("reopen.owner", b.get(claimed).owner().value_or("(none)"));
            }));
    fs::remove(filler);
    rep.set("after_freeing", attempt([&] {
              fk::lmdb_jobboard b{path};
              b.post("j", checkout{}, fk::store<"order_id">(0));
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

  fk::test::check_sweep(v, mnt / "sweep", {"lock.mdb", "data.mdb", "flowkit-notify"});

  CHECK_THAT(v.at("post"), Contains("nospace: ") && Contains("no space left on device") &&
                               Contains((mnt / "board" / "data.mdb").string()));
  CHECK(std::stoul(v.at("committed")) >= 20);
  CHECK(v.at("reopen") == "ok");  // an existing board opens on a full disk
  CHECK(v.at("reopen.jobs") == v.at("committed"));
  CHECK(v.at("reopen.check") == "0");
  CHECK(v.at("reopen.owner") == "w");
  CHECK(v.at("after_freeing") == "ok");
}

TEST_CASE("errors of the storage under a board are io_errors and storage_errors that name the path",
          "[jobboard][faults]") {
  fk::test::temp_dir dir;

  fk::test::check_missing_parent<fk::lmdb_jobboard, fk::jobboard_error>(dir, "board");
  SECTION("the map at its maximum size") {
    fk::lmdb_jobboard small{dir / "small",
                            {.map_size = std::size_t{1} << 20, .max_map_size = std::size_t{1} << 20}};
    const std::string payload(16 * 1024, 'x');
    try {
      for (int i = 0; i < 200; ++i) small.post("j", checkout{}, fk::store<"blob">(payload));
      FAIL("a 1 MiB map held 3 MiB");
    } catch (const fk::storage_error& e) {
      const auto* l = dynamic_cast<const fk::lmdb_error*>(&e);
      REQUIRE(l);
      CHECK(l->code() == MDB_MAP_FULL);
      CHECK_THAT(e.what(), Contains((dir / "small" / "data.mdb").string()) && Contains("maximum map size"));
    }
  }
  SECTION("permission denied") {
    fk::test::check_permission_denied(
        dir, "board", [](const fs::path& p) { make_board(p, 3, 0); },
        [](const fs::path& p) { fk::lmdb_jobboard b{p}; });
  }
  SECTION("a read-only filesystem") {
    fk::test::check_read_only_filesystem(
        dir, "board", [](const fs::path& p) { make_board(p, 3, 0); },
        [](const fs::path& p) { fk::lmdb_jobboard b{p}; });
  }
}

TEST_CASE("must_exist opens only a board that exists", "[jobboard][faults]") {
  fk::test::temp_dir dir;
  const fk::lmdb_jobboard_options only_existing{.must_exist = true};

  SECTION("a mistyped path") {
    const fs::path p = dir / "boadr";
    try {
      fk::lmdb_jobboard board{p, only_existing};
      FAIL("opened a board that does not exist");
    } catch (const fk::board_not_found& e) {
      CHECK(e.path() == p.string());
      CHECK_THAT(e.what(), Contains(p.string()) && Contains("does not exist"));
    }
    CHECK_FALSE(fs::exists(p));
    fk::lmdb_jobboard_options single = only_existing;
    single.single_file = true;
    CHECK_THROWS_AS((fk::lmdb_jobboard{dir / "jobs.fkb", single}), fk::board_not_found);
    CHECK(listing(dir.path()).empty());
  }
  SECTION("an empty directory") {
    fs::create_directory(dir / "empty");
    CHECK_THROWS_AS((fk::lmdb_jobboard{dir / "empty", only_existing}), fk::board_not_found);
    CHECK(listing(dir / "empty").empty());
  }
  SECTION("an empty LMDB environment") {
    fk::test::make_lmdb_environment(dir / "env");
    const std::string before = slurp(dir / "env" / "data.mdb");
    CHECK_THROWS_AS((fk::lmdb_jobboard{dir / "env", only_existing}), fk::board_not_found);
    CHECK(slurp(dir / "env" / "data.mdb") == before);
  }
  SECTION("an existing board opens") {
    make_board(dir / "board", 2, 0);
    fk::lmdb_jobboard board{dir / "board", only_existing};
    CHECK(board.size() == 2);
  }
}

TEST_CASE("an LMDB environment of another program is refused even if its databases are named fk.*",
          "[jobboard][faults]") {
  fk::test::temp_dir dir;
  const fs::path other = dir / "other";
  fk::test::make_lmdb_environment(other,
                                  {{"fk.jobs", {{"key", "value"}}}, {"fk.settings", {{"key", "value"}}}});
  const std::string data = slurp(other / "data.mdb");
  const auto lock_size = fs::file_size(other / "lock.mdb");
  try {
    fk::lmdb_jobboard board{other};
    FAIL("adopted another program's environment");
  } catch (const fk::not_a_board& e) {
    CHECK(e.path() == other.string());
    CHECK_THAT(e.what(), Contains("another program"));
  }
  CHECK(slurp(other / "data.mdb") == data);
  CHECK(fs::file_size(other / "lock.mdb") == lock_size);
  CHECK(listing(other) == std::vector<std::string>{"data.mdb", "lock.mdb"});
}

TEST_CASE("a flowkit file without a board gets one and keeps what else it holds", "[jobboard][faults]") {
  fk::test::temp_dir dir;
  const fs::path path = dir / "store";
  // What the checkpoint store will leave: the flowkit marker and its own databases.
  fk::test::make_lmdb_environment(
      path, {{"fk.file", {{"magic", "flowkit"}, {"format", std::string{"\x01\x00\x00\x00", 4}}}},
             {"fk.flows", {{"run", "42"}}}});
  CHECK_THROWS_AS((fk::lmdb_jobboard{path, {.must_exist = true}}), fk::board_not_found);
  fk::lmdb_jobboard board{path};
  board.post("j", checkout{}, fk::store<"order_id">(1));
  CHECK(board.size() == 1);
  board.environment()->read([&](const fk::detail::lmdb_txn& t) {
    MDB_dbi flows{};
    REQUIRE(mdb_dbi_open(t.handle(), "fk.flows", 0, &flows) == 0);
    CHECK(t.get(flows, "run") == std::optional<std::string_view>{"42"});
  });
}

TEST_CASE("a new board's lock and notify files are allocated, not sparse", "[jobboard][faults]") {
  fk::test::temp_dir dir;
  fk::lmdb_jobboard board{dir / "board"};
  for (const char* f : {"lock.mdb", "flowkit-notify"}) {
    struct stat st {};
    REQUIRE(::stat((dir / "board" / f).c_str(), &st) == 0);
    INFO(f << ": " << st.st_size << " bytes, " << st.st_blocks << " blocks of 512");
    CHECK(st.st_size > 0);
    CHECK(st.st_blocks * 512 >= st.st_size);
  }
  // LMDB kept the size the lock file was given (it would have grown a smaller one, sparse).
  CHECK(fs::file_size(dir / "board" / "lock.mdb") == 8192);
}
