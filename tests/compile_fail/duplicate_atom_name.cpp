// Two atoms with one name in one flow do not compile, even in different subflows.
#include <flowkit/flowkit.hpp>

namespace fk = flowkit;

// expect: flowkit: two atoms of one flow have the same name
// expect: duplicate_atom_name<"notify">
// fix: Give every atom of the flow a name of its own, in its subflows too.

int main() {
  auto email = fk::task<"notify">([] {});
#ifdef FLOWKIT_NEGATIVE
  auto sms = fk::task<"notify">([] {});
#else
  auto sms = fk::task<"sms">([] {});
#endif
  auto flow = fk::linear_flow<"checkout">(email, fk::unordered_flow<"more">(sms));
  (void)flow;
}
