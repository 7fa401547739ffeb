#pragma once
// Test support for the jobboard and checkpoint store tests: fresh temp directories, forked
// children, pipes, children's reports, and the faults (a private tmpfs, filled or read-only).
// Children never touch Catch2: they report through pipes and exit codes, and leave with _exit.

#include <flowkit/detail/lmdb_env.hpp>
#include <flowkit/jobs/errors.hpp>
#include <flowkit/persistence/errors.hpp>
#include <flowkit/storage_errors.hpp>

#include <catch2/catch.hpp>

#include <lmdb.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace flowkit::test {

// prefix + decimal n, e.g. numbered("worker-", 3) == "worker-3". Built by appending: GCC 12 at -O2
// reports a false -Werror=restrict inside `"literal" + std::to_string(n)` (its operator+ inserts
// at the front of the temporary), so tests spell names this way.
inline std::string numbered(std::string_view prefix, long long n) {
  std::string s{prefix};
  s += std::to_string(n);
  return s;
}

// A fresh directory (mkdtemp), removed by the process that made it.
class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "flowkit-jobs-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = tmpl;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    if (::getpid() == owner_) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const char* name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
  pid_t owner_ = ::getpid();
};

// A pipe for fixed-size messages between a parent and its children.
class channel {
 public:
  channel() {
    if (::pipe(fd_) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  }
  channel(const channel&) = delete;
  channel& operator=(const channel&) = delete;
  ~channel() {
    ::close(fd_[0]);
    ::close(fd_[1]);
  }

  void send(const void* data, std::size_t n) const {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t w = ::write(fd_[1], p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) throw std::system_error(errno, std::generic_category(), "write");
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }
  void receive(void* data, std::size_t n) const {
    char* p = static_cast<char*>(data);
    while (n > 0) {
      const ssize_t r = ::read(fd_[0], p, n);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw std::runtime_error("channel closed");
      p += r;
      n -= static_cast<std::size_t>(r);
    }
  }
  // A length-prefixed string: a child's report (an error's what(), an outcome).
  void send_text(const std::string& text) const {
    const std::uint32_t n = static_cast<std::uint32_t>(text.size());
    send_value(n);
    send(text.data(), text.size());
  }
  std::string receive_text() const {
    std::string text(receive_value<std::uint32_t>(), '\0');
    receive(text.data(), text.size());
    return text;
  }
  template <class T>
  void send_value(const T& v) const {
    send(&v, sizeof v);
  }
  template <class T>
  T receive_value() const {
    T v{};
    receive(&v, sizeof v);
    return v;
  }

 private:
  int fd_[2]{-1, -1};
};

// Runs body in a forked child; its return value is the child's exit code. An exception exits 99.
inline pid_t spawn(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    int rc = 99;
    try {
      rc = body();
    } catch (...) {
    }
    ::_exit(rc);
  }
  return pid;
}

