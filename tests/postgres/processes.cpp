// Conductors on several "machines": processes that share nothing but the connection string (TCP)
// and a schema name, on the tests' PostgreSQL server.
//
// (a) 3 conductors, 20 jobs of the 10-task work flow; one is killed with SIGKILL inside a job:
//     every job completes once, every task ran once except the one each of the victim's jobs was
//     running (at most twice), as in the LMDB test (tests/conductor/processes.cpp).
// (b) The same 3 conductors with the server restarted (pg_ctl restart) mid-run: they reconnect,
//     every job is consumed exactly once and ends SUCCESS, none is trashed. A consume the restart
//     caught in its COMMIT has an unknown outcome: the board says whether it happened.
//
// Nothing sleeps to synchronise: the test reads the children's event lines; the survivors'
// board.wait() wakes at the expiry of the victim's claims, by the server's clock.

#include "conductor/process_support.hpp"
#include "conductor/work_flow.hpp"
#include "postgres/pg_test_server.hpp"

#include <flowkit/conductor/conductor.hpp>
#include <flowkit/postgres.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace fk = flowkit;
using fk::test::conductor_process;
using fk::test::finish;
using fk::test::numbered;
using fk::test::read_until;
using fk::test::side_effects;
using fk::test::words;

namespace {

constexpr int jobs = 20;

void post_jobs(const std::string& url, const std::string& schema) {
  fk::pg_jobboard board{url, {.schema = schema}};
  fk::pg_backend store{url, {.schema = schema}};  // the schema exists before the children start
  for (int i = 0; i < jobs; ++i) {
    const std::string name = numbered("job-", i);
    board.post(name, "work", fk::store<"job", "v0">(name, fk::test::step{}));
  }
}

// Every job consumed, none trashed, every run SUCCESS with its ten atoms.
void check_all_done(const std::string& url, const std::string& schema) {
  fk::pg_jobboard board{url, {.schema = schema}};
  fk::pg_backend store{url, {.schema = schema}};
  CHECK(board.jobs().empty());
  CHECK(board.trashed().empty());
  const auto runs = store.runs();
  CHECK(runs.size() == static_cast<std::size_t>(jobs));
  for (const auto& run : runs) {
    INFO(run.id);
    CHECK(run.state == fk::flow_state::success);
    CHECK(store.load_run(run.id)->atoms.size() == fk::test::work_tasks);
  }
}

}  // namespace

TEST_CASE("PostgreSQL: three conductor processes, one killed with SIGKILL mid-job, every job completes",
          "[conductor][processes][postgres]") {
  fk::test::pg_test_schema schema;
  const std::string url = schema.url();  // TCP: what processes on other machines would use
  fk::test::temp_dir dir;
  const auto log = dir / "effects.log";
  post_jobs(url, schema.name());

  // The victim blocks in t5 of every job it runs, so it is killed inside one.
  const auto t = fk::test::kill_one_of_three(jobs, [&](const char* name, int block_at) {
    return conductor_process{url, name, log, 2, 1000, 200, block_at, schema.name()};
  });
  check_all_done(url, schema.name());

  const std::size_t reruns = side_effects::read(log).check_once_but_running_at_kill(jobs, t.victim_pid);
  WARN("tasks run again after the kill: " << reruns << " (victim held " << t.victim_jobs.size()
                                          << " job(s))");
  CHECK(!t.victim_jobs.empty());
}

TEST_CASE("PostgreSQL: three conductor processes across a server restart lose no job and run none twice",
          "[conductor][processes][postgres]") {
  const auto server = fk::test::pg_test_server::start_private();
  fk::test::pg_test_schema schema{*server};
  const std::string url = schema.url();
  fk::test::temp_dir dir;
  const auto log = dir / "effects.log";
  post_jobs(url, schema.name());

  std::map<std::string, std::vector<std::string>> consumed_by;
  std::vector<std::string> errors;
  // A consume whose connection dropped during COMMIT is reported as an error whose outcome is
  // unknown: the job is then either gone (consumed, with no "consumed" line) or claimable again
  // once its claim expires (and another conductor consumes it). The board tells which.
  std::set<std::string> in_doubt;
  fk::pg_jobboard board{url, {.schema = schema.name()}};
  auto all_consumed = [&] {
    if (consumed_by.size() + in_doubt.size() < static_cast<std::size_t>(jobs)) return false;
    std::set<std::string> on_board;
    for (const auto& j : board.jobs()) on_board.insert(j.name());
    for (int i = 0; i < jobs; ++i) {
      const std::string name = numbered("job-", i);
      if (!consumed_by.count(name) && (!in_doubt.count(name) || on_board.count(name))) return false;
    }
    return true;
  };
  conductor_process c1{url, "c1", log, 2, 5000, 500, -1, schema.name()};
  conductor_process c2{url, "c2", log, 2, 5000, 500, -1, schema.name()};
  conductor_process c3{url, "c3", log, 2, 5000, 500, -1, schema.name()};
  bool restarted = false;
  read_until({&c1, &c2, &c3}, [&](conductor_process& p, const std::string& l) {
    const auto w = words(l);
    if (w.size() >= 2 && w[0] == "consumed") consumed_by[w[1]].push_back(p.name());
    if (!w.empty() && w[0] != "claimed" && w[0] != "consumed") errors.push_back(p.name() + ": " + l);
    if (w.size() >= 3 && w[0] == "error" && w[2] == "consume:" && l.find("unknown") != std::string::npos)
      in_doubt.insert(w[1]);
    if (!restarted && consumed_by.size() >= 5) {
      server->restart();  // mid-run: jobs are claimed and checkpointing on every conductor
      restarted = true;
    }
    return restarted && all_consumed();
  });
  REQUIRE(restarted);
  finish({&c1, &c2, &c3});
  for (const auto& e : errors) WARN(e);  // what the restart cost: retried or abandoned, never lost

  for (const auto& [job, by] : consumed_by) {
    INFO(job);
    CHECK(by.size() == 1);  // consumed once: never claimed by two at once
  }
  check_all_done(url, schema.name());
  // Every task ran; one whose checkpoint the restart caught may have run again (at least once).
  const auto effects = side_effects::read(log);
  std::size_t reruns = 0;
  for (int i = 0; i < jobs; ++i)
    for (int t = 0; t < 10; ++t) {
      const auto it = effects.runs.find({numbered("job-", i), t});
      REQUIRE(it != effects.runs.end());
      reruns += it->second.size() - 1;
    }
  WARN("tasks run again across the restart: " << reruns);
}
