// The conductor's cost per job. Each benchmark does the same jobs — a flow of 1 or 10 tasks that
// add one to an int — four ways, in one binary, on one LMDB file per run (group commit,
// durability::process_crash_safe, so that an fsync does not hide the rest; a second set with
// power_loss_safe shows what a durable job costs):
//
//   engine      a new engine per job, run, no persistence: the work itself
//   persisted   the same engine persisted to the store (fk::persist), one run per job
//   board       post (untimed), then claim_next + consume per job: the board alone
//   conductor   post (untimed), then a conductor claims, runs persisted, consumes every job
//
// The conductor's overhead per job is conductor - engine; its parts are the board's and the
// checkpoints'. Time is wall time per job (real time); each iteration is a batch of jobs.

#include <flowkit/conductor/conductor.hpp>
#include <flowkit/flowkit.hpp>
#include <flowkit/lmdb.hpp>

#include "scratch_dir.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace fk = flowkit;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using bench::scratch_dir;

template <fk::name Task, fk::name In, fk::name Out>
auto add_one() {
  return fk::task<Task>(fk::inputs<In>, fk::outputs<Out>, [](int v) { return v + 1; });
}

auto one_task() { return fk::linear_flow<"one">(add_one<"t0", "v0", "v1">()); }
auto ten_tasks() {
  return fk::linear_flow<"ten">(add_one<"t0", "v0", "v1">(), add_one<"t1", "v1", "v2">(),
                                add_one<"t2", "v2", "v3">(), add_one<"t3", "v3", "v4">(),
                                add_one<"t4", "v4", "v5">(), add_one<"t5", "v5", "v6">(),
                                add_one<"t6", "v6", "v7">(), add_one<"t7", "v7", "v8">(),
                                add_one<"t8", "v8", "v9">(), add_one<"t9", "v9", "v10">());
}
using job_store = decltype(fk::store<"v0">(0));

constexpr int batch = 200;

fk::durability durability_of(const benchmark::State& s) { return static_cast<fk::durability>(s.range(0)); }

template <auto MakeFlow>
void engine_per_job(benchmark::State& state) {
  for (auto _ : state)
    for (int i = 0; i < batch; ++i) {
      fk::engine eng{MakeFlow(), fk::store<"v0">(i)};
      benchmark::DoNotOptimize(eng.run().state());
    }
  state.SetItemsProcessed(state.iterations() * batch);
}

template <auto MakeFlow>
void persisted_per_job(benchmark::State& state) {
  scratch_dir dir;
  fk::lmdb_backend store{dir.file(), {.durability = durability_of(state)}};
  long next = 0;
  for (auto _ : state)
    for (int i = 0; i < batch; ++i) {
      fk::engine eng{MakeFlow(), fk::store<"v0">(i), fk::persist(store, "run-" + std::to_string(next++))};
      benchmark::DoNotOptimize(eng.run().state());
    }
  state.SetItemsProcessed(state.iterations() * batch);
}

void board_per_job(benchmark::State& state) {
  scratch_dir dir;
  fk::lmdb_jobboard board{dir.file(), {.durability = durability_of(state)}};
  for (auto _ : state) {
    state.PauseTiming();
    for (int i = 0; i < batch; ++i) board.post("job", "one", fk::store<"v0">(i));
    state.ResumeTiming();
    while (auto j = board.claim_next("bench", 30s)) board.consume(j->claim);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

template <auto MakeFlow>
void conductor_per_job(benchmark::State& state) {
  using flow_type = decltype(MakeFlow());
  scratch_dir dir;
  fk::lmdb_jobboard board{dir.file(), {.durability = durability_of(state)}};
  fk::lmdb_backend store{dir.file(), {.durability = durability_of(state)}};
  fk::conductor c{board, store, fk::flows<fk::job_flow<flow_type, job_store>>{MakeFlow()}, {.name = "bench"}};
  std::atomic<int> consumed{0};
  c.listen([&](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::consumed && consumed.fetch_add(1) + 1 == batch) c.stop();
  });
  for (auto _ : state) {
    state.PauseTiming();
    consumed = 0;
    for (int i = 0; i < batch; ++i) board.post("job", flow_type::name.view(), fk::store<"v0">(i));
    state.ResumeTiming();
    c.run();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void modes(benchmark::internal::Benchmark* b) {
  b->ArgName("durability")->Arg(static_cast<int>(fk::durability::process_crash_safe));
  b->Arg(static_cast<int>(fk::durability::power_loss_safe));
  b->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(engine_per_job<one_task>)->Name("engine/tasks:1")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(engine_per_job<ten_tasks>)->Name("engine/tasks:10")->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(persisted_per_job<one_task>)->Name("persisted/tasks:1")->Apply(modes);
BENCHMARK(persisted_per_job<ten_tasks>)->Name("persisted/tasks:10")->Apply(modes);
BENCHMARK(board_per_job)->Name("board/claim_consume")->Apply(modes);
BENCHMARK(conductor_per_job<one_task>)->Name("conductor/tasks:1")->Apply(modes);
BENCHMARK(conductor_per_job<ten_tasks>)->Name("conductor/tasks:10")->Apply(modes);

BENCHMARK_MAIN();
