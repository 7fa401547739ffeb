#pragma once
// The job model: ids, priorities, states, a job as read from a board, and a claim. Times are
// job_clock (std::chrono::system_clock) instants: see clock.hpp.

#include <flowkit/jobs/clock.hpp>
#include <flowkit/jobs/errors.hpp>
#include <flowkit/persistence/serialization.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include <sys/random.h>

namespace flowkit {

/// A job's id: a random (version 4) UUID, so ids from different boards and processes never meet.
class job_id {
 public:
  /// The number of bytes of an id.
  static constexpr std::size_t size = 16;

  /// The nil id (all zero): names no job.
  constexpr job_id() noexcept = default;
  /// An id of the given bytes.
  explicit constexpr job_id(const std::array<std::uint8_t, size>& bytes) noexcept : bytes_(bytes) {}

  /// A new random id; throws std::system_error if the system gives no randomness.
  /// From getrandom(2), not a seeded engine: a forked child must not repeat its parent's ids.
  static job_id generate() {
    std::array<std::uint8_t, size> b{};
    std::size_t got = 0;
    while (got < size) {
      const ssize_t n = ::getrandom(b.data() + got, size - got, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "flowkit: getrandom");
      }
      got += static_cast<std::size_t>(n);
    }
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
    return job_id{b};
  }

  /// "8-4-4-4-12" lower-case hex; nullopt if text is not one.
  static std::optional<job_id> parse(std::string_view text) noexcept {
    if (text.size() != 36) return std::nullopt;
    std::array<std::uint8_t, size> b{};
    std::size_t k = 0;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    for (std::size_t i = 0; i < text.size();) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        if (text[i] != '-') return std::nullopt;
        ++i;
        continue;
      }
      const int hi = hex(text[i]), lo = hex(text[i + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      b[k++] = static_cast<std::uint8_t>(hi * 16 + lo);
      i += 2;
    }
    return job_id{b};
  }

  /// "8-4-4-4-12" lower-case hex.
  std::string str() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (std::size_t i = 0; i < size; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
      s.push_back(digits[bytes_[i] >> 4]);
      s.push_back(digits[bytes_[i] & 0xf]);
    }
    return s;
  }

  /// The id's 16 bytes.
  const std::array<std::uint8_t, size>& bytes() const noexcept { return bytes_; }
  /// Whether this is not the nil id.
  explicit operator bool() const noexcept { return *this != job_id{}; }

  friend constexpr auto operator<=>(const job_id&, const job_id&) noexcept = default;
  friend std::ostream& operator<<(std::ostream& os, const job_id& id) { return os << id.str(); }

 private:
  std::array<std::uint8_t, size> bytes_{};
};

/// TaskFlow's priorities. Every board lists higher priority first, then oldest first.
enum class job_priority : std::uint8_t { very_low = 0, low = 1, normal = 2, high = 3, very_high = 4 };

/// The upper-case name TaskFlow uses, e.g. "VERY_HIGH".
constexpr std::string_view to_string(job_priority p) noexcept {
  switch (p) {
    case job_priority::very_low:
      return "VERY_LOW";
    case job_priority::low:
      return "LOW";
    case job_priority::normal:
      return "NORMAL";
    case job_priority::high:
      return "HIGH";
    case job_priority::very_high:
      return "VERY_HIGH";
  }
  return "?";
}

/// COMPLETE is what a consumed or trashed job is; the board keeps only trashed ones (in its trash).
enum class job_state : std::uint8_t { unclaimed, claimed, complete };

/// "UNCLAIMED", "CLAIMED" or "COMPLETE".
constexpr std::string_view to_string(job_state s) noexcept {
  switch (s) {
    case job_state::unclaimed:
      return "UNCLAIMED";
    case job_state::claimed:
      return "CLAIMED";
    case job_state::complete:
      return "COMPLETE";
  }
  return "?";
}

/// How a claim ended without completing its job: its holder abandoned it, it expired and another
/// claim took the job, or an operator revoked it (board.revoke, board.trash by id).
enum class attempt_end : std::uint8_t { abandoned = 0, expired = 1, revoked = 2 };

