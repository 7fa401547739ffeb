// An fk::link that names no child of its graph flow does not compile.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: an fk::link names no child of its graph flow
// expect: unknown_link_end<"pnog", "g">
// fix: Name children of the graph flow at both ends of the link (here a typo).

int main() {
  auto ping = fk::task<"ping">([] {});
  auto pong = fk::task<"pong">([] {});
#ifdef FLOWKIT_NEGATIVE
  auto flow = fk::graph_flow<"g">(ping, pong, fk::link<"ping", "pnog">);
#else
  auto flow = fk::graph_flow<"g">(ping, pong, fk::link<"ping", "pong">);
#endif
  (void)flow;
}
