#pragma once
// fk::conductor: claims jobs from a board and runs them, with checkpoints, until stopped.
//
//   fk::lmdb_jobboard board{"work.lmdb"};
//   fk::lmdb_backend  store{"work.lmdb"};              // the same file: writes are fenced
//   fk::conductor c{board, store, fk::flows<checkout_job>{checkout}, {.name = "conductor-1"}};
//   c.run();                                            // until c.stop(), from another thread
//
// For each job it claims, the conductor finds the flow the job names (flows.hpp), reads the job's
// store as that flow's store, and runs an engine persisted to the job's flow detail — resuming
// the run stored there, if any, so that another conductor finishes what a dead one began. While
// the run lasts it extends the claim every `heartbeat`; every checkpoint write checks the claim in
// its own transaction, so a conductor that lost its claim (stopped too long, say) cannot write
// into the run: its engine stops and its listeners hear claim_lost. When the run ends the job is
// consumed (SUCCESS or REVERTED, the outcome kept in the run) or abandoned with a back-off
// (a revert that failed, a full disk) to be retried; a job that failed `max_attempts` times, or
// that can never run (an unknown flow, a store that does not read as its flow's, a checkpoint of
// another flow), goes to the trash with the reason. An idle conductor sleeps in board.wait().
//
// docs/conductor.md has the sequence of a takeover and the guarantees.

#include <flowkit/conductor/flows.hpp>
#include <flowkit/engine/engine.hpp>
#include <flowkit/engine/executor.hpp>
#include <flowkit/engine/progress_display.hpp>
#include <flowkit/engine/trace_listener.hpp>
#include <flowkit/jobs/jobboard.hpp>
#include <flowkit/persistence/backend.hpp>
#include <flowkit/persistence/persist.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace flowkit {

