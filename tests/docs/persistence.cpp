// The code shown in docs/persistence.md, run in a fresh directory.
// snippet: include
#include <flowkit/lmdb.hpp>  // link flowkit::lmdb
namespace fk = flowkit;
// end snippet

// snippet: engine_include
#include <flowkit/flowkit.hpp>
#include <flowkit/lmdb.hpp>  // fk::lmdb_backend, fk::persist; link flowkit::lmdb
// end snippet

#include <chrono>
#include <iostream>
#include <string>

#include "scratch.hpp"

namespace {

void backend_by_hand() {
  const std::uint64_t hash = 0x5eed;
  std::string inputs;
  fk::serialize_to(inputs, fk::store<"order_id">(42));
  const std::string receipt = "receipt-42";
  fk::lmdb_jobboard board{"./checkpoints"};  // one file with the store: a write can check a claim
  auto fetch =
      fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
  const fk::claim claim =
      board.claim(board.post("order 42", fk::linear_flow<"checkout">(fetch), fk::store<"order_id">(42)),
                  "worker-1", std::chrono::seconds{30});
  // snippet: backend
  fk::lmdb_backend store{"./checkpoints"};  // a directory (created) or an existing file
  fk::run_record run = store.open_run({.id = "order-42",
                                       .logbook = "orders",
                                       .flow_name = "checkout",
                                       .structure_hash = hash,
                                       .store_bytes = inputs});
  fk::batch changes;  // reuse it: clear() keeps its buffers
  fk::atom_detail& a = changes.next();
  a.name = "charge";
  a.state = fk::atom_state::success;
  fk::serialize_to(a.result.emplace<std::string>(), receipt);
  changes.set_flow_state(fk::flow_state::running);
  store.commit("order-42", changes);  // one transaction
  store.commit("order-42", changes, [&](fk::lmdb_backend::transaction& t) { board.verify(claim, t); });
  // end snippet
  const auto stored = store.load_run("order-42");
  docs::check(stored && stored->flow.state == fk::flow_state::running, "the run is stored, RUNNING");
  docs::check(stored && stored->atoms.size() == 1 && stored->atoms[0].name == "charge", "with its atom");
  docs::check(run.flow.id == "order-42", "open_run returns the new run");
}

auto fetch =
    fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
auto charge = fk::task<"charge">(fk::inputs<"amount">, fk::outputs<"receipt">,
                                 [](double amount) { return "R" + std::to_string(amount); });
auto checkout = fk::linear_flow<"checkout">(fetch, charge);

void engine_checkpoints() {
  // snippet: engine
  fk::lmdb_backend store{"./checkpoints", {.durability = fk::durability::process_crash_safe}};
  fk::engine eng{checkout, fk::store<"order_id">(42), fk::persist(store, "order-42")};
  auto r = eng.run();  // or eng.run(pool)
  // end snippet
  docs::check(r.succeeded(), "the checkpointed run succeeds");
  docs::check(store.load_run("order-42")->flow.state == fk::flow_state::success, "and is stored as ended");
}

}  // namespace

int main() {
  {
    docs::scratch_directory scratch;
    backend_by_hand();
  }
  docs::scratch_directory scratch;
  engine_checkpoints();
  std::cout << "docs/persistence.md's code runs as documented\n";
}
