// fk::conductor in one process: memory and LMDB boards and stores, a manual clock for claims,
// expiry, heartbeats and back-off, real threads. The conductor runs on a thread of the test; the
// test follows it through its events (no sleeps), and moves the clock.

#include "conductor/event_log.hpp"
#include "conductor/work_flow.hpp"
#include "jobs/support.hpp"

#include <flowkit/conductor/conductor.hpp>
#include <flowkit/jobs/memory_jobboard.hpp>
#include <flowkit/lmdb.hpp>
#include <flowkit/persistence/memory_backend.hpp>

#include <catch2/catch.hpp>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fk = flowkit;
using fk::test::event_log;
using fk::test::numbered;
using fk::test::step;
using namespace std::chrono_literals;

namespace {

// A gate a task waits at until the test opens it; the test can wait until n tasks are waiting.
class gate {
 public:
  void pass() {
    std::unique_lock lk{mu_};
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lk, [&] { return open_; });
  }
  void wait_until_waiting(int n) {
    std::unique_lock lk{mu_};
    REQUIRE(cv_.wait_for(lk, 60s, [&] { return waiting_ >= n; }));
  }
  void open() {
    {
      std::lock_guard lk{mu_};
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

// Every task of work_flow() counts its runs here; the one at `block_at` waits at a gate.
struct task_hooks {
  std::mutex mu;
  std::map<std::pair<std::string, int>, int> runs;
  int block_at = -1;
  gate at_block;
  task_hooks() {
    fk::test::hooks().on_task = [this](const std::string& job, int task) {
      {
        std::lock_guard lk{mu};
        ++runs[{job, task}];
      }
      if (task == block_at) at_block.pass();
    };
  }
  ~task_hooks() { fk::test::hooks().on_task = nullptr; }
  int count(const std::string& job, int task) {
    std::lock_guard lk{mu};
    return runs[{job, task}];
  }
};

// A memory store that reports itself power-loss safe, so an engine holds an atom's successors until
// its record is committed (the default for a memory store is group commit, where t1 may start
// before t0's SUCCESS is in the store): tests that cut a claim mid-run know what was written.
struct holding_memory_backend : fk::memory_backend {
  static fk::durability durability() noexcept { return fk::durability::power_loss_safe; }
};

fk::job_id post_work(auto& board, const std::string& name) {
  return board.post(name, "work", fk::store<"job", "v0">(name, step{}));
}

// A flow whose task fails and whose revert fails too: the run ends FAILURE.
inline auto failing_flow() {
  return fk::linear_flow<"failing">(
      fk::task<"charge">(fk::inputs<"n">, fk::outputs<"receipt">, [](int) -> int {
        throw std::runtime_error("card declined");
      }).on_revert([](int, const fk::outcome<int>&) { throw std::runtime_error("bank offline"); }));
}
using failing_job = fk::job_flow<decltype(failing_flow()), decltype(fk::store<"n">(0))>;

fk::conductor_options quick(std::size_t max_jobs = 1) {
  return {.name = "c",
          .max_jobs = max_jobs,
          .claim_ttl = 30s,
          .heartbeat = 10s,
          .max_attempts = 3,
          .backoff = 1s,
          .backoff_limit = 4s};
}

}  // namespace

TEST_CASE("a conductor runs the jobs it claims to their end, persisted to each job's flow detail",
          "[conductor]") {
  task_hooks hooks;
  fk::manual_clock clock;
  fk::memory_jobboard board{{.clock = clock}};
  fk::memory_backend store;
  for (int i = 0; i < 3; ++i) post_work(board, numbered("job-", i));
  event_log events;
  fk::conductor c{board, store, fk::flows<fk::test::work_job>{fk::test::work_flow()}, quick()};
  c.listen(std::ref(events));
  c.listen([&](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::consumed && events.count(e.kind) == 3) c.stop();
  });
  c.run();

  CHECK(events.count(fk::conductor_event_kind::consumed) == 3);
  CHECK(board.jobs().empty());
  CHECK(board.trashed().empty());
  const auto runs = store.runs("jobs");
  REQUIRE(runs.size() == 3);
  for (const auto& run : runs) {
    const auto r = store.load_run(run.id);
    REQUIRE(r);
    CHECK(r->flow.state == fk::flow_state::success);
    const fk::atom_detail* last = r->find("t9");
    REQUIRE(last);
    CHECK(fk::deserialize_from<step>(*last->result_bytes()).value == 10);
  }
  for (int i = 0; i < 3; ++i)
    for (int t = 0; t < 10; ++t) CHECK(hooks.count(numbered("job-", i), t) == 1);
}

TEST_CASE("a job a conductor can never run goes to the trash with the reason, at once", "[conductor]") {
  fk::manual_clock clock;
  fk::memory_jobboard board{{.clock = clock}};
  fk::memory_backend store;
  const auto unknown = board.post("unknown", "refund", fk::store<"job", "v0">(std::string{"x"}, step{}));
  const auto other_store = board.post("other store", "work", fk::store<"job">(std::string{"x"}));
  // A job whose flow detail holds a run of another flow: its checkpoint cannot be resumed.
  const auto mismatch = board.post("mismatch", "work", fk::store<"job", "v0">(std::string{"m"}, step{}),
                                   fk::post_options{.flow_detail = "taken"});
  { fk::engine other{failing_flow(), fk::store<"n">(1), fk::persist(store, "taken", {.logbook = "jobs"})}; }
  event_log events;
  fk::conductor c{board, store, fk::flows<fk::test::work_job>{fk::test::work_flow()}, quick()};
  c.listen(std::ref(events));
  c.listen([&](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::trashed && events.count(e.kind) == 3) c.stop();
  });
  c.run();

