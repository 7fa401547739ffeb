// The code shown in docs/jobboard.md, run on a board in a fresh directory.
// snippet: include
#include <flowkit/lmdb.hpp>  // link flowkit::lmdb
namespace fk = flowkit;
// end snippet
// snippet: clock_include
#include <flowkit/lmdb.hpp>
using namespace std::chrono_literals;
// end snippet

#include <flowkit/flowkit.hpp>

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>

#include "scratch.hpp"

namespace {

auto fetch =
    fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
auto checkout = fk::linear_flow<"checkout">(fetch);
int runs = 0;

// Running a job posts its follow-up, as a flow that hands work on would: so the board's wait()
// below finds a claimable job at once.
void run(const fk::job& j) {
  ++runs;
  fk::lmdb_jobboard{"./board", {.must_exist = true}}.post("follow-up of " + j.name(), checkout,
                                                          fk::store<"order_id">(43));
}

void board_operations() {
  // snippet: board
  fk::lmdb_jobboard board{"./board"};  // a directory (created) or an existing file
  fk::lmdb_jobboard worker_view{"./board", {.must_exist = true}};  // only a board that exists
  fk::job_id id = board.post("order 42", checkout, fk::store<"order_id">(42));
  board.post("refund 7", "refund", fk::store<"order_id">(7), fk::job_priority::high);

  for (const fk::job& j : board.jobs(fk::only_unclaimed))  // priority first, then oldest
    std::cout << j.name() << '\n';

  fk::claim c = board.claim(id, "worker-1", std::chrono::seconds{30});  // or fk::unclaimable_job
  auto s = board.get(id).store<decltype(fk::store<"order_id">(0))>();   // the typed store back
  board.extend(c, std::chrono::seconds{30});                            // heartbeat
  board.consume(c);  // or board.abandon(c) / board.trash(c, "why")
  // or give it up for now: UNCLAIMED, not claimable for 30 s, the attempt kept in its history
  // board.abandon(c, "payment service down", std::chrono::seconds{30});

  if (auto next = board.claim_next("worker-1", std::chrono::seconds{30})) {  // first claimable job
    run(next->job);
    board.consume(next->claim);
  }
  board.wait(std::chrono::seconds{5});  // true once a claimable job exists (any process posts)
  // end snippet
  docs::check(s.get<"order_id">() == 42, "the typed store comes back");
  docs::check(runs == 1, "claim_next found the refund");
  docs::check(worker_view.jobs(fk::only_unclaimed).size() == 1,
              "the follow-up waits, seen by the other view");
}

// A run that fails as long as the payment service is down: the first attempts.
void run_failing(const fk::job&) { throw std::runtime_error("payment service down"); }

void back_off() {
  using namespace std::chrono_literals;
  fk::lmdb_jobboard board{"./backoff"};
  const fk::job_id id = board.post("order 44", checkout, fk::store<"order_id">(44));
  const auto run = run_failing;
  // snippet: backoff
  // A conductor's loop: back off exponentially, trash a poison job after 5 attempts.
  if (auto next = board.claim_next("worker-1", 30s)) {
    try {
      run(next->job);
      board.consume(next->claim);
    } catch (const std::exception& e) {
      const auto n = next->job.attempts().size() + 1;  // this one included
      if (n >= 5)
        board.trash(next->claim, e.what());
      else
        board.abandon(next->claim, e.what(), std::chrono::seconds{1LL << n});
    }
  }
  // end snippet
  docs::check(board.jobs(fk::only_unclaimed).empty(), "the failed job backs off: not claimable now");
  docs::check(board.get(id).attempts().size() == 1, "the attempt is kept in the job's history");
}

void operator_operations() {
  fk::lmdb_jobboard board{"./operator"};
  const fk::job_id id = board.post("order 45", checkout, fk::store<"order_id">(45));
  board.claim(id, "worker-1", std::chrono::seconds{30});
  // snippet: operator
  board.revoke(id, "ops@host", "its worker's host is gone");  // UNCLAIMED now, whatever its claim
  board.trash(id, "ops@host", "bad input, see ticket 123");   // into the trash, whatever its claim
  std::size_t gone = board.purge_trash();                     // empties the trash
  // end snippet
  docs::check(gone == 1 && board.jobs().empty(), "the revoked, then trashed job is purged");
}

void board_clock() {
  // snippet: clock
  fk::manual_clock clock;                       // starts at the system clock's now
  fk::memory_jobboard board{{.clock = clock}};  // or lmdb_jobboard{path, {.clock = clock}}
  fk::job_id id = board.post("order 42", checkout, fk::store<"order_id">(42));
  fk::claim c = board.claim(id, "worker-1", 30s);
  clock.advance(29s);           // c is live: board.wait(0s) is false
  clock.advance(2s);            // c has expired: another owner may claim,
                                // and consume(c) throws claim_lost
  clock.set(c.expires() - 1s);  // a step back, as a wall clock may take
  // end snippet
  docs::check(!board.wait(0s), "a step back makes c live again");
}

}  // namespace

int main() {
  docs::scratch_directory scratch;
  board_operations();
  back_off();
  operator_operations();
  board_clock();
  std::cout << "docs/jobboard.md's code runs as documented\n";
}
