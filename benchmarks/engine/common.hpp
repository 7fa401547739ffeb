#pragma once
// Shared by the engine benchmarks: names made from indices, the task body every benchmark calls,
// the allocation counter and the per-task counters.

#include <flowkit/flowkit.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace bench {

namespace fk = flowkit;

// The work of every task and of every hand-called step. noipa: the compiler may neither inline it
// nor look into it (no constant propagation, no purity), so a chain of calls cannot be folded.
[[gnu::noipa]] inline int bump(int v) noexcept { return v + 1; }
[[gnu::noipa]] inline int add(int a, int b) noexcept { return (a + b) & 0xffff; }

constexpr std::size_t digits(std::size_t i) noexcept {
  std::size_t d = 1;
  for (; i >= 10; i /= 10) ++d;
  return d;
}

// fk::name "<Prefix><I>", e.g. indexed_name<'t', 42>() == "t42".
template <char Prefix, std::size_t I>
constexpr auto indexed_name() noexcept {
  constexpr std::size_t length = digits(I) + 1;
  fk::name<length + 1> n{};
  n.chars[0] = Prefix;
  std::size_t v = I;
  for (std::size_t k = length - 1; k > 0; --k, v /= 10) n.chars[k] = static_cast<char>('0' + v % 10);
  return n;
}
template <char Prefix, std::size_t I>
inline constexpr auto name_v = indexed_name<Prefix, I>();

static_assert(name_v<'t', 0>.view() == "t0");
static_assert(name_v<'v', 1000>.view() == "v1000");

// Heap allocations (operator new calls) since the program started, counted by the replaced
// global operator new of this binary (allocation_counter.cpp).
std::uint64_t allocations() noexcept;

// Times a benchmark's loop on the wall clock and sets its counters: ns per task, allocations
// per run (a run is one iteration).
class task_meter {
 public:
  task_meter(benchmark::State& state, std::size_t tasks_per_run)
      : state_(state), tasks_(tasks_per_run), allocations_(allocations()), start_(clock::now()) {}
  ~task_meter() {
    const double ns = std::chrono::duration<double, std::nano>(clock::now() - start_).count();
    const auto runs = static_cast<double>(state_.iterations());
    if (runs == 0) return;
    if (timed_ns_ >= 0) set(timed_ns_, runs);
    else set(ns, runs);
    state_.counters["allocs_per_run"] = static_cast<double>(allocations() - allocations_) / runs;
  }
  // For benchmarks that time only part of each iteration themselves (UseManualTime).
  void add_timed(double ns) noexcept { timed_ns_ = (timed_ns_ < 0 ? 0 : timed_ns_) + ns; }

 private:
  using clock = std::chrono::steady_clock;
  void set(double ns, double runs) {
    state_.counters["ns_per_task"] = ns / (runs * static_cast<double>(tasks_));
    state_.counters["tasks"] = static_cast<double>(tasks_);
  }
  benchmark::State& state_;
  std::size_t tasks_;
  std::uint64_t allocations_;
  clock::time_point start_;
  double timed_ns_ = -1;
};

// Building an engine and destroying it, no run: `make_flow()` is called once, outside the timed
// loop; `make_store(input)` gives the store each engine is built with.
template <class MakeFlow, class MakeStore>
void register_construction(const std::string& name, std::size_t tasks, MakeFlow make_flow, MakeStore make_store) {
  benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    int input = 1;
    const auto flow = make_flow();
    task_meter meter{state, tasks};
    for (auto _ : state) {
      benchmark::DoNotOptimize(input);
      fk::engine eng{flow, make_store(input)};
      benchmark::DoNotOptimize(&eng);
      benchmark::ClobberMemory();
    }
  });
}

// Times one part of an iteration for UseManualTime benchmarks.
template <class F>
double time_ns(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count();
}

}  // namespace bench
