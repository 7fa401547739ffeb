#pragma once
// fk::memory_jobboard: the jobboard in one process's memory, for tests and single-process use.
// Same rules as the LMDB board (detail::board_front runs them on both); threads of one process
// may share it.

#include <flowkit/jobs/board_rules.hpp>
#include <flowkit/jobs/job.hpp>
#include <flowkit/jobs/jobboard.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowkit {

/// How an fk::memory_jobboard is made.
struct memory_jobboard_options {
  /// What claims, expiry and wait() read the time from: the system clock, or a manual_clock for
  /// tests (`.clock = clock`), which must then outlive the board.
  board_clock clock{};
};

/// The jobboard (see jobboard.hpp) in one process's memory: for tests and single-process use.
/// Same rules as fk::lmdb_jobboard; any thread of the process may use it.
class memory_jobboard : public detail::board_front<memory_jobboard> {
 public:
  /// A board on the system clock.
  memory_jobboard() : memory_jobboard(memory_jobboard_options{}) {}
  /// A board on `opts.clock`.
  explicit memory_jobboard(memory_jobboard_options opts) : clock_(opts.clock) {
    watch_.start(clock_, this, [](void* board) { static_cast<memory_jobboard*>(board)->wake_waiters(); });
  }
  memory_jobboard(const memory_jobboard&) = delete;
  memory_jobboard& operator=(const memory_jobboard&) = delete;

  /// The clock the board judges claims and expiry by.
  const board_clock& clock() const noexcept { return clock_; }

  /// Stores a new job's record: the hook post() goes through; call post().
  job_id post_record(detail::job_record r) {
    std::vector<job_event> events;
    {
      std::lock_guard lk{mu_};
      r.sequence = ++sequence_;
      order_.emplace(detail::order_of(r), r.id);
      index_locked(r);
      events.push_back(detail::event(job_event_kind::posted, r));
      jobs_.emplace(r.id, std::move(r));
    }
    cv_.notify_all();
    listeners_.fire(events);
    return events.front().job;
  }

  /// Every job, or only the claimable ones (only_unclaimed): higher priority first, then oldest.
  std::vector<job> jobs(job_filter filter = all_jobs) const {
    std::lock_guard lk{mu_};
    const job_time now = clock_.now();
    std::vector<job> out;
    out.reserve(order_.size());
    for (const auto& [key, id] : order_) {
      const detail::job_record& r = jobs_.at(id);
      if (filter == only_unclaimed && !r.claimable_at(now)) continue;
      out.push_back(detail::job_access::make_job(r, now));
    }
    return out;
  }

  /// The job with this id, or nullopt if it is not on the board.
  std::optional<job> find(const job_id& id) const {
    std::lock_guard lk{mu_};
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    return detail::job_access::make_job(it->second, clock_.now());
  }

  /// The job with this id; throws fk::job_not_found if it is not on the board.
  job get(const job_id& id) const {
    if (auto j = find(id)) return std::move(*j);
    throw job_not_found(id.str());
  }

  /// The trashed jobs, with their reasons.
  std::vector<trashed_job> trashed() const {
    std::lock_guard lk{mu_};
    return trash_;
  }

