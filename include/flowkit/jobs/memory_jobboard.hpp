#pragma once
// fk::memory_jobboard: the jobboard in one process's memory, for tests and single-process use.
// Same rules as the LMDB board (they share detail::apply_claim / check_claim); threads of one
// process may share it.

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

class memory_jobboard : public detail::board_front<memory_jobboard> {
 public:
  memory_jobboard() = default;
  memory_jobboard(const memory_jobboard&) = delete;
  memory_jobboard& operator=(const memory_jobboard&) = delete;

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

  std::vector<job> jobs(job_filter filter = all_jobs) const {
    std::lock_guard lk{mu_};
    const job_time now = job_clock::now();
    std::vector<job> out;
    out.reserve(order_.size());
    for (const auto& [key, id] : order_) {
      const detail::job_record& r = jobs_.at(id);
      if (filter == only_unclaimed && r.claimed_at(now)) continue;
      out.push_back(detail::job_access::make_job(r, now));
    }
    return out;
  }

  std::optional<job> find(const job_id& id) const {
    std::lock_guard lk{mu_};
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    return detail::job_access::make_job(it->second, job_clock::now());
  }

  job get(const job_id& id) const {
    if (auto j = find(id)) return std::move(*j);
    throw job_not_found(id.str());
  }

  template <class Rep, class Period>
  flowkit::claim claim(const job_id& id, std::string_view owner, std::chrono::duration<Rep, Period> ttl_in) {
    detail::check_owner_name(owner);
    const job_clock::duration ttl = detail::check_ttl(ttl_in);
    std::vector<job_event> events;
    flowkit::claim c;
    {
      std::lock_guard lk{mu_};
      auto it = jobs_.find(id);
      if (it == jobs_.end()) throw job_not_found(id.str());
      claim_locked(it->second, owner, ttl, events);
      c = detail::job_access::make_claim(it->second);
    }
    listeners_.fire(events);
    return c;
  }

  template <class Rep, class Period>
  std::optional<claimed_job> claim_next(std::string_view owner, std::chrono::duration<Rep, Period> ttl_in) {
    detail::check_owner_name(owner);
    const job_clock::duration ttl = detail::check_ttl(ttl_in);
    std::vector<job_event> events;
    std::optional<claimed_job> out;
    {
      std::lock_guard lk{mu_};
      const job_time now = job_clock::now();
      // As on the LMDB board: claims that expired move to ready_, then ready_'s first job is
      // the first claimable one; the cost does not grow with the claims held.
      while (!expiring_.empty() && expiring_.begin()->first.first <= now) {
        ready_.emplace(expiring_.begin()->first.second, expiring_.begin()->second);
        expiring_.erase(expiring_.begin());
      }
      while (!ready_.empty()) {
        detail::job_record& r = jobs_.at(ready_.begin()->second);
        if (r.claimed_at(now)) {  // the wall clock stepped back past its expiry: claimed again
          unindex_locked(r);
          index_locked(r);
          continue;
        }
        claim_locked(r, owner, ttl, events);
        out = claimed_job{detail::job_access::make_claim(r), detail::job_access::make_job(r, now)};
        break;
      }
    }
    listeners_.fire(events);
    return out;
  }

  template <class Rep, class Period>
  void extend(flowkit::claim& c, std::chrono::duration<Rep, Period> ttl_in) {
    const job_clock::duration ttl = detail::check_ttl(ttl_in);
    owned(c, [&](detail::job_record& r, job_time now, std::vector<job_event>&) {
      unindex_locked(r);
      r.expires = detail::expiry_after(now, ttl);
      index_locked(r);
      detail::job_access::set_expiry(c, r.expires);
    });
  }

  void abandon(const flowkit::claim& c) {
    owned(c, [&](detail::job_record& r, job_time, std::vector<job_event>& events) {
      events.push_back(detail::event(job_event_kind::abandoned, r));
      unindex_locked(r);
      r.owner.clear();
      r.owner_id.clear();
      r.expires = {};
      index_locked(r);
    });
    cv_.notify_all();
  }

  void consume(const flowkit::claim& c) {
    owned(c, [&](detail::job_record& r, job_time, std::vector<job_event>& events) {
      events.push_back(detail::event(job_event_kind::consumed, r));
      erase_locked(r);
    });
  }

