#pragma once
// fk::lmdb_backend: checkpoints in an LMDB file, the embedded default. Processes on one machine
// may share the file; in one process every store on a file (backends and jobboards alike) shares
// one LMDB environment (detail::lmdb_env's registry), so a commit's guard can check a jobboard
// claim in the very transaction that writes the checkpoint.
//
// Layout (named databases; docs/storage-format.md has the details):
//   fk.file       flowkit's mark on the file, shared with a jobboard (detail/lmdb_file_marker.hpp)
//   fk.runs       run id -> flow detail record (persistence/record_codec.hpp)
//   fk.atoms      run id's length (1 byte) + run id + atom name -> atom detail record
//   fk.books      logbook's length (1 byte) + logbook + run id -> empty: the logbook index
//   fk.runs.meta  "kind" = "flowkit.checkpoints", "format" = u32 (1)
//
// Every call is one LMDB transaction (commits of several threads may share one: see commit());
// LMDB runs one write transaction at a time across every process on the file, so commits are
// atomic and ordered, and a process killed mid-commit leaves the commit wholly undone.

#include <flowkit/detail/lmdb_durability.hpp>
#include <flowkit/detail/lmdb_env.hpp>
#include <flowkit/detail/lmdb_file_marker.hpp>
#include <flowkit/detail/lmdb_locate.hpp>
#include <flowkit/persistence/backend.hpp>
#include <flowkit/persistence/errors.hpp>
#include <flowkit/persistence/model.hpp>
#include <flowkit/persistence/record_codec.hpp>

#include <algorithm>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowkit {

/// How an fk::lmdb_backend opens its file.
struct lmdb_backend_options {
  /// How far a commit survives (power loss, or a crash of the process).
  flowkit::durability durability = flowkit::durability::power_loss_safe;
  /// The map's initial size, doubled whenever a commit fills it, up to max_map_size (then a commit
  /// that does not fit throws store_full). Both apply only when this backend opens the file first
  /// in its process; otherwise the environment already open is shared, with its sizes.
  std::size_t map_size = std::size_t{64} << 20;
  /// The largest the map may grow to; a commit beyond it throws fk::store_full.
  std::size_t max_map_size = std::size_t{1} << 40;
  bool single_file = false;  // create a new store as one file (+ "-lock") instead of a directory
  /// Open only a store that exists: a path that does not exist, an empty directory, file or
  /// environment, or a jobboard's file without a store throws store_not_found instead of becoming
  /// a new store (a mistyped path fails at once instead of resuming nothing).
  bool must_exist = false;
};

namespace detail {
inline constexpr std::uint32_t checkpoint_format = 1;
inline constexpr std::string_view checkpoint_kind = "flowkit.checkpoints";

// The checkpoint store's refusals for detail::locate_lmdb (the one way to find and check an LMDB
// store's file, shared with the jobboard): not_a_store, corrupt_store (a truncated data file),
// store_not_found (must_exist).
using store_refusals = lmdb_refusals<not_a_store, corrupt_store, store_not_found>;
}  // namespace detail

/// The embedded checkpoint backend (see above): an LMDB file shared by the processes of one
/// machine. Every call is atomic and may be made from any thread; concurrent commits share one
/// write transaction.
class lmdb_backend {
 public:
  /// What a commit's guard is given: the write transaction the commit's writes go through. A
  /// jobboard on the same file checks a claim in it with lmdb_jobboard::verify(claim, txn).
  using transaction = detail::lmdb_txn;

  /// Opens the store at path, creating it if path does not exist (or is an empty directory or
  /// file), unless opts.must_exist (store_not_found). Refuses, writing nothing: a path that holds
  /// something else (not_a_store), a truncated data file (corrupt_store) and a store of a newer
  /// format (incompatible_store_format). A file that holds a jobboard gets the checkpoint
  /// databases beside the board's. The filesystem's failures (a missing parent directory,
  /// permission denied, a read-only or full filesystem) are io_errors naming the file.
  explicit lmdb_backend(const std::filesystem::path& path, lmdb_backend_options opts = {})
      : path_(path.string()), must_exist_(opts.must_exist) {
    env_ = detail::open_lmdb_store(path, opts, detail::store_refusals{path_});
    open_databases();
  }

  /// The path the store was opened at.
  const std::string& path() const noexcept { return path_; }

