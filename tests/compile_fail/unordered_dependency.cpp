// A child of an unordered flow may not read what its sibling provides.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: a task of an unordered flow reads a slot that its sibling provides
// expect: unordered_dependency<"order", "charge", "fetch">
// fix: Order the two tasks: a linear flow runs the provider before the reader.

int main() {
  auto fetch = fk::task<"fetch">(fk::outputs<"order">, [] { return 42; });
  auto charge = fk::task<"charge">(fk::inputs<"order">, fk::outputs<"receipt">, [](int o) { return o; });
#ifdef FLOWKIT_NEGATIVE
  auto flow = fk::unordered_flow<"both">(fetch, charge);
#else
  auto flow = fk::linear_flow<"both">(fetch, charge);
#endif
  (void)flow;
}
