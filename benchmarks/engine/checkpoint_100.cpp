// Checkpoint costs on the chain of 100 tasks: recorded runs against the in-memory engine, and
// resuming a stored run (checkpoint.hpp).
#include "checkpoint.hpp"

void bench::register_checkpoint_100() { register_checkpoint_benchmarks<100>(); }