  /// Creates the run, or loads it if stored; throws fk::flow_mismatch, fk::logbook_mismatch, or
  /// fk::run_not_found (resume_only), and std::invalid_argument for an empty or too long id.
  run_record open_run(const run_spec& spec, open_mode mode = create_or_resume) {
    detail::check_spec(spec);
    // A stored run is loaded in a read transaction: resuming never holds writers off.
    if (auto stored = load_run(spec.id)) {
      detail::check_same_run(stored->flow, spec);
      return std::move(*stored);
    }
    if (mode == open_mode::resume_only) throw run_not_found(spec.id);
    return write([&](detail::lmdb_txn& t) {
      if (const auto rec = t.get(dbs_.runs, spec.id)) {  // created meanwhile, by another process
        run_record r = read_run(t, spec.id, *rec);
        detail::check_same_run(r.flow, spec);
        return r;
      }
      run_record r;
      r.flow.id = spec.id;
      r.flow.logbook = spec.logbook;
      r.flow.flow_name = spec.flow_name;
      r.flow.structure_hash = spec.structure_hash;
      r.flow.store_bytes = spec.store_bytes;
      r.flow.created = r.flow.updated = run_clock::now();
      std::string& val = value_buffer();
      detail::ckpt::encode_flow_detail(r.flow, val);
      t.put(dbs_.runs, spec.id, val, MDB_NOOVERWRITE);
      std::string& key = key_buffer();
      detail::ckpt::book_key(spec.logbook, spec.id, key);
      t.put(dbs_.books, key, {});
      return r;
    });
  }

  /// The run with its atom details, or nullopt.
  std::optional<run_record> load_run(std::string_view id) const {
    detail::check_run_id(id);
    return env_->read([&](const detail::lmdb_txn& t) -> std::optional<run_record> {
      const auto rec = t.get(dbs_.runs, id);
      if (!rec) return std::nullopt;
      return read_run(t, id, *rec);
    });
  }

  /// Group commit: commits that arrive while another thread's transaction is under way wait, and
  /// the next of them writes all of them in one write transaction (one fsync in power_loss_safe),
  /// each batch in a nested transaction of its own, so that one batch's guard or failure undoes
  /// that batch only. commit() returns once its batch is committed, or throws its own error. A
  /// guard may therefore run on another committing thread than its caller's.
  template <class Guard = no_guard>
    requires std::invocable<Guard&, transaction&>
  void commit(std::string_view id, const batch& changes, Guard&& guard = Guard{}) {
    detail::check_run_id(id);
    detail::check_batch(changes);
    using guard_type = std::remove_reference_t<Guard>;
    group_member me{id, &changes, const_cast<void*>(static_cast<const void*>(std::addressof(guard))),
                    [](void* g, detail::lmdb_txn& t) { std::invoke(*static_cast<guard_type*>(g), t); }};
    group_state& g = *group_;
    std::unique_lock lk{g.mu};
    g.queue.push_back(&me);
    while (!me.done) {
      if (g.leading) {
        g.cv.wait(lk);
        continue;
      }
      g.leading = true;
      std::vector<group_member*> members;
      members.swap(g.queue);
      lk.unlock();
      std::exception_ptr group_error;
      try {
        write_group(members);
      } catch (...) {
        group_error = std::current_exception();
      }
      lk.lock();
      for (group_member* m : members) {
        if (group_error) m->error = group_error;
        m->done = true;
      }
      g.leading = false;
      g.cv.notify_all();
    }
    lk.unlock();
    if (me.error) std::rethrow_exception(me.error);
  }

  /// How many commits wait for the transaction under way (for tests and metrics).
  std::size_t waiting_commits() const {
    std::lock_guard lk{group_->mu};
    return group_->queue.size();
  }

  /// Every logbook's name, sorted.
  std::vector<std::string> logbooks() const {
    std::vector<std::string> out = env_->read([&](const detail::lmdb_txn& t) {
      std::vector<std::string> books;
      detail::lmdb_cursor cur{t, dbs_.books};
      for (auto kv = cur.first(); kv; kv = cur.next()) {
        const auto parts = detail::ckpt::split_key(kv->first);
        if (!parts) continue;  // not a key this format writes
        if (books.empty() || books.back() != parts->first) books.emplace_back(parts->first);
      }
      return books;
    });
    std::sort(out.begin(), out.end());
    return out;
  }

