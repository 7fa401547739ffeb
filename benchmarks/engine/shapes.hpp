#pragma once
// The parallel shapes, built the same way for flowkit and for oneTBB:
//  - fan: a source, W independent workers that each read the source's value, and a join that
//    runs after all of them (W + 2 tasks);
//  - dag: 16 layers of W tasks; task (l, c) of layer l > 0 reads the outputs of tasks (l-1, c)
//    and (l-1, (c+1) mod W) of the layer before (16 W tasks, 30 W edges).

#include <cstddef>

namespace bench {

// The full sizes (1,000 workers; 16 layers of 64) are built with the CMake option
// FLOWKIT_BENCH_ENGINE_FULL; by default the shapes are smaller (see CMakeLists.txt).
#ifndef FLOWKIT_BENCH_FAN_WIDTH
#define FLOWKIT_BENCH_FAN_WIDTH 1000
#endif
#ifndef FLOWKIT_BENCH_DAG_WIDTH
#define FLOWKIT_BENCH_DAG_WIDTH 64
#endif

inline constexpr std::size_t fan_width = FLOWKIT_BENCH_FAN_WIDTH;
inline constexpr std::size_t fan_tasks = fan_width + 2;

inline constexpr std::size_t dag_layers = 16;
inline constexpr std::size_t dag_width = FLOWKIT_BENCH_DAG_WIDTH;
inline constexpr std::size_t dag_tasks = dag_layers * dag_width;

constexpr std::size_t dag_first_input(std::size_t i) noexcept { return i - dag_width; }
constexpr std::size_t dag_second_input(std::size_t i) noexcept {
  return (i / dag_width - 1) * dag_width + (i % dag_width + 1) % dag_width;
}

// What the last task of each shape computes from input x (the benchmarks check it).
constexpr int dag_expected(int x) noexcept {
  int layer[dag_width];
  for (auto& v : layer) v = x + 1;
  for (std::size_t l = 1; l < dag_layers; ++l) {
    int next[dag_width];
    for (std::size_t c = 0; c < dag_width; ++c) next[c] = (layer[c] + layer[(c + 1) % dag_width]) & 0xffff;
    for (std::size_t c = 0; c < dag_width; ++c) layer[c] = next[c];
  }
  return layer[dag_width - 1];
}

// Threads that may run tasks: flowkit's run(pool) uses the calling thread plus the pool's
// workers, so a pool of n is matched by a oneTBB arena of n + 1 slots, one reserved for the
// calling thread.
inline constexpr int pool_sizes[] = {1, 2};

}  // namespace bench
