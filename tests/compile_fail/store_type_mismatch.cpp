// A store value of another type than the input that reads it does not compile.
#include <flowkit/flowkit.hpp>

#include <string>

namespace fk = flowkit;

// expect: flowkit: a store value has another type than the task input that reads it
// expect: store_type_mismatch<"order_id", "fetch", int, std::(__cxx11::)?basic_string<char
// fix: Store a value of the type that the task takes.

int main() {
  auto fetch = fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"order">, [](int id) { return id * 2; });
  auto flow = fk::linear_flow<"checkout">(fetch);
#ifdef FLOWKIT_NEGATIVE
  fk::engine eng{flow, fk::store<"order_id">(std::string{"42"})};
#else
  fk::engine eng{flow, fk::store<"order_id">(42)};
#endif
  return eng.run().succeeded() ? 0 : 1;
}
