#pragma once
// The claim rules every board applies inside its own critical section (a mutex for the memory
// board, a write transaction for LMDB), so that all boards behave alike: what the conformance
// suite checks once is decided here once. board_front runs them: a board supplies its storage
// (find, index, write, remove a record) and inherits claim, claim_next, extend, abandon, consume
// and trash.

#include <flowkit/core/name.hpp>
#include <flowkit/jobs/job.hpp>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
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

// An operator's name (board.revoke, board.trash by id): who acted, for the events, the trash and
// the job's history.
inline void check_operator_name(std::string_view by) {
  if (by.empty()) throw std::invalid_argument("flowkit: an operator's action needs a non-empty name (by)");
  if (by.size() > 4096) throw std::invalid_argument("flowkit: an operator's name is at most 4096 bytes");
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

// A new record for post(), created at now: the board fills in sequence.
template <class Store>
job_record make_record(std::string_view name, std::string_view flow, const Store& store, post_options opts,
                       job_time now) {
  static_assert(is_store_v<Store>,
                "board.post(name, flow, store) requires store to be an fk::store<...>(...)");
  job_record r;
  r.id = job_id::generate();
  r.priority = opts.priority;
  r.created = now;
  r.name = name;
  r.flow = flow;
  r.flow_detail = opts.flow_detail.empty() ? r.id.str() : std::move(opts.flow_detail);
  r.store_signature = store_signature<Store>();
  serialize_to(r.store_bytes, store);
  return r;
}

// reason cut to attempt_reason_max bytes, at a UTF-8 character boundary.
inline std::string_view bounded_reason(std::string_view reason) noexcept {
  if (reason.size() <= attempt_reason_max) return reason;
  std::size_t cut = attempt_reason_max;
  while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;  // a continuation
  return reason.substr(0, cut);
}

// r's current claim ended without completing the job: it joins the history, which keeps the last
// job_attempts_kept.
inline void record_attempt(job_record& r, attempt_end how, job_time ended, std::string_view reason) {
  if (r.attempts.size() >= job_attempts_kept)
    r.attempts.erase(r.attempts.begin(), r.attempts.begin() + static_cast<std::ptrdiff_t>(
                                                                  r.attempts.size() - job_attempts_kept + 1));
  r.attempts.push_back(
      job_attempt{r.token, r.owner, r.owner_id, r.claimed, ended, how, std::string{bounded_reason(reason)}});
}

// How the claim with this token ended, from the history; empty if it is not there (too old).
inline std::string how_claim_ended(const job_record& r, std::uint64_t token) {
  for (auto a = r.attempts.rbegin(); a != r.attempts.rend(); ++a) {
    if (a->token != token) continue;
    switch (a->how) {
      case attempt_end::abandoned:
        return a->reason.empty() ? "abandoned" : "abandoned: " + a->reason;
      case attempt_end::expired:
        return "expired at " + format_time(a->ended);
      case attempt_end::revoked:
        return "revoked by " + a->reason;
    }
  }
  return {};
}

// Throws unless c is the job's live claim. The message says how the claim was lost, from the
// history when it is there.
inline void check_claim(const job_record& r, const claim& c, job_time now) {
  if (r.token != c.token()) {
    std::string why = how_claim_ended(r, c.token());
    if (r.claimed_at(now)) {
      if (!why.empty()) why += "; ";
      why += "claimed again by '" + r.owner + "' (claim #" + std::to_string(r.token) + ")";
    } else if (why.empty()) {
      why = "claimed again since (claim #" + std::to_string(r.token) + ")";
    }
    throw claim_lost(r.id.str(), c.owner(), c.token(), why);
  }
  if (r.owner.empty()) {
    const std::string why = how_claim_ended(r, c.token());
    throw claim_lost(r.id.str(), c.owner(), c.token(), why.empty() ? "abandoned" : why);
  }
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

// claim() in a board's write section (see board_front): a job nobody holds, or whose claim
// expired, becomes owner's with token + 1; a live claim by the same owner (same name, same
// process) is renewed (same token); a live claim by another owner is unclaimable_job, and nothing
// is changed. events gets the new claim (not a renewal) and, when it takes over another owner's
// expired claim, that owner's claim_lost.
template <class Section>
void claim_record(Section& w, job_record& r, std::string_view owner, std::string_view owner_id, job_time now,
                  job_clock::duration ttl, std::vector<job_event>& events) {
  const bool same_owner = r.owner == owner && r.owner_id == owner_id;
  const bool live = r.claimed_at(now);
  if (live && !same_owner) throw unclaimable_job(r.id.str(), r.owner, format_time(r.expires), r.owner_id);
  if (r.backing_off_at(now)) throw unclaimable_job::backing_off(r.id.str(), format_time(*r.not_before));
  w.unindex(r);
  if (live) {
    r.expires = expiry_after(now, ttl);
  } else {
    if (!r.owner.empty()) {
      // The previous claim expired (nothing was written then): its end joins the history now.
      record_attempt(r, attempt_end::expired, r.expires, {});
      if (!same_owner) {
        std::string why{"expired; taken by '"};
        why += owner;
        why += '\'';
        events.push_back(job_event{job_event_kind::claim_lost, r.id, r.owner, r.token, std::move(why)});
      }
    }
    r.owner = owner;
    r.owner_id = owner_id;
    r.claimed = now;
    r.expires = expiry_after(now, ttl);
    r.not_before.reset();
    ++r.token;
    events.push_back(event(job_event_kind::claimed, r));
  }
  w.save(r);
}

// The job has nobody's claim and no back-off: as abandon, revoke and an operator's trash leave it.
inline void clear_claim(job_record& r) noexcept {
  r.owner.clear();
  r.owner_id.clear();
  r.expires = {};
  r.claimed = {};
  r.not_before.reset();
}

// An operator ends whatever claim r has (board.revoke, board.trash by id), in the board's write
// section, r already unindexed. The token moves on, so that the holder's claim object, and any
// checkpoint write fenced by it, fails with claim_lost from now on; a live holder is told by a
// claim_lost event.
inline void end_claim_by_operator(job_record& r, job_time now, std::string_view by, std::string_view reason,
                                  std::vector<job_event>& events) {
  if (!r.owner.empty()) {
    if (r.claimed_at(now)) {
      std::string why{"revoked by '"};
      why += by;
      why += "': ";
      why += reason;
      events.push_back(job_event{job_event_kind::claim_lost, r.id, r.owner, r.token, std::move(why)});
      std::string entry{by};  // the history's reason: "<operator>: <reason>"
      entry += ": ";
      entry += reason;
      record_attempt(r, attempt_end::revoked, now, entry);
    } else {
      record_attempt(r, attempt_end::expired, r.expires, {});  // lost before the operator came
    }
    ++r.token;
  }
  clear_claim(r);  // a back-off ends too: the operator wants the job claimable (or gone) now
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

// A job read from what a board's section loaded (see board_front): moved out of a record the
// section decoded for this call (an optional), copied from one the board keeps in place (a
// pointer).
template <class Loaded>
job snapshot(Loaded&& r, job_time now) {
  if constexpr (std::is_pointer_v<std::remove_cvref_t<Loaded>>)
    return job_access::make_job(*r, now);
  else
    return job_access::make_job(std::move(*r), now);
}

// What every board does alike, written once: post() names the flow and serialises the store; the
// claim rules (claim, claim_next, extend, abandon, consume, trash) run in the board's write
// section; listeners. Derived is the board (CRTP), so the typed front costs no virtual call. It
// provides, to this class (a friend):
//   job_id post_record(job_record)   stores a new record
//   clock()                          the board_clock it reads the time from
//   write(f)                         runs f(section&) in its critical section (a mutex, a write
//                                    transaction), returns what f returns; f may be run again
//                                    from the start (LMDB's map growth), and resets what it
//                                    collects on entry
//   wake_waiters()                   after a change that may make a job claimable (abandon)
// and the section, which lives only inside write():
//   now()                            (optional) the time the section judges claims by, if not
//                                    the board's clock()
//   load(id)                         the job's record (a pointer or an optional), empty if none
//   unindex(r), save(r)              before and after a change of r's claim: its index entry
//                                    goes, r is written and indexed under its new state
//   remove(r)                        the job leaves the board (consumed)
//   trash(r, now, by, why)           the job leaves the board into the trash
//   purge_trash()                    empties the trash, returns the ids it held
//   release_expired(now)             the claims that expired by now become claimable (index)
//   first_claimable(now, events)     the first claimable job in job order, as load() gives it
//   or first_claimable(events)       the same, judged by the section's own now(), which it reads
//                                    with the job (a database server's clock); release_expired
//                                    is then not called
template <class Derived>
class board_front {
 public:
  /// post("order 42", checkout, fk::store<"order_id">(42)[, priority or post_options]): the flow
  /// is a named flow (only its compile-time name is kept) or the flow's name as a string.
  template <class F, class Store>
    requires(named<F> || std::convertible_to<const F&, std::string_view>)
  job_id post(std::string_view name, const F& flow, const Store& store, post_options opts = {}) {
    return self().post_record(
        make_record(name, flow_name_of(flow), store, std::move(opts), self().clock().now()));
  }
  template <class F, class Store>
    requires(named<F> || std::convertible_to<const F&, std::string_view>)
  job_id post(std::string_view name, const F& flow, const Store& store, job_priority priority) {
    return post(name, flow, store, post_options{priority, {}});
  }

  /// The typed store of a job on this board: board.load_store<S>(job) == job.store<S>().
  template <class S>
  std::remove_cv_t<S> load_store(const job& j) const {
    return j.template store<S>();
  }

  /// Claims the job for owner (this process's owner of that name) for ttl: any positive duration;
  /// one too large for the clock saturates (see check_ttl).
  /// Throws fk::unclaimable_job while another owner's claim is live or the job backs off, and
  /// fk::job_not_found for an unknown id.
  template <class Rep, class Period>
  flowkit::claim claim(const job_id& id, std::string_view owner, std::chrono::duration<Rep, Period> ttl_in) {
    check_owner_name(owner);
    const job_clock::duration ttl = check_ttl(ttl_in);
    const std::string me = process_identity();
    std::vector<job_event> events;
    flowkit::claim c = self().write([&](auto& w) {
      events.clear();
      auto r = w.load(id);
      if (!r) throw job_not_found(id.str());
      claim_record(w, *r, owner, me, now_in(w), ttl, events);
      return job_access::make_claim(*r);
    });
    listeners_.fire(events);
    return c;
  }

  /// Claims the first claimable job in listing order, in one critical section; nullopt if none.
  /// Its cost does not grow with the claims held: the claims that expired since the last call
  /// become claimable (each once), then the first claimable job is taken.
  template <class Rep, class Period>
  std::optional<claimed_job> claim_next(std::string_view owner, std::chrono::duration<Rep, Period> ttl_in) {
    check_owner_name(owner);
    const job_clock::duration ttl = check_ttl(ttl_in);
    const std::string me = process_identity();
    std::vector<job_event> events;
    auto out = self().write([&](auto& w) -> std::optional<claimed_job> {
      events.clear();
      auto take = [&](auto r, job_time now) -> std::optional<claimed_job> {
        if (!r) return std::nullopt;
        claim_record(w, *r, owner, me, now, ttl, events);
        flowkit::claim c = job_access::make_claim(*r);
        return claimed_job{std::move(c), snapshot(std::move(r), now)};
      };
      if constexpr (requires { w.first_claimable(events); }) {
        // A section that judges by a server's clock reads it with the job, in one statement.
        auto r = w.first_claimable(events);
        if (!r) return std::nullopt;
        const job_time now = now_in(w);
        return take(std::move(r), now);
      } else {
        const job_time now = now_in(w);
        w.release_expired(now);
        return take(w.first_claimable(now, events), now);
      }
    });
    listeners_.fire(events);
    return out;
  }

  /// Heartbeat: the claim's expiry becomes now + ttl (and c is updated).
  /// Throws fk::claim_lost / fk::not_owner unless c is the job's live claim.
  template <class Rep, class Period>
  void extend(flowkit::claim& c, std::chrono::duration<Rep, Period> ttl_in) {
    const job_clock::duration ttl = check_ttl(ttl_in);
    const job_time expires = owned(c, [&](auto& w, job_record& r, job_time now, std::vector<job_event>&) {
      w.unindex(r);
      r.expires = expiry_after(now, ttl);
      w.save(r);
      return r.expires;
    });
    // Set only after the commit: an exception above leaves c as it was.
    job_access::set_expiry(c, expires);
  }

  /// Gives the job up: it is UNCLAIMED at once, and its history records the attempt (abandoned,
  /// with the reason). With a positive retry_after the job backs off: nobody may claim it before
  /// now + retry_after (claim_next passes it by, claim throws unclaimable_job, listings of the
  /// claimable jobs omit it, wait() wakes when it ends), so a job that fails at once is not
  /// re-claimed in a hot loop. A negative retry_after is std::invalid_argument.
  void abandon(const flowkit::claim& c) { abandon(c, {}, job_clock::duration::zero()); }
  void abandon(const flowkit::claim& c, std::string_view reason,
               job_clock::duration retry_after = job_clock::duration::zero()) {
    if (retry_after < job_clock::duration::zero())
      throw std::invalid_argument("flowkit: abandon's retry_after must not be negative");
    owned(c, [&](auto& w, job_record& r, job_time now, std::vector<job_event>& events) {
      events.push_back(event(job_event_kind::abandoned, r, std::string{reason}));
      w.unindex(r);
      record_attempt(r, attempt_end::abandoned, now, reason);
      clear_claim(r);
      if (retry_after > job_clock::duration::zero()) r.not_before = expiry_after(now, retry_after);
      w.save(r);
      return job_time{};
    });
    self().wake_waiters();  // claimable again (or, after a back-off, a new time to wake at)
  }

  /// Completes the job: it leaves the board. Needs the live claim (else fk::claim_lost / fk::not_owner).
  void consume(const flowkit::claim& c) {
    owned(c, [&](auto& w, job_record& r, job_time, std::vector<job_event>& events) {
      events.push_back(event(job_event_kind::consumed, r));
      w.remove(r);
      return job_time{};
    });
  }

  /// Completes the job into the trash, with `reason`. Needs the live claim, as consume.
  void trash(const flowkit::claim& c, std::string_view reason) {
    owned(c, [&](auto& w, job_record& r, job_time now, std::vector<job_event>& events) {
      events.push_back(event(job_event_kind::trashed, r, std::string{reason}));
      w.trash(r, now, r.owner, reason);
      return job_time{};
    });
  }

  /// Operator operations, for tools that act without holding the claim. `by` names the operator
  /// (non-empty); an unknown id is job_not_found.

  /// Makes the job UNCLAIMED now, whatever its claim: a live claim is lost to its holder (the token
  /// moves on: its extend, consume, abandon and fenced checkpoint writes fail with claim_lost).
  void revoke(const job_id& id, std::string_view by, std::string_view reason) {
    const std::vector<job_event> events = end_by_operator(
        id, by, reason, job_event_kind::revoked, [](auto& w, job_record& r, job_time) { w.save(r); });
    self().wake_waiters();  // claimable now
    listeners_.fire(events);
  }

  /// Moves the job to the trash, whatever its claim (a live claim is lost as with revoke);
  /// trashed() shows `by` and `reason`.
  void trash(const job_id& id, std::string_view by, std::string_view reason) {
    listeners_.fire(
        end_by_operator(id, by, reason, job_event_kind::trashed,
                        [&](auto& w, job_record& r, job_time now) { w.trash(r, now, by, reason); }));
  }

  /// Empties the trash; returns how many jobs it held.
  std::size_t purge_trash() {
    std::vector<job_id> ids = self().write([&](auto& w) { return w.purge_trash(); });
    std::vector<job_event> events;
    events.reserve(ids.size());
    for (const job_id& id : ids) events.push_back(job_event{job_event_kind::purged, id, {}, 0, {}});
    listeners_.fire(events);
    return ids.size();
  }

  /// Calls fn after every change this process makes to the board (see fk::job_event); returns an id
  /// for unlisten().
  listener_id listen(job_listener fn) { return listeners_.add(std::move(fn)); }
  /// Stops calling the listener with this id.
  void unlisten(listener_id id) { listeners_.remove(id); }

 protected:
  listener_set listeners_;

 private:
  // revoke and trash: whatever its claim, the job's claim ends by an operator's hand (the events
  // of kind `kind` and of a claim lost), then place(w, record, now) writes the record where it
  // goes. Returns the events, for the caller to fire once it has done the rest.
  template <class Place>
  std::vector<job_event> end_by_operator(const job_id& id, std::string_view by, std::string_view reason,
                                         job_event_kind kind, Place place) {
    check_operator_name(by);
    std::vector<job_event> events;
    self().write([&](auto& w) {
      events.clear();
      auto r = w.load(id);
      if (!r) throw job_not_found(id.str());
      const job_time now = now_in(w);
      // Unindexed before the claim changes: the index entry is found by it.
      w.unindex(*r);
      const std::uint64_t token = r->token;  // the claim it ends, if any
      std::vector<job_event> lost;
      end_claim_by_operator(*r, now, by, reason, lost);
      events.push_back(job_event{kind, id, std::string{by}, token, std::string{reason}});
      events.insert(events.end(), lost.begin(), lost.end());
      place(w, *r, now);
    });
    return events;
  }

  Derived& self() noexcept { return static_cast<Derived&>(*this); }

  // The time a write section judges claims by: the section's own where it has one (a database
  // server's clock, read in the section's transaction), the board's clock otherwise.
  template <class Section>
  job_time now_in(Section& w) {
    if constexpr (requires { w.now(); })
      return w.now();
    else
      return self().clock().now();
  }

  // Runs act(section, record, now, events) in the board's write section if c is the job's live
  // claim, and returns what it returns; otherwise throws (claim_lost / not_owner), after telling
  // this board's listeners of the lost claim.
  template <class Act>
  job_time owned(const flowkit::claim& c, Act&& act) {
    std::vector<job_event> events;
    job_time result{};
    try {
      result = self().write([&](auto& w) {
        events.clear();
        auto r = w.load(c.job());
        if (!r) throw_gone(c);
        const job_time now = now_in(w);
        check_claim(*r, c, now);
        return act(w, *r, now, events);
      });
    } catch (const not_owner& e) {
      note_lost(events, c, e);
      listeners_.fire(events);
      throw;
    }
    listeners_.fire(events);
    return result;
  }
};

}  // namespace flowkit::detail