// The child's exit code, or 128 + signal.
inline int join(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Exit code of a child that could not set up what its test needs (a tmpfs, another uid): the
// parent skips the test with a warning instead of failing it.
inline constexpr int cannot_run = 77;

// In a forked child: a private mount namespace (so that whatever is mounted there vanishes with
// the child, however it ends: nothing to clean up) with a tmpfs of `bytes` mounted on `dir`.
// False where that is not allowed (no root, no user namespaces, seccomp).
inline bool mount_private_tmpfs(const std::filesystem::path& dir, std::size_t bytes) {
  if (::unshare(CLONE_NEWNS) != 0) {
    // Not root: a user namespace of our own may still allow it.
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return false;
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  const std::string opts = numbered("size=", static_cast<long long>(bytes)) + ",mode=0755";
  return ::mount("flowkit-test", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0;
}

// Remounts the private tmpfs read-only.
inline bool remount_read_only(const std::filesystem::path& dir) {
  return ::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0;
}

// Writes zeros into `file` until the filesystem is full, then frees `leave` bytes of it again.
inline void fill_filesystem(const std::filesystem::path& file, std::size_t leave = 0) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + file.string());
  const std::vector<char> zeros(64 * 1024, '\0');
  off_t size = 0;
  for (std::size_t chunk = zeros.size(); chunk > 0;) {
    const ssize_t w = ::write(fd, zeros.data(), chunk);
    if (w > 0) {
      size += w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    chunk /= 2;  // ENOSPC: fill what is left with smaller writes
  }
  if (leave > 0 && ::ftruncate(fd, size - static_cast<off_t>(std::min<std::size_t>(leave, size))) != 0) {
    ::close(fd);
    throw std::system_error(errno, std::generic_category(), "ftruncate " + file.string());
  }
  ::close(fd);
}

// a + b by appending (GCC 12 -O2 misreports `"literal" + std::string` with -Werror=restrict).
inline std::string cat(std::string_view a, std::string_view b) {
  std::string s{a};
  s += b;
  return s;
}

inline bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// A file's bytes.
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

// A directory's entries, sorted.
inline std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator{dir}) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// What a child reports: "key=value" lines.
class report {
 public:
  void set(const std::string& key, const std::string& value) { text_ += key + "=" + value + "\n"; }
  const std::string& text() const noexcept { return text_; }

  static std::map<std::string, std::string> parse(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in{text};
    for (std::string line; std::getline(in, line);) {
      const auto eq = line.find('=');
      if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
  }

 private:
  std::string text_;
};

struct child_result {
  int code;  // 128 + signal if it died: 135 is SIGBUS
  std::map<std::string, std::string> values;
};

// Runs body in a forked child, which fills a report; the report is read once the child exited
// normally (a child that died, or threw, sent nothing).
inline child_result in_child(const std::function<int(report&)>& body) {
  channel out;
  const pid_t pid = spawn([&] {
    report r;
    const int code = body(r);
    out.send_text(r.text());
    return code;
  });
  const int code = join(pid);
  child_result res{code, {}};
  if (code < 128 && code != 99) res.values = report::parse(out.receive_text());
  return res;
}

// The outcome of an attempt, as a report value: "ok", or the error's kind and what(): "nospace: "
// (an io_error with no_space()), "io: " (another io_error), "board: " (a jobboard_error),
// "store: " (a persistence_error), "other: ".
template <class F>
std::string attempt(F&& f) {
  try {
    f();
    return "ok";
  } catch (const io_error& e) {
    return cat(e.no_space() ? "nospace: " : "io: ", e.what());
  } catch (const jobboard_error& e) {
    return cat("board: ", e.what());
  } catch (const persistence_error& e) {
    return cat("store: ", e.what());
  } catch (const std::exception& e) {
    return cat("other: ", e.what());
  }
}

// In a forked child with a private tmpfs of `bytes` mounted on `mnt` (see mount_private_tmpfs):
// body's report, or the exit code cannot_run where no tmpfs can be mounted.
inline child_result in_child_on_tmpfs(const std::filesystem::path& mnt, std::size_t bytes,
                                      const std::function<int(report&)>& body) {
  return in_child([&](report& rep) { return mount_private_tmpfs(mnt, bytes) ? body(rep) : cannot_run; });
}

// In a forked child that is nobody (tests run as root, whom file modes do not stop): body's
// report, or the exit code cannot_run where privileges cannot be dropped.
inline child_result in_child_as_nobody(const std::function<int(report&)>& body) {
  return in_child([&](report& rep) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return cannot_run;
    return body(rep);
  });
}

// True, with a warning, where the child could not set up what its test needs.
inline bool skipped(const child_result& r, const char* why) {
  if (r.code != cannot_run) return false;
  WARN(why);
  return true;
}

// Every amount of free space from none to enough (0 to 96 KiB, in 4 KiB steps) left by `filler`:
// open(target)'s outcome reported as "sweep.<bytes left>", then target removed.
template <class Open>
void sweep_free_space(report& rep, const std::filesystem::path& filler, const std::filesystem::path& target,
                      Open&& open) {
  for (std::size_t leave = 0; leave <= 96 * 1024; leave += 4096) {
    fill_filesystem(filler, leave);
    rep.set(numbered("sweep.", static_cast<long long>(leave)), attempt([&] { open(target); }));
    std::filesystem::remove_all(target);
  }
}

// The sweep's outcomes: each is "ok" or no space naming target, some of each, and each of `files`
// is one at which an attempt failed.
inline void check_sweep(const std::map<std::string, std::string>& values, const std::filesystem::path& target,
                        std::initializer_list<const char*> files) {
  int refused = 0, opened = 0;
  std::set<std::string> failing_files;
  for (const auto& [key, outcome] : values) {
    if (!starts_with(key, "sweep.")) continue;
    INFO(key << " = " << outcome);
    CHECK((outcome == "ok" || starts_with(outcome, "nospace: ")));
    CHECK((outcome == "ok" || Catch::Contains(target.string()).match(outcome)));
    if (outcome == "ok") {
      ++opened;
    } else {
      ++refused;
      for (const char* f : files)
        if (outcome.find(f) != std::string::npos) failing_files.insert(f);
    }
  }
  CHECK(refused > 0);
  CHECK(opened > 0);
  for (const char* f : files) {
    INFO(f);
    CHECK(failing_files.count(f) == 1);
  }
}

// Store (a board or a checkpoint store) opened under a missing directory and under a regular file:
// an io_error (no OwnError) that names the path, and nothing created. `noun` names a Store.
template <class Store, class OwnError>
void check_missing_parent(const temp_dir& dir, const char* noun) {
  SECTION("a missing parent directory is not created") {
    const std::filesystem::path p = dir / "missing" / noun;
    try {
      Store store{p};
      FAIL("opened a " << noun << " under a missing directory");
    } catch (const storage_error& e) {
      const auto* io = dynamic_cast<const io_error*>(&e);
      REQUIRE(io);
      CHECK_FALSE(dynamic_cast<const OwnError*>(&e));
      CHECK(io->error_code() == std::errc::no_such_file_or_directory);
      CHECK(io->path() == p.string());
      CHECK_THAT(e.what(), Catch::Contains(p.string()) && Catch::Contains("no such file or directory"));
    }
    CHECK_FALSE(std::filesystem::exists(dir / "missing"));
  }
  SECTION("a path under a regular file") {
    std::ofstream{dir / "file.txt"} << "x";
    const std::filesystem::path p = dir / "file.txt" / noun;
    try {
      Store store{p};
      FAIL("opened a " << noun << " under a file");
    } catch (const io_error& e) {
      CHECK(e.error_code() == std::errc::not_a_directory);
      CHECK_THAT(e.what(), Catch::Contains(p.string()) && Catch::Contains("not a directory"));
    }
  }
}

// Permission denied: make(path) leaves root's store at dir/shared/<name> (0644 files in a 0755
// directory); as nobody, open(path) fails there and at a new path with io_errors that name them.
template <class Make, class Open>
void check_permission_denied(const temp_dir& dir, const char* name, Make&& make, Open&& open) {
  const std::filesystem::path shared = dir / "shared";
  std::filesystem::create_directory(shared);
  using std::filesystem::perms;
  std::filesystem::permissions(dir.path(), perms::owner_all | perms::group_read | perms::group_exec |
                                               perms::others_read | perms::others_exec);
  make(shared / name);
  const child_result r = in_child_as_nobody([&](report& rep) {
    rep.set("new", attempt([&] { open(shared / "new"); }));
    rep.set("existing", attempt([&] { open(shared / name); }));
    return 0;
  });
  if (skipped(r, "skipped: cannot drop privileges here")) return;
  REQUIRE(r.code == 0);
  CHECK_THAT(r.values.at("new"), Catch::Contains(cat("io: flowkit: create ", (shared / "new").string())) &&
                                     Catch::Contains("permission denied"));
  CHECK_THAT(r.values.at("existing"), Catch::Contains("io: flowkit: ") &&
                                          Catch::Contains((shared / name).string()) &&
                                          Catch::Contains("permission denied"));
  CHECK_FALSE(std::filesystem::exists(shared / "new"));
}

// A read-only filesystem: make(path) leaves a store at dir/mnt/<name> on a private tmpfs, which is
// then remounted read-only; open(path) fails there and at a new path with io_errors that name them.
template <class Make, class Open>
void check_read_only_filesystem(const temp_dir& dir, const char* name, Make&& make, Open&& open) {
  const std::filesystem::path mnt = dir / "mnt";
  std::filesystem::create_directory(mnt);
  const child_result r = in_child_on_tmpfs(mnt, std::size_t{1} << 20, [&](report& rep) {
    make(mnt / name);
    if (!remount_read_only(mnt)) return cannot_run;
    rep.set("new", attempt([&] { open(mnt / "new"); }));
    rep.set("existing", attempt([&] { open(mnt / name); }));
    return 0;
  });
  if (skipped(r, "skipped: cannot mount a tmpfs in a private mount namespace here")) return;
  REQUIRE(r.code == 0);
  CHECK_THAT(r.values.at("new"), Catch::Contains(cat("io: flowkit: create ", (mnt / "new").string())) &&
                                     Catch::Contains("read-only file system"));
  CHECK_THAT(r.values.at("existing"), Catch::Contains("io: ") && Catch::Contains((mnt / name).string()) &&
                                          Catch::Contains("read-only file system"));
}

// Writes raw bytes into one of a store's databases (a board's or a checkpoint store's), as damage
// would.
template <class Store>
void poke(Store& store, const char* db, std::string_view key, std::string_view value) {
  store.environment()->write([&](detail::lmdb_txn& t) { t.put(*t.open_dbi(db, 0), key, value); });
}

// An LMDB environment made by another program in directory `dir` (created), holding `databases`:
// each one's name ("" for LMDB's main database) and its keys and values.
using lmdb_contents = std::map<std::string, std::map<std::string, std::string>>;
inline void make_lmdb_environment(const std::filesystem::path& dir, const lmdb_contents& databases = {}) {
  std::filesystem::create_directory(dir);
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 4) == 0);
  REQUIRE(mdb_env_open(env, dir.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  for (const auto& [name, pairs] : databases) {
    const bool main_db = name.empty();
    MDB_dbi dbi{};
    REQUIRE(mdb_dbi_open(txn, main_db ? nullptr : name.c_str(), main_db ? 0 : MDB_CREATE, &dbi) == 0);
    for (const auto& [key, value] : pairs) {
      MDB_val k{key.size(), const_cast<char*>(key.data())}, v{value.size(), const_cast<char*>(value.data())};
      REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
    }
  }
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

}  // namespace flowkit::test
