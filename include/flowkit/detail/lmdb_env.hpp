#pragma once
// RAII over LMDB, with the rules that bite made structural:
// - one MDB_env per file per process: environments come from a process-wide registry keyed by
//   the data file's device and inode, so every board (and later the checkpoint backend) opening
//   the same file shares one environment; a forked child never reuses or closes its parent's;
// - MDB_NOTLS: a read transaction is not tied to a thread's reader slot;
// - the map size is set at open and grown (doubled) when a write hits MDB_MAP_FULL, with every
//   transaction of the process held off meanwhile; a size grown by another process is adopted on
//   MDB_MAP_RESIZED;
// - mdb_reader_check at open clears reader slots left by processes that died.

#include <flowkit/detail/lmdb_notify.hpp>
#include <flowkit/storage_errors.hpp>

#include <lmdb.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace flowkit {

namespace detail {

// LMDB's own codes (MDB_MAP_FULL, MDB_CORRUPTED, ...) as std::error_code; errno values stay in
// std::generic_category().
class lmdb_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "lmdb"; }
  std::string message(int code) const override { return ::mdb_strerror(code); }
};
inline const std::error_category& lmdb_category() noexcept {
  static const lmdb_category_impl c;
  return c;
}
inline std::error_code lmdb_error_code(int code) noexcept {
  // LMDB returns errno values as they are and its own codes in [MDB_KEYEXIST, MDB_LAST_ERRCODE].
  return code >= MDB_KEYEXIST && code <= MDB_LAST_ERRCODE ? std::error_code{code, lmdb_category()}
                                                          : std::error_code{code, std::generic_category()};
}

}  // namespace detail

/// An LMDB call failed; code() is the LMDB or errno code. An io_error (so a storage_error), thrown
/// alike by the jobboard and the checkpoint store that share an environment: what() names the call
/// and the file, e.g. "flowkit: mdb_txn_commit on ./board/data.mdb: no space left on device".
class lmdb_error : public io_error {
 public:
  lmdb_error(int code, std::string_view call, std::string path)
      : io_error(std::move(path), detail::lmdb_error_code(code), std::string{call} + " on",
                 io_error::lowercase_first(::mdb_strerror(code))),
        code_(code) {}
  lmdb_error(int code, std::string_view call, std::string path, const std::string& why)
      : io_error(std::move(path), detail::lmdb_error_code(code), std::string{call} + " on", why),
        code_(code) {}
  /// The LMDB (MDB_*) or errno code.
  int code() const noexcept { return code_; }

 private:
  int code_;
};

}  // namespace flowkit

