// The serial engine on a linear flow of 100 tasks, against the same calls made by hand.
#include "chain.hpp"

void bench::register_chain_100() { register_chain_benchmarks<100>(); }
