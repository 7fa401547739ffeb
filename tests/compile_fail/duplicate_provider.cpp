// A graph flow child whose input two siblings provide does not compile: which one feeds it is ambiguous.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: two tasks equally near a consumer provide the slot it reads
// expect: duplicate_provider<"price", "charge", "(list|quote)", "(list|quote)">
// fix: Let one sibling provide the slot: give the other output a name of its own.

int main() {
  auto list = fk::task<"list">(fk::outputs<"price">, [] { return 10; });
#ifdef FLOWKIT_NEGATIVE
  auto quote = fk::task<"quote">(fk::outputs<"price">, [] { return 12; });
#else
  auto quote = fk::task<"quote">(fk::outputs<"offer">, [] { return 12; });
#endif
  auto charge = fk::task<"charge">(fk::inputs<"price">, fk::outputs<"receipt">, [](int p) { return p; });
  auto flow = fk::graph_flow<"g">(charge, list, quote);
  (void)flow;
}
