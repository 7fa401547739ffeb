// Children of a graph flow that read each other's outputs form a cycle.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: the dependencies between the children of a graph flow form a cycle
// expect: cycle<"(ping|pong)", "(ping|pong)", "[xy]">
// fix: Break the cycle: one of the two tasks must not read what the other provides.

int main() {
#ifdef FLOWKIT_NEGATIVE
  auto ping = fk::task<"ping">(fk::inputs<"y">, fk::outputs<"x">, [](int y) { return y + 1; });
#else
  auto ping = fk::task<"ping">(fk::outputs<"x">, [] { return 1; });
#endif
  auto pong = fk::task<"pong">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x + 1; });
  auto flow = fk::graph_flow<"g">(ping, pong);
  (void)flow;
}
