// A program that never mentions tracing: FLOWKIT_TRACE alone decides whether its engines are
// traced (trace_listener_test.cpp runs it). Exits 0 when every run succeeded.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

int main() {
  auto one = fk::task<"one">(fk::outputs<"x">, [] { return 1; });
  auto two = fk::task<"two">(fk::inputs<"x">, [](int x) { return x + 1; });
  fk::engine first{fk::linear_flow<"first">(one, two)};
  fk::engine second{fk::linear_flow<"second">(one, two)};
  fk::thread_pool pool{2};
  bool ok = first.run().succeeded();
  ok = second.run(pool).succeeded() && ok;
  second.reset();
  ok = second.run(pool).succeeded() && ok;
  return ok ? 0 : 1;
}
