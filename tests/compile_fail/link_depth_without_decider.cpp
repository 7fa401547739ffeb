// A depth given to a link without a decider does not compile: it would mean nothing.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: fk::link<from, to, depth>: a depth is given to a link without a decider
// fix: Drop the depth, or give the link a decider.

int main() {
  auto check = fk::task<"check">(fk::outputs<"ok">, [] { return true; });
  auto ship = fk::task<"ship">([] {});
#ifdef FLOWKIT_NEGATIVE
  auto flow = fk::graph_flow<"g">(check, ship, fk::link<"check", "ship", fk::depth::atom>);
#else
  auto flow = fk::graph_flow<"g">(check, ship, fk::link<"check", "ship">);
#endif
  (void)flow;
}
