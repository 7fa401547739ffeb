#pragma once
// The time a board reads: claims, expiry, heartbeats, wait() and the state of the jobs it lists
// are all judged by one clock, the board's.
//
// Times are std::chrono::system_clock (job_clock): a claim's expiry must mean the same instant to
// every process that reads the board, which a steady clock (per boot, per process on some
// systems) does not promise. Boards are shared by processes on one machine, so there is one clock
// and no skew; a wall-clock step shortens or lengthens live claims, and fencing tokens keep that
// safe.
//
// A board reads its clock through a board_clock: the system clock unless the board's options name
// a manual_clock, a clock for tests that moves only when told to, so that a test of expiry takes
// microseconds and does not depend on the machine's load:
//
//   fk::manual_clock clock;
//   fk::memory_jobboard board{{.clock = clock}};
//   fk::claim c = board.claim(id, "w", 30s);
//   clock.advance(31s);                        // c has expired; a waiter in board.wait() wakes

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

namespace flowkit {

/// The clock of every board: system_clock, so that an instant means the same in every process.
using job_clock = std::chrono::system_clock;
/// An instant on a board: a claim's expiry, a job's creation, a back-off's end.
using job_time = job_clock::time_point;

namespace detail {
class clock_watch;
}

/// A clock for tests: its time moves only by advance() and set(). It starts at the system clock's
/// now (or at `start`), so that the instants it gives look like real ones. Every board that reads
/// it (its options' .clock) is told of each move, and a waiter in that board's wait() looks again:
/// a claim that an advance expires wakes it. Thread-safe. It must outlive the boards that read it.
///
/// It lives in one process: other processes that share an LMDB board read their own clocks, and an
/// advance here wakes waiters only where they would see it, in this process (see docs/jobboard.md,
/// "The board's clock").
class manual_clock {
 public:
  /// Starts at the system clock's now.
  manual_clock() noexcept : manual_clock(job_clock::now()) {}
  /// Starts at `start`.
  explicit manual_clock(job_time start) noexcept : ns_(start.time_since_epoch().count()) {}
  manual_clock(const manual_clock&) = delete;
  manual_clock& operator=(const manual_clock&) = delete;

  /// The clock's time.
  job_time now() const noexcept { return job_time{job_clock::duration{ns_.load()}}; }

  /// Moves the time on by d (a negative d steps it back, as a wall clock may step) and wakes the
  /// waiters of the boards that read this clock.
  void advance(job_clock::duration d) {
    ns_.fetch_add(d.count());
    wake();
  }
  /// Sets the time to t, and wakes those waiters.
  void set(job_time t) {
    ns_.store(t.time_since_epoch().count());
    wake();
  }

 private:
  friend class detail::clock_watch;
  struct watcher {
    void* board;
    void (*wake)(void*);
  };

  // Under mu_, so that a board cannot go away while it is woken (its clock_watch's destructor
  // takes mu_ too). A wake only takes the board's own lock, never this clock's.
  void wake() {
    std::lock_guard lk{mu_};
    for (const watcher& w : watchers_) w.wake(w.board);
  }

  std::atomic<job_clock::rep> ns_;
  std::mutex mu_;
  std::vector<watcher> watchers_;
};

/// What a board reads the time from: the system clock (the default, which costs what
/// job_clock::now() costs and a branch), or a manual_clock. A handle: copies refer to the same
/// clock. Converts from a manual_clock, so that options read `.clock = clock`.
class board_clock {
 public:
  /// The system clock.
  constexpr board_clock() noexcept = default;
  /// Reads `clock`, which must outlive this handle and its copies.
  board_clock(manual_clock& clock) noexcept : manual_(&clock) {}  // NOLINT: implicit on purpose

  /// The time now, by this clock.
  job_time now() const noexcept { return manual_ ? manual_->now() : job_clock::now(); }

  /// How long, in real time, until this clock reads t (negative if it already has): what a waiter
  /// may sleep for an expiry. nullopt for a manual clock, whose time moves only when told to (and
  /// then wakes the waiter).
  std::optional<std::chrono::nanoseconds> real_time_until(job_time t) const noexcept {
    if (manual_) return std::nullopt;
    return std::chrono::ceil<std::chrono::nanoseconds>(t - job_clock::now());
  }

 private:
  friend class detail::clock_watch;
  manual_clock* manual_ = nullptr;
};

namespace detail {

// A board's registration with its manual clock (none for the system clock): from start() on, every
// advance or set of the clock calls wake(board). A board starts it last in its constructor and
// declares it last, so that a wake never reaches a board that is half made or half gone.
class clock_watch {
 public:
  clock_watch() = default;
  clock_watch(const clock_watch&) = delete;
  clock_watch& operator=(const clock_watch&) = delete;
  ~clock_watch() {
    if (!clock_) return;
    std::lock_guard lk{clock_->mu_};
    auto& ws = clock_->watchers_;
    ws.erase(std::find_if(ws.begin(), ws.end(),
                          [&](const manual_clock::watcher& w) { return w.board == board_; }));
  }

  void start(const board_clock& clock, void* board, void (*wake)(void*)) {
    if (!clock.manual_) return;
    std::lock_guard lk{clock.manual_->mu_};
    clock.manual_->watchers_.push_back({board, wake});
    clock_ = clock.manual_;
    board_ = board;
  }

 private:
  manual_clock* clock_ = nullptr;
  void* board_ = nullptr;
};

}  // namespace detail
}  // namespace flowkit
