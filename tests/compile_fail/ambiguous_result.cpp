// Reading a result that two children of an unordered flow provide is ambiguous.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: error: static assertion failed: flowkit: two tasks equally near a consumer provide the slot it reads
// expect: duplicate_provider<flowkit::name<[0-9]+>\{"price"\}, flowkit::name<[0-9]+>\{"prices"\}, flowkit::name<[0-9]+>\{"(list|quote)"\}, flowkit::name<[0-9]+>\{"(list|quote)"\}>

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
