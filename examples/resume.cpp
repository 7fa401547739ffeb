// Resuming after a crash: six tasks process an order, checkpointed to an LMDB file. The first run
// dies (it kills itself with SIGKILL as it starts to pack); run the same command again and it
// resumes: what was done is skipped, its results read back from the file, and the rest runs.
//
//   flowkit-example-resume [file]        (default: resume-example.lmdb in the current directory)
//
// Run it once more and nothing runs: a finished run returns its stored outcome. Delete the file
// (and its "-lock" file) to start over.
#include <flowkit/flowkit.hpp>
#include <flowkit/lmdb.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <signal.h>
#include <unistd.h>

namespace fk = flowkit;

// Which tasks start in this process; and the crash, when one is asked for.
struct watch {
  std::vector<std::string>* started;
  bool crash;
  void on_atom(const fk::atom_event& e) {
    if (e.to != fk::atom_state::running) return;
    started->emplace_back(e.atom);
    if (crash && e.atom == "pack") {
      std::cout << "  ** the process dies (SIGKILL) as it starts to pack **" << std::endl;
      ::kill(::getpid(), SIGKILL);  // as abrupt as a crash: no destructor, no flush, no goodbye
    }
  }
};

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "resume-example.lmdb";

  auto validate = fk::task<"validate">(fk::inputs<"order_id">, fk::outputs<"order">, [](int id) {
    std::cout << "  validate: order " << id << " is complete\n";
    return "order " + std::to_string(id);
  });
  auto reserve =
      fk::task<"reserve">(fk::inputs<"order">, fk::outputs<"reservation">, [](const std::string& order) {
        std::cout << "  reserve: 2 books set aside for " << order << '\n';
        return std::string{"R-17"};
      });
  auto charge = fk::task<"charge">(fk::inputs<"order">, fk::outputs<"receipt">, [](const std::string& order) {
    std::cout << "  charge: card charged 59.90 for " << order << '\n';
    return std::string{"receipt-5990"};
  });
  // A task that takes fk::execution learns whether it may have run before (at-least-once).
  auto pack = fk::task<"pack">(fk::inputs<"reservation">, fk::outputs<"parcel">,
                               [](fk::execution exec, const std::string& reservation) {
                                 std::cout
                                     << "  pack: parcel for " << reservation
                                     << (exec.rerun() ? " (again: the last run died while packing)" : "")
                                     << '\n';
                                 return "parcel-" + reservation;
                               });
  auto ship = fk::task<"ship">(fk::inputs<"parcel">, fk::outputs<"tracking">, [](const std::string& parcel) {
    std::cout << "  ship: " << parcel << " handed to the carrier\n";
    return std::string{"TRACK-0042"};
  });
  auto notify = fk::task<"notify">(fk::inputs<"receipt", "tracking">, fk::outputs<"email">,
                                   [](const std::string& receipt, const std::string& tracking) {
                                     std::cout << "  notify: e-mail with " << receipt << " and " << tracking
                                               << '\n';
                                     return std::string{"sent"};
                                   });
  auto order = fk::linear_flow<"process_order">(validate, reserve, charge, pack, ship, notify);

  fk::lmdb_backend backend{path, {.single_file = true}};
  const auto stored = backend.load_run("order-42");
  if (!stored)
    std::cout << "order 42: a new run, checkpointed to " << path << '\n';
  else if (stored->flow.state == fk::flow_state::success || stored->flow.state == fk::flow_state::reverted)
    std::cout << "order 42: the run stored in " << path << " has ended (flow "
              << fk::to_string(stored->flow.state) << "): its outcome is read back, nothing runs\n";
  else
    std::cout << "order 42: resuming the run stored in " << path << " (flow "
              << fk::to_string(stored->flow.state) << ")\n";

  fk::engine eng{order, fk::store<"order_id">(42), fk::persist(backend, "order-42")};
  std::vector<std::string> started;
  eng.listen(watch{&started, !stored});  // crash only on the first run
  auto r = eng.run();

  std::cout << "flow " << fk::to_string(r.state()) << ", tracking number " << r.get<"tracking">() << '\n';
  std::cout << "skipped (done before, results read from " << path << "):";
  for (const char* t : {"validate", "reserve", "charge", "pack", "ship", "notify"})
    if (std::find(started.begin(), started.end(), t) == started.end()) std::cout << ' ' << t;
  std::cout << "\nran in this process:";
  for (const auto& t : started) std::cout << ' ' << t;
  std::cout << '\n';
  return r.state() == fk::flow_state::success ? 0 : 1;
}
