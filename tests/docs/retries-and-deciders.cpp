// The code shown in docs/retries-and-deciders.md, run.
#include <flowkit/flowkit.hpp>

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "scratch.hpp"

namespace fk = flowkit;

namespace {

int charges = 0;
auto charge = fk::task<"charge">(fk::inputs<"card">, fk::outputs<"receipt">, [](const std::string& card) {
  ++charges;
  if (card != "visa") throw std::runtime_error(card + " declined");
  return "receipt from " + card;
});

// How a flow that pays with `card` ends, and how many charges it tried.
template <class Flow, class Store>
fk::flow_state pay_with(const Flow& flow, Store store, int expected_charges) {
  charges = 0;
  fk::engine eng{flow, std::move(store)};
  const fk::flow_state state = eng.run().state();
  docs::check(charges == expected_charges, "as many charges as the controller allows");
  return state;
}

void retry_controllers() {
  // snippet: controllers
  auto three_times = fk::linear_flow<"pay">(charge).retry(fk::times(3));  // up to 3 runs in all
  auto then_all = fk::linear_flow<"pay">(charge).retry(fk::times(3, fk::revert_all_when_exhausted));
  auto each_card =
      fk::linear_flow<"pay">(charge).retry(fk::for_each<"card">(std::vector<std::string>{"amex", "visa"}));
  auto from_slot = fk::linear_flow<"pay">(charge).retry(
      fk::parameterized_for_each<"cards", "card", std::vector<std::string>>());
  auto never = fk::linear_flow<"pay">(charge).retry(fk::always_revert);  // or fk::always_revert_all
  // end snippet
  const auto amex = fk::store<"card">(std::string{"amex"});
  docs::check(pay_with(three_times, amex, 3) == fk::flow_state::reverted,
              "times(3): three runs, then reverted");
  docs::check(pay_with(then_all, amex, 3) == fk::flow_state::reverted, "revert_all_when_exhausted");
  docs::check(pay_with(each_card, fk::store<"amount">(1.0), 2) == fk::flow_state::success, "for_each: visa");
  docs::check(pay_with(from_slot, fk::store<"cards">(std::vector<std::string>{"amex", "mc", "visa"}), 3) ==
                  fk::flow_state::success,
              "parameterized_for_each: the cards from the store");
  docs::check(pay_with(never, amex, 1) == fk::flow_state::reverted, "always_revert: no second run");
}

auto pay = fk::task<"pay">(fk::outputs<"receipt">, [] { return std::string{"R-1"}; });
auto wants_receipt = fk::task<"wants_receipt">(fk::inputs<"email">, fk::outputs<"asked">,
                                               [](const std::string& email) { return !email.empty(); });
auto mail = fk::task<"mail">(
    fk::inputs<"receipt", "email">, fk::outputs<"mailed">,
    [](const std::string& receipt, const std::string& email) { return email + ": " + receipt; });

void deciders() {
  // snippet: decider
  auto checkout = fk::graph_flow<"checkout">(
      pay, wants_receipt, mail,
      fk::link<"wants_receipt", "mail">([](bool asked) { return asked; }));  // depth all
  auto only_mail =
      fk::link<"wants_receipt", "mail", fk::depth::atom>([](bool asked) { return asked; });  // depth atom
  // end snippet
  fk::engine eng{checkout, fk::store<"email">(std::string{})};
  auto r = eng.run();
  docs::check(r.succeeded() && !r.has<"mailed">(), "no e-mail address: the decider ignores mail");
  fk::engine atom_deep{fk::graph_flow<"checkout">(pay, wants_receipt, mail, only_mail),
                       fk::store<"email">(std::string{"ana@example.org"})};
  docs::check(atom_deep.run().has<"mailed">(), "an address: mail runs");
}

auto a = fk::task<"a">(fk::outputs<"go">, [] { return false; });
auto b = fk::task<"b">(fk::outputs<"y">, [] { return 1; });
auto c = fk::task<"c">(fk::inputs<"y">, fk::outputs<"z">, [](int y) { return y + 1; });
bool decide(bool go) { return go; }

void decider_depth() {
  // snippet: depth_must_reach
  // c reads b's "y"; if a's decider says no, b is ignored and c would have no "y":
  auto unsafe = fk::graph_flow<"g">(a, b, c, fk::link<"a", "b", fk::depth::atom>(decide));
  // fk::engine{unsafe} does not compile: decider_ignores_input<"y", "c", "b", "a", "b">
  auto safe = fk::graph_flow<"g">(a, b, c, fk::link<"a", "b">(decide));  // depth all: c ignored too
  // end snippet
  (void)unsafe;  // tests/compile_fail/decider_ignores_input.cpp is the engine that does not compile
  fk::engine eng{safe};
  auto r = eng.run();
  docs::check(r.succeeded() && !r.has<"y">() && !r.has<"z">(),
              "a says no: b and c are ignored, the flow succeeds");
}

}  // namespace

int main() {
  retry_controllers();
  deciders();
  decider_depth();
  std::cout << "docs/retries-and-deciders.md's code runs as documented\n";
}
