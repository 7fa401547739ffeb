// An engine whose store lacks an input that a task reads does not compile.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: error: static assertion failed: flowkit: a task's input is produced by no task before it
// expect: missing_input<flowkit::name<[0-9]+>\{"order_id"\}, flowkit::name<[0-9]+>\{"fetch"\}>

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
