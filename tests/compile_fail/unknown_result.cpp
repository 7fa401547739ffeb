// Reading a result that the flow does not produce, from a run result, does not compile.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: get<name>\(\) reads a slot that the flow does not produce
// expect: unknown_result<"nope", "checkout">
// fix: Read a slot that a task of the flow provides or that the store holds.

int main() {
  auto fetch = fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"order">, [](int id) { return id * 2; });
  fk::engine eng{fk::linear_flow<"checkout">(fetch), fk::store<"order_id">(42)};
  auto r = eng.run();
#ifdef FLOWKIT_NEGATIVE
  [[maybe_unused]] const auto& nope = r.get<"nope">();
#else
  return r.get<"order">();
#endif
}
