// Retries and deciders: an exchange rate asked for up to three times while its service times out
// (fk::times), a payment retried with each card in turn until one works (fk::for_each), and a
// receipt e-mailed only when the customer asked for one (a decider).
//
//   flowkit-example-retry        (prints the flow's Graphviz DOT first, then two runs)
#include <flowkit/flowkit.hpp>

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fk = flowkit;

int main() {
  int rate_calls = 0;  // the rate service answers every third call: two timeouts, then a rate
  auto convert =
      fk::task<"convert">(fk::inputs<"price_usd">, fk::outputs<"amount">, [&rate_calls](double usd) {
        if (++rate_calls % 3 != 0) throw std::runtime_error("rate service timed out");
        return usd * 0.9;
      });
  auto quote = fk::linear_flow<"quote">(convert).retry(fk::times(3));

  auto charge = fk::task<"charge">(fk::inputs<"card", "amount">, fk::outputs<"receipt">,
                                   [](const std::string& card, double amount) {
                                     if (card != "visa") throw std::runtime_error(card + " declined");
                                     return card + " charged " + std::to_string(amount);
                                   });
  auto pay = fk::linear_flow<"pay">(charge).retry(
      fk::for_each<"card">(std::vector<std::string>{"amex", "mc", "visa"}));

  auto wants_receipt = fk::task<"wants_receipt">(fk::inputs<"email">, fk::outputs<"asked">,
                                                 [](const std::string& email) { return !email.empty(); });
  auto mail = fk::task<"mail">(
      fk::inputs<"receipt", "email">, fk::outputs<"mailed">,
      [](const std::string& receipt, const std::string& email) { return email + ": " + receipt; });

  auto checkout = fk::graph_flow<"checkout">(
      quote, pay, wants_receipt, mail, fk::link<"wants_receipt", "mail">([](bool asked) { return asked; }));

  std::cout << fk::to_dot(checkout);
  for (const std::string email : {"ana@example.org", ""}) {
    fk::engine eng{checkout, fk::store<"price_usd", "email">(20.0, email)};
    auto r = eng.run();
    std::cout << "run for '" << email << "': " << fk::to_string(r.state()) << ", " << r.get<"receipt">()
              << '\n';
    for (const auto& attempt : eng.history<"quote_retry">())
      std::cout << "  rate, attempt " << attempt.value
                << (attempt.failures.empty() ? ": ok" : ": " + attempt.failures[0].what()) << '\n';
    for (const auto& attempt : eng.history<"pay_retry">())
      std::cout << "  tried " << attempt.value
                << (attempt.failures.empty() ? ": ok" : ": " + attempt.failures[0].what()) << '\n';
    std::cout << "  mail: " << (r.has<"mailed">() ? r.get<"mailed">() : std::string("skipped by the decider"))
              << '\n';
    if (r.state() != fk::flow_state::success || eng.history<"quote_retry">().size() != 3) return 1;
  }
  return 0;
}
