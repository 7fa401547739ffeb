#pragma once
// The jobboard concept: what a conductor may rely on, whatever stores the jobs.
//
//   post      -> a new UNCLAIMED job (priority VERY_HIGH..VERY_LOW, default NORMAL)
//   jobs      -> all jobs or only the claimable ones, higher priority first, then oldest first
//   claim     -> UNCLAIMED -> CLAIMED for ttl; throws unclaimable_job while another owner's claim
//                is live; renews (same token) when the owner already holds it
//   claim_next-> claims the first claimable job in listing order, if any
//   extend    -> heartbeat: the claim's expiry becomes now + ttl
//   abandon   -> CLAIMED -> UNCLAIMED;  consume -> COMPLETE (removed);  trash -> COMPLETE (moved
//                to the trash with a reason). All three need the live claim: claim_lost/not_owner.
//                abandon(claim, reason, retry_after): the job backs off, not claimable before
//                now + retry_after. A job keeps the claims that ended without completing it
//                (job::attempts(): abandoned, expired, revoked).
//   wait      -> true once a claimable job exists, false at the timeout
// and, for operators (an admin tool), who act without holding the claim:
//   revoke(id, by, reason) -> UNCLAIMED now, whatever its claim; the holder's claim is lost
//   trash(id, by, reason)  -> into the trash, whatever its claim;  purge_trash -> empties it
// docs/jobboard.md has the state diagram and the expiry rules.

#include <flowkit/core/store.hpp>
#include <flowkit/jobs/job.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace flowkit {

/// A board of jobs that conductors claim and run (see above): fk::memory_jobboard,
/// fk::lmdb_jobboard, fk::pg_jobboard. Claims are exclusive across threads and processes; every
/// operation is atomic.
template <class B>
concept jobboard = requires(B& b, const B& cb, const job_id& id, claim& c, const claim& cc,
                            std::string_view s, std::chrono::nanoseconds d, job_listener fn, listener_id lid,
                            const job& j) {
  { b.post(s, s, store<"x">(1)) } -> std::same_as<job_id>;
  { b.post(s, s, store<"x">(1), job_priority::high) } -> std::same_as<job_id>;
  { b.post(s, s, store<"x">(1), post_options{}) } -> std::same_as<job_id>;
  { cb.jobs() } -> std::same_as<std::vector<job>>;
  { cb.jobs(only_unclaimed) } -> std::same_as<std::vector<job>>;
  { cb.find(id) } -> std::same_as<std::optional<job>>;
  { cb.get(id) } -> std::same_as<job>;
  { cb.template load_store<decltype(store<"x">(1))>(j) } -> std::same_as<decltype(store<"x">(1))>;
  { b.claim(id, s, d) } -> std::same_as<claim>;
  { b.claim_next(s, d) } -> std::same_as<std::optional<claimed_job>>;
  b.extend(c, d);
  b.abandon(cc);
  b.abandon(cc, s, d);
  b.consume(cc);
  b.trash(cc, s);
  { cb.trashed() } -> std::same_as<std::vector<trashed_job>>;
  b.revoke(id, s, s);
  b.trash(id, s, s);
  { b.purge_trash() } -> std::same_as<std::size_t>;
  { b.wait(d) } -> std::same_as<bool>;
  { b.listen(fn) } -> std::same_as<listener_id>;
  b.unlisten(lid);
};

}  // namespace flowkit
