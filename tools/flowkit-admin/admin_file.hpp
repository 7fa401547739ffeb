#pragma once
// What PATH holds, opened the way flowkit-admin needs it: the board and the checkpoint store each
// with must_exist, so that nothing is ever created, and opened only when a command reads them. A
// path holding one of the two serves the commands of that one; a command that needs the other is
// told, in one line, what the path holds instead. Every refusal becomes a `failure` with its exit
// code (docs/admin.md lists them).

#include "output.hpp"

#include <flowkit/lmdb.hpp>

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace flowkit::admin {

// flowkit-admin's exit codes.
enum exit_code : int {
  success = 0,
  not_found = 1,       // the job or run named is not there
  usage = 2,           // the command line is wrong
  nothing_there = 3,   // no board or store at PATH, or not the one the command reads
  not_flowkit = 4,     // PATH holds something else
  damaged = 5,         // a truncated file, or a record the command needs does not decode
  other_format = 6,    // a board or store of a format this flowkit does not read
  storage_failed = 7,  // the filesystem or LMDB failed (permission denied, an I/O error)
  refused = 8,         // another refusal of the board or the store
  internal = 9,        // anything else: a bug in flowkit-admin
};

// What flowkit-admin reports when a command cannot be done: one line, and the exit code.
class failure : public std::runtime_error {
 public:
  failure(exit_code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  exit_code code() const noexcept { return code_; }

 private:
  exit_code code_;
};

// A flowkit error's message, as flowkit-admin prints it: without the library's "flowkit: "
// prefix (the tool's name goes in front instead), on one line.
inline std::string one_line(std::string_view what) {
  constexpr std::string_view prefix = "flowkit: ";
  if (what.starts_with(prefix)) what.remove_prefix(prefix.size());
  std::string s{what};
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// The exit code of an error a command let through.
inline exit_code code_of(const std::exception& e) {
  if (const auto* f = dynamic_cast<const failure*>(&e)) return f->code();
  if (dynamic_cast<const board_not_found*>(&e) || dynamic_cast<const store_not_found*>(&e))
    return nothing_there;
  if (dynamic_cast<const not_a_board*>(&e) || dynamic_cast<const not_a_store*>(&e)) return not_flowkit;
  if (dynamic_cast<const corrupt_board*>(&e) || dynamic_cast<const corrupt_store*>(&e) ||
      dynamic_cast<const corrupt_job*>(&e) || dynamic_cast<const corrupt_record*>(&e))
    return damaged;
  if (dynamic_cast<const incompatible_board_format*>(&e) ||
      dynamic_cast<const incompatible_store_format*>(&e))
    return other_format;
  if (dynamic_cast<const job_not_found*>(&e) || dynamic_cast<const run_not_found*>(&e)) return not_found;
  if (dynamic_cast<const io_error*>(&e)) return storage_failed;
  if (dynamic_cast<const jobboard_error*>(&e) || dynamic_cast<const persistence_error*>(&e)) return refused;
  if (dynamic_cast<const std::invalid_argument*>(&e)) return usage;
  return internal;
}

class admin_file {
 public:
  explicit admin_file(std::string path) : path_(std::move(path)) {}

  const std::string& path() const noexcept { return path_; }

  // The board, or a failure (nothing_there) that says what the path holds instead.
  lmdb_jobboard& board() {
    if (lmdb_jobboard* b = board_if_present()) return *b;
    if (store_if_present())
      throw failure(nothing_there,
                    concat("no jobboard at ", path_, ": it holds a checkpoint store only (see `runs list`)"));
    throw failure(nothing_there, concat("no jobboard or checkpoint store at ", path_, ": ", board_absent_));
  }

  // The checkpoint store, or a failure (nothing_there) that says what the path holds instead.
  lmdb_backend& store() {
    if (lmdb_backend* s = store_if_present()) return *s;
    if (board_if_present())
      throw failure(nothing_there,
                    concat("no checkpoint store at ", path_, ": it holds a jobboard only (see `jobs list`)"));
    throw failure(nothing_there, concat("no jobboard or checkpoint store at ", path_, ": ", store_absent_));
  }

  // The board if the path holds one, else null; any other refusal (not flowkit's, damaged, another
  // format, an I/O error) is thrown.
  lmdb_jobboard* board_if_present() {
    if (!board_tried_) {
      board_tried_ = true;
      try {
        board_.emplace(path_, lmdb_jobboard_options{.must_exist = true});
      } catch (const board_not_found& e) {
        board_absent_ = why(e.what(), "no jobboard at ");
      }
    }
    return board_ ? &*board_ : nullptr;
  }

  lmdb_backend* store_if_present() {
    if (!store_tried_) {
      store_tried_ = true;
      try {
        store_.emplace(path_, lmdb_backend_options{.must_exist = true});
      } catch (const store_not_found& e) {
        store_absent_ = why(e.what(), "no checkpoint store at ");
      }
    }
    return store_ ? &*store_ : nullptr;
  }

  // At least one of the two, for commands that read whichever is there.
  void require_any() {
    const bool has_board = board_if_present() != nullptr;
    if (store_if_present() == nullptr && !has_board)
      throw failure(nothing_there, concat("no jobboard or checkpoint store at ", path_, ": ", board_absent_));
  }

 private:
  // The reason in "flowkit: <head><path>: <reason>".
  std::string why(std::string_view what, std::string_view head) const {
    const std::string lead = concat("flowkit: ", head, path_, ": ");
    return what.starts_with(lead) ? std::string{what.substr(lead.size())} : one_line(what);
  }

  std::string path_;
  bool board_tried_ = false, store_tried_ = false;
  std::optional<lmdb_jobboard> board_;
  std::optional<lmdb_backend> store_;
  std::string board_absent_, store_absent_;  // why there is none
};

}  // namespace flowkit::admin