  CHECK(events.count(fk::conductor_event_kind::claimed) == 0);  // no engine ran
  const auto trash = board.trashed();
  REQUIRE(trash.size() == 3);
  auto reason_of = [&](const fk::job_id& id) {
    for (const auto& t : trash)
      if (t.job.id() == id) return t.reason;
    FAIL("not in the trash");
    return std::string{};
  };
  CHECK_THAT(reason_of(unknown),
             Catch::Contains("knows no flow named 'refund'") && Catch::Contains("work (store:"));
  CHECK_THAT(reason_of(other_store), Catch::Contains("is not the store of flow 'work'"));
  CHECK_THAT(reason_of(mismatch), Catch::Contains("taken") && Catch::Contains("failing"));
}

TEST_CASE("a job whose run keeps failing is retried with back-off, then trashed with its history",
          "[conductor]") {
  fk::manual_clock clock;
  fk::memory_jobboard board{{.clock = clock}};
  fk::memory_backend store;
  const auto id = board.post("charge", "failing", fk::store<"n">(7));
  event_log events;
  fk::conductor c{board, store, fk::flows<failing_job>{failing_flow()}, quick()};
  c.listen(std::ref(events));
  std::vector<std::optional<fk::job_time>> not_before;
  c.listen([&](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::abandoned) {
      // Not claimable until its back-off passes: the test moves the clock past it.
      const auto j = board.find(id);
      not_before.push_back(j ? j->not_before() : std::nullopt);
      clock.advance(4s);
    }
    if (e.kind == fk::conductor_event_kind::trashed) c.stop();
  });
  const fk::job_time start = clock.now();
  c.run();

  CHECK(events.count(fk::conductor_event_kind::abandoned) == 3);
  REQUIRE(not_before.size() == 3);
  // 1 s, 2 s, 4 s after each abandon (the clock moved 4 s after each).
  CHECK(not_before[0] == start + 1s);
  CHECK(not_before[1] == start + 4s + 2s);
  CHECK(not_before[2] == start + 8s + 4s);
  const auto trash = board.trashed();
  REQUIRE(trash.size() == 1);
  CHECK_THAT(trash[0].reason, Catch::Contains("gave up after 3 failed attempts") &&
                                  Catch::Contains("revert failed") && Catch::Contains("claim #3 by c"));
  CHECK(trash[0].job.attempts().size() == 3);
}

TEST_CASE("stop() suspends a running job and abandons it at once, and another conductor resumes it",
          "[conductor]") {
  task_hooks hooks;
  hooks.block_at = 3;
  fk::manual_clock clock;
  fk::memory_jobboard board{{.clock = clock}};
  fk::memory_backend store;
  const auto id = post_work(board, "job");
  event_log events;
  {
    fk::conductor c{board, store, fk::flows<fk::test::work_job>{fk::test::work_flow()}, quick()};
    c.listen(std::ref(events));
    std::jthread running{[&] { c.run(); }};
    hooks.at_block.wait_until_waiting(1);
    c.stop();
    hooks.at_block.open();  // t3 finishes; nothing after it starts
  }
  CHECK(events.count(fk::conductor_event_kind::abandoned) == 1);
  const auto j = board.find(id);
  REQUIRE(j);
  CHECK(j->state() == fk::job_state::unclaimed);
  CHECK_FALSE(j->not_before());  // claimable again at once
  const auto run = store.load_run(j->flow_detail());
  REQUIRE(run);
  CHECK(run->flow.state == fk::flow_state::suspended);

  // Another conductor resumes the run: t0..t3 are not run again.
  event_log second;
  fk::conductor c2{board, store, fk::flows<fk::test::work_job>{fk::test::work_flow()}, quick()};
  c2.listen(std::ref(second));
  c2.listen([&](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::consumed) c2.stop();
  });
  c2.run();
  CHECK(second.wait_for(fk::conductor_event_kind::claimed).detail == "resuming");
  for (int t = 0; t < 10; ++t) CHECK(hooks.count("job", t) == 1);
  CHECK(store.load_run(j->flow_detail())->flow.state == fk::flow_state::success);
}

