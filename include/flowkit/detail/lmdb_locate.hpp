#pragma once
// What a path given to an LMDB store holds, decided before LMDB touches it: the one way every
// flowkit store (the jobboard, the checkpoint store) finds and checks its file. Each store names
// the refusals with its own errors (see locate_lmdb); failures of the filesystem are fk::io_errors
// naming the path (permission denied, a missing parent directory, not a directory, a read-only or
// full filesystem).
//
// - missing: created (unless must_exist), as a directory with an empty data.mdb, or with
//   single_file_if_new as one empty file; only the last component is created, never a parent;
// - a directory: its data.mdb if that is an LMDB file (or empty); an empty directory gets one;
//   a directory that holds other files is refused;
// - a regular file: used if it is an LMDB data file (or empty), else refused; a data.mdb with a
//   lock.mdb beside it is the data file of a directory store;
// - anything else (a socket, a device) is refused.
//
// An existing data file must hold what its meta pages say is in use: LMDB maps the file, and
// reading a page past its end kills the process with SIGBUS. A shorter file was truncated and is
// refused here, before LMDB opens (and maps) it. Nothing is written next to a path that is
// refused.

#include <flowkit/detail/lmdb_durability.hpp>
#include <flowkit/detail/lmdb_env.hpp>
#include <flowkit/detail/lmdb_notify.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace flowkit::detail {

struct locate_options {
  bool single_file_if_new = false;  // create a missing path as one file rather than a directory
  bool must_exist = false;          // refuse (absent) instead of creating a new store
};

// LMDB 0.9's meta page, on a 64-bit machine: a 16-byte page header, then MDB_meta: magic (u32),
// version (u32), map address and size (8 bytes each), two MDB_db of 48 bytes (the first one's
// first word is the page size in a meta page), the last page in use and the transaction id (8
// bytes each).
namespace lmdb_meta {
inline constexpr std::uint32_t magic = 0xBEEFC0DEu;
inline constexpr std::size_t magic_at = 16, map_size_at = 32, page_size_at = 40, last_page_at = 136,
                             txnid_at = 144;
inline constexpr std::size_t bytes = 152;

inline std::uint64_t word(const std::array<char, bytes>& m, std::size_t at, std::size_t n) noexcept {
  std::uint64_t v = 0;
  std::memcpy(&v, m.data() + at, n);  // the machine's byte order: LMDB's files are for one machine
  return v;
}
inline bool valid_page_size(std::uint64_t p) noexcept { return p >= 512 && p <= 65536 && (p & (p - 1)) == 0; }
}  // namespace lmdb_meta

// Checks an existing, non-empty data file f. refuse.not_ours(what_if_not) if it is not an LMDB
// file; refuse.damaged(f, why) if it is shorter than its newest meta page says is in use (or than
// LMDB's two meta pages).
template <class Refusals>
void check_lmdb_data_file(const std::filesystem::path& f, const std::string& what_if_not,
                          const Refusals& refuse) {
  namespace meta = lmdb_meta;
  const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_io(errno, f, "open");
  std::array<char, meta::bytes> first{}, second{};
  ssize_t got_first = 0, got_second = 0;
  int err = 0;
  struct stat st {};
  const int stat_rc = ::fstat(fd, &st);
  if (stat_rc != 0) err = errno;
  if (stat_rc == 0 && (got_first = ::pread(fd, first.data(), first.size(), 0)) < 0) err = errno;
  const std::uint64_t psize =
      got_first == static_cast<ssize_t>(meta::bytes) ? meta::word(first, meta::page_size_at, 4) : 0;
  // The second meta page is read before the file's size is compared: the size only grows.
  if (err == 0 && meta::valid_page_size(psize) && st.st_size >= static_cast<off_t>(2 * psize) &&
      (got_second = ::pread(fd, second.data(), second.size(), static_cast<off_t>(psize))) < 0)
    err = errno;
  if (err == 0 && ::fstat(fd, &st) != 0) err = errno;
  ::close(fd);
  if (err != 0) throw_io(err, f, stat_rc != 0 ? "stat" : "read");

  if (got_first != static_cast<ssize_t>(meta::bytes) || meta::word(first, meta::magic_at, 4) != meta::magic)
    refuse.not_ours(what_if_not);
  if (!meta::valid_page_size(psize))
    refuse.not_ours("its meta page gives a page size of " + std::to_string(psize) + " bytes");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < 2 * psize)
    refuse.damaged(f, "the file is " + std::to_string(size) +
                          " bytes; an LMDB file holds two meta pages of " + std::to_string(psize) +
                          " bytes: it was truncated");
  // LMDB uses the meta page with the higher transaction id.
  const std::array<char, meta::bytes>* newest = &first;
  if (got_second == static_cast<ssize_t>(meta::bytes) &&
      meta::word(second, meta::magic_at, 4) == meta::magic &&
      meta::word(second, meta::txnid_at, 8) > meta::word(first, meta::txnid_at, 8))
    newest = &second;
  const std::uint64_t last = meta::word(*newest, meta::last_page_at, 8);
  // (last + 1) * psize, without overflow: a damaged meta page may say anything.
  if (last >= size / psize)
    refuse.damaged(
        f, "the file is " + std::to_string(size) + " bytes but its meta page says " +
               (last < (std::uint64_t{1} << 47) ? std::to_string((last + 1) * psize) : std::string{"more"}) +
               " are in use (pages 0.." + std::to_string(last) + " of " + std::to_string(psize) +
               " bytes): it was truncated");
}

