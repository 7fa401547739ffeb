// Jobboard throughput: posts per second; claim+consume per second uncontended and with 4
// processes contending; for each durability mode; claim_next with many claims held or jobs backing off;
// claim + abandon of a job with a full history. Rates are per wall-clock
// second (real time): what an fsync costs is waiting, not CPU. Boards live in fresh directories under
// $FLOWKIT_BENCH_DIR (default: the system temp directory), which decides what an fsync costs.

#include <flowkit/lmdb.hpp>

#include "scratch_dir.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace fk = flowkit;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct checkout {
  static constexpr fk::name name = "checkout";
};

using bench::scratch_dir;

fk::durability mode(const benchmark::State& state) { return static_cast<fk::durability>(state.range(0)); }

// Jobs posted (untimed) per refill: small when every post pays an fsync.
int refill(const benchmark::State& state) {
  return mode(state) == fk::durability::process_crash_safe ? 1000 : 100;
}

const char* mode_name(fk::durability d) {
  switch (d) {
    case fk::durability::power_loss_safe:
      return "fsync";
    case fk::durability::no_meta_sync:
      return "nometasync";
    case fk::durability::process_crash_safe:
      return "nosync";
  }
  return "?";
}

void post_some(fk::lmdb_jobboard& board, int n, std::vector<fk::job_id>* ids = nullptr) {
  for (int i = 0; i < n; ++i) {
    const fk::job_id id =
        board.post("order", checkout{}, fk::store<"order_id", "customer">(i, std::string{"acme"}));
    if (ids) ids->push_back(id);
  }
}

void BM_post(benchmark::State& state) {
  scratch_dir dir;
  fk::lmdb_jobboard board{dir.board(), {.durability = mode(state)}};
  int i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(
        board.post("order", checkout{}, fk::store<"order_id", "customer">(++i, std::string{"acme"})));
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(mode_name(mode(state)));
}

// claim(id) + consume: the conductor that picked a job from a listing.
void BM_claim_consume(benchmark::State& state) {
  scratch_dir dir;
  fk::lmdb_jobboard board{dir.board(), {.durability = mode(state)}};
  std::vector<fk::job_id> ids;
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == ids.size()) {
      state.PauseTiming();
      ids.clear();
      next = 0;
      post_some(board, refill(state), &ids);
      state.ResumeTiming();
    }
    const fk::claim c = board.claim(ids[next++], "worker", 30s);
    board.consume(c);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(mode_name(mode(state)));
}

