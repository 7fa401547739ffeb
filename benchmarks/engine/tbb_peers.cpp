// oneTBB's flow graph on the fan and dag shapes of shapes.hpp: one continue_node per task, the
// same task bodies, values passed through arrays. A node runs when all its predecessors have
// signalled, as a flowkit atom does. The graph is built once and run again per iteration (a
// continue_node re-arms itself after firing).
#include "common.hpp"
#include "registry.hpp"
#include "shapes.hpp"

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <array>
#include <deque>
#include <memory>
#include <string>

namespace bench {
namespace {

namespace flow = oneapi::tbb::flow;
using node = flow::continue_node<flow::continue_msg>;

struct fan_graph {
  explicit fan_graph(const int& x) {
    source = std::make_unique<node>(g, [&](const flow::continue_msg&) { s = bump(x); });
    for (std::size_t i = 0; i < fan_width; ++i)
      workers.emplace_back(g, [this, i](const flow::continue_msg&) { out[i] = bump(s); });
    join = std::make_unique<node>(g, [this](const flow::continue_msg&) { done = bump(0); });
    for (auto& w : workers) {
      flow::make_edge(*source, w);
      flow::make_edge(w, *join);
    }
  }
  void run() {
    source->try_put(flow::continue_msg{});
    g.wait_for_all();
  }
  bool ok(int x) const { return done == 1 && out[fan_width - 1] == x + 2; }

  flow::graph g;
  int s = 0, done = 0;
  std::array<int, fan_width> out{};
  std::unique_ptr<node> source, join;
  std::deque<node> workers;
};

struct dag_graph {
  explicit dag_graph(const int& x) {
    for (std::size_t i = 0; i < dag_tasks; ++i) {
      if (i < dag_width)
        nodes.emplace_back(g, [this, i, &x](const flow::continue_msg&) { out[i] = bump(x); });
      else
        nodes.emplace_back(g, [this, i](const flow::continue_msg&) {
          out[i] = add(out[dag_first_input(i)], out[dag_second_input(i)]);
        });
    }
    for (std::size_t i = dag_width; i < dag_tasks; ++i) {
      flow::make_edge(nodes[dag_first_input(i)], nodes[i]);
      flow::make_edge(nodes[dag_second_input(i)], nodes[i]);
    }
  }
  void run() {
    for (std::size_t i = 0; i < dag_width; ++i) nodes[i].try_put(flow::continue_msg{});
    g.wait_for_all();
  }
  bool ok(int x) const { return out[dag_tasks - 1] == dag_expected(x); }

  flow::graph g;
  std::array<int, dag_tasks> out{};
  std::deque<node> nodes;
};

template <class Graph>
void register_shape(const std::string& shape, std::size_t tasks) {
  for (int workers : pool_sizes) {
    benchmark::RegisterBenchmark(("pool/onetbb/" + shape + "/workers:" + std::to_string(workers)).c_str(),
                                 [=](benchmark::State& state) {
                                   // n workers + the calling thread; oneTBB caps workers at
                                   // nproc - 1 unless told otherwise.
                                   oneapi::tbb::global_control threads{
                                       oneapi::tbb::global_control::max_allowed_parallelism,
                                       static_cast<std::size_t>(workers + 1)};
                                   oneapi::tbb::task_arena arena{workers + 1, 1};
                                   arena.execute([&] {
                                     int x = 1;
                                     benchmark::DoNotOptimize(x);
                                     auto graph = std::make_unique<Graph>(x);
                                     graph->run();
                                     task_meter meter{state, tasks};
                                     for (auto _ : state) graph->run();
                                     if (!graph->ok(x)) state.SkipWithError("wrong result");
                                   });
                                 })
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark(("construct/onetbb/" + shape + "/" + std::to_string(tasks)).c_str(),
                               [=](benchmark::State& state) {
                                 int x = 1;
                                 task_meter meter{state, tasks};
                                 for (auto _ : state) {
                                   Graph graph{x};
                                   benchmark::DoNotOptimize(&graph);
                                 }
                               });
}

}  // namespace

void register_tbb() {
  register_shape<fan_graph>("fan", fan_tasks);
  register_shape<dag_graph>("dag", dag_tasks);
}

}  // namespace bench