TEST_CASE(
    "heartbeats keep a claim alive past its ttl; a claim that expired stops the run and fences its writes",
    "[conductor]") {
  task_hooks hooks;
  hooks.block_at = 1;
  fk::manual_clock clock;
  fk::memory_jobboard board{{.clock = clock}};
  holding_memory_backend store;  // t0's SUCCESS is written before t1 starts
  const auto id = post_work(board, "job");
  event_log events;
  fk::conductor c{board, store, fk::flows<fk::test::work_job>{fk::test::work_flow()}, quick()};
  c.listen(std::ref(events));
  std::jthread running{[&] { c.run(); }};
  hooks.at_block.wait_until_waiting(1);

  SECTION("heartbeats") {
    // Four heartbeats carry the claim across 40 s of a 30 s ttl.
    for (std::size_t beat = 1; beat <= 4; ++beat) {
      clock.advance(10s);
      events.wait_for(fk::conductor_event_kind::extended, beat);
    }
    CHECK(board.get(id).state() == fk::job_state::claimed);
    hooks.at_block.open();
    events.wait_for(fk::conductor_event_kind::consumed);
    CHECK(events.count(fk::conductor_event_kind::claim_lost) == 0);
  }
  SECTION("a lost claim") {
    // The clock jumps past the claim's expiry before a heartbeat could extend it.
    clock.advance(31s);
    const auto lost = events.wait_for(fk::conductor_event_kind::claim_lost);
    CHECK_THAT(lost.detail, Catch::Contains("expired"));
    hooks.at_block.open();  // t1 returns; its result must not be written
    c.stop();
    running.join();
    CHECK(events.count(fk::conductor_event_kind::claim_lost) == 1);
    CHECK(events.count(fk::conductor_event_kind::abandoned) == 0);
    CHECK(events.count(fk::conductor_event_kind::consumed) == 0);
    const auto run = store.load_run(board.get(id).flow_detail());
    REQUIRE(run);
    REQUIRE(run->find("t0"));
    CHECK(run->find("t0")->state == fk::atom_state::success);
    // t1's SUCCESS was refused; its RUNNING record may or may not have made it before the loss
    // (a task does not wait for its RUNNING record).
    const auto* t1 = run->find("t1");
    CHECK((t1 == nullptr || t1->state == fk::atom_state::running));
    CHECK(run->find("t2") == nullptr);
  }
  c.stop();
}

namespace {
// A board whose extend() waits at a gate first, as one reconnecting to its database would.
class slow_extend_board : public fk::memory_jobboard {
 public:
  using fk::memory_jobboard::memory_jobboard;
  gate at_extend;
  template <class Rep, class Period>
  void extend(fk::claim& c, std::chrono::duration<Rep, Period> ttl) {
    at_extend.pass();
    fk::memory_jobboard::extend(c, ttl);
  }
};
}  // namespace

TEST_CASE("a heartbeat waiting for the board holds up no job: a job ends meanwhile, its claim no loss",
          "[conductor]") {
  task_hooks hooks;
  hooks.block_at = 1;
  fk::manual_clock clock;
  slow_extend_board board{{.clock = clock}};
  fk::memory_backend store;
  const auto id = post_work(board, "job");
  event_log events;
  fk::conductor c{board, store, fk::flows<fk::test::work_job>{fk::test::work_flow()}, quick()};
  c.listen(std::ref(events));
  std::jthread running{[&] { c.run(); }};
  hooks.at_block.wait_until_waiting(1);
  clock.advance(10s);  // a heartbeat is due: it waits in extend()
  board.at_extend.wait_until_waiting(1);
  hooks.at_block.open();  // the job finishes while the heartbeat waits
  events.wait_for(fk::conductor_event_kind::consumed);
  CHECK_THROWS_AS(board.get(id), fk::job_not_found);  // consumed: gone from the board
  board.at_extend.open();                             // the late extend finds the claim gone: not a loss
  c.stop();
  running.join();
  CHECK(events.count(fk::conductor_event_kind::claim_lost) == 0);
  CHECK(events.count(fk::conductor_event_kind::extended) == 0);
  CHECK(events.count(fk::conductor_event_kind::error) == 0);
}

