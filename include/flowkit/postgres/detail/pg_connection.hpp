#pragma once
// Connections to PostgreSQL for the jobboard and the checkpoint store: a small pool (one
// connection per thread at work, made when none is idle), and the one place that decides what
// happens when a connection drops.
//
// Every operation is one transaction run by pg_pool::run(doing, f). When the connection drops
// before COMMIT is sent, the server rolls the transaction back, so nothing of it happened: run()
// makes a new connection (waiting up to reconnect_timeout for the server to come back) and runs
// f again from the start. When it drops during COMMIT (libpqxx's in_doubt_error) nobody knows
// whether it happened: that is pg_outcome_unknown, not retried (a claim_next retried could take
// a second job, a post could post twice) unless the operation is idempotent (pg_retry::always):
// reads, a checkpoint commit (the same records written again, its claim checked again), a
// run's creation (ON CONFLICT: created once, or found).

#include <flowkit/postgres/errors.hpp>

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace flowkit {

// What both PostgreSQL stores take besides the connection string.
struct pg_options {
  // The schema their tables live in (created on first use): lower-case letters, digits and '_',
  // at most 48 characters. A board and a checkpoint store whose writes are fenced by its claims
  // must be in one database (any schema); one schema may hold both.
  std::string schema = "flowkit";
  // How long an operation caught by a dropped connection waits for the server to come back
  // before it gives up (pg_connection_lost). A server that is not there when the store is
  // opened is pg_unreachable at once.
  std::chrono::milliseconds reconnect_timeout{30'000};
  // Open only a schema that exists (store_not_found otherwise) instead of creating it: for tools,
  // which must never create anything.
  bool must_exist = false;
};

namespace detail {

// When pg_pool::run() runs an operation again after its connection dropped.
enum class pg_retry : unsigned char {
  before_commit,  // only when the drop came before COMMIT: the transaction was rolled back
  always,         // also when COMMIT's outcome is unknown: the operation is idempotent
};

// The connection string as errors show it: a URL's password (postgresql://user:secret@host) and a
// key/value string's password=... become ***.
inline std::string redact_url(std::string_view url) {
  std::string s{url};
  if (s.starts_with("postgresql://") || s.starts_with("postgres://")) {
    const std::size_t start = s.find("://") + 3;
    const std::size_t at = s.find('@', start);
    const std::size_t slash = s.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const std::size_t colon = s.find(':', start);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (std::size_t p = s.find("password="); p != std::string::npos; p = s.find("password=", p + 1)) {
    const std::size_t from = p + 9;
    std::size_t to = s.find_first_of(" &", from);
    if (to == std::string::npos) to = s.size();
    s.replace(from, to - from, "***");
  }
  return s;
}

inline void check_schema_name(std::string_view schema) {
  const bool ok = !schema.empty() && schema.size() <= 48 && !(schema[0] >= '0' && schema[0] <= '9') &&
                  std::all_of(schema.begin(), schema.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                  });
  if (!ok)
    throw std::invalid_argument(
        "flowkit: PostgreSQL schema name '" + std::string{schema} +
        "' is not 1-48 lower-case letters, digits and '_' (not starting with a digit)");
}

// A statement failed because the connection is gone (libpq's class 08) or the server is going
// away (57P: admin shutdown, crash shutdown, cannot connect now).
inline bool connection_gone(const pqxx::sql_error& e) {
  const std::string& s = e.sqlstate();
  return s.starts_with("08") || s.starts_with("57P");
}

class pg_pool {
 public:
  pg_pool(std::string url, std::chrono::milliseconds reconnect_timeout)
      : url_(std::move(url)), shown_(redact_url(url_)), reconnect_timeout_(reconnect_timeout) {
    give_back(connect());  // unreachable now is an error now, not a wait
  }
  pg_pool(const pg_pool&) = delete;
  pg_pool& operator=(const pg_pool&) = delete;

  const std::string& url() const noexcept { return url_; }
  const std::string& shown_url() const noexcept { return shown_; }

  // A connection for one operation; back to the pool when the lease ends, unless it broke.
  class lease {
   public:
    lease(pg_pool& p, std::unique_ptr<pqxx::connection> c) : pool_(&p), c_(std::move(c)) {}
    lease(lease&& o) noexcept : pool_(o.pool_), c_(std::move(o.c_)) {}
    lease& operator=(lease&&) = delete;
    ~lease() {
      if (c_ && c_->is_open()) pool_->give_back(std::move(c_));
    }
    pqxx::connection& operator*() const noexcept { return *c_; }
    pqxx::connection* operator->() const noexcept { return c_.get(); }
    void discard() noexcept { c_.reset(); }

   private:
    pg_pool* pool_;
    std::unique_ptr<pqxx::connection> c_;
  };

  lease acquire(std::chrono::steady_clock::time_point deadline) {
    {
      std::lock_guard lk{mu_};
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return lease{*this, std::move(c)};
      }
    }
    auto pause = std::chrono::milliseconds{20};
    for (;;) {
      try {
        return lease{*this, connect()};
      } catch (const pg_unreachable&) {
        // Back-off while the server restarts: the wait of a reconnect, not a synchronisation.
        if (std::chrono::steady_clock::now() + pause >= deadline) throw;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds{500});
      }
    }
  }

  // Runs f(connection&) as described at the top; doing names the operation in errors. f may run
  // more than once, each time on a fresh connection, so it must start from scratch.
  template <class F>
  auto run(std::string_view doing, F&& f, pg_retry retry = pg_retry::before_commit) {
    const auto deadline = std::chrono::steady_clock::now() + reconnect_timeout_;
    for (;;) {
      lease l = acquire(deadline);
      std::string lost;
      try {
        return f(*l);
      } catch (const pqxx::in_doubt_error& e) {
        l.discard();
        drop_idle();
        if (retry != pg_retry::always) throw pg_outcome_unknown(shown_, doing, e.what());
        lost = e.what();
      } catch (const pqxx::broken_connection& e) {
        l.discard();
        drop_idle();
        lost = e.what();
      } catch (const pqxx::sql_error& e) {
        if (!connection_gone(e)) throw pg_query_failed(shown_, doing, e.what(), e.sqlstate());
        l.discard();
        drop_idle();
        lost = e.what();
      } catch (const pqxx::failure& e) {
        throw pg_error(shown_, "flowkit: " + std::string{doing} + " at " + shown_ + ": " + e.what());
      }
      if (std::chrono::steady_clock::now() >= deadline) throw pg_connection_lost(shown_, doing, lost);
    }
  }

  // Connections idle in the pool (for tests).
  std::size_t idle() const {
    std::lock_guard lk{mu_};
    return idle_.size();
  }

 private:
  std::unique_ptr<pqxx::connection> connect() {
    try {
      return std::make_unique<pqxx::connection>(url_);
    } catch (const pqxx::broken_connection& e) {
      throw pg_unreachable(shown_, trim(e.what()));
    } catch (const pqxx::failure& e) {
      throw pg_unreachable(shown_, trim(e.what()));
    }
  }
  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  void give_back(std::unique_ptr<pqxx::connection> c) {
    std::lock_guard lk{mu_};
    idle_.push_back(std::move(c));
  }
  // One connection broke: the others were made to the same server, and are likely gone too.
  void drop_idle() {
    std::lock_guard lk{mu_};
    idle_.clear();
  }

  std::string url_, shown_;
  std::chrono::milliseconds reconnect_timeout_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
};

// Bytes as a bytea parameter (sent in binary), and a bytea field back as bytes.
inline pqxx::binarystring bytea(std::string_view s) { return pqxx::binarystring{s.data(), s.size()}; }
inline std::string bytes_of(const pqxx::field& f) { return pqxx::binarystring{f}.str(); }

// Bytes as a bytea literal in a statement's text: hex digits only, so nothing needs escaping, and
// it reads the same whatever standard_conforming_strings says.
inline std::string bytea_literal(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2 + 20);
  s += "decode('";
  for (const char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    s += digits[b >> 4];
    s += digits[b & 0xf];
  }
  s += "','hex')";
  return s;
}

