// The code shown in docs/concepts.md, run.
#include <flowkit/flowkit.hpp>

#include <iostream>
#include <string>
#include <tuple>

#include "scratch.hpp"

namespace fk = flowkit;

namespace {

struct Order {
  int id = 0;
  double amount = 0;
};
std::string receipt_of(const Order& o) { return "receipt " + std::to_string(o.id); }

void a_task() {
  // snippet: task
  auto charge = fk::task<"charge">(fk::inputs<"order", "rate">, fk::outputs<"receipt", "total">,
                                   [](const Order& o, double rate) {
                                     return std::tuple{receipt_of(o), o.amount * rate};
                                   });
  // end snippet
  fk::engine eng{fk::linear_flow<"checkout">(charge), fk::store<"order", "rate">(Order{7, 20.0}, 1.5)};
  auto r = eng.run();
  docs::check(r.get<"receipt">() == "receipt 7" && r.get<"total">() == 30.0,
              "a tuple's elements are the outputs");
}

auto reserve =
    fk::task<"reserve">(fk::inputs<"order_id">, fk::outputs<"reservation">, [](int id) { return id; });
auto charge =
    fk::task<"charge">(fk::inputs<"reservation">, fk::outputs<"receipt">, [](int r) { return r * 2; });
auto hotel = fk::task<"hotel">(fk::inputs<"trip">, fk::outputs<"room">, [](int trip) { return trip + 1; });
auto flight = fk::task<"flight">(fk::inputs<"trip">, fk::outputs<"seat">, [](int trip) { return trip + 2; });
auto pack = fk::task<"pack">(fk::outputs<"parcel">, [] { return 1; });
auto label = fk::task<"label">(fk::outputs<"address">, [] { return 2; });

void three_flows() {
  // snippet: flows
  // in order; each child sees what the earlier ones provide
  auto pay = fk::linear_flow<"pay">(reserve, charge);
  // no order, in parallel on a pool; siblings independent
  auto book = fk::unordered_flow<"book">(hotel, flight);
  // order from data and links
  auto ship = fk::graph_flow<"ship">(label, pack, fk::link<"pack", "label">);
  // end snippet
  fk::engine paying{pay, fk::store<"order_id">(21)};
  docs::check(paying.run().get<"receipt">() == 42, "charge reads what reserve provides");
  fk::engine booking{book, fk::store<"trip">(1)};
  fk::thread_pool pool{2};
  auto booked = booking.run(pool);
  docs::check(booked.get<"room">() == 2 && booked.get<"seat">() == 3, "both bookings run");
  fk::engine shipping{ship};
  docs::check(shipping.run().succeeded(), "the graph runs pack, then label");
}

}  // namespace

int main() {
  a_task();
  three_flows();
  std::cout << "docs/concepts.md's code runs as documented\n";
}
