#pragma once
// The engine on fk::thread_pool (1 and 2 workers), the serial engine and engine construction, on
// one of the shapes of shapes.hpp. Included by fan.cpp and dag.cpp, one large flow each.

#include "common.hpp"
#include "registry.hpp"
#include "shapes.hpp"

#include <string>
#include <utility>

namespace bench {

template <class MakeFlow, class Check>
void register_shape(const std::string& shape, std::size_t tasks, MakeFlow make_flow, Check check) {
  for (int workers : pool_sizes) {
    benchmark::RegisterBenchmark(("pool/flowkit/" + shape + "/workers:" + std::to_string(workers)).c_str(),
                                 [=](benchmark::State& state) {
                                   int x = 1;
                                   benchmark::DoNotOptimize(x);
                                   fk::thread_pool pool{static_cast<std::size_t>(workers)};
                                   fk::engine eng{make_flow(), fk::store<"x">(x)};
                                   eng.run(pool);  // the first run allocates the phase's queue
                                   task_meter meter{state, tasks};
                                   for (auto _ : state) {
                                     eng.reset();
                                     auto r = eng.run(pool);
                                     benchmark::DoNotOptimize(r);
                                   }
                                   if (eng.state() != fk::flow_state::success || !check(eng, x)) state.SkipWithError("wrong result");
                                 })
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark(("serial/flowkit/" + shape).c_str(), [=](benchmark::State& state) {
    int x = 1;
    benchmark::DoNotOptimize(x);
    fk::engine eng{make_flow(), fk::store<"x">(x)};
    eng.run();
    task_meter meter{state, tasks};
    for (auto _ : state) {
      eng.reset();
      auto r = eng.run();
      benchmark::DoNotOptimize(r);
    }
    if (!check(eng, x)) state.SkipWithError("wrong result");
  });
  register_construction("construct/" + shape + "/" + std::to_string(tasks), tasks, make_flow,
                        [](int x) { return fk::store<"x">(x); });
}

}  // namespace bench
