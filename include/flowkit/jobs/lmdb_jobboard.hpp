#pragma once
// fk::lmdb_jobboard: the embedded jobboard. Processes on one machine share one board file.
//
// Mutual exclusion is LMDB's: every change (post, claim, extend, abandon, consume, trash) is one
// write transaction that reads the job, applies the claim rules (detail::board_front, shared with
// the memory board) and writes it back, and LMDB runs one write transaction at a time across all
// processes. A crashed writer's transaction never commits (LMDB's robust writer mutex lets the
// next writer in). Claims are records with an owner, an expiry and a fencing token, never locks: a
// process killed while holding claims loses them when they expire.
//
// Layout (named databases, so the board can share its file with the checkpoint store):
//   fk.file          "magic" = "flowkit", "format" = u32 (1): the file is flowkit's. An LMDB
//                    environment without it that holds anything is someone else's: refused.
//   fk.jobs          job id (16 bytes) -> record (jobs/record_codec.hpp)
//   fk.jobs.index    two key spaces of job ids (record_codec.hpp), the order key being rank
//                    (1 byte) + sequence (8 bytes, big-endian):
//                    'r' + order key: the claimable jobs (never claimed, abandoned, or whose claim
//                    expired and was seen to), in listing order;
//                    'x' + time + order key: the claimed jobs, by claim expiry, and the jobs that
//                    back off, by the back-off's end.
//                    Every job is in exactly one of them; claim_next moves the claims that expired
//                    from 'x' to 'r', then takes the first 'r'; a listing merges both by order key.
//   fk.jobs.trash    job id -> trashed record with who, when and why
//   fk.jobs.meta     "kind" = "flowkit.jobboard", "format" = u32 (2), "sequence" = u64 (last post)

#include <flowkit/detail/lmdb_durability.hpp>
#include <flowkit/detail/lmdb_env.hpp>
#include <flowkit/detail/lmdb_file_marker.hpp>
#include <flowkit/detail/lmdb_locate.hpp>
#include <flowkit/jobs/board_rules.hpp>
#include <flowkit/jobs/job.hpp>
#include <flowkit/jobs/jobboard.hpp>
#include <flowkit/jobs/record_codec.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace flowkit {

/// How an fk::lmdb_jobboard opens its file.
struct lmdb_jobboard_options {
  /// How far a change survives (power loss, or a crash of the process).
  flowkit::durability durability = flowkit::durability::power_loss_safe;
  std::size_t map_size = std::size_t{64} << 20;  // initial; doubled when full
  /// The largest the map may grow to.
  std::size_t max_map_size = std::size_t{1} << 40;
  bool single_file = false;  // create a new board as one file (+ "-lock")
  /// Open only a board that exists: a path that does not exist, an empty directory or an empty
  /// environment throws board_not_found instead of becoming a new board (a mistyped path then
  /// fails at once instead of leaving a worker waiting on an empty board).
  bool must_exist = false;
  /// What claims, expiry and wait() read the time from: the system clock, or a manual_clock for
  /// tests (`.clock = clock`), which must then outlive the board. A manual clock is this process's
  /// alone: its advances wake this process's waiters; other processes judge expiry by their own
  /// clocks (docs/jobboard.md, "The board's clock").
  board_clock clock{};
};

namespace detail {

inline constexpr std::uint32_t board_format = 2;
inline constexpr std::string_view board_kind = "flowkit.jobboard";

// The board's refusals for detail::locate_lmdb (the one way to find and check an LMDB store's
// file, shared with the checkpoint store): not_a_board, corrupt_board (a truncated data file),
// board_not_found (must_exist).
using board_refusals = lmdb_refusals<not_a_board, corrupt_board, board_not_found>;

}  // namespace detail

/// The embedded jobboard (see jobboard.hpp): an LMDB file shared by the processes of one machine.
/// Claims are exclusive across processes; every operation is one transaction; any thread may call.
class lmdb_jobboard : public detail::board_front<lmdb_jobboard> {
 public:
  /// Opens the board at path, creating it unless opts.must_exist (fk::board_not_found). Refuses,
  /// writing nothing: something else at the path (fk::not_a_board), a truncated file
  /// (fk::corrupt_board), another board format (fk::incompatible_board_format). The filesystem's
  /// failures are fk::io_error.
  explicit lmdb_jobboard(const std::filesystem::path& path, lmdb_jobboard_options opts = {})
      : path_(path.string()), must_exist_(opts.must_exist), clock_(opts.clock) {
    env_ = detail::open_lmdb_store(path, opts, detail::board_refusals{path_});
    open_databases();
    (void)env_->notifier();  // a board: now its notify file may be created
    watch_.start(clock_, this, [](void* board) { static_cast<lmdb_jobboard*>(board)->wake_waiters(); });
  }

