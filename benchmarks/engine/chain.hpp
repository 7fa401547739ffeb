#pragma once
// A linear flow of N tasks passing an int along: task t<i> reads slot v<i> and returns v+1 into
// v<i+1>; the store provides v0. Include from one translation unit per N: a flow of 1,000 tasks
// is a large instantiation.

#include "common.hpp"

#include "registry.hpp"

#include <utility>

namespace bench {

template <std::size_t I>
constexpr auto chain_step() {
  return fk::task<name_v<'t', I>>(fk::inputs<name_v<'v', I>>, fk::outputs<name_v<'v', I + 1>>,
                                  [](int v) { return bump(v); });
}

template <std::size_t... Is>
constexpr auto make_chain(std::index_sequence<Is...>) {
  return fk::linear_flow<"chain">(chain_step<Is>()...);
}

template <std::size_t N>
auto chain_engine(int input) {
  return fk::engine{make_chain(std::make_index_sequence<N>{}), fk::store<"v0">(input)};
}

// The same steps called by hand.
template <std::size_t... Is>
int hand_chain(int v, std::index_sequence<Is...>) {
  ((v = (static_cast<void>(Is), bump(v))), ...);
  return v;
}

// A second, informative peer: the steps as N distinct functions (noipa: neither inlined nor
// folded into one), as N tasks with their own code are. Reaching N distinct code addresses per run
// costs the processor's instruction cache and branch predictors something that N calls of one
// function do not.
template <std::size_t I>
[[gnu::noipa]] int distinct_step(int v) noexcept {
  return bump(v);
}
template <std::size_t... Is>
int hand_chain_distinct(int v, std::index_sequence<Is...>) {
  ((v = distinct_step<Is>(v)), ...);
  return v;
}

// A peer: `chain(input, index_sequence<N>)` called by hand, timed per task.
template <std::size_t N, class Chain>
void register_hand_calls(const std::string& name, Chain chain) {
  benchmark::RegisterBenchmark(name.c_str(), [chain](benchmark::State& state) {
    int input = 1;
    task_meter meter{state, N};
    for (auto _ : state) {
      benchmark::DoNotOptimize(input);
      int v = chain(input, std::make_index_sequence<N>{});
      benchmark::DoNotOptimize(v);
    }
  });
}

template <std::size_t N>
void register_chain_benchmarks() {
  const std::string n = std::to_string(N);

  register_hand_calls<N>("serial/hand_calls/" + n, [](int v, auto steps) { return hand_chain(v, steps); });
  register_hand_calls<N>("serial/hand_calls_distinct/" + n,
                         [](int v, auto steps) { return hand_chain_distinct(v, steps); });

  // run() alone: the engine is reset between runs outside the timed part.
  benchmark::RegisterBenchmark(("serial/engine_run/" + n).c_str(), [](benchmark::State& state) {
    int input = 1;
    benchmark::DoNotOptimize(input);
    auto eng = chain_engine<N>(input);
    eng.run();  // the first run reserves the failure lists once
    task_meter meter{state, N};
    for (auto _ : state) {
      eng.reset();
      const double ns = time_ns([&] {
        auto r = eng.run();
        benchmark::DoNotOptimize(r);
      });
      state.SetIterationTime(ns * 1e-9);
      meter.add_timed(ns);
    }
    if (eng.template get<name_v<'v', N>>() != input + static_cast<int>(N)) state.SkipWithError("wrong result");
  })->UseManualTime();

  // reset() + run(): what running one engine again costs.
  benchmark::RegisterBenchmark(("serial/engine_reset_run/" + n).c_str(), [](benchmark::State& state) {
    int input = 1;
    benchmark::DoNotOptimize(input);
    auto eng = chain_engine<N>(input);
    eng.run();
    task_meter meter{state, N};
    for (auto _ : state) {
      eng.reset();
      auto r = eng.run();
      benchmark::DoNotOptimize(r);
    }
    if (eng.template get<name_v<'v', N>>() != input + static_cast<int>(N)) state.SkipWithError("wrong result");
  });

  // A new engine per run (TaskFlow's usage: build an engine, run it once).
  benchmark::RegisterBenchmark(("serial/engine_construct_run/" + n).c_str(), [](benchmark::State& state) {
    int input = 1;
    const auto flow = make_chain(std::make_index_sequence<N>{});
    task_meter meter{state, N};
    for (auto _ : state) {
      benchmark::DoNotOptimize(input);
      fk::engine eng{flow, fk::store<"v0">(input)};
      auto r = eng.run();
      int out = r.template get<name_v<'v', N>>();
      benchmark::DoNotOptimize(out);
    }
  });

  register_construction(
      "construct/chain/" + n, N, [] { return make_chain(std::make_index_sequence<N>{}); },
      [](int input) { return fk::store<"v0">(input); });
}

}  // namespace bench