/// "abandoned", "expired" or "revoked".
constexpr std::string_view to_string(attempt_end e) noexcept {
  switch (e) {
    case attempt_end::abandoned:
      return "abandoned";
    case attempt_end::expired:
      return "expired";
    case attempt_end::revoked:
      return "revoked";
  }
  return "?";
}

/// One claim of a job that ended without completing it (job::attempts()): what a conductor counts
/// to tell a poison job from bad luck.
struct job_attempt {
  std::uint64_t token = 0;  // the claim's fencing token
  std::string owner;        // the name the claimer gave
  std::string identity;     // the claiming process ("host/pid/random")
  job_time claimed{};       // when the claim was made (the epoch for a claim older than the history)
  job_time ended{};         // abandoned or revoked: then; expired: its expiry
  /// How the claim ended.
  attempt_end how = attempt_end::abandoned;
  std::string reason;  // abandoned: the holder's reason; revoked: "<operator>: <reason>"; expired: empty

  friend bool operator==(const job_attempt&, const job_attempt&) = default;
};

/// A job keeps its last job_attempts_kept attempts (older ones are dropped) and the first
/// attempt_reason_max bytes of each reason (cut at a UTF-8 character boundary), so that a job
/// that keeps failing cannot grow its record without limit.
inline constexpr std::size_t job_attempts_kept = 32;
inline constexpr std::size_t attempt_reason_max = 1024;

/// Listing filters: board.jobs(fk::only_unclaimed), board.jobs(fk::all_jobs).
enum class job_filter : std::uint8_t { all, unclaimed };
inline constexpr job_filter all_jobs = job_filter::all;
inline constexpr job_filter only_unclaimed = job_filter::unclaimed;

/// What post() may say besides the job's name, flow and store.
struct post_options {
  /// Claimable jobs are listed higher priority first.
  job_priority priority = job_priority::normal;
  std::string flow_detail;  // the flow detail it checkpoints to; empty: the job's id
};

namespace detail {

inline std::string format_time(job_time t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return "t=" + std::to_string(ms / 1000) + "." + std::to_string(1000 + ms % 1000).substr(1) + "s";
}

// Everything a board stores about a job. Jobs are snapshots of it.
struct job_record {
  job_id id;
  job_priority priority = job_priority::normal;
  std::uint64_t sequence = 0;  // order of posting on this board: "oldest first" within a priority
  job_time created{};
  std::string name, flow, flow_detail;
  std::string store_signature, store_bytes;
  // Claim: owner empty = never claimed or abandoned. token counts claims (fencing). owner is the
  // name the claimer gave (for people); owner_id the claiming process (detail::process_identity),
  // so that two processes that give the same name are still two owners.
  std::string owner;
  std::string owner_id;
  job_time expires{};
  job_time claimed{};  // when the current claim was made (a renewal keeps it)
  std::uint64_t token = 0;
  // Abandoned with a back-off: not claimable before then (kept once passed, until the next claim).
  std::optional<job_time> not_before;
  std::vector<job_attempt> attempts;  // oldest first, at most job_attempts_kept

  bool claimed_at(job_time now) const noexcept { return !owner.empty() && expires > now; }
  bool backing_off_at(job_time now) const noexcept { return not_before && *not_before > now; }
  bool claimable_at(job_time now) const noexcept { return !claimed_at(now) && !backing_off_at(now); }
  // Where the claim index keeps the job: by this time while it has one (a claim's expiry, a
  // back-off's end), among the claimable jobs otherwise. Whether that time has passed is decided
  // by the reader.
  std::optional<job_time> index_time() const noexcept {
    if (!owner.empty()) return expires;
    return not_before;
  }

  friend bool operator==(const job_record&, const job_record&) = default;
};

struct job_access;

}  // namespace detail