  /// True as soon as a claimable job exists (also when a claim expires or a back-off ends), false
  /// at the timeout or when stop is requested. The timeout is real (steady) time, whatever the
  /// board's clock; with a manual clock a claim expires when an advance says so, and the advance
  /// wakes this wait.
  bool wait(std::chrono::nanoseconds timeout, std::stop_token stop = {}) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lk{mu_};
    for (;;) {
      const job_time now = clock_.now();
      std::optional<job_time> next_expiry;  // of a claim or a back-off
      for (const auto& [id, r] : jobs_) {
        if (r.claimable_at(now)) return true;
        const job_time t = *r.index_time();  // not claimable: claimed or backing off
        if (!next_expiry || t < *next_expiry) next_expiry = t;
      }
      auto until = deadline;
      if (const auto to_expiry = next_expiry ? clock_.real_time_until(*next_expiry) : std::nullopt) {
        // Compared as durations before adding: a saturated expiry (job_time::max()) must not wrap.
        const auto steady_now = std::chrono::steady_clock::now();
        if (*to_expiry < deadline - steady_now) until = steady_now + *to_expiry;
      }
      const auto seen = sequence_ + changes_;
      ++sleepers_;
      cv_.wait_until(lk, stop, until, [&] { return sequence_ + changes_ != seen; });
      --sleepers_;
      if (stop.stop_requested()) return false;
      if (std::chrono::steady_clock::now() >= deadline) {
        const job_time later = clock_.now();
        return std::any_of(jobs_.begin(), jobs_.end(),
                           [&](const auto& kv) { return kv.second.claimable_at(later); });
      }
    }
  }

  /// Throws claim_lost / not_owner unless c is the job's live claim (as of now): the check a
  /// conductor's checkpoint writes make. Under this board's lock, not in the store's transaction:
  /// a fence for tests, exact only against claims taken in this process meanwhile.
  void verify(const flowkit::claim& c) const {
    std::lock_guard lk{mu_};
    const auto it = jobs_.find(c.job());
    if (it == jobs_.end()) detail::throw_gone(c);
    detail::check_claim(it->second, c, clock_.now());
  }

  /// Threads asleep in wait() (for tests and tools, as the LMDB board's notifier().waiting()).
  std::size_t waiting() const {
    std::lock_guard lk{mu_};
    return sleepers_;
  }

 private:
  friend class detail::board_front<memory_jobboard>;

  // The write section detail::board_front runs the claim rules in, under mu_. Records are changed
  // in place: save() only indexes.
  struct section {
    memory_jobboard& b;

    detail::job_record* load(const job_id& id) {
      auto it = b.jobs_.find(id);
      return it == b.jobs_.end() ? nullptr : &it->second;
    }
    void unindex(const detail::job_record& r) { b.unindex_locked(r); }
    void save(const detail::job_record& r) { b.index_locked(r); }
    void remove(const detail::job_record& r) { b.erase_locked(r); }
    void trash(const detail::job_record& r, job_time now, std::string_view by, std::string_view reason) {
      b.trash_.push_back(
          trashed_job{detail::job_access::make_complete(r), std::string{reason}, std::string{by}, now});
      b.erase_locked(r);
    }
    std::vector<job_id> purge_trash() {
      std::vector<job_id> ids;
      ids.reserve(b.trash_.size());
      for (const trashed_job& t : b.trash_) ids.push_back(t.job.id());
      b.trash_.clear();
      return ids;
    }
    // As on the LMDB board: claims that expired and back-offs that ended move to ready_, then
    // ready_'s first job is the first claimable one; the cost does not grow with the claims held
    // or the jobs backing off.
    void release_expired(job_time now) {
      while (!b.expiring_.empty() && b.expiring_.begin()->first.first <= now) {
        b.ready_.emplace(b.expiring_.begin()->first.second, b.expiring_.begin()->second);
        b.expiring_.erase(b.expiring_.begin());
      }
    }
    detail::job_record* first_claimable(job_time now, std::vector<job_event>&) {
      while (!b.ready_.empty()) {
        detail::job_record& r = b.jobs_.at(b.ready_.begin()->second);
        if (r.claimable_at(now)) return &r;
        b.unindex_locked(r);  // the clock stepped back past its expiry: claimed (or backing off) again
        b.index_locked(r);
      }
      return nullptr;
    }
  };

  template <class F>
  auto write(F&& f) {
    std::lock_guard lk{mu_};
    section w{*this};
    return f(w);
  }

  // After abandon, or when the manual clock moves: wait() looks again.
  void wake_waiters() {
    {
      std::lock_guard lk{mu_};
      ++changes_;
    }
    cv_.notify_all();
  }

  // Claimable jobs in ready_ (job order), claimed and backing-off ones in expiring_ (by the
  // claim's expiry or the back-off's end, then job order), as the LMDB board's index; a claim that
  // expired (a back-off that ended) stays in expiring_ until claim_next moves it.
  void index_locked(const detail::job_record& r) {
    if (const auto t = r.index_time())
      expiring_.emplace(std::pair{*t, detail::order_of(r)}, r.id);
    else
      ready_.emplace(detail::order_of(r), r.id);
  }
  void unindex_locked(const detail::job_record& r) {
    ready_.erase(detail::order_of(r));
    if (const auto t = r.index_time()) expiring_.erase(std::pair{*t, detail::order_of(r)});
  }

  void erase_locked(const detail::job_record& r) {
    const job_id id = r.id;  // r dies in the erase: callers touch it no more
    unindex_locked(r);
    order_.erase(detail::order_of(r));
    jobs_.erase(id);
  }

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<job_id, detail::job_record> jobs_;
  std::map<detail::order_key, job_id> order_;
  std::map<detail::order_key, job_id> ready_;
  std::map<std::pair<job_time, detail::order_key>, job_id> expiring_;
  std::vector<trashed_job> trash_;
  std::uint64_t sequence_ = 0;
  std::uint64_t changes_ = 0;
  std::size_t sleepers_ = 0;
  board_clock clock_;
  detail::clock_watch watch_;  // last: gone before what a wake touches
};

static_assert(jobboard<memory_jobboard>);

}  // namespace flowkit
