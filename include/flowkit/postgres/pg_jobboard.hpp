#pragma once
// fk::pg_jobboard: the jobboard on PostgreSQL, for conductors on many machines that share nothing
// but a connection string.
//
//   fk::pg_jobboard board{"postgresql://flowkit@db.example/work"};
//
// The claim rules are the other boards' (detail::board_front); PostgreSQL supplies the exclusion:
// - every change is one transaction that locks the job's row (SELECT ... FOR UPDATE), applies the
//   rules and writes it back; claim_next takes the first claimable job in priority-then-age order
//   with FOR UPDATE SKIP LOCKED, so that claimers racing for work never wait on each other;
// - a change costs two round trips (detail::pg_batched_transaction): BEGIN with the locking
//   SELECT, which also reads the server's now(); the writes with COMMIT. Reads are one statement
//   each, outside any explicit transaction;
// - claims are judged by the server's clock (now(), fixed within a transaction), so the clocks
//   of the machines never matter; only a test may swap in a manual_clock (options.test_clock);
// - the fencing token is a column; verify(claim, txn) reads it in the checkpoint's own
//   transaction (pg_backend::transaction) under a share lock, so that no new claim can commit
//   between the check and the checkpoint's commit;
// - wait() sleeps in LISTEN on the board's channel; posts, abandons and revokes NOTIFY it in
//   their own transactions. No polling: a waiter wakes for a notification, the earliest claim
//   expiry or back-off end (by the server's clock), its stop token, or its timeout.
// Connections drop: see detail/pg_connection.hpp for what is retried (docs/deployment.md).

#include <flowkit/jobs/board_rules.hpp>
#include <flowkit/jobs/clock.hpp>
#include <flowkit/jobs/errors.hpp>
#include <flowkit/jobs/job.hpp>
#include <flowkit/jobs/jobboard.hpp>
#include <flowkit/jobs/record_codec.hpp>
#include <flowkit/postgres/detail/pg_connection.hpp>
#include <flowkit/postgres/detail/pg_schema.hpp>
#include <flowkit/postgres/errors.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowkit {

struct pg_jobboard_options {
  std::string schema = "flowkit";  // see pg_options
  std::chrono::milliseconds reconnect_timeout{30'000};
  bool must_exist = false;  // see pg_options
  // For tests only: claims and expiry read this clock instead of the server's, so that a test of
  // expiry moves it instead of waiting. It must outlive the board, and is this process's alone.
  manual_clock* test_clock = nullptr;
  /// false: claims, extends, abandons, consumes, trashes and revokes commit without waiting for
  /// the server's WAL flush (SET LOCAL synchronous_commit = off in their transactions). Faster
  /// where the flush is slow; a server crash may then lose the last of them that were reported
  /// done (a claim is made again, a consumed job comes back and runs again), never corrupt the
  /// board, never let two claims hold one job. Posts always wait for the flush, as does a fenced
  /// checkpoint, whose flush makes the claim it checked durable too. true: the server's setting.
  bool synchronous_commit = true;
};

class pg_jobboard : public detail::board_front<pg_jobboard> {
 public:
  explicit pg_jobboard(const std::string& url, pg_jobboard_options opts = {})
      : schema_((detail::check_schema_name(opts.schema), opts.schema)),
        pool_(std::make_shared<detail::pg_pool>(url, opts.reconnect_timeout)),
        manual_(opts.test_clock),
        clock_(manual_ ? board_clock{*manual_} : board_clock{}),
        channel_("fk_jobs_" + schema_),
        begin_(opts.synchronous_commit ? "BEGIN" : "BEGIN; SET LOCAL synchronous_commit = off") {
    if (!detail::ensure_pg_schema(*pool_, schema_, !opts.must_exist))
      throw board_not_found(pool_->shown_url(), "no flowkit schema '" + schema_ + "' in that database");
    watch_.start(clock_, this, [](void* board) { static_cast<pg_jobboard*>(board)->notify_waiters(); });
  }
  pg_jobboard(const pg_jobboard&) = delete;
  pg_jobboard& operator=(const pg_jobboard&) = delete;