  /// The path the board was opened at.
  const std::string& path() const noexcept { return path_; }
  /// The clock the board judges claims and expiry by.
  const board_clock& clock() const noexcept { return clock_; }

  /// Stores a new job's record: the hook post() goes through; call post().
  job_id post_record(detail::job_record r) {
    std::vector<job_event> events;
    env_->write([&](detail::lmdb_txn& t) {
      events.clear();
      const auto seq_bytes = t.get(dbs_.meta, "sequence");
      r.sequence = (seq_bytes && seq_bytes->size() == 8 ? detail::get_le(*seq_bytes, 0, 8) : 0) + 1;
      std::string seq;
      detail::put_le(seq, r.sequence, 8);
      t.put(dbs_.meta, "sequence", seq);
      put_record(t, r, MDB_NOOVERWRITE);
      index(t, r);
      events.push_back(detail::event(job_event_kind::posted, r));
    });
    env_->notifier().notify();
    listeners_.fire(events);
    return r.id;
  }

  /// Higher priority first, then oldest first. A corrupt record is skipped and reported to the
  /// listeners (job_event_kind::corrupt); the others are still listed.
  std::vector<job> jobs(job_filter filter = all_jobs) const {
    std::vector<job_event> problems;
    std::vector<job> out = env_->read([&](const detail::lmdb_txn& t) {
      std::vector<job> js;
      const job_time now = clock_.now();
      // Every job is claimable ('r', in job order) or claimed ('x', by expiry): both key spaces,
      // sorted by the order key that ends every index key.
      std::vector<std::pair<std::string_view, std::string_view>> order;  // order key, job id
      {
        detail::lmdb_cursor cur{t, dbs_.index};
        for (const std::string_view prefix : {ready_prefix, expiry_prefix})
          for (auto kv = cur.seek(prefix); kv && kv->first.starts_with(prefix); kv = cur.next())
            if (kv->first.size() >= detail::order_key_size)
              order.emplace_back(kv->first.substr(kv->first.size() - detail::order_key_size), kv->second);
      }
      std::sort(order.begin(), order.end());
      for (const auto& [key, id_bytes] : order) {
        const auto id = detail::id_from_key(id_bytes);
        if (!id) continue;
        try {
          const auto bytes = t.get(dbs_.jobs, detail::id_key(*id));
          if (!bytes) throw corrupt_job(id->str(), "listed in the index, missing from the jobs");
          if (filter == only_unclaimed && !detail::view_record(*id, *bytes).claimable_at(now)) continue;
          js.push_back(detail::job_access::make_job(detail::decode_record(*id, *bytes), now));
        } catch (const corrupt_job& e) {
          problems.push_back(job_event{job_event_kind::corrupt, *id, {}, 0, e.what()});
        }
      }
      return js;
    });
    listeners_.fire(problems);
    return out;
  }

  /// Every record that does not decode, as errors (for tools; listings already skip them).
  std::vector<corrupt_job> check() const {
    return env_->read([&](const detail::lmdb_txn& t) {
      std::vector<corrupt_job> bad;
      detail::lmdb_cursor cur{t, dbs_.jobs};
      for (auto kv = cur.first(); kv; kv = cur.next()) {
        const auto id = detail::id_from_key(kv->first);
        if (!id) {
          bad.emplace_back("(key of " + std::to_string(kv->first.size()) + " bytes)", "not a job id");
          continue;
        }
        try {
          (void)detail::decode_record(*id, kv->second);
        } catch (const corrupt_job& e) {
          bad.push_back(e);
        }
      }
      return bad;
    });
  }

  /// The number of jobs on the board (the trash not counted).
  std::size_t size() const {
    return env_->read([&](const detail::lmdb_txn& t) { return t.entries(dbs_.jobs); });
  }

  /// The job with this id, or nullopt if it is not on the board.
  std::optional<job> find(const job_id& id) const {
    return env_->read([&](const detail::lmdb_txn& t) -> std::optional<job> {
      const auto bytes = t.get(dbs_.jobs, detail::id_key(id));
      if (!bytes) return std::nullopt;
      return detail::job_access::make_job(detail::decode_record(id, *bytes), clock_.now());
    });
  }

  /// The job with this id; throws fk::job_not_found if it is not on the board.
  job get(const job_id& id) const {
    if (auto j = find(id)) return std::move(*j);
    throw job_not_found(id.str());
  }