/// A claim on a job: who holds it, until when, and its fencing token. The token grows with every
/// new claim of the job (not with a renewal by the same owner), so a writer that checks it against
/// the board's current token cannot act on a claim that was lost.
class claim {
 public:
  /// An empty claim, on no job.
  claim() = default;
  /// The job claimed.
  const flowkit::job_id& job() const noexcept { return job_; }
  /// The name the claimer gave (readable; several processes may give the same one).
  const std::string& owner() const noexcept { return owner_; }
  /// The claiming process: "host/pid/random", unique per process. Together with owner() it is who
  /// holds the claim; only that process may renew it or act with it.
  const std::string& identity() const noexcept { return identity_; }
  /// The claim's fencing token.
  std::uint64_t token() const noexcept { return token_; }
  /// When the claim expires unless extended.
  job_time expires() const noexcept { return expires_; }

 private:
  friend struct detail::job_access;
  flowkit::job_id job_;
  std::string owner_;
  std::string identity_;
  std::uint64_t token_ = 0;
  job_time expires_{};
};

/// A job as read from a board at one instant: its state is as of that read.
class job {
 public:
  /// The job's id.
  const job_id& id() const noexcept { return rec_.id; }
  /// The job's name, as posted.
  const std::string& name() const noexcept { return rec_.name; }
  const std::string& flow() const noexcept { return rec_.flow; }  // the flow's registered name
  /// The flow detail (run id) the job checkpoints to.
  const std::string& flow_detail() const noexcept { return rec_.flow_detail; }
  /// The priority it was posted with.
  job_priority priority() const noexcept { return rec_.priority; }
  /// When it was posted.
  job_time created() const noexcept { return rec_.created; }
  /// UNCLAIMED or CLAIMED as of the read (COMPLETE for a trashed job).
  job_state state() const noexcept { return state_; }
  /// When claimed (as of the read): the owner and the claim's expiry.
  std::optional<std::string> owner() const {
    return state_ == job_state::claimed ? std::optional<std::string>{rec_.owner} : std::nullopt;
  }
  /// When claimed: the claiming process ("host/pid/random"), see claim::identity().
  std::optional<std::string> owner_identity() const {
    return state_ == job_state::claimed ? std::optional<std::string>{rec_.owner_id} : std::nullopt;
  }
  /// When claimed: the claim's expiry.
  std::optional<job_time> expires() const noexcept {
    return state_ == job_state::claimed ? std::optional<job_time>{rec_.expires} : std::nullopt;
  }
  /// When claimed: when the current claim was made (a renewal keeps it).
  std::optional<job_time> claimed() const noexcept {
    return state_ == job_state::claimed ? std::optional<job_time>{rec_.claimed} : std::nullopt;
  }
  /// While the job backs off (abandoned with a retry_after), as of the read: it is UNCLAIMED but
  /// not claimable before this time.
  std::optional<job_time> not_before() const noexcept { return rec_.not_before; }
  /// The claims that ended without completing the job, oldest first: the last job_attempts_kept.
  const std::vector<job_attempt>& attempts() const noexcept { return rec_.attempts; }
  /// The fencing token: +1 with every new claim and every claim an operator ended (revoke, trash
  /// by id); a live claim's token equals it.
  std::uint64_t token() const noexcept { return rec_.token; }

  /// The store the job was posted with, typed: job.store<decltype(fk::store<"order_id">(0))>().
  /// Throws store_type_mismatch if S is not the posted store's type.
  template <class S>
  std::remove_cv_t<S> store() const {
    using T = std::remove_cv_t<S>;
    static_assert(is_store_v<T>, "fk::job::store<S>() requires S to be an fk::store_t");
    const std::string asked = flowkit::store_signature<T>();
    if (asked != rec_.store_signature)
      throw store_type_mismatch(rec_.id.str(), readable_store_signature(rec_.store_signature),
                                readable_store_signature(asked));
    try {
      return deserialize_from<T>(rec_.store_bytes);
    } catch (const std::exception& e) {
      throw corrupt_job(rec_.id.str(), std::string{"store does not deserialise: "} + e.what());
    }
  }
  /// The store's signature: its slot names and value types.
  const std::string& store_signature() const noexcept { return rec_.store_signature; }
  /// The store's serialised bytes.
  const std::string& store_bytes() const noexcept { return rec_.store_bytes; }

