// A decider that may ignore the provider of an input that a task still needs does not compile:
// the task stays outside what the decider ignores, so it would run without its input.
// The twin reaches the consumer with depth all; tests/engine/decider_test.cpp runs the others.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: a decider may ignore the task that provides an input
// expect: decider_ignores_input<"price", "bill", "quote", "check", "quote">
// fix: Widen the link's depth so that the decider ignores the reader too (here fk::depth::all),
// make the input optional, or give the store a value for it.

#ifdef FLOWKIT_NEGATIVE
constexpr fk::depth how_far = fk::depth::atom;
#else
constexpr fk::depth how_far = fk::depth::all;
#endif

int main() {
  auto check = fk::task<"check">(fk::outputs<"ok">, [] { return false; });
  auto quote = fk::task<"quote">(fk::outputs<"price">, [] { return 10; });
  auto bill =
      fk::task<"bill">(fk::inputs<"price">, fk::outputs<"total">, [](int price) { return price + 1; });
  fk::engine eng{fk::graph_flow<"g">(check, quote, bill,
                                     fk::link<"check", "quote", how_far>([](bool ok) { return ok; }))};
  return eng.run().succeeded() ? 0 : 1;
}
