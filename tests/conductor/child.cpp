// flowkit-conductor-child: one conductor in its own process, for the process tests
// (processes.cpp). It runs work_flow() jobs from an LMDB board and store on one file, or from a
// PostgreSQL board and store (FILE a postgresql:// URL, SCHEMA their schema):
//
//   flowkit-conductor-child FILE NAME LOG MAX_JOBS TTL_MS HEARTBEAT_MS BLOCK_AT [SCHEMA]
//
// It prints one line per conductor event — "claimed JOB TOKEN [resuming]", "consumed JOB STATE",
// "abandoned JOB WHY", "trashed JOB WHY", "claim_lost JOB WHY", "error JOB WHY" — and
// "blocked JOB TASK" when task BLOCK_AT (-1: none) of a job starts: that task then waits until
// the line "go" arrives on standard input. The end of standard input stops the conductor; the
// program exits 0 once run() returns.

#include "conductor/work_flow.hpp"

#include <flowkit/conductor/conductor.hpp>
#include <flowkit/lmdb.hpp>
#ifdef FLOWKIT_TEST_POSTGRES
#include <flowkit/postgres.hpp>
#endif

#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

namespace fk = flowkit;

namespace {

std::mutex out_mu;
void say(const std::string& line) {
  std::lock_guard lk{out_mu};
  std::fputs((line + '\n').c_str(), stdout);
  std::fflush(stdout);
}

std::mutex gate_mu;
std::condition_variable gate_cv;
bool gate_open = false;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8 && argc != 9) {
    std::fprintf(stderr, "usage: %s FILE NAME LOG MAX_JOBS TTL_MS HEARTBEAT_MS BLOCK_AT [SCHEMA]\n", argv[0]);
    return 2;
  }
  const std::string file = argv[1], name = argv[2], log = argv[3];
  const std::size_t max_jobs = std::stoul(argv[4]);
  const std::chrono::milliseconds ttl{std::stol(argv[5])}, heartbeat{std::stol(argv[6])};
  const int block_at = std::stoi(argv[7]);

  fk::test::hooks().log_fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fk::test::hooks().log_fd < 0) {
    std::perror(log.c_str());
    return 2;
  }
  fk::test::hooks().on_task = [block_at](const std::string& job, int task) {
    if (task != block_at) return;
    say("blocked " + job + " t" + std::to_string(task));
    std::unique_lock lk{gate_mu};
    gate_cv.wait(lk, [] { return gate_open; });
  };

  // Runs a conductor on board and store until standard input ends.
  auto conduct = [&](auto& board, auto& store) {
    fk::conductor c{board,
                    store,
                    fk::flows<fk::test::work_job>{fk::test::work_flow()},
                    {.name = name, .max_jobs = max_jobs, .claim_ttl = ttl, .heartbeat = heartbeat}};
    c.listen([](const fk::conductor_event& e) {
      if (e.kind == fk::conductor_event_kind::extended) return;
      std::string line{fk::to_string(e.kind)};
      line += ' ' + e.job_name;
      if (e.kind == fk::conductor_event_kind::claimed) line += ' ' + std::to_string(e.token);
      if (e.kind == fk::conductor_event_kind::consumed) line += ' ' + std::string{fk::to_string(e.outcome)};
      if (!e.detail.empty()) line += ' ' + e.detail;
      say(line);
    });

    std::thread input{[&c] {
      std::string line;
      while (std::getline(std::cin, line))
        if (line == "go") {
          std::lock_guard lk{gate_mu};
          gate_open = true;
          gate_cv.notify_all();
        }
      c.stop();
    }};
    c.run();
    input.join();
  };
#ifdef FLOWKIT_TEST_POSTGRES
  if (file.starts_with("postgresql://")) {
    const std::string schema = argc == 9 ? argv[8] : "flowkit";
    fk::pg_jobboard board{file, {.schema = schema}};
    fk::pg_backend store{file, {.schema = schema}};
    conduct(board, store);
    say("exited");
    return 0;
  }
#endif
  fk::lmdb_jobboard board{file, {.must_exist = true}};
  fk::lmdb_backend store{file, {.must_exist = true}};
  conduct(board, store);
  say("exited");
  return 0;
}