namespace flowkit::detail {

inline void lmdb_check(int rc, const char* call, const std::string& path) {
  if (rc != MDB_SUCCESS) throw lmdb_error(rc, call, path);
}

// For calls that write the data file (a commit, creating a new file). LMDB reports a short
// pwrite as EIO, and a write that runs out of disk in the middle is a short write: so an EIO on a
// filesystem with (almost) no space left is reported as what it is, no space left on device.
// (A genuine I/O error on a nearly full disk is then reported as a full disk: both need the disk
// looked at.)
inline void lmdb_check_write(int rc, const char* call, const std::string& path) {
  if (rc == EIO) {
    struct statvfs vfs {};
    if (::statvfs(path.c_str(), &vfs) == 0 &&
        static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize < (64ull << 10))
      throw lmdb_error(ENOSPC, call, path,
                       "no space left on device (LMDB reported the short write as an I/O error)");
  }
  lmdb_check(rc, call, path);
}

inline MDB_val to_val(std::string_view s) noexcept { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
inline std::string_view from_val(const MDB_val& v) noexcept {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

class lmdb_cursor;

// A transaction; aborted on destruction unless committed. Values read through it point into the
// map and die with it.
class lmdb_txn {
 public:
  lmdb_txn(MDB_txn* t, const std::string& path) noexcept : t_(t), path_(&path) {}
  lmdb_txn(const lmdb_txn&) = delete;
  lmdb_txn& operator=(const lmdb_txn&) = delete;
  ~lmdb_txn() { abort(); }

  MDB_txn* handle() const noexcept { return t_; }
  const std::string& path() const noexcept { return *path_; }

  std::optional<std::string_view> get(MDB_dbi dbi, std::string_view key) const {
    MDB_val k = to_val(key), v{};
    const int rc = ::mdb_get(t_, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    lmdb_check(rc, "mdb_get", *path_);
    return from_val(v);
  }
  void put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0) {
    MDB_val k = to_val(key), v = to_val(value);
    lmdb_check(::mdb_put(t_, dbi, &k, &v, flags), "mdb_put", *path_);
  }
  bool del(MDB_dbi dbi, std::string_view key) {
    MDB_val k = to_val(key);
    const int rc = ::mdb_del(t_, dbi, &k, nullptr);
    if (rc == MDB_NOTFOUND) return false;
    lmdb_check(rc, "mdb_del", *path_);
    return true;
  }
  std::optional<MDB_dbi> open_dbi(const char* name, unsigned flags) {
    MDB_dbi dbi{};
    const int rc = ::mdb_dbi_open(t_, name, flags, &dbi);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    lmdb_check(rc, "mdb_dbi_open", *path_);
    return dbi;
  }
  std::size_t entries(MDB_dbi dbi) const {
    MDB_stat st{};
    lmdb_check(::mdb_stat(t_, dbi, &st), "mdb_stat", *path_);
    return st.ms_entries;
  }
  void commit() {
    MDB_txn* t = std::exchange(t_, nullptr);
    lmdb_check_write(::mdb_txn_commit(t), "mdb_txn_commit", *path_);  // frees t even when it fails
  }
  void abort() noexcept {
    if (t_) ::mdb_txn_abort(std::exchange(t_, nullptr));
  }

 private:
  MDB_txn* t_;
  const std::string* path_;
};

// A cursor over one database: for (auto kv = c.first(); kv; kv = c.next()) ...
class lmdb_cursor {
 public:
  using entry = std::optional<std::pair<std::string_view, std::string_view>>;

  lmdb_cursor(const lmdb_txn& txn, MDB_dbi dbi) : path_(&txn.path()) {
    lmdb_check(::mdb_cursor_open(txn.handle(), dbi, &c_), "mdb_cursor_open", *path_);
  }
  lmdb_cursor(const lmdb_cursor&) = delete;
  lmdb_cursor& operator=(const lmdb_cursor&) = delete;
  ~lmdb_cursor() { ::mdb_cursor_close(c_); }

  entry first() { return step(MDB_FIRST); }
  entry next() { return step(MDB_NEXT); }
  // The first entry whose key is not less than key (MDB_SET_RANGE): where a prefix's keys begin.
  entry seek(std::string_view key) {
    MDB_val k = to_val(key), v{};
    const int rc = ::mdb_cursor_get(c_, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    lmdb_check(rc, "mdb_cursor_get", *path_);
    return std::pair{from_val(k), from_val(v)};
  }

 private:
  entry step(MDB_cursor_op op) {
    MDB_val k{}, v{};
    const int rc = ::mdb_cursor_get(c_, &k, &v, op);
    if (rc == MDB_NOTFOUND) return std::nullopt;
    lmdb_check(rc, "mdb_cursor_get", *path_);
    return std::pair{from_val(k), from_val(v)};
  }

  MDB_cursor* c_ = nullptr;
  const std::string* path_;
};

struct lmdb_env_options {
  std::size_t map_size = std::size_t{64} << 20;
  std::size_t max_map_size = std::size_t{1} << 40;  // address space only; the file grows as used
  unsigned sync_flags = 0;                          // 0, MDB_NOMETASYNC or MDB_NOSYNC
  unsigned max_dbs = 32;                            // room for the jobboard and the checkpoint store
};

// Where an environment lives: the data file, whether it sits in a directory of its own (LMDB's
// default) or is a single file with "-lock" beside it, and the notifier file.
struct lmdb_location {
  std::filesystem::path data_file;
  bool subdir = true;

  std::filesystem::path env_path() const { return subdir ? data_file.parent_path() : data_file; }
  std::filesystem::path lock_file() const {
    return subdir ? data_file.parent_path() / "lock.mdb"
                  : std::filesystem::path{data_file.string() + "-lock"};
  }
  std::filesystem::path notify_file() const {
    return subdir ? data_file.parent_path() / "flowkit-notify"
                  : std::filesystem::path{data_file.string() + "-notify"};
  }
};

class lmdb_env {
 public:
  // The process's environment for this location, opened if need be. The data file must exist
  // (possibly empty: LMDB initialises an empty file).
  static std::shared_ptr<lmdb_env> open(const lmdb_location& where, const lmdb_env_options& opts) {
    struct stat st {};
    if (::stat(where.data_file.c_str(), &st) != 0) throw lmdb_error(errno, "stat", where.data_file.string());
    const key k{st.st_dev, st.st_ino};
    registry& reg = the_registry();
    std::unique_lock lk{reg.mu};
    for (;;) {
      auto it = reg.envs.find(k);
      if (it == reg.envs.end()) break;
      if (it->second.pid != ::getpid()) {  // inherited from a parent process: never touch it
        reg.envs.erase(it);
        break;
      }
      if (auto env = it->second.env.lock()) {
        if (env->opts_.sync_flags != opts.sync_flags) {
          lk.unlock();  // env may be the last reference: its release takes the registry lock
          throw std::invalid_argument("flowkit: " + where.data_file.string() +
                                      " is already open in this process with another durability mode");
        }
        return env;
      }
      // Its last user is closing it; closing the lock file would drop our new env's fcntl
      // locks, so wait until the close is over.
      reg.closed.wait(lk);
    }
    std::shared_ptr<lmdb_env> env{new lmdb_env(where, opts), [](lmdb_env* e) { release(e); }};
    reg.envs[k] = entry{env, ::getpid()};
    env->key_ = k;
    return env;
  }

  lmdb_env(const lmdb_env&) = delete;
  lmdb_env& operator=(const lmdb_env&) = delete;

  MDB_env* handle() const noexcept { return env_; }
  const std::string& path() const noexcept { return path_; }
  // Created on first use, so that opening a path that turns out not to be ours leaves no file.
  shared_notifier& notifier() {
    std::call_once(notifier_once_, [this] { notifier_ = std::make_unique<shared_notifier>(notify_file_); });
    return *notifier_;
  }

  // Runs body(lmdb_txn&) in a write transaction and commits. On MDB_MAP_FULL the transaction is
  // aborted, the map grown and body run again from the start, so body must only write through
  // the transaction (and reset whatever it collects on entry).
  template <class F>
  std::invoke_result_t<F&, lmdb_txn&> write(F&& body) {
    for (;;) {
      std::shared_lock lk{resize_mu_};
      MDB_txn* raw = nullptr;
      const int rc = ::mdb_txn_begin(env_, nullptr, 0, &raw);
      if (rc == MDB_MAP_RESIZED) {
        lk.unlock();
        adopt_map_size();
        continue;
      }
      lmdb_check(rc, "mdb_txn_begin", path_);
      const std::size_t size_seen = map_size();
      lmdb_txn txn{raw, path_};
      try {
        if constexpr (std::is_void_v<std::invoke_result_t<F&, lmdb_txn&>>) {
          body(txn);
          txn.commit();
          return;
        } else {
          auto result = body(txn);
          txn.commit();
          return result;
        }
      } catch (const lmdb_error& e) {
        if (e.code() != MDB_MAP_FULL) throw;
        txn.abort();
        lk.unlock();
        grow(size_seen);
      }
    }
  }

  // Runs body(const lmdb_txn&) in a read transaction.
  template <class F>
  std::invoke_result_t<F&, const lmdb_txn&> read(F&& body) const {
    for (;;) {
      std::shared_lock lk{resize_mu_};
      MDB_txn* raw = nullptr;
      const int rc = ::mdb_txn_begin(env_, nullptr, MDB_RDONLY, &raw);
      if (rc == MDB_MAP_RESIZED) {
        lk.unlock();
        const_cast<lmdb_env*>(this)->adopt_map_size();
        continue;
      }
      lmdb_check(rc, "mdb_txn_begin", path_);
      const lmdb_txn txn{raw, path_};
      return body(txn);
    }
  }

  std::size_t map_size() const noexcept {
    MDB_envinfo info{};
    ::mdb_env_info(env_, &info);
    return info.me_mapsize;
  }

  // Clears reader slots of dead processes; returns how many.
  int reader_check() {
    int dead = 0;
    lmdb_check(::mdb_reader_check(env_, &dead), "mdb_reader_check", path_);
    return dead;
  }

  // Flushes commits not yet on disk (the group-commit modes); force: even with MDB_NOSYNC.
  void sync() { lmdb_check(::mdb_env_sync(env_, 1), "mdb_env_sync", path_); }

  const lmdb_env_options& options() const noexcept { return opts_; }

 private:
  struct key {
    dev_t dev;
    ino_t ino;
    friend bool operator<(const key& a, const key& b) noexcept {
      return a.dev != b.dev ? a.dev < b.dev : a.ino < b.ino;
    }
  };
  struct entry {
    std::weak_ptr<lmdb_env> env;
    pid_t pid;
  };
  struct registry {
    std::mutex mu;
    std::condition_variable closed;
    std::map<key, entry> envs;
  };
  static registry& the_registry() {
    static registry* r = new registry;  // never destroyed: boards may outlive static destruction
    return *r;
  }

  static void release(lmdb_env* e) {
    registry& reg = the_registry();
    {
      std::lock_guard lk{reg.mu};
      if (e->pid_ == ::getpid()) {
        auto it = reg.envs.find(e->key_);
        if (it != reg.envs.end() && it->second.pid == e->pid_ && it->second.env.expired()) reg.envs.erase(it);
      }
      delete e;  // closes under the registry lock: see open()
    }
    reg.closed.notify_all();
  }

  lmdb_env(const lmdb_location& where, const lmdb_env_options& opts)
      : path_(where.data_file.string()), opts_(opts), pid_(::getpid()), notify_file_(where.notify_file()) {
    lmdb_check(::mdb_env_create(&env_), "mdb_env_create", path_);
    try {
      lmdb_check(::mdb_env_set_maxdbs(env_, opts.max_dbs), "mdb_env_set_maxdbs", path_);
      lmdb_check(::mdb_env_set_mapsize(env_, opts.map_size), "mdb_env_set_mapsize", path_);
      const unsigned flags = MDB_NOTLS | opts.sync_flags | (where.subdir ? 0u : unsigned{MDB_NOSUBDIR});
      reserve_lock_file(where.lock_file());
      lmdb_check_write(::mdb_env_open(env_, where.env_path().c_str(), flags, 0644), "mdb_env_open", path_);
      int dead = 0;
      lmdb_check(::mdb_reader_check(env_, &dead), "mdb_reader_check", path_);
    } catch (...) {
      ::mdb_env_close(env_);
      throw;
    }
  }

  // LMDB ftruncates its lock file (sparse) and writes to it through a shared mapping: on a full
  // filesystem that write faults (SIGBUS) instead of failing. So the lock file is created and its
  // blocks allocated before LMDB touches it, and a full disk is an error here. The size is the
  // one LMDB 0.9 gives it with the default 126 reader slots: 125 * sizeof(MDB_reader) (64) +
  // sizeof(MDB_txninfo) (192) = 8192 bytes; an existing lock file keeps its size (a process
  // using it maps that size), only its holes are filled.
  static constexpr off_t lock_file_bytes = 8192;
  static void reserve_lock_file(const std::filesystem::path& lock) {
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw_io(errno, lock, "open");
    struct stat st {};
    const bool fresh = ::fstat(fd, &st) == 0 && st.st_size == 0;
    try {
      reserve_file(fd, lock, fresh ? lock_file_bytes : 0);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);  // before LMDB takes its fcntl locks on this file: closing drops a process's locks
  }

  ~lmdb_env() {
    // In a forked child the handle belongs to the parent: closing it would clear the parent's
    // reader slots (same pid recorded). Leak it instead.
    if (pid_ == ::getpid()) ::mdb_env_close(env_);
  }

  void adopt_map_size() {
    std::unique_lock lk{resize_mu_};
    lmdb_check(::mdb_env_set_mapsize(env_, 0), "mdb_env_set_mapsize", path_);
  }

  void grow(std::size_t size_seen) {
    std::unique_lock lk{resize_mu_};
    const std::size_t now = map_size();
    if (now != size_seen) return;  // another thread grew it meanwhile
    if (now >= opts_.max_map_size)
      throw lmdb_error(MDB_MAP_FULL, "grow the map", path_,
                       "reached its maximum map size of " + std::to_string(opts_.max_map_size) + " bytes");
    lmdb_check(::mdb_env_set_mapsize(env_, std::min(now * 2, opts_.max_map_size)), "mdb_env_set_mapsize",
               path_);
  }

  MDB_env* env_ = nullptr;
  std::string path_;
  lmdb_env_options opts_;
  pid_t pid_;
  key key_{};
  std::filesystem::path notify_file_;
  std::once_flag notifier_once_;
  std::unique_ptr<shared_notifier> notifier_;
  // Transactions hold it shared; changing the map size needs it alone.
  mutable std::shared_mutex resize_mu_;
};

}  // namespace flowkit::detail
