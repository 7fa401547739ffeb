// The serial engine on a linear flow of 1,000 tasks, against the same calls made by hand. The
// only translation unit that instantiates the 1,000-task flow.
#include "chain.hpp"

void bench::register_chain_1000() { register_chain_benchmarks<1000>(); }
