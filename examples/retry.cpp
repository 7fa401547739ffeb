// Retries and deciders: a payment retried with each card in turn until one works, and a
// receipt e-mailed only when the customer asked for one.
#include <flowkit/flowkit.hpp>

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fk = flowkit;

int main() {
  auto charge = fk::task<"charge">(fk::inputs<"card", "amount">, fk::outputs<"receipt">,
                                   [](const std::string& card, double amount) {
                                     if (card != "visa") throw std::runtime_error(card + " declined");
                                     return card + " charged " + std::to_string(amount);
                                   });
  auto pay = fk::linear_flow<"pay">(charge).retry(fk::for_each<"card">(std::vector<std::string>{"amex", "mc", "visa"}));

  auto wants_receipt = fk::task<"wants_receipt">(fk::inputs<"email">, fk::outputs<"asked">,
                                                 [](const std::string& email) { return !email.empty(); });
  auto mail = fk::task<"mail">(fk::inputs<"receipt", "email">, fk::outputs<"mailed">,
                               [](const std::string& receipt, const std::string& email) { return email + ": " + receipt; });

  auto checkout = fk::graph_flow<"checkout">(pay, wants_receipt, mail,
                                             fk::link<"wants_receipt", "mail">([](bool asked) { return asked; }));

  std::cout << fk::to_dot(checkout);
  for (const std::string email : {"ana@example.org", ""}) {
    fk::engine eng{checkout, fk::store<"amount", "email">(20.0, email)};
    auto r = eng.run();
    std::cout << "run for '" << email << "': " << fk::to_string(r.state()) << ", " << r.get<"receipt">() << '\n';
    for (const auto& attempt : eng.history<"pay_retry">())
      std::cout << "  tried " << attempt.value << (attempt.failures.empty() ? ": ok" : ": " + attempt.failures[0].what()) << '\n';
    std::cout << "  mail: " << (r.has<"mailed">() ? r.get<"mailed">() : std::string("skipped by the decider")) << '\n';
    if (r.state() != fk::flow_state::success) return 1;
  }
  return 0;
}
