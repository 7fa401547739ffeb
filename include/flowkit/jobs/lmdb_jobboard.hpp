#pragma once
// fk::lmdb_jobboard: the embedded jobboard. Processes on one machine share one board file.
//
// Mutual exclusion is LMDB's: every change (post, claim, extend, abandon, consume, trash) is one
// write transaction that reads the job, applies detail::apply_claim / check_claim and writes it
// back, and LMDB runs one write transaction at a time across all processes. A crashed writer's
// transaction never commits (LMDB's robust writer mutex lets the next writer in). Claims are
// records with an owner, an expiry and a fencing token, never locks: a process killed while
// holding claims loses them when they expire.
//
// Layout (named databases, so the board can share its file with the checkpoint store):
//   fk.jobs        job id (16 bytes) -> record (jobs/record_codec.hpp)
//   fk.jobs.order  rank (1 byte) + sequence (8 bytes, big-endian) -> job id: the listing order
//   fk.jobs.trash  job id -> trashed record with who, when and why
//   fk.jobs.meta   "kind" = "flowkit.jobboard", "format" = u32, "sequence" = u64 (last post)

#include <flowkit/detail/lmdb_durability.hpp>
#include <flowkit/detail/lmdb_env.hpp>
#include <flowkit/jobs/board_rules.hpp>
#include <flowkit/jobs/job.hpp>
#include <flowkit/jobs/jobboard.hpp>
#include <flowkit/jobs/record_codec.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace flowkit {

struct lmdb_jobboard_options {
  flowkit::durability durability = flowkit::durability::power_loss_safe;
  std::size_t map_size = std::size_t{64} << 20;   // initial; doubled when full
  std::size_t max_map_size = std::size_t{1} << 40;
  bool single_file = false;                       // create a new board as one file (+ "-lock")
};

namespace detail {

inline constexpr std::uint32_t board_format = 1;
inline constexpr std::string_view board_kind = "flowkit.jobboard";

// What a path holds, decided before LMDB touches it, so that a path that is not a board is
// refused without a byte written next to it.
inline lmdb_location locate_board(const std::filesystem::path& path, bool single_file_if_new) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string p = path.string();
  auto is_lmdb_file = [&](const fs::path& f) {
    // An LMDB data file starts with a meta page: 16-byte page header, then the magic.
    std::ifstream in{f, std::ios::binary};
    std::array<char, 24> head{};
    if (!in.read(head.data(), head.size())) return false;
    std::uint32_t magic = 0;
    std::memcpy(&magic, head.data() + 16, sizeof magic);
    return magic == 0xBEEFC0DEu;
  };
  auto touch = [&](const fs::path& f) {
    std::ofstream out{f, std::ios::binary | std::ios::app};
    if (!out) throw std::system_error(errno, std::generic_category(), "flowkit: cannot create " + f.string());
  };
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) {
    if (single_file_if_new) {
      touch(path);
      return {path, false};
    }
    fs::create_directories(path);
    touch(path / "data.mdb");
    return {path / "data.mdb", true};
  }
  if (fs::is_directory(st)) {
    const fs::path data = path / "data.mdb";
    if (fs::exists(data)) {
      if (fs::file_size(data) != 0 && !is_lmdb_file(data)) throw not_a_board(p, "data.mdb is not an LMDB file");
      return {data, true};
    }
    if (!fs::is_empty(path)) throw not_a_board(p, "a directory that holds other files and no data.mdb");
    touch(data);
    return {data, true};
  }
  if (fs::is_regular_file(st)) {
    if (fs::file_size(path) != 0 && !is_lmdb_file(path)) throw not_a_board(p, "not an LMDB file");
    // The data file of a directory board: open it as that board, with its lock file, or two
    // lock files would guard one data file.
    if (path.filename() == "data.mdb" && fs::exists(path.parent_path() / "lock.mdb")) return {path, true};
    return {path, false};
  }
  throw not_a_board(p, "neither a directory nor a regular file");
}

}  // namespace detail