TEST_CASE("max_jobs jobs run at once, each on its own thread", "[conductor]") {
  task_hooks hooks;
  hooks.block_at = 2;
  fk::manual_clock clock;
  fk::memory_jobboard board{{.clock = clock}};
  fk::memory_backend store;
  for (int i = 0; i < 3; ++i) post_work(board, numbered("job-", i));
  event_log events;
  fk::conductor c{board, store, fk::flows<fk::test::work_job>{fk::test::work_flow()}, quick(2)};
  c.listen(std::ref(events));
  c.listen([&](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::consumed && events.count(e.kind) == 3) c.stop();
  });
  std::jthread running{[&] { c.run(); }};
  hooks.at_block.wait_until_waiting(2);  // two jobs inside t2 at once
  CHECK(events.count(fk::conductor_event_kind::claimed) == 2);
  hooks.at_block.open();
  events.wait_for(fk::conductor_event_kind::consumed, 3);
}

TEST_CASE("a conductor on LMDB runs jobs on a thread pool, its writes fenced in the board's file",
          "[conductor]") {
  fk::test::temp_dir dir;
  fk::lmdb_jobboard board{dir / "work.lmdb", {.durability = fk::durability::process_crash_safe}};
  fk::lmdb_backend store{dir / "work.lmdb", {.durability = fk::durability::process_crash_safe}};
  for (int i = 0; i < 4; ++i) post_work(board, numbered("job-", i));
  fk::thread_pool pool{2};
  event_log events;
  fk::conductor c{board, store, fk::flows<fk::test::work_job>{fk::test::work_flow()}, quick(2), pool};
  c.listen(std::ref(events));
  c.listen([&](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::consumed && events.count(e.kind) == 4) c.stop();
  });
  c.run();
  CHECK(board.jobs().empty());
  CHECK(store.runs("jobs").size() == 4);
}

TEST_CASE(
    "a conductor refuses what cannot work: a board and store on two files, a heartbeat not below the ttl",
    "[conductor]") {
  fk::test::temp_dir dir;
  fk::lmdb_jobboard board{dir / "board.lmdb"};
  fk::lmdb_backend store{dir / "store.lmdb"};
  using registry = fk::flows<fk::test::work_job>;
  CHECK_THROWS_WITH(
      (fk::conductor{board, store, registry{fk::test::work_flow()}}),
      Catch::Contains("board.lmdb") && Catch::Contains("store.lmdb") && Catch::Contains("one LMDB file"));
  fk::memory_jobboard mboard;
  fk::memory_backend mstore;
  CHECK_THROWS_WITH(
      (fk::conductor{mboard, mstore, registry{fk::test::work_flow()}, {.claim_ttl = 5s, .heartbeat = 5s}}),
      Catch::Contains("shorter than the claim's ttl"));
}

TEST_CASE("a conductor shows each job's run on a progress display and in a trace, under the job's name",
          "[conductor]") {
  fk::test::temp_dir dir;
  fk::manual_clock clock;
  fk::memory_jobboard board{{.clock = clock}};
  fk::memory_backend store;
  for (int i = 0; i < 2; ++i) post_work(board, numbered("job-", i));
  std::FILE* shown = std::tmpfile();
  REQUIRE(shown);
  {
    event_log events;
    fk::conductor c{board, store, fk::flows<fk::test::work_job>{fk::test::work_flow()}, quick()};
    c.show_progress(fk::progress_display{shown});
    c.trace(fk::trace_listener{(dir / "conductor.json").string()});
    c.listen(std::ref(events));
    c.listen([&](const fk::conductor_event& e) {
      if (e.kind == fk::conductor_event_kind::consumed && events.count(e.kind) == 2) c.stop();
    });
    c.run();
  }  // the conductor, its engines and so the trace are gone: the file is closed

  std::string progress(4096, '\0');
  std::rewind(shown);
  progress.resize(std::fread(progress.data(), 1, progress.size(), shown));
  std::fclose(shown);
  for (int i = 0; i < 2; ++i) {
    const std::string label = '[' + numbered("job-", i) + ']';
    CHECK_THAT(progress, Catch::Contains(label + " RUNNING: 0/10 done"));
    CHECK_THAT(progress, Catch::Contains(label + " SUCCESS: 10/10 done"));
  }
  std::ifstream in{dir / "conductor.json"};
  const std::string trace{std::istreambuf_iterator<char>{in}, {}};
  CHECK_THAT(trace, Catch::EndsWith("]\n"));
  for (int i = 0; i < 2; ++i) CHECK_THAT(trace, Catch::Contains("\"run\":\"" + numbered("job-", i) + '"'));
}