  // This process's clock, for scheduling (a conductor's heartbeats); claims are judged by the
  // server's (or the test clock).
  const board_clock& clock() const noexcept { return clock_; }
  const std::string& url() const noexcept { return pool_->shown_url(); }
  const std::string& schema() const noexcept { return schema_; }

  job_id post_record(detail::job_record r) {
    std::vector<job_event> events;
    pool_->run("post a job", [&](pqxx::connection& c) {
      events.clear();
      detail::pg_batched_transaction t{c};  // posts always wait for the flush
      const pqxx::result res = t.exec("SELECT nextval('" + schema_ + ".fk_job_seq'), " + now_sql());
      r.sequence = res[0][0].as<std::uint64_t>();
      if (!manual_) r.created = detail::from_ns(res[0][1].as<std::int64_t>());
      std::string& buf = buffer();
      detail::encode_record(r, buf);
      t.later("INSERT INTO " + schema_ + ".fk_jobs (id, rank, seq, ready_at, token, rec) VALUES (" +
              detail::bytea_literal(detail::id_key(r.id)) + ", " + std::to_string(rank_of(r)) + ", " +
              std::to_string(r.sequence) + ", " + std::to_string(ready_at(r)) + ", " +
              std::to_string(static_cast<std::int64_t>(r.token)) + ", " + detail::bytea_literal(buf) + ")");
      t.later(notify_sql());
      t.commit();
      events.push_back(detail::event(job_event_kind::posted, r));
    });
    listeners_.fire(events);
    return r.id;
  }

  // Higher priority first, then oldest first. A corrupt record is skipped and reported to the
  // listeners (job_event_kind::corrupt).
  std::vector<job> jobs(job_filter filter = all_jobs) const {
    std::vector<job_event> problems;
    std::vector<job> out = pool_->run(
        "list jobs",
        [&](pqxx::connection& c) {
          problems.clear();
          pqxx::nontransaction t{c};  // one statement: one snapshot
          const pqxx::result res =
              t.exec("SELECT id, rec, " + now_sql() + " FROM " + schema_ + ".fk_jobs ORDER BY rank, seq");
          std::vector<job> js;
          js.reserve(res.size());
          for (const pqxx::row& row : res) {
            const auto id = detail::id_from_key(detail::bytes_of(row[0]));
            if (!id) continue;
            const job_time now = detail::from_ns(row[2].as<std::int64_t>());
            try {
              detail::job_record r = detail::decode_record(*id, detail::bytes_of(row[1]));
              if (filter == only_unclaimed && !r.claimable_at(now)) continue;
              js.push_back(detail::job_access::make_job(std::move(r), now));
            } catch (const corrupt_job& e) {
              problems.push_back(job_event{job_event_kind::corrupt, *id, {}, 0, e.what()});
            }
          }
          return js;
        },
        detail::pg_retry::always);
    listeners_.fire(problems);
    return out;
  }

  std::optional<job> find(const job_id& id) const {
    return pool_->run(
        "find a job",
        [&](pqxx::connection& c) -> std::optional<job> {
          pqxx::nontransaction t{c};
          const pqxx::result res =
              t.exec_params("SELECT rec, " + now_sql() + " FROM " + schema_ + ".fk_jobs WHERE id = $1",
                            detail::bytea(detail::id_key(id)));
          if (res.empty()) return std::nullopt;
          return detail::job_access::make_job(detail::decode_record(id, detail::bytes_of(res[0][0])),
                                              detail::from_ns(res[0][1].as<std::int64_t>()));
        },
        detail::pg_retry::always);
  }

  job get(const job_id& id) const {
    if (auto j = find(id)) return std::move(*j);
    throw job_not_found(id.str());
  }

