// flowkit-bench-engine: the engine's costs against hand calls and oneTBB's flow graph.
// See docs/benchmarks.md ("Engine") for the method and the numbers.
#include "registry.hpp"

#include <benchmark/benchmark.h>

int main(int argc, char** argv) {
  bench::register_chain_100();
  bench::register_operator_listeners();
#if FLOWKIT_BENCH_ENGINE_FULL
  bench::register_chain_1000();
#endif
  bench::register_fan();
  bench::register_dag();
  bench::register_tbb();
#if FLOWKIT_BENCH_CHECKPOINTS
  bench::register_checkpoint_100();
#if FLOWKIT_BENCH_ENGINE_FULL
  bench::register_checkpoint_1000();
#endif
  bench::register_checkpoint_load();
#endif
#if FLOWKIT_BENCH_RESUME_ATOMS
  bench::register_checkpoint_segmented();
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
