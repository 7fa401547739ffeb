#pragma once
// What a path given to an LMDB store holds, decided before LMDB touches it, so that a path that
// is not a store is refused without a byte written at or next to it. The same rules as the
// jobboard's detail::locate_board, with the refusal left to the caller (each store throws its own
// error).
//
// - missing: created, as a directory with an empty data.mdb (or, single_file_if_new, as one
//   empty file);
// - a directory: its data.mdb if that is an LMDB file (or empty); an empty directory gets one;
//   a directory that holds other files is refused;
// - a regular file: used if it is an LMDB data file (or empty), else refused; a data.mdb with a
//   lock.mdb beside it is the data file of a directory store.

#include <flowkit/detail/lmdb_env.hpp>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace flowkit::detail {

// True if f starts with an LMDB meta page: a 16-byte page header, then LMDB's magic.
inline bool is_lmdb_data_file(const std::filesystem::path& f) {
  std::ifstream in{f, std::ios::binary};
  std::array<char, 24> head{};
  if (!in.read(head.data(), head.size())) return false;
  std::uint32_t magic = 0;
  std::memcpy(&magic, head.data() + 16, sizeof magic);
  return magic == 0xBEEFC0DEu;
}

// refuse(why) must throw.
template <class Refuse>
lmdb_location locate_lmdb(const std::filesystem::path& path, bool single_file_if_new, Refuse&& refuse) {
  namespace fs = std::filesystem;
  std::error_code ec;
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
      if (fs::file_size(data) != 0 && !is_lmdb_data_file(data)) refuse("data.mdb is not an LMDB file");
      return {data, true};
    }
    if (!fs::is_empty(path)) refuse("a directory that holds other files and no data.mdb");
    touch(data);
    return {data, true};
  }
  if (fs::is_regular_file(st)) {
    if (fs::file_size(path) != 0 && !is_lmdb_data_file(path)) refuse("not an LMDB file");
    if (path.filename() == "data.mdb" && fs::exists(path.parent_path() / "lock.mdb")) return {path, true};
    return {path, false};
  }
  refuse("neither a directory nor a regular file");
  return {};  // not reached: refuse throws
}

}  // namespace flowkit::detail