/// How an fk::conductor runs jobs.
struct conductor_options {
  std::string name = "conductor";  // the owner its claims carry (readable; need not be unique)
  std::size_t max_jobs = 1;        // jobs run at once, each on its own thread
  /// How long a claim lasts unless extended.
  std::chrono::milliseconds claim_ttl{30'000};
  std::chrono::milliseconds heartbeat{10'000};  // how often claims are extended; below claim_ttl
  /// A job whose attempts failed this many times (abandoned after a failure, or its claim expired
  /// under a conductor that died) is trashed with its history instead of run again.
  std::size_t max_attempts = 5;
  /// After a failed attempt a job is not claimable for backoff, doubled per failed attempt, at
  /// most backoff_limit. A conductor that dies backs its job off by the claim's ttl.
  std::chrono::milliseconds backoff{1'000};
  /// The longest back-off.
  std::chrono::milliseconds backoff_limit{60'000};
  std::string logbook = "jobs";  // the logbook the runs are filed in
};

/// What a conductor tells its listeners about a job.
enum class conductor_event_kind : std::uint8_t {
  claimed,     // a job was claimed and its run opened (detail: "resuming" when it was stored)
  extended,    // a heartbeat extended a claim
  consumed,    // the run ended SUCCESS or REVERTED; the job is done (outcome: the run's state)
  abandoned,   // the job went back to the board (detail: why, and when it may run again)
  trashed,     // the job went to the trash (detail: the reason)
  claim_lost,  // the claim was lost while running: the run stopped, nothing more was written
  error        // something failed that left the job to the board (detail: what)
};

/// The event kind's name, e.g. "claim_lost".
constexpr std::string_view to_string(conductor_event_kind k) noexcept {
  switch (k) {
    case conductor_event_kind::claimed:
      return "claimed";
    case conductor_event_kind::extended:
      return "extended";
    case conductor_event_kind::consumed:
      return "consumed";
    case conductor_event_kind::abandoned:
      return "abandoned";
    case conductor_event_kind::trashed:
      return "trashed";
    case conductor_event_kind::claim_lost:
      return "claim_lost";
    case conductor_event_kind::error:
      return "error";
  }
  return "?";
}

/// One thing a conductor did with a job (see conductor_event_kind).
struct conductor_event {
  /// What happened.
  conductor_event_kind kind{};
  /// The job.
  job_id job;
  /// The job's name and its flow's name.
  std::string job_name, flow;
  std::uint64_t token = 0;                   // the claim's fencing token
  flow_state outcome = flow_state::pending;  // consumed: the run's final state
  /// What more there is to say, by kind: a reason, "resuming", an error's what().
  std::string detail;
};

/// Called on the conductor's threads (a job's thread, the heartbeat's), possibly at once: a
/// listener synchronises what it shares.
using conductor_listener = std::function<void(const conductor_event&)>;

namespace detail {

// The reason a conductor gives when it abandons a job because it is stopping: not a failure, so
// it does not count towards max_attempts.
inline constexpr std::string_view stopping_reason = "the conductor stopped";

// Failed attempts in a job's history: claims that expired (their owner died or stalled) and
// abandons for a failure.
inline std::size_t failed_attempts(const job& j) {
  return static_cast<std::size_t>(
      std::count_if(j.attempts().begin(), j.attempts().end(), [](const job_attempt& a) {
        return !(a.how == attempt_end::abandoned && a.reason == stopping_reason);
      }));
}

inline std::string describe_attempts(const job& j) {
  std::string out;
  for (const job_attempt& a : j.attempts()) {
    out += "\n  claim #" + std::to_string(a.token) + " by " + a.owner + ": ";
    switch (a.how) {
      case attempt_end::abandoned:
        out += "abandoned";
        break;
      case attempt_end::expired:
        out += "expired (its owner died or stalled)";
        break;
      case attempt_end::revoked:
        out += "revoked";
        break;
    }
    if (!a.reason.empty()) out += ": " + a.reason;
  }
  return out;
}

inline std::string format_duration(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + " s" : std::to_string(d.count()) + " ms";
}

}  // namespace detail

/// Claims jobs from `Board` and runs each with the flow `Registry` (an fk::flows) names for it,
/// checkpointed in `Backend` under the job's flow detail (see above). It heartbeats its claims,
/// consumes, abandons with a back-off or trashes each job, and stops a run whose claim it lost.
/// The board and backend must outlive it; atoms run serially, or on `Executor`.
template <jobboard Board, backend Backend, class Registry, class Executor = serial_t>
class conductor {
 public:
  /// Runs each job's atoms on the job's thread (fk::serial).
  conductor(Board& board, Backend& backend, Registry flows,
            conductor_options opts = {}) requires std::same_as<Executor, serial_t>
      : conductor(board, backend, std::move(flows), std::move(opts), nullptr) {}
  /// Runs each job's atoms on `executor`, which must outlive the conductor.
  conductor(Board& board, Backend& backend, Registry flows, conductor_options opts, Executor& executor)
      : conductor(board, backend, std::move(flows), std::move(opts), &executor) {}
  conductor(const conductor&) = delete;
  conductor& operator=(const conductor&) = delete;
  /// Calls stop(); it does not wait: run() must have returned before the conductor is destroyed.
  ~conductor() { stop(); }

  /// The options it was made with.
  const conductor_options& options() const noexcept { return opts_; }

  /// Registers a listener; before run().
  void listen(conductor_listener fn) {
    std::lock_guard lk{mu_};
    listeners_.push_back(std::move(fn));
  }

  /// Shows every job's run on `display`, under the job's name; before run().
  void show_progress(progress_display display) { progress_ = std::move(display); }

  /// Writes every job's run to `trace`, under the job's name; before run(). (FLOWKIT_TRACE traces
  /// the conductor's engines as any other, under their flow's name.)
  void trace(trace_listener listener) { trace_ = std::move(listener); }

  /// Claims and runs jobs until stop() (from another thread or a listener; a stop() before run()
  /// makes it return at once). The calling thread runs jobs too: max_jobs - 1 more threads are
  /// started, and a heartbeat thread.
  void run() { run_until(std::nullopt); }

  /// The same, for at most d of real time; then as stop().
  template <class Rep, class Period>
  void run_for(std::chrono::duration<Rep, Period> d) {
    run_until(std::chrono::steady_clock::now() + std::chrono::ceil<std::chrono::nanoseconds>(d));
  }

  /// Stops: no new claim; running jobs are suspended (their running atoms finish) and abandoned,
  /// so that another conductor takes them at once. run() returns when they are. Any thread.
  void stop() {
    stop_.request_stop();
    std::lock_guard lk{mu_};
    for (const auto& r : running_) r->suspend();
    beat_.notify_all();
  }

  /// Whether stop() was called.
  bool stopping() const noexcept { return stop_.stop_requested(); }

 private:
  // A job being run: its claim (the job thread's), the heartbeat's copy of it (extend changes
  // its expiry), and how to stop its engine. Shared with the heartbeat, which extends claims
  // without holding mu_ (an extend may wait for a board that is away).
  struct running_job {
    claim held;
    claim beat;
    job snapshot;
    std::atomic<bool> lost{false};
    std::atomic<bool> ending{false};  // the job thread is ending the claim: no more heartbeats
    std::mutex engine_mu;
    std::function<void()> suspend_engine;  // set while an engine runs
    void suspend() {
      std::lock_guard lk{engine_mu};
      if (suspend_engine) suspend_engine();
    }
  };

  conductor(Board& board, Backend& backend, Registry flows, conductor_options opts, Executor* executor)
      : board_(&board),
        backend_(&backend),
        flows_(std::move(flows)),
        opts_(std::move(opts)),
        executor_(executor) {
    if (opts_.name.empty()) throw std::invalid_argument("flowkit: a conductor needs a non-empty name");
    if (opts_.max_jobs == 0)
      throw std::invalid_argument("flowkit: conductor '" + opts_.name + "': max_jobs is 0");
    if (!(opts_.heartbeat > opts_.heartbeat.zero() && opts_.heartbeat < opts_.claim_ttl))
      throw std::invalid_argument("flowkit: conductor '" + opts_.name + "': the heartbeat (" +
                                  detail::format_duration(opts_.heartbeat) +
                                  ") must be positive and shorter than the claim's ttl (" +
                                  detail::format_duration(opts_.claim_ttl) + ")");
    // A fenced write checks the claim inside the checkpoint's transaction: on LMDB that needs
    // the board and the store in one environment, one file.
    if constexpr (requires {
                    board.environment();
                    backend.environment();
                  })
      if (board.environment() != backend.environment())
        throw std::invalid_argument("flowkit: conductor '" + opts_.name + "': the jobboard (" + board.path() +
                                    ") and the checkpoint store (" + backend.path() +
                                    ") must be one LMDB file, so that a checkpoint write can check the "
                                    "claim in its own transaction");
    watch_.start(board.clock(), this, [](void* c) { static_cast<conductor*>(c)->beat_.notify_all(); });
  }

  void run_until(std::optional<std::chrono::steady_clock::time_point> deadline) {
    if (running_loop_.exchange(true))
      throw std::logic_error("flowkit: conductor '" + opts_.name + "' is already running");
    std::vector<std::jthread> slots;
    // The first beat is due a heartbeat from now, as the caller's thread sees the clock.
    const job_time first_beat = board_->clock().now() + opts_.heartbeat;
    std::jthread heartbeat{[this, deadline, first_beat] { heartbeat_loop(deadline, first_beat); }};
    for (std::size_t i = 1; i < opts_.max_jobs; ++i) slots.emplace_back([this] { slot_loop(); });
    slot_loop();
    slots.clear();  // joins: each returns once its job is done, abandoned or lost
    stop();
    heartbeat.join();
    stop_ = std::stop_source{};  // the next run() starts afresh
    running_loop_ = false;
  }

  // One job at a time: claim, run, and when there is none, sleep in the board's wait() (which
  // stop() interrupts).
  void slot_loop() {
    const std::stop_token stop = stop_.get_token();
    while (!stop.stop_requested()) {
      std::optional<claimed_job> next;
      try {
        next = board_->claim_next(opts_.name, opts_.claim_ttl);
      } catch (const std::exception& e) {
        // The board cannot be read (a full disk, say): say so, and look again after a back-off
        // rather than in a hot loop.
        tell({conductor_event_kind::error, {}, {}, {}, 0, {}, std::string{"claim_next: "} + e.what()});
        std::unique_lock lk{mu_};
        idle_.wait_for(lk, stop, opts_.backoff, [] { return false; });
        continue;
      }
      if (next)
        run_job(std::move(*next));
      else
        board_->wait(std::chrono::hours{1}, stop);
    }
  }

  void run_job(claimed_job cj) {
    const auto shared = std::make_shared<running_job>();
    running_job& r = *shared;
    r.held = cj.claim;
    r.beat = cj.claim;
    r.snapshot = std::move(cj.job);
    const job& j = r.snapshot;
    {
      std::lock_guard lk{mu_};
      running_.push_back(shared);
    }
    struct unregister {
      conductor* c;
      running_job* r;
      ~unregister() {
        std::lock_guard lk{c->mu_};
        c->running_.erase(std::find_if(c->running_.begin(), c->running_.end(),
                                       [&](const auto& held) { return held.get() == r; }));
      }
    } on_exit{this, &r};

    const std::size_t failed = detail::failed_attempts(j);
    if (failed >= opts_.max_attempts) {
      trash(r,
            "gave up after " + std::to_string(failed) + " failed attempts:" + detail::describe_attempts(j));
      return;
    }
    if (stopping()) {
      abandon(r, std::string{detail::stopping_reason}, {});
      return;
    }
    const auto found =
        flows_.dispatch(j.flow(), j.store_signature(), [&](const auto& entry) { run_entry(r, entry); });
    if (found == Registry::match::unknown_flow)
      trash(r, "conductor '" + opts_.name + "' knows no flow named '" + j.flow() + "' (it runs " +
                   flows_.describe() + ")");
    else if (found == Registry::match::other_store)
      trash(r, "its store (" + readable_store_signature(j.store_signature()) +
                   ") is not the store of flow '" + j.flow() + "' (" + flows_.stores_of(j.flow()) + ")");
  }

  template <class Entry>
  void run_entry(running_job& r, const Entry& entry) {
    using Flow = typename Entry::flow_type;
    using Store = typename Entry::store_type;
    const job& j = r.snapshot;
    Store store;
    try {
      store = j.template store<Store>();
    } catch (const std::exception& e) {
      trash(r, std::string{"its store does not read as flow '"} + j.flow() + "''s store: " + e.what());
      return;
    }
    using engine_type = engine<Flow, Store, persist_t<Backend>>;
    std::optional<engine_type> eng;
    try {
      auto fence = [board = board_, c = r.held](typename Backend::transaction& t) {
        if constexpr (requires { board->verify(c, t); })
          board->verify(c, t);
        else
          board->verify(c);
      };
      eng.emplace(
          entry.flow, std::move(store),
          persist(*backend_, j.flow_detail(), persist_options{.logbook = opts_.logbook}).fenced(fence));
    } catch (const flow_mismatch& e) {
      trash(r, e.what());
      return;
    } catch (const corrupt_record& e) {
      trash(r, e.what());
      return;
    } catch (const logbook_mismatch& e) {
      trash(r, e.what());
      return;
    } catch (const std::exception& e) {
      failed(r, std::string{"its run could not be opened: "} + e.what());
      return;
    }
    if (progress_) progress_->attach(*eng, j.name());
    if (trace_) trace_->attach(*eng, j.name());
    tell({conductor_event_kind::claimed, j.id(), j.name(), j.flow(), r.held.token(), eng->state(),
          eng->state() == flow_state::pending ? "" : "resuming"});

    // Stop or a lost claim reach the engine through suspend(); one that comes before the run
    // starts is seen by this listener when it does.
    struct stop_check {
      conductor* c;
      running_job* r;
      engine_type* e;
      void on_flow(const flow_event& ev) {
        if ((ev.to == flow_state::running || ev.to == flow_state::reverting) && (c->stopping() || r->lost))
          e->suspend();
      }
    };
    eng->listen(stop_check{this, &r, &*eng});
    {
      std::lock_guard lk{r.engine_mu};
      r.suspend_engine = [e = &*eng] { e->suspend(); };
    }
    struct forget_engine {
      running_job& r;
      ~forget_engine() {
        std::lock_guard lk{r.engine_mu};
        r.suspend_engine = nullptr;
      }
    } on_exit{r};

    flow_state outcome{};
    try {
      outcome = executor_ ? eng->run(*executor_).state() : eng->run().state();
    } catch (const not_owner& e) {
      lost(r, e.what());
      return;
    } catch (const std::exception& e) {
      failed(r, std::string{"the run stopped: "} + e.what());
      return;
    }
    if (r.lost) return;  // the heartbeat found the claim lost, and said so
    switch (outcome) {
      case flow_state::success:
      case flow_state::reverted:
        consume(r, outcome);
        return;
      case flow_state::suspended:
        abandon(r, std::string{detail::stopping_reason}, {});
        return;
      default:  // FAILURE: a revert failed; running again resumes the reverts
        failed(r, "the run ended " + std::string{to_string(outcome)} + " (a revert failed)");
        return;
    }
  }

  // ----- ending a job: each tells the listeners, and a claim found lost is reported as such -----

  void consume(running_job& r, flow_state outcome) {
    r.ending = true;
    try {
      board_->consume(r.held);
      tell(event(conductor_event_kind::consumed, r, {}, outcome));
    } catch (const not_owner& e) {
      lost(r, e.what());
    } catch (const std::exception& e) {
      tell(event(conductor_event_kind::error, r, std::string{"consume: "} + e.what()));
    }
  }

  void failed(running_job& r, std::string why) {
    if (r.lost) return lost(r, why);
    const std::size_t failures = detail::failed_attempts(r.snapshot) + 1;
    auto delay = opts_.backoff;
    for (std::size_t i = 1; i < failures && delay < opts_.backoff_limit; ++i) delay *= 2;
    delay = std::min(delay, opts_.backoff_limit);
    abandon(r, std::move(why), delay);
  }

  void abandon(running_job& r, std::string why, std::chrono::milliseconds retry_after) {
    r.ending = true;
    try {
      board_->abandon(r.held, why, retry_after);
      tell(event(conductor_event_kind::abandoned, r,
                 retry_after > retry_after.zero()
                     ? why + "; retried after " + detail::format_duration(retry_after)
                     : why));
    } catch (const not_owner& e) {
      lost(r, e.what());
    } catch (const std::exception& e) {
      tell(event(conductor_event_kind::error, r, std::string{"abandon: "} + e.what()));
    }
  }

  void trash(running_job& r, std::string why) {
    r.ending = true;
    try {
      board_->trash(r.held, why);
      tell(event(conductor_event_kind::trashed, r, std::move(why)));
    } catch (const not_owner& e) {
      lost(r, e.what());
    } catch (const std::exception& e) {
      tell(event(conductor_event_kind::error, r, std::string{"trash: "} + e.what()));
    }
  }

  // Told once per job, by whichever thread finds the loss first.
  void lost(running_job& r, std::string why) {
    if (r.lost.exchange(true)) return;
    tell(event(conductor_event_kind::claim_lost, r, std::move(why)));
  }

  conductor_event event(conductor_event_kind k, const running_job& r, std::string detail,
                        flow_state outcome = flow_state::pending) const {
    const job& j = r.snapshot;
    return {k, j.id(), j.name(), j.flow(), r.held.token(), outcome, std::move(detail)};
  }

  void tell(const conductor_event& e) {
    std::vector<conductor_listener> ls;
    {
      std::lock_guard lk{mu_};
      ls = listeners_;
    }
    for (const auto& l : ls) l(e);
  }

  // ----- heartbeat -----

  // Every `heartbeat` of the board's clock, extends the claim of every running job; a claim that
  // cannot be extended because it was lost stops that job's engine at once. Time is the board's
  // clock: with a manual clock, an advance wakes this loop. It also ends run_for() at its deadline.
  void heartbeat_loop(std::optional<std::chrono::steady_clock::time_point> deadline, job_time next) {
    std::vector<conductor_event> events;
    std::vector<std::shared_ptr<running_job>> beating;  // running_ as it was at this beat
    std::unique_lock lk{mu_};
    while (!stopping()) {
      if (deadline && std::chrono::steady_clock::now() >= *deadline) {
        lk.unlock();
        stop();
        return;
      }
      const job_time now = board_->clock().now();
      if (now < next) {
        std::chrono::nanoseconds sleep = std::chrono::hours{1};
        if (const auto real = board_->clock().real_time_until(next))
          sleep = std::max(*real, std::chrono::nanoseconds{1});
        if (deadline)
          sleep = std::min(sleep, std::chrono::nanoseconds{*deadline - std::chrono::steady_clock::now()});
        beat_.wait_for(lk, sleep);
        continue;
      }
      next = now + opts_.heartbeat;
      // Not under mu_: a board that is away (a database reconnecting) must not hold up the job
      // threads, which take mu_ to start, to end and to tell listeners.
      beating = running_;
      lk.unlock();
      for (const auto& r : beating) beat(*r, events);
      beating.clear();
      for (const conductor_event& e : events) tell(e);
      events.clear();
      lk.lock();
    }
  }

  // Extends one job's claim. A claim that the job thread ends meanwhile (consumed, say) is no
  // longer the board's: its not_owner is not a loss.
  void beat(running_job& r, std::vector<conductor_event>& events) {
    if (r.lost || r.ending) return;
    try {
      board_->extend(r.beat, opts_.claim_ttl);
      if (!r.ending) events.push_back(event(conductor_event_kind::extended, r, {}));
    } catch (const not_owner& e) {
      if (!r.ending && !r.lost.exchange(true)) {
        r.suspend();
        events.push_back(event(conductor_event_kind::claim_lost, r, e.what()));
      }
    } catch (const std::exception& e) {
      if (!r.ending)
        events.push_back(event(conductor_event_kind::error, r, std::string{"extend: "} + e.what()));
    }
  }

  Board* board_;
  Backend* backend_;
  Registry flows_;
  conductor_options opts_;
  Executor* executor_;
  std::stop_source stop_;
  std::atomic<bool> running_loop_{false};
  std::mutex mu_;
  std::condition_variable beat_;
  std::condition_variable_any idle_;
  std::vector<std::shared_ptr<running_job>> running_;
  std::vector<conductor_listener> listeners_;
  std::optional<progress_display> progress_;
  std::optional<trace_listener> trace_;
  detail::clock_watch watch_;  // last: gone before what a wake touches
};

/// Deduction guides: fk::conductor{board, backend, flows[, options[, executor]]}.
template <class Board, class Backend, class Registry>
conductor(Board&, Backend&, Registry, conductor_options = {}) -> conductor<Board, Backend, Registry>;
template <class Board, class Backend, class Registry, class Executor>
conductor(Board&, Backend&, Registry, conductor_options, Executor&)
    -> conductor<Board, Backend, Registry, Executor>;

}  // namespace flowkit
