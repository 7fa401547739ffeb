// fk::conductor on pg_jobboard + pg_backend in one process: jobs run to their end with every
// checkpoint write fenced by the claim in the checkpoint's own transaction, and a conductor whose
// claim expired cannot write (a test clock stands in for the server's, as in the LMDB test).

#include "conductor/event_log.hpp"
#include "conductor/work_flow.hpp"
#include "postgres/pg_test_server.hpp"

#include <flowkit/conductor/conductor.hpp>
#include <flowkit/postgres.hpp>

#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fk = flowkit;
using fk::test::event_log;
using fk::test::step;
using namespace std::chrono_literals;

namespace {

// The task at `block_at` waits until the test opens the gate.
class gate_hooks {
 public:
  explicit gate_hooks(int block_at) : block_at_(block_at) {
    fk::test::hooks().on_task = [this](const std::string&, int task) {
      if (task != block_at_) return;
      std::unique_lock lk{mu_};
      ++waiting_;
      cv_.notify_all();
      cv_.wait(lk, [&] { return open_; });
    };
  }
  ~gate_hooks() { fk::test::hooks().on_task = nullptr; }
  void wait_until_waiting() {
    std::unique_lock lk{mu_};
    REQUIRE(cv_.wait_for(lk, 60s, [&] { return waiting_ >= 1; }));
  }
  void open() {
    {
      std::lock_guard lk{mu_};
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  int block_at_;
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

fk::job_id post_work(fk::pg_jobboard& board, const std::string& name) {
  return board.post(name, "work", fk::store<"job", "v0">(name, step{}));
}

}  // namespace

TEST_CASE("a conductor on PostgreSQL runs jobs on a thread pool, its writes fenced in the database",
          "[conductor][postgres]") {
  fk::test::pg_test_schema schema;
  fk::pg_jobboard board{schema.url(), {.schema = schema.name()}};
  fk::pg_backend store{schema.url(), {.schema = schema.name()}};
  for (int i = 0; i < 4; ++i) post_work(board, "job-" + std::to_string(i));
  fk::thread_pool pool{2};
  event_log events;
  fk::conductor c{
      board, store, fk::flows<fk::test::work_job>{fk::test::work_flow()}, {.name = "c", .max_jobs = 2}, pool};
  c.listen(std::ref(events));
  c.listen([&](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::consumed && events.count(e.kind) == 4) c.stop();
  });
  c.run();
  CHECK(board.jobs().empty());
  const auto runs = store.runs("jobs");
  REQUIRE(runs.size() == 4);
  for (const auto& f : runs) {
    CHECK(f.state == fk::flow_state::success);
    CHECK(store.load_run(f.id)->atoms.size() == fk::test::work_tasks);
  }
}

TEST_CASE("a conductor on PostgreSQL whose claim expired stops and cannot write", "[conductor][postgres]") {
  gate_hooks hooks{1};
  fk::manual_clock clock;
  fk::test::pg_test_schema schema;
  fk::pg_jobboard board{schema.url(), {.schema = schema.name(), .test_clock = &clock}};
  fk::pg_backend store{schema.url(), {.schema = schema.name()}};
  const auto id = post_work(board, "job");
  event_log events;
  fk::conductor c{board,
                  store,
                  fk::flows<fk::test::work_job>{fk::test::work_flow()},
                  {.name = "c", .claim_ttl = 30s, .heartbeat = 10s}};
  c.listen(std::ref(events));
  std::jthread running{[&] { c.run(); }};
  hooks.wait_until_waiting();
  // The engine's recorder commits on a thread of its own: t1 is RUNNING in the store before the
  // claim is let expire, so that what the store holds afterwards is what the fence kept.
  const std::string run_id = board.get(id).flow_detail();
  auto t1_recorded = [&] {
    const auto r = store.load_run(run_id);
    return r && r->find("t1") && r->find("t1")->state == fk::atom_state::running;
  };
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (!t1_recorded() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  REQUIRE(t1_recorded());

  clock.advance(31s);  // past the claim's expiry before a heartbeat could extend it
  const auto lost = events.wait_for(fk::conductor_event_kind::claim_lost);
  CHECK_THAT(lost.detail, Catch::Contains("expired"));
  hooks.open();  // t1 returns; its result must not be written
  c.stop();
  running.join();
  CHECK(events.count(fk::conductor_event_kind::consumed) == 0);
  const auto run = store.load_run(board.get(id).flow_detail());
  REQUIRE(run);
  REQUIRE(run->find("t0"));
  REQUIRE(run->find("t1"));
  CHECK(run->find("t0")->state == fk::atom_state::success);
  CHECK(run->find("t1")->state == fk::atom_state::running);  // its SUCCESS was refused
  CHECK(run->find("t2") == nullptr);
}