  // The trash, oldest first.
  std::vector<trashed_job> trashed() const {
    return pool_->run(
        "list the trash",
        [&](pqxx::connection& c) {
          pqxx::nontransaction t{c};
          const pqxx::result res = t.exec("SELECT id, entry FROM " + schema_ + ".fk_trash ORDER BY at, id");
          std::vector<trashed_job> ts;
          for (const pqxx::row& row : res) {
            const auto id = detail::id_from_key(detail::bytes_of(row[0]));
            if (!id) continue;
            try {
              ts.push_back(detail::decode_trash_entry(*id, detail::bytes_of(row[1])));
            } catch (const corrupt_job&) {
              // A damaged trash entry is skipped: the trash is for inspection only.
            }
          }
          return ts;
        },
        detail::pg_retry::always);
  }

  // True as soon as a claimable job exists, false at the timeout or when stop is requested. Sleeps
  // in LISTEN (see the top); the timeout is real (steady) time. A dropped connection is made
  // again and the wait goes on; a server that stays away longer than reconnect_timeout ends the
  // wait with false, as a timeout would, so that the caller's next operation reports it.
  bool wait(std::chrono::nanoseconds timeout, std::stop_token stop = {}) {
    try {
      return wait_on_server(timeout, std::move(stop));
    } catch (const pg_connection_lost&) {
      return false;
    } catch (const pg_unreachable&) {
      return false;
    }
  }

 private:
  bool wait_on_server(std::chrono::nanoseconds timeout, std::stop_token stop) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::stop_callback on_stop{stop, [this] { notify_waiters(); }};
    return pool_->run(
        "wait for a job",
        [&](pqxx::connection& c) {
          receiver rx{c, channel_};  // LISTEN before looking: a post after the look wakes the sleep
          for (;;) {
            std::int64_t now_ns = 0;
            std::optional<std::int64_t> next;
            {
              pqxx::nontransaction t{c};  // one statement, no transaction kept open while asleep
              const pqxx::row row =
                  t.exec1("SELECT n, EXISTS (SELECT 1 FROM " + schema_ +
                          ".fk_jobs WHERE ready_at <= n), (SELECT min(ready_at) FROM " + schema_ +
                          ".fk_jobs WHERE ready_at > n) FROM (SELECT " + now_sql() + " AS n) x");
              if (row[1].as<bool>()) return true;
              now_ns = row[0].as<std::int64_t>();
              if (!row[2].is_null()) next = row[2].as<std::int64_t>();
            }
            if (stop.stop_requested()) return false;
            const auto left = deadline - std::chrono::steady_clock::now();
            if (left <= left.zero()) return false;
            std::chrono::nanoseconds sleep = left;
            // By the server's clock the earliest expiry is this far; a manual clock's advance
            // notifies instead.
            if (next && !manual_) {
              const auto to_expiry = std::chrono::nanoseconds{*next - now_ns} + std::chrono::milliseconds{1};
              if (to_expiry < sleep) sleep = to_expiry;
            }
            const auto us = std::max<std::int64_t>(
                1, std::chrono::duration_cast<std::chrono::microseconds>(sleep).count());
            ++sleepers_;
            try {
              c.await_notification(static_cast<long>(us / 1'000'000), static_cast<long>(us % 1'000'000));
            } catch (...) {
              --sleepers_;
              throw;
            }
            --sleepers_;
          }
        },
        detail::pg_retry::always);
  }

 public:
  // Throws claim_lost / not_owner unless c is the job's live claim (as of now, the server's).
  void verify(const flowkit::claim& c) const {
    pool_->run(
        "verify a claim",
        [&](pqxx::connection& conn) {
          pqxx::nontransaction t{conn};  // one statement
          check(c, t, false);
        },
        detail::pg_retry::always);
  }
  // The same check inside a checkpoint's transaction (pg_backend::transaction, on the same
  // database): the row is share-locked until that transaction ends, so the claim cannot change
  // hands before the checkpoint commits.
  template <class Txn>
    requires requires(Txn& t) {
      { t.work() } -> std::convertible_to<pqxx::transaction_base&>;
    }
  void verify(const flowkit::claim& c, Txn& txn) const { check(c, txn.work(), true); }

