// The operators' listeners (trace_listener.hpp, progress_display.hpp) on the serial 100-task chain:
// what they cost when off — FLOWKIT_TRACE unset, the headers included, nothing attached — and per
// atom when attached. Method and numbers: docs/benchmarks.md ("Engine", "Tracing and progress").
#include "chain.hpp"

#include <flowkit/engine/progress_display.hpp>
#include <flowkit/engine/trace_listener.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace bench {
namespace {

constexpr std::size_t chain_tasks = 100;

// Where the progress displays write: opened once, never closed (engines outlive their benchmark's
// holder of the display, and the display keeps the stream).
std::FILE* dev_null() {
  static std::FILE* const null = std::fopen("/dev/null", "w");
  return null;
}

// run() alone, as serial/engine_run: `prepare(eng)` attaches what the variant measures.
template <class Prepare>
void register_run(const std::string& name, Prepare prepare) {
  benchmark::RegisterBenchmark(name.c_str(), [prepare](benchmark::State& state) {
    if (std::getenv("FLOWKIT_TRACE")) {
      state.SkipWithError("FLOWKIT_TRACE is set: these benchmarks need it unset");
      return;
    }
    int input = 1;
    benchmark::DoNotOptimize(input);
    auto eng = chain_engine<chain_tasks>(input);
    [[maybe_unused]] auto attached = prepare(eng);  // kept alive for the benchmark
    eng.run();
    task_meter meter{state, chain_tasks};
    for (auto _ : state) {
      eng.reset();
      const double ns = time_ns([&] {
        auto r = eng.run();
        benchmark::DoNotOptimize(r);
      });
      state.SetIterationTime(ns * 1e-9);
      meter.add_timed(ns);
    }
    if (eng.template get<name_v<'v', chain_tasks>>() != input + static_cast<int>(chain_tasks))
      state.SkipWithError("wrong result");
  })->UseManualTime();
}

}  // namespace

void register_operator_listeners() {
  const std::string n = std::to_string(chain_tasks);
  // Off: the same engine as serial/engine_run, built in a translation unit that includes both
  // headers, with FLOWKIT_TRACE unset (the engine tested it when it was built).
  register_run("serial/engine_run_untraced/" + n, [](auto&) { return 0; });
  // new engine + run(): where an engine tests FLOWKIT_TRACE.
  benchmark::RegisterBenchmark(("serial/engine_construct_run_untraced/" + n).c_str(),
                               [](benchmark::State& state) {
                                 int input = 1;
                                 const auto flow = make_chain(std::make_index_sequence<chain_tasks>{});
                                 task_meter meter{state, chain_tasks};
                                 for (auto _ : state) {
                                   benchmark::DoNotOptimize(input);
                                   fk::engine eng{flow, fk::store<"v0">(input)};
                                   auto r = eng.run();
                                   int out = r.template get<name_v<'v', chain_tasks>>();
                                   benchmark::DoNotOptimize(out);
                                 }
                               });
  // On: a trace_listener on /dev/null (formatting, the file's lock, the writes; not a disk).
  register_run("serial/engine_run_traced/" + n, [](auto& eng) {
    auto trace = std::make_shared<fk::trace_listener>("/dev/null");
    trace->attach(eng);
    return trace;
  });
  // A progress display on /dev/null: plain, a line per atom (a write per atom) ...
  register_run("serial/engine_run_progress_lines/" + n, [](auto& eng) {
    auto progress = std::make_shared<fk::progress_display>(dev_null());
    progress->attach(eng);
    return progress;
  });
  // ... and as on a terminal, redrawn at most every 100 ms (bookkeeping per atom, few writes).
  register_run("serial/engine_run_progress_terminal/" + n, [](auto& eng) {
    fk::progress_options options;
    options.terminal = true;
    options.columns = 120;
    auto progress = std::make_shared<fk::progress_display>(dev_null(), options);
    progress->attach(eng);
    return progress;
  });
}

}  // namespace bench
