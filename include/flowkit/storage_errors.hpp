#pragma once
// The root of what flowkit's stores throw, shared by the jobboard and the checkpoint store:
//
//   std::runtime_error
//   └── fk::storage_error           every error of a store (a jobboard or a checkpoint store)
//       ├── fk::io_error            the storage under it failed: path(), error_code(), no_space()
//       │   └── fk::lmdb_error      an LMDB call failed: code() (detail/lmdb_env.hpp)
//       ├── fk::jobboard_error      the board's own refusals (jobs/errors.hpp)
//       └── fk::persistence_error   the checkpoint store's own refusals (persistence/errors.hpp)
//
// A board throws jobboard_errors and io_errors, a checkpoint store persistence_errors and
// io_errors. An io_error is neither a board's nor a store's: on one file both share one LMDB
// environment, and a checkpoint commit that checks a board's claim in its own transaction
// (lmdb_backend::commit with a guard) fails, when the disk does, for both at once.

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace flowkit {

/// Base of every error a flowkit store throws.
class storage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The storage under a store failed: the disk is full, a file cannot be created or opened
/// (permission denied, a missing parent directory, a read-only filesystem), an I/O error, an LMDB
/// call that failed. what() reads "flowkit: <doing> <path>: <why>", e.g. "flowkit: reserve
/// /srv/board/lock.mdb: no space left on device"; path() is the file or directory concerned and
/// error_code() the system's (or LMDB's) code.
class io_error : public storage_error {
 public:
  /// An error of `doing` (e.g. "open") on `path`, described by ec's message.
  io_error(std::string path, std::error_code ec, std::string_view doing)
      : storage_error(describe(doing, path, lowercase_first(ec.message()))),
        path_(std::move(path)),
        ec_(ec) {}
  /// The same, with `why` as the description.
  io_error(std::string path, std::error_code ec, std::string_view doing, const std::string& why)
      : storage_error(describe(doing, path, why)), path_(std::move(path)), ec_(ec) {}

  /// The file or directory concerned.
  const std::string& path() const noexcept { return path_; }
  /// The system's (or LMDB's) error code.
  const std::error_code& error_code() const noexcept { return ec_; }
  /// The filesystem is full (ENOSPC).
  bool no_space() const noexcept { return ec_ == std::errc::no_space_on_device; }

  /// "No space left on device" -> "no space left on device": messages read as one sentence.
  static std::string lowercase_first(std::string s) {
    if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z' && (s.size() < 2 || !(s[1] >= 'A' && s[1] <= 'Z')))
      s[0] = static_cast<char>(s[0] - 'A' + 'a');
    return s;
  }

 private:
  static std::string describe(std::string_view doing, const std::string& path, const std::string& why) {
    std::string w{"flowkit: "};
    w += doing;
    w += ' ';
    w += path;
    w += ": ";
    w += why;
    return w;
  }

  std::string path_;
  std::error_code ec_;
};

}  // namespace flowkit
