// Prints the structural hash of hash_check::order_flow(), in hex. Built as two executables; the
// second (FLOWKIT_HASH_REWRITTEN) writes the same structure again with lambdas of its own, so its
// flow is another type with the same structure. A test runs both and checks that they agree.
#include "flows.hpp"

#include <cinttypes>
#include <cstdio>
#include <string>
#include <type_traits>

namespace {

#ifdef FLOWKIT_HASH_REWRITTEN
auto rewritten() {
  namespace fk = flowkit;
  auto fetch = fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"order">,
                                 [](int id) { return "#" + std::to_string(id); });
  auto charge =
      fk::task<"charge">(fk::inputs<"order">, fk::outputs<"receipt">, [](const std::string&) { return 7L; });
  auto mail = fk::task<"mail">(fk::inputs<"receipt">, [](long r) { (void)r; });
  auto audit = fk::task<"audit">(fk::inputs<"order">, [](const std::string& o) { (void)o; });
  return fk::linear_flow<"checkout">(
      fetch,
      fk::graph_flow<"pay">(charge, mail, audit, fk::link<"charge", "mail">([](long r) { return r != 1; })),
      fk::linear_flow<"retrying">(fk::task<"flaky">([] { std::puts(""); })).retry(fk::times(5)));
}
#endif

}  // namespace

int main() {
#ifdef FLOWKIT_HASH_REWRITTEN
  const auto flow = rewritten();
#else
  const auto flow = hash_check::order_flow();
#endif
  std::printf("%016" PRIx64 "\n", flowkit::structural_hash<std::remove_cvref_t<decltype(flow)>>);
  return 0;
}
