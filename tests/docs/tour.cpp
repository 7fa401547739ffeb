// The code shown in docs/tour.md, run: each snippet region is one of its blocks.
// snippet: first_flow
#include <flowkit/flowkit.hpp>
namespace fk = flowkit;

auto fetch =
    fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
auto charge = fk::task<"charge">(fk::inputs<"amount">, fk::outputs<"receipt">,
                                 [](double amount) { return "R" + std::to_string(amount); });

fk::engine eng{fk::linear_flow<"checkout">(fetch, charge), fk::store<"order_id">(42)};
auto r = eng.run();                               // serial, on the calling thread
const std::string& receipt = r.get<"receipt">();  // typed; an unknown name does not compile
// end snippet

#include <flowkit/conductor/conductor.hpp>
#include <flowkit/lmdb.hpp>

#include <cassert>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "scratch.hpp"

namespace {

// The bookings are reverted in parallel, as they ran.
std::mutex cancelled_mutex;
std::vector<std::string> cancelled;
std::string book_hotel(const std::string& trip) { return "hotel in " + trip; }
std::string book_flight(const std::string& trip) { return "flight to " + trip; }
void cancel(const std::string& booking) {
  std::lock_guard lock{cancelled_mutex};
  cancelled.push_back(booking);
}

void revert_on_failure() {
  // snippet: revert
  auto hotel =
      fk::task<"book_hotel">(fk::inputs<"trip">, fk::outputs<"hotel">, book_hotel)
          .on_revert([](const std::string&, const fk::outcome<std::string>& booked) { cancel(*booked); });
  auto flight =
      fk::task<"book_flight">(fk::inputs<"trip">, fk::outputs<"flight">, book_flight)
          .on_revert([](const std::string&, const fk::outcome<std::string>& booked) { cancel(*booked); });
  auto pay = fk::task<"pay">(fk::inputs<"hotel", "flight">, [](const std::string&, const std::string&) {
    throw std::runtime_error("card declined");
  });

  fk::engine eng{fk::linear_flow<"trip">(fk::unordered_flow<"book">(hotel, flight), pay),
                 fk::store<"trip">(std::string("Lisbon"))};
  fk::thread_pool pool{2};
  auto r = eng.run(pool);  // hotel and flight in parallel, then pay fails:
                           // pay, then both bookings are reverted
  assert(r.state() == fk::flow_state::reverted);
  for (const fk::failure& f : r.failures())  // pay: std::runtime_error: card declined
    std::cerr << f.atom() << ": " << f.type_name() << ": " << f.what() << '\n';
  // end snippet
  docs::check(r.state() == fk::flow_state::reverted, "the trip is reverted");
  docs::check(cancelled.size() == 2, "both bookings are cancelled");
  docs::check(r.failures().size() == 1 && r.failures()[0].atom() == "pay", "pay is the one failure");
}

auto charge_card = fk::task<"charge">(fk::inputs<"card", "amount">, fk::outputs<"receipt">,
                                      [](const std::string& card, double amount) {
                                        if (card != "visa") throw std::runtime_error(card + " declined");
                                        return card + " " + std::to_string(amount);
                                      });
auto wants_receipt = fk::task<"wants_receipt">(fk::inputs<"email">, fk::outputs<"asked">,
                                               [](const std::string& email) { return !email.empty(); });
auto mail = fk::task<"mail">(
    fk::inputs<"receipt", "email">, fk::outputs<"mailed">,
    [](const std::string& receipt, const std::string& email) { return email + ": " + receipt; });

void retry_and_decide() {
  const auto& charge = charge_card;
  // snippet: retry_and_link
  auto pay =
      fk::linear_flow<"pay">(charge).retry(fk::for_each<"card">(std::vector<std::string>{"amex", "visa"}));
  auto checkout = fk::graph_flow<"checkout">(
      pay, wants_receipt, mail, fk::link<"wants_receipt", "mail">([](bool asked) { return asked; }));
  // end snippet
  fk::engine asked{checkout, fk::store<"amount", "email">(20.0, std::string{"ana@example.org"})};
  auto r = asked.run();
  docs::check(r.succeeded() && r.get<"receipt">().starts_with("visa"), "amex is declined, visa is charged");
  docs::check(r.has<"mailed">(), "the receipt is mailed when asked for");
  fk::engine not_asked{checkout, fk::store<"amount", "email">(20.0, std::string{})};
  docs::check(!not_asked.run().has<"mailed">(), "no mail when none is asked for");
}

auto checkout = fk::linear_flow<"checkout">(fetch, charge);

void resume_after_crash() {
  // snippet: persist
  fk::lmdb_backend checkpoints{"orders.lmdb"};  // #include <flowkit/lmdb.hpp>
  fk::engine eng{checkout, fk::store<"order_id">(42), fk::persist(checkpoints, "order-42")};
  auto r = eng.run();
  // end snippet
  docs::check(r.succeeded(), "the checkpointed run succeeds");
  fk::engine again{checkout, fk::store<"order_id">(42), fk::persist(checkpoints, "order-42")};
  docs::check(again.run().get<"receipt">() == r.get<"receipt">(),
              "run again, the stored outcome is read back");
}

void conductor_runs_a_job() {
  fk::lmdb_backend checkpoints{"orders.lmdb"};
  fk::lmdb_jobboard board{"orders.lmdb"};
  // snippet: jobs
  // #include <flowkit/conductor/conductor.hpp>: fk::job_flow, fk::flows, fk::conductor
  using checkout_job = fk::job_flow<decltype(checkout), decltype(fk::store<"order_id">(0))>;
  board.post("order 42", checkout, fk::store<"order_id">(42));  // some program posts
  fk::conductor c{board, checkpoints, fk::flows<checkout_job>{checkout}, {.name = "conductor-1"}};
  c.listen([&](const fk::conductor_event& e) {  // here: stop after one job
    if (e.kind == fk::conductor_event_kind::consumed) c.stop();
  });
  c.run();  // conductors run, until c.stop()
  // end snippet
  docs::check(board.jobs().empty(), "the conductor ran the job and consumed it");
}

}  // namespace

int main() {
  docs::check(receipt == "R105.000000", "42 * 2.5, charged");
  docs::scratch_directory scratch;
  revert_on_failure();
  retry_and_decide();
  resume_after_crash();
  conductor_runs_a_job();
  std::cout << "docs/tour.md's code runs as documented\n";
}
