// An engine whose store lacks an input that a task reads does not compile.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: a task's input is produced by no task before it
// expect: missing_input<"order_id", "fetch">
// fix: Give the store a value under the input's name, or add a task before the reader that provides it.

int main() {
  auto fetch = fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"order">, [](int id) { return id * 2; });
  auto flow = fk::linear_flow<"checkout">(fetch);
#ifdef FLOWKIT_NEGATIVE
  fk::engine eng{flow, fk::store<"x">(1)};
#else
  fk::engine eng{flow, fk::store<"order_id">(1)};
#endif
  return eng.run().succeeded() ? 0 : 1;
}