  void trash(const flowkit::claim& c, std::string_view reason) {
    owned(c, [&](detail::job_record& r, job_time now, std::vector<job_event>& events) {
      events.push_back(detail::event(job_event_kind::trashed, r, std::string{reason}));
      trash_.push_back(trashed_job{detail::job_access::make_complete(r), std::string{reason}, r.owner, now});
      erase_locked(r);
    });
  }

  std::vector<trashed_job> trashed() const {
    std::lock_guard lk{mu_};
    return trash_;
  }

  // True as soon as a claimable job exists (also when a claim expires), false at the timeout or
  // when stop is requested.
  bool wait(std::chrono::nanoseconds timeout, std::stop_token stop = {}) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lk{mu_};
    for (;;) {
      const job_time now = job_clock::now();
      std::optional<job_time> next_expiry;
      for (const auto& [id, r] : jobs_) {
        if (!r.claimed_at(now)) return true;
        if (!next_expiry || r.expires < *next_expiry) next_expiry = r.expires;
      }
      auto until = deadline;
      if (next_expiry) {
        // Compared as durations before adding: a saturated expiry (job_time::max()) must not wrap.
        const auto steady_now = std::chrono::steady_clock::now();
        const auto to_expiry = std::chrono::ceil<std::chrono::steady_clock::duration>(*next_expiry - now);
        if (to_expiry < deadline - steady_now) until = steady_now + to_expiry;
      }
      const auto seen = sequence_ + changes_;
      cv_.wait_until(lk, stop, until, [&] { return sequence_ + changes_ != seen; });
      if (stop.stop_requested()) return false;
      if (std::chrono::steady_clock::now() >= deadline) {
        const job_time later = job_clock::now();
        return std::any_of(jobs_.begin(), jobs_.end(),
                           [&](const auto& kv) { return !kv.second.claimed_at(later); });
      }
    }
  }

  listener_id listen(job_listener fn) { return listeners_.add(std::move(fn)); }
  void unlisten(listener_id id) { listeners_.remove(id); }

 private:
  void claim_locked(detail::job_record& r, std::string_view owner, job_clock::duration ttl,
                    std::vector<job_event>& events) {
    std::string displaced;
    const auto old_token = r.token;
    unindex_locked(r);
    detail::claim_outcome outcome{};
    try {
      outcome = detail::apply_claim(r, owner, detail::process_identity(), job_clock::now(), ttl, &displaced);
    } catch (...) {
      index_locked(r);  // refused: r is unchanged, and goes back where it was
      throw;
    }
    index_locked(r);
    if (outcome == detail::claim_outcome::new_claim) {
      if (!displaced.empty())
        events.push_back(job_event{job_event_kind::claim_lost, r.id, displaced, old_token,
                                   "expired; taken by '" + r.owner + "'"});
      events.push_back(detail::event(job_event_kind::claimed, r));
    }
  }

  // Claimable jobs in ready_ (job order), claimed ones in expiring_ (expiry, then job order), as
  // the LMDB board's index; a claim that expired stays in expiring_ until claim_next moves it.
  void index_locked(const detail::job_record& r) {
    if (r.owner.empty())
      ready_.emplace(detail::order_of(r), r.id);
    else
      expiring_.emplace(std::pair{r.expires, detail::order_of(r)}, r.id);
  }
  void unindex_locked(const detail::job_record& r) {
    ready_.erase(detail::order_of(r));
    if (!r.owner.empty()) expiring_.erase(std::pair{r.expires, detail::order_of(r)});
  }

  void erase_locked(const detail::job_record& r) {
    const job_id id = r.id;  // r dies in the erase: callers touch it no more
    unindex_locked(r);
    order_.erase(detail::order_of(r));
    jobs_.erase(id);
  }

  // Runs fn on the job if c is its live claim; otherwise throws (and notifies a lost claim).
  template <class Fn>
  void owned(const flowkit::claim& c, Fn&& fn) {
    std::vector<job_event> events;
    try {
      std::lock_guard lk{mu_};
      auto it = jobs_.find(c.job());
      if (it == jobs_.end()) detail::throw_gone(c);
      const job_time now = job_clock::now();
      detail::check_claim(it->second, c, now);
      fn(it->second, now, events);
      ++changes_;
    } catch (const not_owner& e) {
      detail::note_lost(events, c, e);
      listeners_.fire(events);
      throw;
    }
    listeners_.fire(events);
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
  detail::listener_set listeners_;
};

static_assert(jobboard<memory_jobboard>);

}  // namespace flowkit
