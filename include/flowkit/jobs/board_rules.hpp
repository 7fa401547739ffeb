#pragma once
// The claim rules every board applies inside its own critical section (a mutex for the memory
// board, a write transaction for LMDB), so that all boards behave alike: what the conformance
// suite checks once is decided here once.

#include <flowkit/core/name.hpp>
#include <flowkit/jobs/job.hpp>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

namespace flowkit::detail {

inline void check_owner_name(std::string_view owner) {
  if (owner.empty()) throw std::invalid_argument("flowkit: a claim needs a non-empty owner");
  if (owner.size() > 4096) throw std::invalid_argument("flowkit: an owner name is at most 4096 bytes");
}

// Claims always expire: a ttl is required and must be positive. It is taken in any duration type,
// so that a large one (std::chrono::hours::max()) is not wrapped by the conversion to the clock's
// nanoseconds at the call: a ttl beyond what the clock holds saturates at
// job_clock::duration::max(), and expiry_after() saturates at job_time::max() (the year 2262):
// such a claim does not end in practice, which is the caller's explicit choice.
template <class Rep, class Period>
job_clock::duration check_ttl(std::chrono::duration<Rep, Period> ttl) {
  using D = std::chrono::duration<Rep, Period>;
  if (!(ttl > D::zero())) throw std::invalid_argument("flowkit: a claim's ttl must be positive");  // NaN too
  constexpr auto most = job_clock::duration::max();
  // Compared in ttl's own unit: converting ttl to nanoseconds first is what overflows.
  if (ttl >= std::chrono::duration_cast<D>(most)) return most;
  const auto ns = std::chrono::duration_cast<job_clock::duration>(ttl);
  return ns > job_clock::duration::zero() ? ns : job_clock::duration{1};  // below a nanosecond: 1 ns
}

// now + ttl, saturated at the latest representable instant instead of wrapping into the past.
inline job_time expiry_after(job_time now, job_clock::duration ttl) noexcept {
  return ttl >= job_time::max() - now ? job_time::max() : now + ttl;
}

// Who a claimer is: the readable owner name it gives, and this process's identity. Two processes
// that give the same name ("worker-1") are two owners; threads of one process that give the same
// name are one (they renew each other's claims, as one worker would).
//
// The identity is "host/pid/random": the host for people reading it, the pid to tell live
// processes apart, and 64 random bits (getrandom) so that a later process that reuses a pid is
// still someone else. Made again in a forked child (its pid differs), once per process otherwise.
inline std::string process_identity() {
  struct cached {
    pid_t pid = 0;
    std::string id;
  };
  static std::mutex mu;
  static cached c;
  std::lock_guard lk{mu};
  const pid_t pid = ::getpid();
  if (c.pid != pid) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    const job_id rnd = job_id::generate();  // getrandom(2); a job id's bytes are random
    static constexpr char digits[] = "0123456789abcdef";
    std::string id{host[0] ? host : "localhost"};
    id += '/';
    id += std::to_string(pid);
    id += '/';
    for (std::size_t i = 0; i < 8; ++i) {
      id.push_back(digits[rnd.bytes()[i] >> 4]);
      id.push_back(digits[rnd.bytes()[i] & 0xf]);
    }
    c = cached{pid, std::move(id)};
  }
  return c.id;
}

// A new record for post(): the board fills in sequence.
template <class Store>
job_record make_record(std::string_view name, std::string_view flow, const Store& store, post_options opts) {
  static_assert(is_store_v<Store>,
                "board.post(name, flow, store) requires store to be an fk::store<...>(...)");
  job_record r;
  r.id = job_id::generate();
  r.priority = opts.priority;
  r.created = job_clock::now();
  r.name = name;
  r.flow = flow;
  r.flow_detail = opts.flow_detail.empty() ? r.id.str() : std::move(opts.flow_detail);
  r.store_signature = store_signature<Store>();
  serialize_to(r.store_bytes, store);
  return r;
}

enum class claim_outcome : std::uint8_t { new_claim, renewed };

// claim(): UNCLAIMED (or claim expired) -> CLAIMED with token + 1; a live claim by the same owner
// (same name, same process) is renewed (same token); a live claim by another owner ->
// unclaimable_job. `displaced` gets the owner of an expired claim that this one replaces, for a
// claim_lost notification.
inline claim_outcome apply_claim(job_record& r, std::string_view owner, std::string_view owner_id,
                                 job_time now, job_clock::duration ttl, std::string* displaced = nullptr) {
  if (r.claimed_at(now)) {
    if (r.owner != owner || r.owner_id != owner_id)
      throw unclaimable_job(r.id.str(), r.owner, format_time(r.expires), r.owner_id);
    r.expires = expiry_after(now, ttl);
    return claim_outcome::renewed;
  }
  if (displaced && !r.owner.empty() && (r.owner != owner || r.owner_id != owner_id)) *displaced = r.owner;
  r.owner = owner;
  r.owner_id = owner_id;
  r.expires = expiry_after(now, ttl);
  ++r.token;
  return claim_outcome::new_claim;
}

