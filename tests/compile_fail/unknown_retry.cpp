// history<name>() of a name that is no retry controller of the flow does not compile.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: history<name>\(\) names no retry controller
// expect: unknown_retry<"pay", "pay">
// fix: Name the flow's retry controller as flowkit does, `<flow>_retry` (here `pay_retry`).

int main() {
  auto charge = fk::task<"charge">([] {});
  fk::engine eng{fk::linear_flow<"pay">(charge).retry(fk::times(3))};
#ifdef FLOWKIT_NEGATIVE
  return static_cast<int>(eng.history<"pay">().size());
#else
  return static_cast<int>(eng.history<"pay_retry">().size());
#endif
}
