// Reading a result that two children of an unordered flow provide is ambiguous.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: two tasks equally near a consumer provide the slot it reads
// expect: duplicate_provider<"price", "prices", "(list|quote)", "(list|quote)">
// fix: Let one child provide the slot: give the other output a name of its own.

int main() {
  auto list = fk::task<"list">(fk::outputs<"price">, [] { return 10; });
#ifdef FLOWKIT_NEGATIVE
  auto quote = fk::task<"quote">(fk::outputs<"price">, [] { return 12; });
#else
  auto quote = fk::task<"quote">(fk::outputs<"offer">, [] { return 12; });
#endif
  fk::engine eng{fk::unordered_flow<"prices">(list, quote)};
  auto r = eng.run();
  [[maybe_unused]] const auto& price = r.get<"price">();
}
