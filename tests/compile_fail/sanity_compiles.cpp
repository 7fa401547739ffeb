// Not a real case: its negative side compiles, so its compile_fail test must fail (WILL_FAIL).
// It proves that the harness notices a negative case that compiles.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit:
// gallery: skip (the harness's own check, not a mistake to show)

int main() {
  auto fetch = fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"order">, [](int id) { return id * 2; });
#ifdef FLOWKIT_NEGATIVE
  fk::engine eng{fk::linear_flow<"checkout">(fetch), fk::store<"order_id">(1)};  // wired right
#else
  fk::engine eng{fk::linear_flow<"checkout">(fetch), fk::store<"order_id">(2)};
#endif
  return eng.run().succeeded() ? 0 : 1;
}
