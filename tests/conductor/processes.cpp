// Conductors in real processes (flowkit-conductor-child) on one LMDB board and store:
//
// (a) Claim loss: a conductor is stopped with SIGSTOP inside a task; its claim expires, another
//     conductor claims the job and finishes it; the first, continued, cannot write into the run
//     (its checkpoint writes are fenced), says claim_lost, and the job completed once.
// (b) High availability: 3 conductors, 20 jobs of a 10-task flow; one conductor is killed with
//     SIGKILL inside a job; every job completes, and every task ran exactly once except the ones
//     that were running in the killed conductor (at most one more run each, reported).
//
// Nothing sleeps to synchronise: the test reads the children's event lines; the only waits on
// time are the claims' own expiry, which the surviving conductors' board.wait() wakes for.

#include "conductor/process_support.hpp"
#include "conductor/work_flow.hpp"
#include "jobs/support.hpp"

#include <flowkit/conductor/conductor.hpp>
#include <flowkit/lmdb.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FLOWKIT_CONDUCTOR_CHILD
#error "FLOWKIT_CONDUCTOR_CHILD: the path of flowkit-conductor-child"
#endif

namespace fk = flowkit;
using fk::test::conductor_process;
using fk::test::numbered;
using fk::test::read_until;
using fk::test::side_effects;
using fk::test::words;
using namespace std::chrono_literals;

namespace {

// Stops the process with SIGSTOP outside an LMDB write transaction. LMDB has one writer at a time:
// a process stopped inside its write transaction (a checkpoint's commit, a heartbeat) stalls every
// writer on the file until it continues, whatever its claims say (docs/conductor.md). A probe
// write from this process tells: if it does not get through at once, the process is continued,
// finishes its transaction, and is stopped again.
void stop_outside_write(conductor_process& p, const std::filesystem::path& file) {
  fk::lmdb_jobboard board{file, {.must_exist = true}};
  for (int attempt = 0; attempt < 100; ++attempt) {
    p.stop();
    auto probe = std::async(std::launch::async, [&] { board.environment()->write([](auto&) {}); });
    if (probe.wait_for(500ms) == std::future_status::ready) {
      probe.get();
      return;
    }
    p.kill(SIGCONT);
    probe.get();
  }
  FAIL("the process was inside a write transaction at every one of 100 stops");
}

struct board_file {
  fk::test::temp_dir dir;
  std::filesystem::path file = dir / "work.lmdb";
  std::filesystem::path log = dir / "effects.log";
  board_file() {
    fk::lmdb_jobboard board{file};
    fk::lmdb_backend store{file};
  }
};

}  // namespace

TEST_CASE("a conductor stopped past its claim's expiry cannot write into the run its successor finished",
          "[conductor][processes]") {
  board_file f;
  {
    fk::lmdb_jobboard board{f.file};
    board.post("job-a", "work", fk::store<"job", "v0">(std::string{"job-a"}, fk::test::step{}));
  }
  // A blocks inside t4 of the job; its claim lasts 1 s, extended every 200 ms while it runs.
  conductor_process a{f.file, "conductor-a", f.log, 1, 1000, 200, 4};
  read_until({&a},
             [](conductor_process&, const std::string& l) { return l.starts_with("blocked job-a t4"); });
  stop_outside_write(a, f.file);  // no more heartbeats: the claim expires

  conductor_process b{f.file, "conductor-b", f.log, 1, 1000, 200, -1};
  std::string b_claim;
  read_until({&b}, [&](conductor_process&, const std::string& l) {
    if (l.starts_with("claimed job-a")) b_claim = l;
    return l.starts_with("consumed job-a");
  });
  CHECK(b_claim == "claimed job-a 2 resuming");  // the second claim, resuming A's checkpoint

  // A goes on: its task returns, and its write of t4's result is refused.
  a.kill(SIGCONT);
  a.send("go");
  std::string a_lost;
  read_until({&a}, [&](conductor_process&, const std::string& l) {
    if (l.starts_with("claim_lost job-a")) a_lost = l;
    return !a_lost.empty();
  });
  a.close_input();
  b.close_input();
  for (conductor_process* p : {&a, &b}) {  // their output, to its end
    std::vector<std::string> rest;
    while (p->open()) p->read_lines(rest);
  }
  CHECK(a.join() == 0);
  CHECK(b.join() == 0);
  INFO("A's lines:\n"
       << [&] {
            std::string s;
            for (const auto& l : a.all_lines()) s += l + '\n';
            return s;
          }());
  for (const auto& l : a.all_lines()) {
    CHECK_FALSE(l.starts_with("consumed"));
    CHECK_FALSE(l.starts_with("abandoned"));
  }

  // The job completed once, and the run holds B's results from t4 on, A's before: A wrote
  // nothing after it lost the claim.
  fk::lmdb_jobboard board{f.file, {.must_exist = true}};
  fk::lmdb_backend store{f.file, {.must_exist = true}};
  CHECK(board.jobs().empty());
  CHECK(board.trashed().empty());
  const std::string run_id = [&] {
    const auto runs = store.runs();
    REQUIRE(runs.size() == 1);
    return runs[0].id;
  }();
  const auto run = store.load_run(run_id);
  REQUIRE(run);
  CHECK(run->flow.state == fk::flow_state::success);
  for (int t = 0; t < 10; ++t) {
    const fk::atom_detail* d = run->find(numbered("t", t));
    REQUIRE(d);
    REQUIRE(d->result_bytes());
    const auto s = fk::deserialize_from<fk::test::step>(*d->result_bytes());
    CHECK(s.value == t + 1);
    CHECK(s.pid == (t < 4 ? a.pid() : b.pid()));
  }
  const auto effects = side_effects::read(f.log);
  for (int t = 0; t < 10; ++t) {
    const auto& pids = effects.runs.at({"job-a", t});
    if (t == 4)
      CHECK(pids == std::vector<int>{a.pid(), b.pid()});  // running in A when it stalled: at least once
    else
      CHECK(pids.size() == 1);
  }
}

TEST_CASE(
    "three conductors, one killed with SIGKILL mid-job: every job completes, finished tasks never run again",
    "[conductor][processes]") {
  board_file f;
  constexpr int jobs = 20;
  {
    fk::lmdb_jobboard board{f.file};
    for (int i = 0; i < jobs; ++i) {
      const std::string name = numbered("job-", i);
      board.post(name, "work", fk::store<"job", "v0">(name, fk::test::step{}));
    }
  }
  // The victim blocks in t5 of every job it runs, so it is killed inside one.
  const auto t = fk::test::kill_one_of_three(jobs, [&](const char* name, int block_at) {
    return conductor_process{f.file, name, f.log, 2, 1000, 200, block_at};
  });
  fk::lmdb_jobboard board{f.file, {.must_exist = true}};
  fk::lmdb_backend store{f.file, {.must_exist = true}};
  CHECK(board.jobs().empty());
  CHECK(board.trashed().empty());
  for (const auto& run : store.runs()) {
    INFO(run.id);
    CHECK(run.state == fk::flow_state::success);
  }
  CHECK(store.runs().size() == static_cast<std::size_t>(jobs));

  // Side effects: each task once, except the task each of the victim's jobs was running.
  const std::size_t reruns = side_effects::read(f.log).check_once_but_running_at_kill(jobs, t.victim_pid);
  WARN("tasks run again after the kill (at-least-once, running at the kill): "
       << reruns << " (victim held " << t.victim_jobs.size() << " job(s))");
  CHECK(!t.victim_jobs.empty());
}