  /// Every run's flow detail (no atoms), by run id.
  std::vector<flow_detail> runs() const {
    return env_->read([&](const detail::lmdb_txn& t) {
      std::vector<flow_detail> out;
      detail::lmdb_cursor cur{t, dbs_.runs};
      for (auto kv = cur.first(); kv; kv = cur.next())
        detail::ckpt::decode_flow_detail(kv->first, kv->second, out.emplace_back());
      return out;
    });
  }

  /// The flow details of the runs in `logbook`, by run id.
  std::vector<flow_detail> runs(std::string_view logbook) const {
    std::vector<flow_detail> out = env_->read([&](const detail::lmdb_txn& t) {
      std::vector<flow_detail> fs;
      std::string prefix;
      detail::ckpt::run_prefix(logbook, prefix);
      detail::lmdb_cursor cur{t, dbs_.books};
      for (auto kv = cur.seek(prefix); kv && kv->first.starts_with(prefix); kv = cur.next()) {
        const std::string_view id = kv->first.substr(prefix.size());
        const auto rec = t.get(dbs_.runs, id);
        if (!rec)
          throw corrupt_record(std::string{id}, {},
                               "listed in logbook '" + std::string{logbook} + "' but missing");
        detail::ckpt::decode_flow_detail(id, *rec, fs.emplace_back());
      }
      return fs;
    });
    std::sort(out.begin(), out.end(), [](const flow_detail& a, const flow_detail& b) { return a.id < b.id; });
    return out;
  }

  /// Removes the run and its atom details; false if there was none.
  bool erase_run(std::string_view id) {
    detail::check_run_id(id);
    return write([&](detail::lmdb_txn& t) {
      const auto rec = t.get(dbs_.runs, id);
      if (!rec) return false;
      const flow_detail f = detail::ckpt::decode_flow_detail(id, *rec);
      std::string& key = key_buffer();
      detail::ckpt::book_key(f.logbook, id, key);
      t.del(dbs_.books, key);
      t.del(dbs_.runs, id);
      std::vector<std::string> atoms;
      detail::ckpt::run_prefix(id, key);
      {
        detail::lmdb_cursor cur{t, dbs_.atoms};
        for (auto kv = cur.seek(key); kv && kv->first.starts_with(key); kv = cur.next())
          atoms.emplace_back(kv->first);
      }
      for (const std::string& k : atoms) t.del(dbs_.atoms, k);
      return true;
    });
  }

  /// How far a commit survives: the mode of the file's environment (shared by every store on it).
  flowkit::durability durability() const noexcept {
    const unsigned flags = env_->options().sync_flags;
    return flags & MDB_NOSYNC       ? flowkit::durability::process_crash_safe
           : flags & MDB_NOMETASYNC ? flowkit::durability::no_meta_sync
                                    : flowkit::durability::power_loss_safe;
  }

  /// Forces commits to disk (what durability::process_crash_safe leaves to the caller).
  void sync() { env_->sync(); }
  /// Clears reader slots left by dead processes; returns how many were cleared.
  int reader_check() { return env_->reader_check(); }
  /// The environment, shared with every other store on the same file in this process.
  const std::shared_ptr<detail::lmdb_env>& environment() const noexcept { return env_; }

 private:
  struct databases {
    MDB_dbi runs{}, atoms{}, books{}, meta{};
  };

  // One key and one value buffer per thread, reused by every encode.
  static std::string& key_buffer() {
    thread_local std::string buf;
    return buf;
  }
  static std::string& value_buffer() {
    thread_local std::string buf;
    return buf;
  }

  // env_->write, with a full map at its limit reported as store_full.
  template <class F>
  std::invoke_result_t<F&, detail::lmdb_txn&> write(F&& body) {
    try {
      return env_->write(std::forward<F>(body));
    } catch (const lmdb_error& e) {
      if (e.code() == MDB_MAP_FULL) throw store_full(path_, env_->options().max_map_size);
      throw;
    }
  }

  struct group_member {
    std::string_view id;
    const batch* changes;
    void* guard;
    void (*run_guard)(void*, detail::lmdb_txn&);
    std::exception_ptr error{};
    bool done = false;
  };
  struct group_state {
    mutable std::mutex mu;
    std::condition_variable cv;
    std::vector<group_member*> queue;
    bool leading = false;
  };

