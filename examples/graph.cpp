// A graph flow: no task names another, yet they run in an order that works. Each edge comes from
// data (a task that reads "order" runs after the one that writes it); one link carries a decider
// that skips gift wrapping when the order is not a gift. The tasks are listed in a scrambled order
// on purpose: the graph, not the listing, decides.
//
//   flowkit-example-graph
#include <flowkit/flowkit.hpp>

#include <iostream>
#include <string>

namespace fk = flowkit;

// Which tasks ran, in order, and which a decider skipped.
struct watch {
  std::string ran, skipped;
  void on_atom(const fk::atom_event& e) {
    if (e.to == fk::atom_state::success) ran += (ran.empty() ? "" : " -> ") + std::string{e.atom};
    if (e.to == fk::atom_state::ignore) skipped += ' ' + std::string{e.atom};
  }
};

int main() {
  auto invoice = fk::task<"invoice">(
      fk::inputs<"total", "in_stock">, fk::outputs<"invoice">, [](int total, bool in_stock) {
        return (in_stock ? "invoice: " : "back-order: ") + std::to_string(total) + " EUR";
      });
  auto wrap = fk::task<"wrap">(fk::inputs<"order">, fk::outputs<"wrapping">,
                               [](const std::string& order) { return "ribbon on " + order; });
  auto price = fk::task<"price">(fk::inputs<"order">, fk::outputs<"total">,
                                 [](const std::string& order) { return 3 * static_cast<int>(order.size()); });
  auto stock = fk::task<"check_stock">(fk::inputs<"order">, fk::outputs<"in_stock">,
                                       [](const std::string&) { return true; });
  auto is_gift = fk::task<"is_gift">(fk::inputs<"order">, fk::outputs<"gift">, [](const std::string& order) {
    return order.find("gift") != std::string::npos;
  });
  auto load = fk::task<"load">(fk::inputs<"order_id">, fk::outputs<"order">,
                               [](int id) { return (id % 2 ? "gift box #" : "box #") + std::to_string(id); });

  // load -> {price, check_stock, is_gift, wrap} from "order"; invoice after price and check_stock
  // from "total" and "in_stock"; wrap after is_gift by the link, and only if the decider says yes.
  auto shop = fk::graph_flow<"shop">(invoice, wrap, price, stock, is_gift, load,
                                     fk::link<"is_gift", "wrap">([](bool gift) { return gift; }));

  for (int order_id : {7, 8}) {
    fk::engine eng{shop, fk::store<"order_id">(order_id)};
    watch w;
    eng.listen(w);
    auto r = eng.run();
    std::cout << "order " << order_id << ": " << fk::to_string(r.state()) << '\n'
              << "  ran:     " << w.ran << '\n'
              << "  skipped:" << (w.skipped.empty() ? " nothing" : w.skipped) << '\n'
              << "  " << r.get<"invoice">() << ", "
              << (r.has<"wrapping">() ? r.get<"wrapping">() : std::string{"no wrapping"}) << '\n';
    const bool gift = order_id % 2 == 1;
    if (r.state() != fk::flow_state::success || r.has<"wrapping">() != gift) return 1;
  }
  return 0;
}