  // Threads asleep in wait() in this process (for tests and tools).
  std::size_t waiting() const noexcept { return sleepers_.load(); }

  // Connections idle in this board's pool (for tests).
  std::size_t idle_connections() const { return pool_->idle(); }

 private:
  friend class detail::board_front<pg_jobboard>;

  // The write section detail::board_front runs the claim rules in: one transaction, the job's
  // row locked by load() (or first_claimable()) until it commits. The statements that read go out
  // at once (the first with BEGIN); the writes wait for COMMIT and go with it.
  struct section {
    pg_jobboard& b;
    detail::pg_batched_transaction& t;
    std::optional<job_time> now_;

    job_time now() {
      if (!now_) now_ = detail::from_ns(t.exec("SELECT " + b.now_sql())[0][0].as<std::int64_t>());
      return *now_;
    }
    std::optional<detail::job_record> load(const job_id& id) {
      const pqxx::result res =
          t.exec("SELECT rec, " + b.now_sql() + " FROM " + b.schema_ +
                 ".fk_jobs WHERE id = " + detail::bytea_literal(detail::id_key(id)) + " FOR UPDATE");
      if (res.empty()) return std::nullopt;
      if (!now_) now_ = detail::from_ns(res[0][1].as<std::int64_t>());
      return detail::decode_record(id, detail::bytes_of(res[0][0]));
    }
    void unindex(const detail::job_record&) {}  // ready_at is written with the record
    void save(const detail::job_record& r) {
      std::string& buf = buffer();
      detail::encode_record(r, buf);
      t.later("UPDATE " + b.schema_ + ".fk_jobs SET ready_at = " + std::to_string(ready_at(r)) +
              ", token = " + std::to_string(static_cast<std::int64_t>(r.token)) + ", rec = " +
              detail::bytea_literal(buf) + " WHERE id = " + detail::bytea_literal(detail::id_key(r.id)));
      // Nobody's claim: claimable now or when a back-off ends. Waiters look again at the commit.
      if (r.owner.empty()) t.later(b.notify_sql());
    }
    void remove(const detail::job_record& r) {
      t.later("DELETE FROM " + b.schema_ +
              ".fk_jobs WHERE id = " + detail::bytea_literal(detail::id_key(r.id)));
    }
    void trash(const detail::job_record& r, job_time now, std::string_view by, std::string_view reason) {
      std::string entry;
      detail::encode_trash_entry(r, now, by, reason, buffer(), entry);
      t.later("INSERT INTO " + b.schema_ + ".fk_trash (id, at, entry) VALUES (" +
              detail::bytea_literal(detail::id_key(r.id)) + ", " + std::to_string(detail::to_ns(now)) + ", " +
              detail::bytea_literal(entry) +
              ") ON CONFLICT (id) DO UPDATE SET at = excluded.at, entry = excluded.entry");
      remove(r);
    }
    std::vector<job_id> purge_trash() {
      std::vector<job_id> ids;
      for (const pqxx::row& row : t.exec("DELETE FROM " + b.schema_ + ".fk_trash RETURNING id"))
        if (const auto id = detail::id_from_key(detail::bytes_of(row[0]))) ids.push_back(*id);
      return ids;
    }
    // The first claimable job in job order that no other transaction holds (SKIP LOCKED): racing
    // claimers take different jobs without waiting. It is judged by the server's now(), read in
    // the same statement (claimable is ready_at <= now: expired claims need no release).
    // Corrupt records are passed by and reported.
    std::optional<detail::job_record> first_claimable(std::vector<job_event>& events) {
      for (std::int64_t skip = 0;; ++skip) {
        const pqxx::result res =
            t.exec("SELECT id, rec, " + b.now_sql() + " FROM " + b.schema_ +
                   ".fk_jobs WHERE ready_at <= " + b.now_sql() + " ORDER BY rank, seq LIMIT 1 OFFSET " +
                   std::to_string(skip) + " FOR UPDATE SKIP LOCKED");
        if (res.empty()) return std::nullopt;
        const job_time now = detail::from_ns(res[0][2].as<std::int64_t>());
        now_ = now;
        const auto id = detail::id_from_key(detail::bytes_of(res[0][0]));
        if (!id) continue;
        try {
          detail::job_record r = detail::decode_record(*id, detail::bytes_of(res[0][1]));
          if (r.claimable_at(now)) return r;
        } catch (const corrupt_job& e) {
          events.push_back(job_event{job_event_kind::corrupt, *id, {}, 0, e.what()});
        }
      }
    }
  };