  // One write transaction for every member, each in a nested transaction. A full map is the
  // group's problem (the whole group runs again in a bigger map); any other error is its
  // member's.
  void write_group(const std::vector<group_member*>& members) {
    write([&](detail::lmdb_txn& parent) {
      const run_time now = run_clock::now();
      for (group_member* m : members) {
        m->error = nullptr;
        MDB_txn* raw = nullptr;
        detail::lmdb_check(::mdb_txn_begin(env_->handle(), parent.handle(), 0, &raw), "mdb_txn_begin", path_);
        detail::lmdb_txn child{raw, parent.path()};
        try {
          m->run_guard(m->guard, child);
          apply(child, m->id, *m->changes, now);
          child.commit();
        } catch (const lmdb_error& e) {
          if (e.code() == MDB_MAP_FULL) throw;
          m->error = std::current_exception();
        } catch (...) {
          m->error = std::current_exception();
        }
      }
    });
  }

  void apply(detail::lmdb_txn& t, std::string_view id, const batch& changes, run_time now) {
    const auto rec = t.get(dbs_.runs, id);
    if (!rec) throw run_not_found(std::string{id});
    std::string& key = key_buffer();
    std::string& val = value_buffer();
    detail::ckpt::restamp_flow_detail(id, *rec, changes.flow_state(), now, val);
    t.put(dbs_.runs, id, val);
    for (const atom_detail& a : changes) {
      detail::ckpt::atom_key(id, a.name, key);
      detail::ckpt::encode_atom_detail(a, val);
      t.put(dbs_.atoms, key, val);
    }
  }

  run_record read_run(const detail::lmdb_txn& t, std::string_view id, std::string_view rec) const {
    run_record r;
    detail::ckpt::decode_flow_detail(id, rec, r.flow);
    std::string prefix;
    detail::ckpt::run_prefix(id, prefix);
    detail::lmdb_cursor cur{t, dbs_.atoms};
    for (auto kv = cur.seek(prefix); kv && kv->first.starts_with(prefix); kv = cur.next())
      detail::ckpt::decode_atom_detail(id, kv->first.substr(prefix.size()), kv->second,
                                       r.atoms.emplace_back());
    return r;
  }

  // Opens (creating in a new store) the checkpoint databases and checks the format record, in one
  // write transaction that writes nothing unless the store is new.
  void open_databases() {
    dbs_ = write([&](detail::lmdb_txn& t) {
      databases d;
      const detail::file_contents file = detail::read_file_contents(t);
      if (!file.empty && !file.marked) throw not_a_store(path_, file.problem);
      const bool exists = file.has("fk.runs.meta");
      if (!exists && must_exist_)
        throw store_not_found(path_,
                              file.empty ? "an empty LMDB environment" : "a jobboard's file without a store");
      if (exists) {
        d.meta = *t.open_dbi("fk.runs.meta", 0);
        const auto kind = t.get(d.meta, "kind");
        const auto format = t.get(d.meta, "format");
        if (!kind || *kind != detail::checkpoint_kind || !format || format->size() != 4)
          throw not_a_store(path_, "its fk.runs.meta does not describe a checkpoint store");
        const auto found = static_cast<std::uint32_t>(detail::ckpt::get_le(*format, 0, 4));
        if (found > detail::checkpoint_format)
          throw incompatible_store_format(path_, found, detail::checkpoint_format);
      }
      const unsigned create = exists ? 0u : unsigned{MDB_CREATE};
      auto open = [&](const char* name) {
        const auto dbi = t.open_dbi(name, create);
        if (!dbi) throw not_a_store(path_, std::string{"database "} + name + " is missing");
        return *dbi;
      };
      if (file.empty) detail::write_file_marker(t);
      d.runs = open("fk.runs");
      d.atoms = open("fk.atoms");
      d.books = open("fk.books");
      if (!exists) {
        d.meta = open("fk.runs.meta");
        t.put(d.meta, "kind", detail::checkpoint_kind);
        std::string f;
        detail::ckpt::put_le(f, detail::checkpoint_format, 4);
        t.put(d.meta, "format", f);
      }
      return d;
    });
  }

  std::string path_;
  bool must_exist_ = false;
  std::shared_ptr<detail::lmdb_env> env_;
  databases dbs_;
  std::unique_ptr<group_state> group_ = std::make_unique<group_state>();
};

static_assert(backend<lmdb_backend>);

}  // namespace flowkit