// Where the store at path lives, creating it if need be (see the top of this file). Refusals
// is the store's way of naming what it refuses; each member must throw:
//   not_ours(why)        the path holds something else (not_a_board, not_a_store);
//   damaged(file, why)   the data file was truncated (corrupt_board, corrupt_store);
//   absent(why)          must_exist, and there is no store yet (board_not_found, store_not_found).
template <class Refusals>
lmdb_location locate_lmdb(const std::filesystem::path& path, const locate_options& opts,
                          const Refusals& refuse) {
  namespace fs = std::filesystem;
  auto size_of = [](const fs::path& f) -> off_t {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) throw_io(errno, f, "stat");
    return st.st_size;
  };
  auto touch = [](const fs::path& f) {
    const int fd = ::open(f.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw_io(errno, f, "create");
    ::close(fd);
  };
  auto make_dir = [](const fs::path& d) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) throw_io(errno, d, "create");
  };
  auto absent = [&](const std::string& why) {
    if (opts.must_exist) refuse.absent(why);
  };

  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT && errno != ENOTDIR) throw_io(errno, path, "stat");
    absent("it does not exist");
    if (opts.single_file_if_new) {
      touch(path);
      return {path, false};
    }
    make_dir(path);
    touch(path / "data.mdb");
    return {path / "data.mdb", true};
  }
  if (S_ISDIR(st.st_mode)) {
    const fs::path data = path / "data.mdb";
    std::error_code ec;
    if (fs::exists(data, ec)) {
      if (size_of(data) == 0)
        absent("its data.mdb is empty");
      else
        check_lmdb_data_file(data, "data.mdb is not an LMDB file", refuse);
      return {data, true};
    }
    fs::directory_iterator it{path, ec};
    if (ec) throw io_error(path.string(), ec, "list");
    if (it != fs::directory_iterator{}) refuse.not_ours("a directory that holds other files and no data.mdb");
    absent("an empty directory");
    touch(data);
    return {data, true};
  }
  if (S_ISREG(st.st_mode)) {
    if (st.st_size == 0)
      absent("an empty file");
    else
      check_lmdb_data_file(path, "not an LMDB file", refuse);
    // The data file of a directory store: open it as that store, with its lock file, or two
    // lock files would guard one data file.
    std::error_code ec;
    if (path.filename() == "data.mdb" && fs::exists(path.parent_path() / "lock.mdb", ec)) return {path, true};
    return {path, false};
  }
  refuse.not_ours("neither a directory nor a regular file");
  return {};  // not reached: not_ours throws
}

// A store's Refusals for locate_lmdb and open_lmdb_store, made of its error classes: NotOurs
// (not_a_board, not_a_store), Damaged (corrupt_board, corrupt_store) and Absent (board_not_found,
// store_not_found), each constructed from a path and why.
template <class NotOurs, class Damaged, class Absent>
struct lmdb_refusals {
  std::string path;
  [[noreturn]] void not_ours(const std::string& why) const { throw NotOurs(path, why); }
  [[noreturn]] void damaged(const std::filesystem::path& file, const std::string& why) const {
    throw Damaged(file.string(), why);
  }
  [[noreturn]] void absent(const std::string& why) const { throw Absent(path, why); }
};

// Opens the environment of the store at path as its options say (lmdb_backend_options,
// lmdb_jobboard_options: durability, map_size, max_map_size, single_file, must_exist): found or
// created by locate_lmdb with the store's refusals, its map growing from map_size up to
// max_map_size (never below map_size). A file LMDB cannot read is not the store's
// (refuse.not_ours).
template <class StoreOptions, class Refusals>
std::shared_ptr<lmdb_env> open_lmdb_store(const std::filesystem::path& path, const StoreOptions& opts,
                                          const Refusals& refuse) {
  const lmdb_location where =
      locate_lmdb(path, {.single_file_if_new = opts.single_file, .must_exist = opts.must_exist}, refuse);
  lmdb_env_options eo;
  eo.map_size = opts.map_size;
  eo.max_map_size = std::max(opts.max_map_size, opts.map_size);
  eo.sync_flags = lmdb_sync_flags(opts.durability);
  try {
    return lmdb_env::open(where, eo);
  } catch (const lmdb_error& e) {
    if (e.code() == MDB_INVALID || e.code() == MDB_VERSION_MISMATCH) refuse.not_ours(e.what());
    throw;
  }
}

}  // namespace flowkit::detail