  /// The trash, oldest first.
  std::vector<trashed_job> trashed() const {
    std::vector<trashed_job> out = env_->read([&](const detail::lmdb_txn& t) {
      std::vector<trashed_job> ts;
      detail::lmdb_cursor cur{t, dbs_.trash};
      for (auto kv = cur.first(); kv; kv = cur.next()) {
        const auto id = detail::id_from_key(kv->first);
        if (!id) continue;
        try {
          ts.push_back(detail::decode_trash_entry(*id, kv->second));
        } catch (const corrupt_job&) {
          // A damaged trash entry is skipped: the trash is for inspection only.
        }
      }
      return ts;
    });
    std::sort(out.begin(), out.end(),
              [](const trashed_job& a, const trashed_job& b) { return a.when < b.when; });
    return out;
  }

  /// True as soon as a claimable job exists, false at the timeout or when stop is requested.
  /// Wakes when any process posts or abandons (shared futex, see detail/lmdb_notify.hpp) and when
  /// the earliest live claim expires or back-off ends; it never polls. Each look reads the front of
  /// the two claim indexes, not every job. The timeout is real (steady) time, whatever the board's
  /// clock; with a manual clock a claim expires when an advance says so, and the advance wakes
  /// this wait.
  bool wait(std::chrono::nanoseconds timeout, std::stop_token stop = {}) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    detail::shared_notifier& n = env_->notifier();
    std::stop_callback on_stop{stop, [&n] { n.notify(); }};
    for (;;) {
      const std::uint32_t seen = n.sequence();
      const job_time now = clock_.now();
      std::optional<job_time> next_expiry;
      const bool ready = env_->read([&](const detail::lmdb_txn& t) {
        detail::lmdb_cursor cur{t, dbs_.index};
        for (auto kv = cur.seek(ready_prefix); kv && kv->first.starts_with(ready_prefix); kv = cur.next())
          if (claimable(t, kv->second, now)) return true;
        for (auto kv = cur.seek(expiry_prefix); kv && kv->first.starts_with(expiry_prefix); kv = cur.next()) {
          const job_time e = detail::from_ns(detail::expiry_of_index_key(kv->first));
          if (e > now) {
            next_expiry = e;
            return false;
          }
          if (claimable(t, kv->second, now)) return true;
        }
        return false;
      });
      if (ready) return true;
      if (stop.stop_requested()) return false;
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= left.zero()) return false;
      std::chrono::nanoseconds sleep = left;
      if (const auto to_expiry = next_expiry ? clock_.real_time_until(*next_expiry) : std::nullopt)
        if (*to_expiry < left) sleep = *to_expiry + std::chrono::milliseconds{1};
      n.wait(seen, std::max(sleep, std::chrono::nanoseconds{1}));
    }
  }

  /// Throws claim_lost / not_owner unless c is the job's live claim (as of now).
  void verify(const flowkit::claim& c) const {
    env_->read([&](const detail::lmdb_txn& t) { verify(c, t); });
  }
  /// The same check inside a caller's transaction on this board's environment: the fencing check
  /// a checkpoint write makes in its own transaction.
  void verify(const flowkit::claim& c, const detail::lmdb_txn& t) const {
    const auto bytes = t.get(dbs_.jobs, detail::id_key(c.job()));
    if (!bytes) detail::throw_gone(c);
    detail::check_claim(detail::decode_record(c.job(), *bytes), c, clock_.now());
  }

  /// Forces commits to disk (the point of durability::process_crash_safe's group commit).
  void sync() { env_->sync(); }
  /// Clears reader slots left by dead processes; returns how many were cleared.
  int reader_check() { return env_->reader_check(); }
  /// The environment, shared with other stores on the same file.
  const std::shared_ptr<detail::lmdb_env>& environment() const noexcept { return env_; }

 private:
  friend class detail::board_front<lmdb_jobboard>;

  // The write section detail::board_front runs the claim rules in: one write transaction. A
  // record is decoded for the call (load), then written back (save) or removed.
  struct section {
    lmdb_jobboard& b;
    detail::lmdb_txn& t;

    std::optional<detail::job_record> load(const job_id& id) {
      const auto bytes = t.get(b.dbs_.jobs, detail::id_key(id));
      if (!bytes) return std::nullopt;
      return detail::decode_record(id, *bytes);
    }
    void unindex(const detail::job_record& r) { b.unindex(t, r); }
    void save(const detail::job_record& r) {
      b.put_record(t, r);
      b.index(t, r);
    }
    void remove(const detail::job_record& r) { b.remove(t, r); }
    void trash(const detail::job_record& r, job_time now, std::string_view by, std::string_view reason) {
      std::string entry;
      detail::encode_trash_entry(r, now, by, reason, buffer(), entry);
      t.put(b.dbs_.trash, detail::id_key(r.id), entry);
      b.remove(t, r);
    }
    // Every entry's id (damaged keys included in the count, not in the ids), then the database
    // emptied in place (mdb_drop with del = 0 keeps it open).
    std::vector<job_id> purge_trash() {
      std::vector<job_id> ids;
      {
        detail::lmdb_cursor cur{t, b.dbs_.trash};
        for (auto kv = cur.first(); kv; kv = cur.next())
          if (const auto id = detail::id_from_key(kv->first)) ids.push_back(*id);
      }
      detail::lmdb_check(::mdb_drop(t.handle(), b.dbs_.trash, 0), "mdb_drop", t.path());
      return ids;
    }
    void release_expired(job_time now) { b.release_expired(t, now); }
    // The first job of 'r' that is claimable at now. Corrupt records are skipped (and reported
    // in events); a claim found live, or a back-off not over, in 'r' (the clock stepped back past
    // its time) goes back to 'x'.
    std::optional<detail::job_record> first_claimable(job_time now, std::vector<job_event>& events) {
      std::optional<detail::job_record> pick;
      std::vector<detail::job_record> stale;  // in 'r', yet claimed: put back in 'x'
      {
        detail::lmdb_cursor cur{t, b.dbs_.index};
        for (auto kv = cur.seek(ready_prefix); kv && kv->first.starts_with(ready_prefix) && !pick;
             kv = cur.next()) {
          const auto id = detail::id_from_key(kv->second);
          if (!id) continue;
          try {
            const auto bytes = t.get(b.dbs_.jobs, detail::id_key(*id));
            if (!bytes)
              throw corrupt_job(id->str(), "listed as claimable in the index, missing from the jobs");
            detail::job_record r = detail::decode_record(*id, *bytes);
            if (!r.claimable_at(now))
              stale.push_back(std::move(r));  // the clock stepped back past its expiry
            else
              pick = std::move(r);
          } catch (const corrupt_job& e) {
            events.push_back(job_event{job_event_kind::corrupt, *id, {}, 0, e.what()});
          }
        }
      }
      for (const detail::job_record& r : stale) {
        b.unindex(t, r);
        b.index(t, r);
      }
      return pick;
    }
  };

  template <class F>
  auto write(F&& f) {
    return env_->write([&](detail::lmdb_txn& t) {
      section w{*this, t};
      return f(w);
    });
  }

  // After abandon, or when the manual clock moves: every waiter on the board's file, in every
  // process, looks again (the futex is shared; waiters in other processes, which do not read this
  // process's manual clock, find nothing new and sleep on).
  void wake_waiters() { env_->notifier().notify(); }

  struct databases {
    MDB_dbi jobs{}, index{}, trash{}, meta{};
  };
  static constexpr std::string_view ready_prefix{&detail::index_ready, 1};
  static constexpr std::string_view expiry_prefix{&detail::index_expiry, 1};

  static std::string& buffer() {
    thread_local std::string buf;  // one record buffer per thread, reused by every encode
    return buf;
  }

  void put_record(detail::lmdb_txn& t, const detail::job_record& r, unsigned flags = 0) {
    std::string& buf = buffer();
    detail::encode_record(r, buf);
    t.put(dbs_.jobs, detail::id_key(r.id), buf, flags);
  }

  // The claim index. A job with neither an owner nor a back-off is in 'r'; a claimed one is in
  // 'x' under its expiry, a backing-off one under its back-off's end (index_time()), until
  // claim_next finds that time passed and moves it to 'r' (a claim's record keeps the old owner,
  // so that the next claim can report whom it displaced and record the expired attempt). unindex
  // removes a job from wherever its record says it may be, so every change of a claim is unindex,
  // change, index.
  void index(detail::lmdb_txn& t, const detail::job_record& r) {
    if (const auto when = r.index_time())
      t.put(dbs_.index, detail::expiry_index_key(detail::to_ns(*when), r.priority, r.sequence),
            detail::id_key(r.id));
    else
      t.put(dbs_.index, detail::index_key(detail::index_ready, r.priority, r.sequence), detail::id_key(r.id));
  }
  void unindex(detail::lmdb_txn& t, const detail::job_record& r) {
    t.del(dbs_.index, detail::index_key(detail::index_ready, r.priority, r.sequence));
    if (const auto when = r.index_time())
      t.del(dbs_.index, detail::expiry_index_key(detail::to_ns(*when), r.priority, r.sequence));
  }
  void remove(detail::lmdb_txn& t, const detail::job_record& r) {
    unindex(t, r);
    t.del(dbs_.jobs, detail::id_key(r.id));
  }

  // Moves the claims whose expiry has passed, and the back-offs that ended, from 'x' to 'r': each
  // once, so the cost is paid by the expiries, not by every claim_next.
  void release_expired(detail::lmdb_txn& t, job_time now) {
    std::vector<std::pair<std::string, std::string>> expired;  // 'x' key, job id
    {
      detail::lmdb_cursor cur{t, dbs_.index};
      for (auto kv = cur.seek(expiry_prefix); kv && kv->first.starts_with(expiry_prefix); kv = cur.next()) {
        if (detail::from_ns(detail::expiry_of_index_key(kv->first)) > now) break;
        expired.emplace_back(kv->first, kv->second);
      }
    }
    for (const auto& [key, id] : expired) {
      t.del(dbs_.index, key);
      if (key.size() == detail::expiry_index_key_size) {
        std::string ready{detail::index_ready};
        ready.append(key, key.size() - detail::order_key_size, detail::order_key_size);
        t.put(dbs_.index, ready, id);
      }
    }
  }

  // A job whose record is sound and claimable at now (for wait()).
  bool claimable(const detail::lmdb_txn& t, std::string_view id_bytes, job_time now) const {
    const auto id = detail::id_from_key(id_bytes);
    if (!id) return false;
    const auto bytes = t.get(dbs_.jobs, id_bytes);
    if (!bytes) return false;
    try {
      return detail::view_record(*id, *bytes).claimable_at(now);
    } catch (const corrupt_job&) {
      return false;  // not claimable; listings report it
    }
  }

  // Opens the board's databases, creating them on a new board, and checks the markers, in one
  // write transaction that writes nothing unless the board is new (and aborts on a refusal, so a
  // refused environment is left as it was):
  // - an environment with nothing in it becomes a flowkit file (fk.file) holding a board;
  // - a flowkit file (fk.file) with a board (fk.jobs.meta) is opened if its kind and format are
  //   this flowkit's; one without a board gets one (the checkpoint store may have made the file);
  // - anything else is someone else's environment, whatever its databases are called.
  void open_databases() {
    dbs_ = env_->write([&](detail::lmdb_txn& t) {
      databases d;
      const detail::file_contents file = detail::read_file_contents(t);
      if (!file.empty && !file.marked) throw not_a_board(path_, file.problem);
      const bool empty = file.empty, has_board = file.has("fk.jobs.meta");
      if (has_board) {
        d.meta = *t.open_dbi("fk.jobs.meta", 0);
        const auto kind = t.get(d.meta, "kind");
        const auto format = t.get(d.meta, "format");
        if (!kind || *kind != detail::board_kind || !format || format->size() != 4)
          throw not_a_board(path_, "its fk.jobs.meta does not describe a jobboard");
        const auto found = static_cast<std::uint32_t>(detail::get_le(*format, 0, 4));
        if (found != detail::board_format)
          throw incompatible_board_format(path_, found, detail::board_format);
      }
      if (!has_board && must_exist_)
        throw board_not_found(path_,
                              empty ? "an empty LMDB environment" : "a flowkit file without a jobboard");
      const unsigned create = has_board ? 0u : unsigned{MDB_CREATE};
      auto open = [&](const char* name) {
        const auto dbi = t.open_dbi(name, create);
        if (!dbi) throw not_a_board(path_, std::string{"database "} + name + " is missing");
        return *dbi;
      };
      if (empty) detail::write_file_marker(t);
      d.jobs = open("fk.jobs");
      d.index = open("fk.jobs.index");
      d.trash = open("fk.jobs.trash");
      if (!has_board) {
        d.meta = open("fk.jobs.meta");
        t.put(d.meta, "kind", detail::board_kind);
        std::string f;
        detail::put_le(f, detail::board_format, 4);
        t.put(d.meta, "format", f);
      }
      return d;
    });
  }

  std::string path_;
  bool must_exist_ = false;
  std::shared_ptr<detail::lmdb_env> env_;
  databases dbs_;
  board_clock clock_;
  detail::clock_watch watch_;  // last: gone before what a wake touches
};

static_assert(jobboard<lmdb_jobboard>);

}  // namespace flowkit