// Throws unless c is the job's live claim.
inline void check_claim(const job_record& r, const claim& c, job_time now) {
  if (r.token != c.token())
    throw claim_lost(r.id.str(), c.owner(), c.token(),
                     r.claimed_at(now)
                         ? "claimed again by '" + r.owner + "' (claim #" + std::to_string(r.token) + ")"
                         : "claimed again since (claim #" + std::to_string(r.token) + ")");
  if (r.owner.empty()) throw claim_lost(r.id.str(), c.owner(), c.token(), "abandoned");
  if (r.owner != c.owner() || r.owner_id != c.identity())
    throw not_owner(r.id.str(), c.owner(),
                    "the job is claimed by '" + r.owner + "' (process " + r.owner_id + ")");
  if (r.expires <= now)
    throw claim_lost(r.id.str(), c.owner(), c.token(), "expired at " + format_time(r.expires));
}

[[noreturn]] inline void throw_gone(const claim& c) {
  throw claim_lost(c.job().str(), c.owner(), c.token(), "the job is no longer on the board");
}

inline job_event event(job_event_kind k, const job_record& r, std::string detail = {}) {
  return job_event{k, r.id, r.owner, r.token, std::move(detail)};
}

// The lost-claim event for a failed ownership check, if it was one.
inline void note_lost(std::vector<job_event>& events, const claim& c, const not_owner& e) {
  if (dynamic_cast<const claim_lost*>(&e))
    events.push_back(job_event{job_event_kind::claim_lost, c.job(), c.owner(), c.token(), e.what()});
}

// Listeners of one board object. Called after the change is committed, outside every lock, so a
// listener may use the board.
class listener_set {
 public:
  listener_id add(job_listener fn) {
    std::lock_guard lk{mu_};
    const listener_id id = ++next_;
    fns_.emplace(id, std::move(fn));
    return id;
  }
  void remove(listener_id id) {
    std::lock_guard lk{mu_};
    fns_.erase(id);
  }
  void fire(const std::vector<job_event>& events) const {
    if (events.empty()) return;
    std::vector<job_listener> fns;
    {
      std::lock_guard lk{mu_};
      if (fns_.empty()) return;
      for (const auto& [id, fn] : fns_) fns.push_back(fn);
    }
    for (const auto& e : events)
      for (const auto& fn : fns) fn(e);
  }

 private:
  mutable std::mutex mu_;
  std::map<listener_id, job_listener> fns_;
  listener_id next_ = 0;
};

// Iteration order, the same on every board: higher priority first, then oldest (lowest sequence).
struct order_key {
  std::uint8_t rank;  // 0 = VERY_HIGH
  std::uint64_t sequence;
  friend constexpr auto operator<=>(const order_key&, const order_key&) noexcept = default;
};

inline order_key order_of(const job_record& r) noexcept {
  return {static_cast<std::uint8_t>(4 - static_cast<std::uint8_t>(r.priority)), r.sequence};
}

// A name for the flow whatever its spelling: a named flow type, or a string.
template <class F>
std::string_view flow_name_of(const F& flow) {
  if constexpr (named<F>)
    return F::name.view();
  else
    return std::string_view{flow};
}

// post() for every board: names the flow, serialises the store, hands the record to the board's
// post_record(). Derived is the board (CRTP), so the typed front costs no virtual call.
template <class Derived>
class board_front {
 public:
  // post("order 42", checkout, fk::store<"order_id">(42)[, priority or post_options]): the flow
  // is a named flow (only its compile-time name is kept) or the flow's name as a string.
  template <class F, class Store>
    requires(named<F> || std::convertible_to<const F&, std::string_view>)
  job_id post(std::string_view name, const F& flow, const Store& store, post_options opts = {}) {
    return self().post_record(make_record(name, flow_name_of(flow), store, std::move(opts)));
  }
  template <class F, class Store>
    requires(named<F> || std::convertible_to<const F&, std::string_view>)
  job_id post(std::string_view name, const F& flow, const Store& store, job_priority priority) {
    return post(name, flow, store, post_options{priority, {}});
  }

  // The typed store of a job on this board: board.load_store<S>(job) == job.store<S>().
  template <class S>
  std::remove_cv_t<S> load_store(const job& j) const {
    return j.template store<S>();
  }

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace flowkit::detail
