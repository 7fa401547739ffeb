// The flowkit side of docs/coming-from-taskflow.md: each region is shown beside its TaskFlow twin
// (tests/docs/taskflow/coming_from_taskflow.py). Every part is run and checked, so the page cannot
// show an API that no longer exists or that behaves otherwise.
#include <flowkit/conductor/conductor.hpp>
#include <flowkit/flowkit.hpp>
#include <flowkit/lmdb.hpp>

#include <stdlib.h>  // mkdtemp
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fk = flowkit;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::cerr << "failed: " << what << '\n';
    std::exit(1);
  }
}

// A directory of this program's own, removed at the end.
struct temporary_directory {
  std::filesystem::path path;
  temporary_directory() {
    std::string name = (std::filesystem::temp_directory_path() / "flowkit-doc-XXXXXX").string();
    if (!::mkdtemp(name.data())) throw std::runtime_error("mkdtemp failed");
    path = name;
  }
  ~temporary_directory() { std::filesystem::remove_all(path); }
};

// snippet: task_class
struct charge {
  static constexpr fk::name name = "charge";
  using inputs = fk::names<"order">;
  using outputs = fk::names<"receipt">;
  std::string execute(int order) const { return "R-" + std::to_string(order); }
  void revert(int order, const fk::outcome<std::string>& receipt) const {
    if (receipt) std::cout << "refund " << order << ' ' << *receipt << '\n';
  }
};
// end snippet

void tasks() {
  // snippet: task
  auto execute = [](int order) { return "R-" + std::to_string(order); };
  auto revert = [](int order, const fk::outcome<std::string>& receipt) {  // the result, or the failure
    if (receipt) std::cout << "refund " << order << ' ' << *receipt << '\n';
  };
  auto charge = fk::task<"charge">(fk::inputs<"order">, fk::outputs<"receipt">, execute).on_revert(revert);
  // end snippet
  auto decline = fk::task<"decline">(fk::inputs<"receipt">,
                                     [](const std::string&) { throw std::runtime_error("declined"); });
  fk::engine eng{fk::linear_flow<"f">(charge, decline), fk::store<"order">(7)};
  check(eng.run().state() == fk::flow_state::reverted, "the lambda task is reverted");
  check(eng.state_of("charge") == fk::atom_state::reverted, "charge is REVERTED");

  fk::engine by_class{fk::linear_flow<"f">(::charge{}, decline), fk::store<"order">(8)};
  check(by_class.run().state() == fk::flow_state::reverted, "the class task is reverted");
}

void arguments() {
  // snippet: arguments
  auto plus = [](int x, int y) { return x + y; };
  auto add = fk::task<"add">(fk::inputs<"x", "y">, fk::outputs<"sum">, plus);
  auto add_pq = fk::rebind<"x", "p">(fk::task<"add_pq">(fk::inputs<"x", "y">, fk::outputs<"s2">, plus));
  auto add_10 = fk::task<"add_10">(fk::inputs<"x", "y">, fk::outputs<"s3">, plus).inject<"y">(10);
  // end snippet
  fk::engine eng{fk::linear_flow<"f">(add, add_pq, add_10), fk::store<"x", "y", "p">(1, 2, 5)};
  auto r = eng.run();
  check(r.get<"sum">() == 3 && r.get<"s2">() == 7 && r.get<"s3">() == 11, "rebind and inject");
}

template <fk::name Name, fk::name Output>
auto producer() {
  return fk::task<Name>(fk::inputs<>, fk::outputs<Output>, [] { return 1; });
}

void patterns() {
  auto a = producer<"a", "a_out">();
  auto b = producer<"b", "b_out">();
  auto c = producer<"c", "c_out">();
  auto d = producer<"d", "d_out">();
  // snippet: patterns
  auto flow = fk::linear_flow<"outer">(a, fk::unordered_flow<"side">(b, c),  // b and c: no order between them
                                       fk::graph_flow<"graph">(d));          // order from data (and fk::link)
  // end snippet
  fk::engine eng{flow};
  check(eng.run().get<"d_out">() == 1, "the patterns run");
}

void run() {
  // snippet: run
  auto fetch =
      fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
  auto pay = fk::task<"pay">(fk::inputs<"amount">, fk::outputs<"receipt">,
                             [](double amount) { return "R" + std::to_string(amount); });
  auto checkout = fk::linear_flow<"checkout">(fetch, pay);
  fk::engine eng{checkout, fk::store<"order_id">(42)};  // a missing or mistyped input: compile error
  auto r = eng.run();                                   // returns; r.state(), r.failures()
  const std::string& receipt = r.get<"receipt">();      // typed; an unknown name: compile error
  // end snippet
  check(r.state() == fk::flow_state::success && receipt == "R105.000000", "the checkout runs");
}