 private:
  friend struct detail::job_access;
  detail::job_record rec_;
  job_state state_ = job_state::unclaimed;
};

/// A trashed job: moved aside with the reason, inspectable, never served again.
struct trashed_job {
  flowkit::job job;  // state complete
  /// Why it was trashed.
  std::string reason;
  std::string by;  // the owner that trashed it, or the operator (board.trash(id, by, reason))
  /// When it was trashed.
  job_time when{};
};

/// What claim_next() returns: the claim and the job it is on.
struct claimed_job {
  /// The claim taken.
  flowkit::claim claim;
  /// The job as of the claim.
  flowkit::job job;
};

/// Board notifications, delivered to listeners in the process that made the change, after the
/// change is committed. Other processes see changes through wait() and listings.
enum class job_event_kind : std::uint8_t {
  /// A job was posted.
  posted,
  /// A job was claimed.
  claimed,
  /// A job was consumed (completed).
  consumed,
  /// A claim was abandoned.
  abandoned,
  /// A job went to the trash (by its owner, or by an operator).
  trashed,
  /// A claim was found lost: its holder may no longer act on the job.
  claim_lost,
  /// A job's record does not decode.
  corrupt,
  revoked,  // an operator made the job UNCLAIMED, whatever its claim (board.revoke)
  purged    // the job left the trash (board.purge_trash)
};

/// The event kind's name, e.g. "claim_lost".
constexpr std::string_view to_string(job_event_kind k) noexcept {
  switch (k) {
    case job_event_kind::posted:
      return "posted";
    case job_event_kind::claimed:
      return "claimed";
    case job_event_kind::consumed:
      return "consumed";
    case job_event_kind::abandoned:
      return "abandoned";
    case job_event_kind::trashed:
      return "trashed";
    case job_event_kind::claim_lost:
      return "claim_lost";
    case job_event_kind::corrupt:
      return "corrupt";
    case job_event_kind::revoked:
      return "revoked";
    case job_event_kind::purged:
      return "purged";
  }
  return "?";
}

/// One board notification (see job_event_kind).
struct job_event {
  /// What happened.
  job_event_kind kind{};
  /// The job it happened to.
  flowkit::job_id job;
  // claimed/consumed/abandoned/trashed/revoked: the actor (an operator's name for revoke and for
  // trash by id); claim_lost: who lost it
  std::string owner;
  std::uint64_t token = 0;  // the claim's fencing token, where there is one
  std::string detail;       // claim_lost: why; abandoned/trashed/revoked: the reason; corrupt: what is wrong
};

/// A callback for board events; called after the change is committed, in the changing process.
using job_listener = std::function<void(const job_event&)>;
/// What board.listen() returns, for board.unlisten().
using listener_id = std::uint64_t;

namespace detail {

// Builds jobs and claims; boards are the only writers of them.
struct job_access {
  static job make_job(job_record rec, job_time now) {
    job j;
    j.state_ = rec.claimed_at(now) ? job_state::claimed : job_state::unclaimed;
    if (!rec.backing_off_at(now)) rec.not_before.reset();  // a back-off that has passed is none
    j.rec_ = std::move(rec);
    return j;
  }
  static job make_complete(job_record rec) {
    job j;
    j.state_ = job_state::complete;
    rec.not_before.reset();  // never claimable again
    j.rec_ = std::move(rec);
    return j;
  }
  static claim make_claim(const job_record& rec) {
    claim c;
    c.job_ = rec.id;
    c.owner_ = rec.owner;
    c.identity_ = rec.owner_id;
    c.token_ = rec.token;
    c.expires_ = rec.expires;
    return c;
  }
  static void set_expiry(claim& c, job_time t) noexcept { c.expires_ = t; }
  static const job_record& record(const job& j) noexcept { return j.rec_; }
};

}  // namespace detail
}  // namespace flowkit

template <>
struct std::hash<flowkit::job_id> {
  std::size_t operator()(const flowkit::job_id& id) const noexcept {
    std::uint64_t a = 0;
    std::memcpy(&a, id.bytes().data(), sizeof a);
    return static_cast<std::size_t>(a);
  }
};
