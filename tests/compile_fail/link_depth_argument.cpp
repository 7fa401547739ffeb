// A decider's depth given as a call argument does not compile: it is a template argument, so
// that the compiler knows what the decider may ignore.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: fk::link<from, to>\(decider, depth\): write the depth as a template argument
// fix: Write the depth as the link's third template argument.

int main() {
  auto check = fk::task<"check">(fk::outputs<"ok">, [] { return true; });
  auto ship = fk::task<"ship">([] {});
#ifdef FLOWKIT_NEGATIVE
  auto flow = fk::graph_flow<"g">(check, ship,
                                  fk::link<"check", "ship">([](bool ok) { return ok; }, fk::depth::atom));
#else
  auto flow = fk::graph_flow<"g">(check, ship,
                                  fk::link<"check", "ship", fk::depth::atom>([](bool ok) { return ok; }));
#endif
  (void)flow;
}