// One write transaction in as few round trips as its statements allow: BEGIN travels with the
// first statement whose result is read (exec), and the statements whose results are not read
// (later) travel with COMMIT. A claim or a consume is two round trips so. Several statements in
// one message cannot take parameters: values are inlined (integers, bytea_literal, names checked
// by check_schema_name).
//
// It keeps what pg_pool::run relies on: an error or a drop before the COMMIT message rolls the
// transaction back (ROLLBACK when the object goes uncommitted, or the server's when the session
// ends); a drop while the COMMIT message is out is pqxx::in_doubt_error; and a connection found
// broken is never made again under the transaction (libpqxx 6 would, on the next statement, and
// run it outside the transaction): that is pqxx::broken_connection.
class pg_batched_transaction {
 public:
  // begin: the statement(s) that open the transaction ("BEGIN", perhaps with SET LOCAL ...).
  explicit pg_batched_transaction(pqxx::connection& c, std::string begin = "BEGIN")
      : c_(c), begin_(std::move(begin)) {}
  pg_batched_transaction(const pg_batched_transaction&) = delete;
  pg_batched_transaction& operator=(const pg_batched_transaction&) = delete;
  ~pg_batched_transaction() {
    if (!begun_ || ended_) return;
    try {
      if (c_.is_open()) send("ROLLBACK");
    } catch (...) {
      // The session is gone or going: the server rolls the transaction back.
    }
  }

  // Runs one statement in the transaction now, and returns its result.
  pqxx::result exec(const std::string& sql) {
    if (begun_) return send(sql);
    begun_ = true;
    return send(begin_ + "; " + sql);
  }
  // Queues one statement whose result is not read: it is sent with COMMIT.
  void later(std::string_view sql) {
    pending_ += sql;
    pending_ += "; ";
  }
  // Sends what is queued and COMMIT, in one message. Nothing is sent if nothing was.
  void commit() {
    if (!begun_ && pending_.empty()) {
      ended_ = true;
      return;
    }
    std::string sql = begun_ ? std::move(pending_) : begin_ + "; " + pending_;
    begun_ = true;
    sql += "COMMIT";
    try {
      send(sql);
    } catch (const pqxx::broken_connection& e) {
      ended_ = true;
      throw pqxx::in_doubt_error{e.what()};
    } catch (const pqxx::sql_error& e) {
      if (!connection_gone(e)) throw;  // a statement failed: nothing committed, ROLLBACK follows
      ended_ = true;
      throw pqxx::in_doubt_error{e.what()};
    }
    ended_ = true;
  }

 private:
  pqxx::result send(const std::string& sql) {
    if (!c_.is_open()) throw pqxx::broken_connection{"flowkit: the connection broke mid-transaction"};
    pqxx::nontransaction n{c_};
    return n.exec(sql);
  }

  pqxx::connection& c_;
  std::string begin_, pending_;
  bool begun_ = false, ended_ = false;
};

// The server's clock in nanoseconds since the epoch (microsecond resolution): the time claims
// are judged by, the same for every machine. now() is the transaction's start, fixed within it.
inline constexpr std::string_view server_now_ns = "((extract(epoch from now()) * 1000000)::bigint * 1000)";

}  // namespace detail
}  // namespace flowkit