  template <class F>
  auto write(F&& f) {
    return pool_->run("change a job", [&](pqxx::connection& c) {
      detail::pg_batched_transaction t{c, begin_};
      section w{*this, t, std::nullopt};
      if constexpr (std::is_void_v<decltype(f(w))>) {
        f(w);
        t.commit();
      } else {
        auto out = f(w);
        t.commit();
        return out;
      }
    });
  }

  // board_front calls this after abandon and revoke: their transactions notified already.
  void wake_waiters() noexcept {}

  // Wakes every waiter on the board, in every process (a manual clock's move, a stop request).
  // Best effort: a waiter that misses it still wakes at its timeout.
  void notify_waiters() noexcept {
    try {
      pool_->run("wake the board's waiters", [&](pqxx::connection& c) {
        pqxx::nontransaction n{c};
        n.exec_params("SELECT pg_notify($1, '')", channel_);
      });
    } catch (...) {
    }
  }

  void check(const flowkit::claim& c, pqxx::transaction_base& t, bool lock) const {
    const pqxx::result res = t.exec_params("SELECT rec, " + now_sql() + " FROM " + schema_ +
                                               ".fk_jobs WHERE id = $1" + (lock ? " FOR SHARE" : ""),
                                           detail::bytea(detail::id_key(c.job())));
    if (res.empty()) detail::throw_gone(c);
    detail::check_claim(detail::decode_record(c.job(), detail::bytes_of(res[0][0])), c,
                        detail::from_ns(res[0][1].as<std::int64_t>()));
  }

  // Wakes the board's waiters when the transaction it is part of commits.
  std::string notify_sql() const { return "SELECT pg_notify('" + channel_ + "', '')"; }

  // The time a statement judges by: the server's, or the test clock's as a literal.
  std::string now_sql() const {
    if (manual_) return "(" + std::to_string(detail::to_ns(manual_->now())) + "::bigint)";
    return std::string{detail::server_now_ns};
  }

  static std::int64_t rank_of(const detail::job_record& r) noexcept {
    return 4 - static_cast<std::int64_t>(r.priority);
  }
  // When the job is claimable from: its claim's expiry or back-off's end, or always.
  static std::int64_t ready_at(const detail::job_record& r) noexcept {
    const auto t = r.index_time();
    return t ? detail::to_ns(*t) : std::numeric_limits<std::int64_t>::min();
  }
  static std::string& buffer() {
    thread_local std::string buf;  // one record buffer per thread, reused by every encode
    return buf;
  }

  // LISTEN on a channel for as long as it lives; counts what arrives.
  struct receiver : pqxx::notification_receiver {
    using pqxx::notification_receiver::notification_receiver;
    void operator()(const std::string&, int) override { ++seen; }
    int seen = 0;
  };

  std::string schema_;
  std::shared_ptr<detail::pg_pool> pool_;
  manual_clock* manual_ = nullptr;
  board_clock clock_;
  std::string channel_;  // fk_jobs_<schema>: a checked name, safe to inline
  std::string begin_;    // how a change's transaction begins (see synchronous_commit)
  std::atomic<std::size_t> sleepers_{0};
  detail::clock_watch watch_;  // last: gone before what a wake touches
};

static_assert(jobboard<pg_jobboard>);

}  // namespace flowkit
