// Checkpoint costs on the chain of 1,000 tasks (checkpoint.hpp). The only translation unit that
// records the 1,000-task flow; built with FLOWKIT_BENCH_ENGINE_FULL.
#include "checkpoint.hpp"

void bench::register_checkpoint_1000() { register_checkpoint_benchmarks<1000>(); }
