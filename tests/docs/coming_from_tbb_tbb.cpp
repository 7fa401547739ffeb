// The same diamond, A -> {B, C} -> D passing values, written with oneTBB's flow graph and with
// flowkit: the programs behind docs/coming-from-tbb.md. Both are run and must agree.
#include <flowkit/flowkit.hpp>

#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <iostream>
#include <tuple>

namespace fk = flowkit;

namespace {

double with_tbb(int order_id) {
  // snippet: tbb
  using namespace oneapi::tbb::flow;
  graph g;
  double total = 0;
  function_node<int, double> amount{g, unlimited, [](int id) { return id * 2.5; }};
  function_node<double, double> tax{g, unlimited, [](double a) { return a * 0.2; }};
  function_node<double, double> shipping{g, unlimited, [](double a) { return a > 100 ? 0.0 : 4.9; }};
  join_node<std::tuple<double, double>, queueing> both{g};  // pairs the i-th tax with the i-th shipping
  function_node<std::tuple<double, double>> sum{g, serial, [&](const std::tuple<double, double>& t) {
                                                  total = std::get<0>(t) + std::get<1>(t);
                                                  return continue_msg{};
                                                }};
  make_edge(amount, tax);
  make_edge(amount, shipping);
  make_edge(tax, input_port<0>(both));  // the port's number, not a name, says which value is which
  make_edge(shipping, input_port<1>(both));
  make_edge(both, sum);
  amount.try_put(order_id);
  g.wait_for_all();  // total is ready; nothing was kept of amount, tax or shipping
  // end snippet
  return total;
}

auto diamond_flow() {
  // snippet: flowkit
  auto amount =
      fk::task<"amount">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
  auto tax = fk::task<"tax">(fk::inputs<"amount">, fk::outputs<"tax">, [](double a) { return a * 0.2; });
  auto shipping = fk::task<"shipping">(fk::inputs<"amount">, fk::outputs<"shipping">,
                                       [](double a) { return a > 100 ? 0.0 : 4.9; });
  auto sum = fk::task<"sum">(fk::inputs<"tax", "shipping">, fk::outputs<"total">,
                             [](double tax, double shipping) { return tax + shipping; });

  // The edges come from the names: amount -> {tax, shipping} -> sum.
  auto diamond = fk::graph_flow<"diamond">(amount, tax, shipping, sum);
  // end snippet
  return diamond;
}

double with_flowkit(int order_id) {
  auto diamond = diamond_flow();
  // snippet: flowkit_run
  fk::engine eng{diamond, fk::store<"order_id">(order_id)};
  fk::thread_pool pool{2};
  auto r = eng.run(pool);           // tax and shipping in parallel
  double total = r.get<"total">();  // every slot stays readable: r.get<"tax">() too
  // end snippet
  return total;
}

// snippet: tbb_executor
// flowkit's executor concept is one call, submit(fk::work); size() is optional.
struct tbb_executor {
  oneapi::tbb::task_arena& arena;
  oneapi::tbb::task_group& group;
  void submit(fk::work w) {
    arena.execute([&] { group.run(w); });
  }
  int size() const { return arena.max_concurrency(); }
};
// end snippet

double on_tbb_arena(int order_id) {
  auto diamond = diamond_flow();
  // snippet: on_tbb_arena
  oneapi::tbb::task_arena arena{2};
  oneapi::tbb::task_group group;
  tbb_executor on_tbb{arena, group};
  fk::engine eng{diamond, fk::store<"order_id">(order_id)};
  double total = eng.run(on_tbb).get<"total">();
  arena.execute([&] { group.wait(); });  // work items the engine handed out and no longer needs
  // end snippet
  return total;
}

}  // namespace

int main() {
  for (int order_id : {2, 42}) {
    const double a = with_tbb(order_id);
    const double b = with_flowkit(order_id);
    const double c = on_tbb_arena(order_id);
    std::cout << "order " << order_id << ": oneTBB " << a << ", flowkit " << b
              << ", flowkit on a oneTBB arena " << c << '\n';
    if (a != b || a != c) return 1;
  }
  std::cout << "ok\n";
  return 0;
}
