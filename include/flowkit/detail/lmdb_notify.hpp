#pragma once
// A wake-up channel between the processes that share an LMDB file: a sequence counter in a small
// shared mapping (a file beside the data file) and a futex on it. A writer bumps the counter
// after its commit and wakes sleepers only if some are registered; a waiter reads the counter,
// checks the database, and sleeps on the counter value it read, so a commit that lands in between
// makes the sleep return at once. No polling, no lock that a killed process could leave held: a
// process killed while waiting leaves the waiter count too high, which costs later writers one
// needless wake syscall each, nothing else. Linux only (futex on a MAP_SHARED file mapping).

#include <flowkit/storage_errors.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace flowkit::detail {

// An fk::io_error naming file: "flowkit: <doing> <file>: <strerror(err)>".
[[noreturn]] inline void throw_io(int err, const std::filesystem::path& file, std::string_view doing) {
  throw io_error(file.string(), std::error_code{err, std::generic_category()}, doing);
}

// Makes sure the first `bytes` of fd's file (at least its current size) are allocated on disk, so
// that stores through a MAP_SHARED mapping never fault with SIGBUS on a full filesystem: an
// ftruncate'd file is sparse, and the page it lacks is allocated at the first write, or not. Never
// shrinks the file, never changes its contents; grows its size only up to `bytes`. A filesystem
// without fallocate(2) is left as it is (no emulation that would write over live data).
inline void reserve_file(int fd, const std::filesystem::path& file, off_t bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_io(errno, file, "stat");
  const off_t len = std::max(bytes, st.st_size);
  if (len == 0) return;
  int rc = 0;
  while ((rc = ::fallocate(fd, 0, 0, len)) != 0 && errno == EINTR) {
  }
  if (rc != 0 && errno != EOPNOTSUPP && errno != ENOSYS) throw_io(errno, file, "reserve");
}

class shared_notifier {
 public:
  static constexpr std::size_t file_size = 4096;

  explicit shared_notifier(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw_io(errno, file, "open");
    try {
      // Allocated, not ftruncate'd: a sparse page would fault (SIGBUS) at the first notify() on a
      // full filesystem, after a commit that has already happened.
      reserve_file(fd, file, static_cast<off_t>(file_size));
    } catch (...) {
      ::close(fd);
      throw;
    }
    void* p = ::mmap(nullptr, file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const int err = errno;
    ::close(fd);  // the mapping keeps the file; no fcntl locks live on this file
    if (p == MAP_FAILED) throw_io(err, file, "map");
    words_ = static_cast<std::uint32_t*>(p);
  }
  shared_notifier(const shared_notifier&) = delete;
  shared_notifier& operator=(const shared_notifier&) = delete;
  ~shared_notifier() { ::munmap(words_, file_size); }

  std::uint32_t sequence() const noexcept { return seq().load(std::memory_order_seq_cst); }
  // Processes (threads) asleep in wait(), plus any killed while asleep: for tests and tools.
  std::uint32_t waiting() const noexcept { return waiters().load(std::memory_order_seq_cst); }

  // After a commit that waiters may care about.
  void notify() noexcept {
    seq().fetch_add(1, std::memory_order_seq_cst);
    if (waiters().load(std::memory_order_seq_cst) != 0)
      ::syscall(SYS_futex, words_, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
  }

  // Sleeps while sequence() == seen, at most timeout. May return early (signals, spurious wakes):
  // callers re-check their condition in a loop.
  void wait(std::uint32_t seen, std::chrono::nanoseconds timeout) noexcept {
    if (timeout <= timeout.zero()) return;
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(s.count());
    ts.tv_nsec = static_cast<long>((timeout - s).count());
    // Dekker with notify(): we publish ourselves, then the kernel compares the counter; the writer
    // bumps the counter, then looks for waiters. One of the two sees the other.
    waiters().fetch_add(1, std::memory_order_seq_cst);
    ::syscall(SYS_futex, words_, FUTEX_WAIT, seen, &ts, nullptr, 0);
    waiters().fetch_sub(1, std::memory_order_seq_cst);
  }

 private:
  std::atomic_ref<std::uint32_t> seq() const noexcept { return std::atomic_ref<std::uint32_t>{words_[0]}; }
  std::atomic_ref<std::uint32_t> waiters() const noexcept {
    return std::atomic_ref<std::uint32_t>{words_[1]};
  }

  std::uint32_t* words_ = nullptr;
};

}  // namespace flowkit::detail