class lmdb_jobboard : public detail::board_front<lmdb_jobboard> {
 public:
  explicit lmdb_jobboard(const std::filesystem::path& path, lmdb_jobboard_options opts = {}) : path_(path.string()) {
    const detail::lmdb_location where = detail::locate_board(path, opts.single_file);
    detail::lmdb_env_options eo;
    eo.map_size = opts.map_size;
    eo.max_map_size = std::max(opts.max_map_size, opts.map_size);
    eo.sync_flags = opts.durability == durability::process_crash_safe ? unsigned{MDB_NOSYNC}
                    : opts.durability == durability::no_meta_sync     ? unsigned{MDB_NOMETASYNC}
                                                                      : 0u;
    try {
      env_ = detail::lmdb_env::open(where, eo);
    } catch (const lmdb_error& e) {
      if (e.code() == MDB_INVALID || e.code() == MDB_VERSION_MISMATCH) throw not_a_board(path_, e.what());
      throw;
    }
    open_databases();
    (void)env_->notifier();  // a board: now its notify file may be created
  }

  const std::string& path() const noexcept { return path_; }

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
      t.put(dbs_.order, detail::order_key_bytes(r.priority, r.sequence), detail::id_key(r.id), MDB_NOOVERWRITE);
      events.push_back(detail::event(job_event_kind::posted, r));
    });
    env_->notifier().notify();
    listeners_.fire(events);
    return r.id;
  }

  // Higher priority first, then oldest first. A corrupt record is skipped and reported to the
  // listeners (job_event_kind::corrupt); the others are still listed.
  std::vector<job> jobs(job_filter filter = all_jobs) const {
    std::vector<job_event> problems;
    std::vector<job> out = env_->read([&](const detail::lmdb_txn& t) {
      std::vector<job> js;
      const job_time now = job_clock::now();
      detail::lmdb_cursor cur{t, dbs_.order};
      for (auto kv = cur.first(); kv; kv = cur.next()) {
        const auto id = detail::id_from_key(kv->second);
        if (!id) continue;
        try {
          const auto bytes = t.get(dbs_.jobs, detail::id_key(*id));
          if (!bytes) throw corrupt_job(id->str(), "listed in the order index, missing from the jobs");
          if (filter == only_unclaimed && detail::view_record(*id, *bytes).claimed_at(now)) continue;
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

  // Every record that does not decode, as errors (for tools; listings already skip them).
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

  std::size_t size() const {
    return env_->read([&](const detail::lmdb_txn& t) { return t.entries(dbs_.jobs); });
  }

  std::optional<job> find(const job_id& id) const {
    return env_->read([&](const detail::lmdb_txn& t) -> std::optional<job> {
      const auto bytes = t.get(dbs_.jobs, detail::id_key(id));
      if (!bytes) return std::nullopt;
      return detail::job_access::make_job(detail::decode_record(id, *bytes), job_clock::now());
    });
  }

  job get(const job_id& id) const {
    if (auto j = find(id)) return std::move(*j);
    throw job_not_found(id.str());
  }

  flowkit::claim claim(const job_id& id, std::string_view owner, job_clock::duration ttl) {
    detail::check_owner_name(owner);
    ttl = detail::check_ttl(ttl);
    std::vector<job_event> events;
    flowkit::claim c = env_->write([&](detail::lmdb_txn& t) {
      events.clear();
      const auto bytes = t.get(dbs_.jobs, detail::id_key(id));
      if (!bytes) throw job_not_found(id.str());
      detail::job_record r = detail::decode_record(id, *bytes);
      claim_into(t, r, owner, ttl, job_clock::now(), events);
      return detail::job_access::make_claim(r);
    });
    listeners_.fire(events);
    return c;
  }

  // Claims the first claimable job in listing order, in one transaction; nullopt if none.
  // Corrupt records are skipped (and reported).
  std::optional<claimed_job> claim_next(std::string_view owner, job_clock::duration ttl) {
    detail::check_owner_name(owner);
    ttl = detail::check_ttl(ttl);
    std::vector<job_event> events;
    auto out = env_->write([&](detail::lmdb_txn& t) -> std::optional<claimed_job> {
      events.clear();
      const job_time now = job_clock::now();
      std::optional<job_id> pick;
      {
        detail::lmdb_cursor cur{t, dbs_.order};
        for (auto kv = cur.first(); kv && !pick; kv = cur.next()) {
          const auto id = detail::id_from_key(kv->second);
          if (!id) continue;
          try {
            const auto bytes = t.get(dbs_.jobs, detail::id_key(*id));
            if (!bytes) throw corrupt_job(id->str(), "listed in the order index, missing from the jobs");
            if (!detail::view_record(*id, *bytes).claimed_at(now)) pick = *id;
          } catch (const corrupt_job& e) {
            events.push_back(job_event{job_event_kind::corrupt, *id, {}, 0, e.what()});
          }
        }
      }
      if (!pick) return std::nullopt;
      detail::job_record r = detail::decode_record(*pick, *t.get(dbs_.jobs, detail::id_key(*pick)));
      claim_into(t, r, owner, ttl, now, events);
      flowkit::claim c = detail::job_access::make_claim(r);
      return claimed_job{std::move(c), detail::job_access::make_job(std::move(r), now)};
    });
    listeners_.fire(events);
    return out;
  }

  // Heartbeat: the claim's expiry becomes now + ttl (and c is updated).
  void extend(flowkit::claim& c, job_clock::duration ttl) {
    ttl = detail::check_ttl(ttl);
    const job_time expires =
        owned(c, [&](detail::lmdb_txn& t, detail::job_record& r, job_time now, std::vector<job_event>&) {
          r.expires = now + ttl;
          put_record(t, r);
          return r.expires;
        });
    // Set only after the commit: an exception above leaves c as it was.
    detail::job_access::set_expiry(c, expires);
  }

  void abandon(const flowkit::claim& c) {
    owned(c, [&](detail::lmdb_txn& t, detail::job_record& r, job_time, std::vector<job_event>& events) {
      events.push_back(detail::event(job_event_kind::abandoned, r));
      r.owner.clear();
      r.expires = {};
      put_record(t, r);
      return job_time{};
    });
    env_->notifier().notify();  // claimable again: wake waiters
  }

  void consume(const flowkit::claim& c) {
    owned(c, [&](detail::lmdb_txn& t, detail::job_record& r, job_time, std::vector<job_event>& events) {
      events.push_back(detail::event(job_event_kind::consumed, r));
      t.del(dbs_.jobs, detail::id_key(r.id));
      t.del(dbs_.order, detail::order_key_bytes(r.priority, r.sequence));
      return job_time{};
    });
  }

  void trash(const flowkit::claim& c, std::string_view reason) {
    owned(c, [&](detail::lmdb_txn& t, detail::job_record& r, job_time now, std::vector<job_event>& events) {
      events.push_back(detail::event(job_event_kind::trashed, r, std::string{reason}));
      std::string& buf = buffer();
      detail::encode_record(r, buf);
      std::string entry;
      detail::put_le(entry, buf.size(), 4);
      entry += buf;
      detail::put_le(entry, static_cast<std::uint64_t>(detail::to_ns(now)), 8);
      detail::put_str(entry, r.owner);
      detail::put_str(entry, reason);
      t.put(dbs_.trash, detail::id_key(r.id), entry);
      t.del(dbs_.jobs, detail::id_key(r.id));
      t.del(dbs_.order, detail::order_key_bytes(r.priority, r.sequence));
      return job_time{};
    });
  }

  // The trash, oldest first.
  std::vector<trashed_job> trashed() const {
    std::vector<trashed_job> out = env_->read([&](const detail::lmdb_txn& t) {
      std::vector<trashed_job> ts;
      detail::lmdb_cursor cur{t, dbs_.trash};
      for (auto kv = cur.first(); kv; kv = cur.next()) {
        const auto id = detail::id_from_key(kv->first);
        if (!id) continue;
        try {
          ts.push_back(decode_trash(*id, kv->second));
        } catch (const corrupt_job&) {
          // A damaged trash entry is skipped: the trash is for inspection only.
        }
      }
      return ts;
    });
    std::sort(out.begin(), out.end(), [](const trashed_job& a, const trashed_job& b) { return a.when < b.when; });
    return out;
  }

  // True as soon as a claimable job exists, false at the timeout or when stop is requested.
  // Wakes when any process posts or abandons (shared futex, see detail/lmdb_notify.hpp) and when
  // the earliest live claim expires; it never polls.
  bool wait(std::chrono::nanoseconds timeout, std::stop_token stop = {}) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    detail::shared_notifier& n = env_->notifier();
    std::stop_callback on_stop{stop, [&n] { n.notify(); }};
    for (;;) {
      const std::uint32_t seen = n.sequence();
      const job_time now = job_clock::now();
      std::optional<job_time> next_expiry;
      const bool ready = env_->read([&](const detail::lmdb_txn& t) {
        detail::lmdb_cursor cur{t, dbs_.jobs};
        for (auto kv = cur.first(); kv; kv = cur.next()) {
          const auto id = detail::id_from_key(kv->first);
          if (!id) continue;
          try {
            const detail::record_view v = detail::view_record(*id, kv->second);
            if (!v.claimed_at(now)) return true;
            const job_time e = detail::from_ns(v.expires_ns);
            if (!next_expiry || e < *next_expiry) next_expiry = e;
          } catch (const corrupt_job&) {
            // not claimable; listings report it
          }
        }
        return false;
      });
      if (ready) return true;
      if (stop.stop_requested()) return false;
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= left.zero()) return false;
      std::chrono::nanoseconds sleep = left;
      if (next_expiry)
        sleep = std::min(sleep, std::chrono::duration_cast<std::chrono::nanoseconds>(*next_expiry - job_clock::now()) +
                                    std::chrono::milliseconds{1});
      n.wait(seen, std::max(sleep, std::chrono::nanoseconds{1}));
    }
  }

  listener_id listen(job_listener fn) { return listeners_.add(std::move(fn)); }
  void unlisten(listener_id id) { listeners_.remove(id); }

  // Throws claim_lost / not_owner unless c is the job's live claim (as of now).
  void verify(const flowkit::claim& c) const {
    env_->read([&](const detail::lmdb_txn& t) { verify(c, t); });
  }
  // The same check inside a caller's transaction on this board's environment: the fencing check
  // a checkpoint write makes in its own transaction.
  void verify(const flowkit::claim& c, const detail::lmdb_txn& t) const {
    const auto bytes = t.get(dbs_.jobs, detail::id_key(c.job()));
    if (!bytes) detail::throw_gone(c);
    detail::check_claim(detail::decode_record(c.job(), *bytes), c, job_clock::now());
  }

  // Forces commits to disk (the point of durability::process_crash_safe's group commit).
  void sync() { env_->sync(); }
  // Clears reader slots left by dead processes; returns how many were cleared.
  int reader_check() { return env_->reader_check(); }
  // The environment, shared with other stores on the same file.
  const std::shared_ptr<detail::lmdb_env>& environment() const noexcept { return env_; }

 private:
  struct databases {
    MDB_dbi jobs{}, order{}, trash{}, meta{};
  };

  static std::string& buffer() {
    thread_local std::string buf;  // one record buffer per thread, reused by every encode
    return buf;
  }

  void put_record(detail::lmdb_txn& t, const detail::job_record& r, unsigned flags = 0) {
    std::string& buf = buffer();
    detail::encode_record(r, buf);
    t.put(dbs_.jobs, detail::id_key(r.id), buf, flags);
  }

  void claim_into(detail::lmdb_txn& t, detail::job_record& r, std::string_view owner, job_clock::duration ttl,
                  job_time now, std::vector<job_event>& events) {
    std::string displaced;
    const std::uint64_t old_token = r.token;
    if (detail::apply_claim(r, owner, now, ttl, &displaced) == detail::claim_outcome::new_claim) {
      if (!displaced.empty())
        events.push_back(job_event{job_event_kind::claim_lost, r.id, displaced, old_token,
                                   "expired; taken by '" + r.owner + "'"});
      events.push_back(detail::event(job_event_kind::claimed, r));
    }
    put_record(t, r);
  }

  // Runs fn(txn, record, now, events) in a write transaction if c is the job's live claim;
  // otherwise throws (and notifies this board's listeners of the lost claim).
  template <class Fn>
  job_time owned(const flowkit::claim& c, Fn&& fn) {
    std::vector<job_event> events;
    job_time result{};
    try {
      result = env_->write([&](detail::lmdb_txn& t) {
        events.clear();
        const auto bytes = t.get(dbs_.jobs, detail::id_key(c.job()));
        if (!bytes) detail::throw_gone(c);
        detail::job_record r = detail::decode_record(c.job(), *bytes);
        const job_time now = job_clock::now();
        detail::check_claim(r, c, now);
        return fn(t, r, now, events);
      });
    } catch (const not_owner& e) {
      detail::note_lost(events, c, e);
      listeners_.fire(events);
      throw;
    }
    listeners_.fire(events);
    return result;
  }

  trashed_job decode_trash(const job_id& id, std::string_view v) const {
    auto bad = [&] { return corrupt_job(id.str(), "trash entry truncated"); };
    if (v.size() < 4) throw bad();
    const std::size_t len = detail::get_le(v, 0, 4);
    if (len > v.size() - 4) throw bad();
    detail::job_record r = detail::decode_record(id, v.substr(4, len));
    std::size_t at = 4 + len;
    if (v.size() - at < 8) throw bad();
    const job_time when = detail::from_ns(static_cast<std::int64_t>(detail::get_le(v, at, 8)));
    at += 8;
    std::string strs[2];
    for (std::string& s : strs) {
      if (v.size() - at < 4) throw bad();
      const std::size_t n = detail::get_le(v, at, 4);
      at += 4;
      if (n > v.size() - at) throw bad();
      s.assign(v.substr(at, n));
      at += n;
    }
    return trashed_job{detail::job_access::make_complete(std::move(r)), std::move(strs[1]), std::move(strs[0]), when};
  }

  // Opens (creating on a new board) the board's databases and checks the format record, in one
  // write transaction that writes nothing unless the board is new.
  void open_databases() {
    dbs_ = env_->write([&](detail::lmdb_txn& t) {
      databases d;
      const auto main = t.open_dbi(nullptr, 0);
      bool exists = false, foreign = false;
      {
        detail::lmdb_cursor cur{t, *main};
        for (auto kv = cur.first(); kv; kv = cur.next()) {
          if (kv->first == "fk.jobs.meta") exists = true;
          if (!kv->first.starts_with("fk.")) foreign = true;
        }
      }
      if (exists) {
        d.meta = *t.open_dbi("fk.jobs.meta", 0);
        const auto kind = t.get(d.meta, "kind");
        const auto format = t.get(d.meta, "format");
        if (!kind || *kind != detail::board_kind || !format || format->size() != 4)
          throw not_a_board(path_, "its fk.jobs.meta does not describe a jobboard");
        const auto found = static_cast<std::uint32_t>(detail::get_le(*format, 0, 4));
        if (found > detail::board_format) throw incompatible_board_format(path_, found, detail::board_format);
      } else if (foreign) {
        throw not_a_board(path_, "an LMDB environment that holds other data");
      }
      const unsigned create = exists ? 0u : unsigned{MDB_CREATE};
      auto open = [&](const char* name) {
        const auto dbi = t.open_dbi(name, create);
        if (!dbi) throw not_a_board(path_, std::string{"database "} + name + " is missing");
        return *dbi;
      };
      d.jobs = open("fk.jobs");
      d.order = open("fk.jobs.order");
      d.trash = open("fk.jobs.trash");
      if (!exists) {
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
  std::shared_ptr<detail::lmdb_env> env_;
  databases dbs_;
  detail::listener_set listeners_;
};

static_assert(jobboard<lmdb_jobboard>);

}  // namespace flowkit
