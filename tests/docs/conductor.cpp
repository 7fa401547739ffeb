// The code shown in docs/conductor.md, run in a fresh directory.
// snippet: include
#include <flowkit/conductor/conductor.hpp>
#include <flowkit/lmdb.hpp>
namespace fk = flowkit;
// end snippet

#include <flowkit/flowkit.hpp>

#include <filesystem>
#include <iostream>
#include <string>

#include "scratch.hpp"

namespace {

auto fetch =
    fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
auto charge = fk::task<"charge">(fk::inputs<"amount">, fk::outputs<"receipt">,
                                 [](double amount) { return "R" + std::to_string(amount); });
auto checkout = fk::linear_flow<"checkout">(fetch, charge);

void conductor_runs_a_job() {
  {
    fk::lmdb_jobboard poster{"work.lmdb"};
    poster.post("order 42", checkout, fk::store<"order_id">(42));
  }
  // snippet: conductor
  using checkout_job = fk::job_flow<decltype(checkout), decltype(fk::store<"order_id">(0))>;

  fk::lmdb_jobboard board{"work.lmdb"};
  fk::lmdb_backend store{"work.lmdb"};  // one file: checkpoint writes are fenced
  fk::conductor c{board, store, fk::flows<checkout_job>{checkout}, {.name = "conductor-1", .max_jobs = 4}};
  c.listen([&](const fk::conductor_event& e) {  // here: stop after one job
    if (e.kind == fk::conductor_event_kind::consumed) c.stop();
  });
  c.run();  // until c.stop()
  // end snippet
  docs::check(board.jobs().empty(), "the conductor ran the job and consumed it");
}

void watched_jobs() {
  fk::lmdb_jobboard board{"watched.lmdb"};
  fk::lmdb_backend store{"watched.lmdb"};
  using checkout_job = fk::job_flow<decltype(checkout), decltype(fk::store<"order_id">(0))>;
  board.post("order 43", checkout, fk::store<"order_id">(43));
  fk::conductor c{board, store, fk::flows<checkout_job>{checkout}, {.name = "conductor-1"}};
  c.listen([&](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::consumed) c.stop();
  });
  // snippet: watch
  c.show_progress(fk::progress_display{});          // stderr: one line per running job, or plain lines
  c.trace(fk::trace_listener{"conductor-1.json"});  // Chrome trace events, one run per job
  // end snippet
  c.run();
  docs::check(std::filesystem::file_size("conductor-1.json") > 0, "the job's run is traced");
}

}  // namespace

int main() {
  docs::scratch_directory scratch;
  conductor_runs_a_job();
  watched_jobs();
  std::cout << "docs/conductor.md's code runs as documented\n";
}
