// A decider that may ignore the only provider of a task's required input, while the task stays
// outside what the decider ignores, does not compile: the task would run without its input.
// The twin reaches the consumer with depth all; an optional input or a store value would do too
// (see tests/engine/decider_test.cpp).
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: a decider may ignore the task that provides an input
// expect: decider_ignores_input<"price", "bill", "quote", "check", "quote">

#ifdef FLOWKIT_NEGATIVE
constexpr fk::depth how_far = fk::depth::atom;
#else
constexpr fk::depth how_far = fk::depth::all;
#endif

int main() {
  auto check = fk::task<"check">(fk::outputs<"ok">, [] { return false; });
  auto quote = fk::task<"quote">(fk::outputs<"price">, [] { return 10; });
  auto bill = fk::task<"bill">(fk::inputs<"price">, fk::outputs<"total">, [](int price) { return price + 1; });
  fk::engine eng{fk::graph_flow<"g">(check, quote, bill, fk::link<"check", "quote", how_far>([](bool ok) { return ok; }))};
  return eng.run().succeeded() ? 0 : 1;
}
