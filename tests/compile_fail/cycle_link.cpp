// Two links in opposite directions, fk::link<a, b> and fk::link<b, a>, form a cycle in a graph flow.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: the dependencies between the children of a graph flow form a cycle
// expect: cycle<"(ping|pong)", "(ping|pong)", "">
// fix: Keep one of the two links: each says its first end runs before its second.

int main() {
  auto ping = fk::task<"ping">([] {});
  auto pong = fk::task<"pong">([] {});
#ifdef FLOWKIT_NEGATIVE
  auto flow = fk::graph_flow<"g">(ping, pong, fk::link<"ping", "pong">, fk::link<"pong", "ping">);
#else
  auto flow = fk::graph_flow<"g">(ping, pong, fk::link<"ping", "pong">);
#endif
  (void)flow;
}
