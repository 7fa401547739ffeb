// A task that reads a slot as another type than its producer makes does not compile.
#include <flowkit/flowkit.hpp>

#include <string>

namespace fk = flowkit;

// expect: flowkit: a task's input has another type than the output that feeds it
// expect: type_mismatch<"order", "charge", int, double>
// fix: Take the input as the type its producer makes.

int main() {
  auto fetch = fk::task<"fetch">(fk::outputs<"order">, [] { return 99.5; });
#ifdef FLOWKIT_NEGATIVE
  auto charge = fk::task<"charge">(fk::inputs<"order">, fk::outputs<"receipt">, [](int o) { return o + 1; });
#else
  auto charge =
      fk::task<"charge">(fk::inputs<"order">, fk::outputs<"receipt">, [](double o) { return o + 1; });
#endif
  auto flow = fk::linear_flow<"checkout">(fetch, charge);
  (void)flow;
}
