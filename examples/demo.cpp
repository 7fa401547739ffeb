// The demo: compose a checkout flow from tasks and nested flows, print its Graphviz graph, run it
// and read its typed results.
//
//   flowkit-demo            # prints the DOT graph, then the run
//   flowkit-demo | dot ...  # the graph part renders with Graphviz (lines before "run:")
#include <flowkit/flowkit.hpp>

#include <cstdio>
#include <string>
#include <tuple>

namespace fk = flowkit;

struct order {
  int id;
  double amount;
};

// A task written as a class, TaskFlow's subclass style.
struct ship {
  static constexpr fk::name name = "ship";
  using inputs = fk::names<"order", "receipt">;
  using outputs = fk::names<"tracking">;
  std::string execute(const order& o, const std::string& receipt) {
    return "TRK-" + std::to_string(o.id) + "-" + receipt;
  }
};

int main() {
  auto fetch = fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"order">,
                                 [](int id) { return order{id, 99.5}; });
  auto charge = fk::task<"charge">(fk::inputs<"order", "currency">, fk::outputs<"receipt", "cents">,
                                   [](const order& o, const std::string& currency) {
                                     const long cents = static_cast<long>(o.amount * 100);
                                     return std::tuple{"R" + std::to_string(o.id) + currency, cents};
                                   })
                    .with_default<"currency">("EUR");
  auto email = fk::task<"email">(fk::inputs<"tracking">, fk::outputs<"email_sent">,
                                 [](const std::string& t) { return "mailed " + t; });
  auto sms = fk::task<"sms">(fk::inputs<"tracking", "cents">, fk::outputs<"sms_sent">,
                             [](const std::string& t, long cents) { return "texted " + t + " for " + std::to_string(cents); });

  auto checkout = fk::linear_flow<"checkout">(fetch, charge, ship{}, fk::unordered_flow<"notify">(email, sms));

  std::fputs(fk::to_dot(checkout).c_str(), stdout);

  fk::engine eng{checkout, fk::store<"order_id">(42)};
  auto result = eng.run();
  std::printf("run: %s\n", std::string(fk::to_string(result.state())).c_str());
  if (!result.succeeded()) return 1;
  std::printf("  tracking: %s\n  %s\n  %s\n", result.get<"tracking">().c_str(), result.get<"email_sent">().c_str(),
              result.get<"sms_sent">().c_str());
  return 0;
}
