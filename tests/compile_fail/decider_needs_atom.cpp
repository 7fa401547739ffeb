// A decider link that starts at a flow does not compile: a decider reads one atom's result.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: a decider link starts at a flow
// expect: decider_needs_atom<"checks", "g">
// fix: Start the decider link at the atom whose result the decider reads.

int main() {
  auto checks = fk::linear_flow<"checks">(fk::task<"check">(fk::outputs<"ok">, [] { return true; }));
  auto check = fk::task<"check2">(fk::outputs<"ok2">, [] { return true; });
  auto ship = fk::task<"ship">([] {});
#ifdef FLOWKIT_NEGATIVE
  auto flow =
      fk::graph_flow<"g">(checks, check, ship, fk::link<"checks", "ship">([](bool ok) { return ok; }));
#else
  auto flow =
      fk::graph_flow<"g">(checks, check, ship, fk::link<"check2", "ship">([](bool ok) { return ok; }));
#endif
  (void)flow;
}