void retries() {
  auto flaky = fk::task<"charge">(fk::inputs<"card">, fk::outputs<"receipt">, [](const std::string& card) {
    if (card != "visa") throw std::runtime_error(card + " declined");
    return card + " charged";
  });
  auto charge = fk::task<"charge">(fk::inputs<"amount">, fk::outputs<"receipt">, [](double amount) {
    if (amount > 100) throw std::runtime_error("over the limit");
    return std::string("charged");
  });
  // snippet: retries
  auto pay = fk::linear_flow<"pay">(charge).retry(fk::times(3));
  auto by_card =
      fk::linear_flow<"pay">(flaky).retry(fk::for_each<"card">(std::vector<std::string>{"amex", "visa"}));
  auto by_stored_cards = fk::linear_flow<"pay">(flaky).retry(
      fk::parameterized_for_each<"cards", "card", std::vector<std::string>>());
  // end snippet
  fk::engine times_engine{pay, fk::store<"amount">(120.0)};
  auto tried = times_engine.run();
  check(tried.state() == fk::flow_state::reverted && times_engine.history<"pay_retry">().size() == 3,
        "times(3) tries three times");
  fk::engine each{by_card};
  check(each.run().get<"receipt">() == "visa charged", "for_each tries the cards in turn");
  fk::engine stored{by_stored_cards, fk::store<"cards">(std::vector<std::string>{"mc", "visa"})};
  check(stored.run().get<"receipt">() == "visa charged",
        "parameterized_for_each reads its values from a slot");
}

void decider() {
  auto wants = fk::task<"wants_receipt">(fk::inputs<"email">, fk::outputs<"asked">,
                                         [](const std::string& email) { return !email.empty(); });
  auto mail = fk::task<"mail">(fk::inputs<"email">, fk::outputs<"mailed">,
                               [](const std::string& email) { return "mailed " + email; });
  // snippet: decider
  auto receipts = fk::graph_flow<"receipts">(
      wants, mail, fk::link<"wants_receipt", "mail">([](bool asked) { return asked; }));
  // the decider takes its source's typed result; the depth is a template argument (default: all)
  // end snippet
  fk::engine eng{receipts, fk::store<"email">(std::string{})};
  check(eng.run().state() == fk::flow_state::success, "the flow succeeds");
  check(eng.state_of("mail") == fk::atom_state::ignore, "the decider ignores mail");
}

void persistence(const std::filesystem::path& directory) {
  auto fetch =
      fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
  auto pay = fk::task<"pay">(fk::inputs<"amount">, fk::outputs<"receipt">,
                             [](double amount) { return "R" + std::to_string(amount); });
  auto checkout = fk::linear_flow<"checkout">(fetch, pay);
  const std::filesystem::path path = directory / "orders.lmdb";
  {
    // snippet: persistence
    fk::lmdb_backend checkpoints{path};  // the logbooks, flow details and atom details
    auto recorder = fk::persist(checkpoints, "order-42", {.logbook = "orders"});  // run id: the flow detail
    fk::engine eng{checkout, fk::store<"order_id">(42), std::move(recorder)};
    auto r = eng.run();  // after a crash, the same lines in a new process resume run "order-42"
    // end snippet
    check(r.get<"receipt">() == "R105.000000", "the checkpointed run succeeds");
  }
  fk::lmdb_backend checkpoints{path};
  const auto stored = checkpoints.load_run("order-42");
  check(stored && stored->flow.state == fk::flow_state::success, "the run is stored");
  check(checkpoints.runs("orders").size() == 1, "in logbook 'orders'");
}

void listeners() {
  auto fetch =
      fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
  auto checkout = fk::linear_flow<"checkout">(fetch);
  std::vector<std::string> heard;
  // snippet: listeners
  struct printer {
    std::vector<std::string>& heard;
    void on_atom(const fk::atom_event& e) {
      heard.push_back(std::string(e.atom) + " " + std::string(fk::to_string(e.to)));
    }
    void on_flow(const fk::flow_event& e) { heard.push_back("flow " + std::string(fk::to_string(e.to))); }
  };
  fk::engine eng{checkout, fk::store<"order_id">(42)};
  eng.listen(printer{heard});  // or fk::logging_listener{std::cout}
  eng.run();
  // end snippet
  const std::vector<std::string> expected{"flow RUNNING", "fetch RUNNING", "fetch SUCCESS", "flow SUCCESS"};
  check(heard == expected, "the listener hears every transition, in order");
}

void jobs(const std::filesystem::path& directory) {
  auto fetch =
      fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
  auto pay = fk::task<"pay">(fk::inputs<"amount">, fk::outputs<"receipt">,
                             [](double amount) { return "R" + std::to_string(amount); });
  auto checkout = fk::linear_flow<"checkout">(fetch, pay);
  const std::filesystem::path path = directory / "work.lmdb";
  // snippet: jobs
  fk::lmdb_jobboard board{path};
  fk::lmdb_backend store{path};  // the same file: every checkpoint write is fenced by the claim
  board.post("order 42", checkout, fk::store<"order_id">(42));

  using checkout_job = fk::job_flow<decltype(checkout), decltype(fk::store<"order_id">(0))>;
  fk::conductor conductor{board, store, fk::flows<checkout_job>{checkout}, {.name = "conductor-1"}};
  conductor.listen([&](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::consumed) conductor.stop();
  });
  conductor.run();  // claims, runs with checkpoints, consumes; until stop()
  // end snippet
  check(board.jobs().empty(), "the job was consumed");
  check(store.runs("jobs").size() == 1 && store.runs("jobs")[0].state == fk::flow_state::success,
        "its run is stored, SUCCESS");
}

}  // namespace

int main() {
  tasks();
  arguments();
  patterns();
  run();
  retries();
  decider();
  listeners();
  temporary_directory directory;
  persistence(directory.path);
  jobs(directory.path);
  std::cout << "ok\n";
  return 0;
}