// claim_next + consume: the conductor that takes whatever is first.
void BM_claim_next_consume(benchmark::State& state) {
  scratch_dir dir;
  fk::lmdb_jobboard board{dir.board(), {.durability = mode(state)}};
  for (auto _ : state) {
    auto c = board.claim_next("worker", 30s);
    if (!c) {
      state.PauseTiming();
      post_some(board, refill(state));
      state.ResumeTiming();
      c = board.claim_next("worker", 30s);
    }
    board.consume(c->claim);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(mode_name(mode(state)));
}

// claim_next + consume while `held` jobs, ahead of the claimable ones in job order, are claimed
// by another owner: a busy board. The cost should not grow with held (format 1 scanned and
// decoded every held claim inside the write transaction). The held claims are made with claim(id)
// so that setting up 20,000 costs the same with either layout. `backlog` unclaimed jobs are posted
// first: held:0/backlog:20000 is a board of the same size with no claims held, the control for
// what a bigger B-tree costs by itself.
void BM_claim_next_held(benchmark::State& state) {
  scratch_dir dir;
  fk::lmdb_jobboard board{dir.board(), {.durability = fk::durability::process_crash_safe}};
  post_some(board, static_cast<int>(state.range(1)));
  std::vector<fk::job_id> ids;
  post_some(board, static_cast<int>(state.range(0)), &ids);
  for (const fk::job_id& id : ids) board.claim(id, "holder", 1h);
  for (auto _ : state) {
    auto c = board.claim_next("worker", 30s);
    if (!c) {
      state.PauseTiming();
      post_some(board, 1000);
      state.ResumeTiming();
      c = board.claim_next("worker", 30s);
    }
    board.consume(c->claim);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("nosync");
}

// claim_next + consume while `backing` jobs, ahead of the claimable ones in job order, back off
// (abandoned with a 1 h retry_after). They wait in the claim index's expiry space, as held claims
// do, so the cost should not grow with them either.
void BM_claim_next_backing_off(benchmark::State& state) {
  scratch_dir dir;
  fk::lmdb_jobboard board{dir.board(), {.durability = fk::durability::process_crash_safe}};
  std::vector<fk::job_id> ids;
  post_some(board, static_cast<int>(state.range(0)), &ids);
  for (const fk::job_id& id : ids) board.abandon(board.claim(id, "holder", 1h), "busy", 1h);
  for (auto _ : state) {
    auto c = board.claim_next("worker", 30s);
    if (!c) {
      state.PauseTiming();
      post_some(board, 1000);
      state.ResumeTiming();
      c = board.claim_next("worker", 30s);
    }
    board.consume(c->claim);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("nosync");
}

// claim(id) + abandon(claim, reason) of one job, over and over: every change rewrites the record,
// whose history fills up to the 32 attempts kept (after the first 32 iterations) with reasons of
// `reason` bytes. What the history costs a job that keeps failing; compare BM_claim_consume.
void BM_claim_abandon_history(benchmark::State& state) {
  scratch_dir dir;
  fk::lmdb_jobboard board{dir.board(), {.durability = fk::durability::process_crash_safe}};
  std::vector<fk::job_id> ids;
  post_some(board, 1, &ids);
  const std::string reason(static_cast<std::size_t>(state.range(0)), 'r');
  for (int i = 0; i < 32; ++i) board.abandon(board.claim(ids[0], "worker", 30s), reason);
  for (auto _ : state) board.abandon(board.claim(ids[0], "worker", 30s), reason);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("nosync");
}

// 4 processes claim_next + consume until the board is empty; the time is from "go" until the
// last one finishes. range(1) jobs per iteration.
void BM_claim_consume_4_processes(benchmark::State& state) {
  constexpr int procs = 4;
  const int jobs = static_cast<int>(state.range(1));
  for (auto _ : state) {
    scratch_dir dir;
    {
      fk::lmdb_jobboard board{dir.board(), {.durability = mode(state)}};
      post_some(board, jobs);
    }
    int go[2], ready[2];
    if (::pipe(go) != 0 || ::pipe(ready) != 0) state.SkipWithError("pipe");
    std::vector<pid_t> pids;
    for (int p = 0; p < procs; ++p) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        int rc = 0;
        try {
          fk::lmdb_jobboard board{dir.board(), {.durability = static_cast<fk::durability>(state.range(0))}};
          char c = 'r';
          if (::write(ready[1], &c, 1) != 1 || ::read(go[0], &c, 1) != 1) ::_exit(2);
          std::string me = "worker-";
          me += std::to_string(p);
          while (auto cl = board.claim_next(me, 30s)) board.consume(cl->claim);
        } catch (...) {
          rc = 1;
        }
        ::_exit(rc);
      }
      pids.push_back(pid);
    }
    char c = 0;
    for (int p = 0; p < procs; ++p)
      if (::read(ready[0], &c, 1) != 1) state.SkipWithError("ready");
    const auto t0 = std::chrono::steady_clock::now();
    if (::write(go[1], "gggg", procs) != procs) state.SkipWithError("go");
    bool ok = true;
    for (pid_t pid : pids) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    for (int fd : {go[0], go[1], ready[0], ready[1]}) ::close(fd);
    if (!ok) state.SkipWithError("a worker failed");
  }
  state.SetItemsProcessed(state.iterations() * jobs);
  state.SetLabel(mode_name(mode(state)));
}

constexpr int fsync_mode = static_cast<int>(fk::durability::power_loss_safe);
constexpr int nometa_mode = static_cast<int>(fk::durability::no_meta_sync);
constexpr int nosync_mode = static_cast<int>(fk::durability::process_crash_safe);

}  // namespace

BENCHMARK(BM_post)->UseRealTime()->ArgName("mode")->Arg(nosync_mode)->Arg(nometa_mode)->Arg(fsync_mode);
BENCHMARK(BM_claim_consume)
    ->UseRealTime()
    ->ArgName("mode")
    ->Arg(nosync_mode)
    ->Arg(nometa_mode)
    ->Arg(fsync_mode);
BENCHMARK(BM_claim_next_consume)->UseRealTime()->ArgName("mode")->Arg(nosync_mode)->Arg(fsync_mode);
BENCHMARK(BM_claim_next_held)
    ->UseRealTime()
    ->ArgNames({"held", "backlog"})
    ->Args({0, 0})
    ->Args({500, 0})
    ->Args({5000, 0})
    ->Args({20000, 0})
    ->Args({0, 20000});
BENCHMARK(BM_claim_next_backing_off)->UseRealTime()->ArgName("backing")->Arg(0)->Arg(500)->Arg(20000);
BENCHMARK(BM_claim_abandon_history)->UseRealTime()->ArgName("reason")->Arg(0)->Arg(200)->Arg(1024);
BENCHMARK(BM_claim_consume_4_processes)
    ->ArgNames({"mode", "jobs"})
    ->Args({nosync_mode, 20000})
    ->Args({fsync_mode, 2000})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

BENCHMARK_MAIN();
