// PostgreSQL against LMDB in one run: claim_next + consume per second with 1 and 4 processes, and
// what a checkpoint costs per atom (one atom per commit, fenced by the claim as a conductor's are).
// Rates are per wall-clock second.
//
// The PostgreSQL cases need a server: FLOWKIT_BENCH_PG is its connection string (each case makes
// a schema of its own and drops it); without it they are skipped. LMDB boards live under
// $FLOWKIT_BENCH_DIR, as in flowkit-bench-jobboard. docs/benchmarks.md says how they were run.

#include <flowkit/lmdb.hpp>
#include <flowkit/postgres.hpp>

#include "scratch_dir.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace fk = flowkit;
using namespace std::chrono_literals;

namespace {

struct checkout {
  static constexpr fk::name name = "checkout";
};

const char* pg_url() { return std::getenv("FLOWKIT_BENCH_PG"); }

// A schema of the benchmark's own on the server, dropped at the end.
class pg_schema {
 public:
  pg_schema() {
    std::mt19937_64 gen{std::random_device{}()};
    name_ = "bench_" + std::to_string(gen() % 1'000'000'000);
  }
  ~pg_schema() {
    try {
      pqxx::connection c{pg_url()};
      pqxx::nontransaction n{c};
      n.exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    } catch (...) {
    }
  }
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
};

// The stores a case runs on: PostgreSQL (one schema; pg_async: the board's changes other than
// posts with synchronous_commit off) or LMDB (one file, group commit or fsync).
enum kind : int { pg = 0, lmdb_nosync = 1, lmdb_fsync = 2, pg_async = 3 };
const char* kind_name(int k) {
  return k == pg            ? "postgres"
         : k == pg_async    ? "postgres-async-claims"
         : k == lmdb_nosync ? "lmdb-nosync"
                            : "lmdb-fsync";
}
bool on_postgres(int k) { return k == pg || k == pg_async; }

struct place {
  std::optional<pg_schema> schema;
  std::optional<bench::scratch_dir> dir;
  int k;
  explicit place(int kind) : k(kind) {
    if (on_postgres(k))
      schema.emplace();
    else
      dir.emplace();
  }
  fk::durability durability() const {
    return k == lmdb_fsync ? fk::durability::power_loss_safe : fk::durability::process_crash_safe;
  }
  template <class F>
  void with_board(F&& f) const {
    if (on_postgres(k)) {
      fk::pg_jobboard b{pg_url(), {.schema = schema->name(), .synchronous_commit = k == pg}};
      f(b);
    } else {
      fk::lmdb_jobboard b{dir->file(), {.durability = durability()}};
      f(b);
    }
  }
};

bool skip(benchmark::State& state, int k) {
  if (on_postgres(k) && !pg_url()) {
    state.SkipWithError("FLOWKIT_BENCH_PG is not set");
    return true;
  }
  return false;
}

template <class Board>
void post_some(Board& board, int n) {
  for (int i = 0; i < n; ++i)
    board.post("order", checkout{}, fk::store<"order_id", "customer">(i, std::string{"acme"}));
}

// claim_next + consume in one process.
void BM_claim_next_consume(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  if (skip(state, k)) return;
  place at{k};
  at.with_board([&](auto& board) {
    for (auto _ : state) {
      auto c = board.claim_next("worker", 30s);
      if (!c) {
        state.PauseTiming();
        post_some(board, 500);
        state.ResumeTiming();
        c = board.claim_next("worker", 30s);
      }
      board.consume(c->claim);
    }
  });
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(kind_name(k));
}

// 4 processes claim_next + consume until the board is empty; from "go" until the last finishes.
void BM_claim_next_consume_4_processes(benchmark::State& state) {
  constexpr int procs = 4;
  const int k = static_cast<int>(state.range(0));
  const int jobs = static_cast<int>(state.range(1));
  if (skip(state, k)) return;
  for (auto _ : state) {
    place at{k};
    at.with_board([&](auto& board) { post_some(board, jobs); });
    int go[2], ready[2];
    if (::pipe(go) != 0 || ::pipe(ready) != 0) state.SkipWithError("pipe");
    std::vector<pid_t> pids;
    for (int p = 0; p < procs; ++p) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        int rc = 0;
        try {
          at.with_board([&](auto& board) {
            char c = 'r';
            if (::write(ready[1], &c, 1) != 1 || ::read(go[0], &c, 1) != 1) ::_exit(2);
            const std::string me = "worker-" + std::to_string(p);
            while (auto cl = board.claim_next(me, 30s)) board.consume(cl->claim);
          });
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
  state.SetLabel(kind_name(k));
}

// One atom's checkpoint: a commit of one atom detail (a 100-byte result), fenced by a live claim
// on a board in the same database or file, as a conductor's commits are.
void BM_checkpoint_atom(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  if (skip(state, k)) return;
  place at{k};
  auto run = [&](auto& board, auto& store) {
    const fk::job_id id = board.post("order", checkout{}, fk::store<"order_id">(1));
    const fk::claim c = board.claim(id, "worker", 1h);
    store.open_run({"run", "book", "checkout", 1, {}});
    fk::batch b;
    fk::atom_detail& a = b.next();
    a.name = "t0";
    a.state = fk::atom_state::success;
    a.result = std::string(100, 'r');
    int i = 0;
    for (auto _ : state) {
      b[0].name = "t" + std::to_string(i++ % 10);
      store.commit("run", b, [&](auto& txn) { board.verify(c, txn); });
    }
  };
  if (on_postgres(k)) {
    fk::pg_jobboard board{pg_url(), {.schema = at.schema->name()}};
    fk::pg_backend store{pg_url(), {.schema = at.schema->name()}};
    run(board, store);
  } else {
    fk::lmdb_jobboard board{at.dir->file(), {.durability = at.durability()}};
    fk::lmdb_backend store{at.dir->file(), {.durability = at.durability()}};
    run(board, store);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(kind_name(k));
}

}  // namespace

BENCHMARK(BM_claim_next_consume)
    ->UseRealTime()
    ->ArgName("store")
    ->Arg(pg)
    ->Arg(pg_async)
    ->Arg(lmdb_nosync)
    ->Arg(lmdb_fsync);
BENCHMARK(BM_claim_next_consume_4_processes)
    ->ArgNames({"store", "jobs"})
    ->Args({pg, 4000})
    ->Args({pg_async, 4000})
    ->Args({lmdb_nosync, 4000})
    ->Args({lmdb_fsync, 1000})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(BM_checkpoint_atom)->UseRealTime()->ArgName("store")->Arg(pg)->Arg(lmdb_nosync)->Arg(lmdb_fsync);

BENCHMARK_MAIN();
