#pragma once
// The mark of a flowkit LMDB file: a database fk.file holding "magic" = "flowkit" and "format" =
// u32. Whatever opens the file first (a jobboard or a checkpoint store) writes it; each opener
// then keeps its own databases and its own format record beside it. An environment that holds
// data and no mark is another program's, whatever its databases are called, and is refused
// before anything is written to it.

#include <flowkit/detail/lmdb_env.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowkit::detail {

inline constexpr std::string_view file_magic = "flowkit";
inline constexpr std::uint32_t file_format = 1;

// What the file's main database holds, read in the opener's write transaction.
struct file_contents {
  bool empty = true;                   // no database, no key: a new file
  bool marked = false;                 // fk.file is there and is flowkit's mark of this format
  std::string problem;                 // why the file is not flowkit's (when it holds data unmarked)
  std::vector<std::string> databases;  // the named databases

  bool has(std::string_view database) const {
    for (const std::string& d : databases)
      if (d == database) return true;
    return false;
  }
};

inline std::uint32_t read_u32_le(std::string_view bytes) noexcept {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return v;
}

inline file_contents read_file_contents(lmdb_txn& t) {
  file_contents c;
  const auto main = t.open_dbi(nullptr, 0);
  {
    lmdb_cursor cur{t, *main};
    for (auto kv = cur.first(); kv; kv = cur.next()) {
      c.empty = false;
      c.databases.emplace_back(kv->first);
    }
  }
  if (c.empty) return c;
  if (!c.has("fk.file")) {
    c.problem = "an LMDB environment of another program (it holds data and no flowkit marker, fk.file)";
    return c;
  }
  const MDB_dbi file = *t.open_dbi("fk.file", 0);
  const auto magic = t.get(file, "magic");
  const auto format = t.get(file, "format");
  if (!magic || *magic != file_magic || !format || format->size() != 4) {
    c.problem = "its fk.file is not flowkit's marker";
  } else if (const std::uint32_t found = read_u32_le(*format); found != file_format) {
    c.problem = "a flowkit file of format " + std::to_string(found) + "; this flowkit reads " +
                std::to_string(file_format);
  } else {
    c.marked = true;
  }
  return c;
}

// Marks a new file as flowkit's.
inline void write_file_marker(lmdb_txn& t) {
  const MDB_dbi file = *t.open_dbi("fk.file", MDB_CREATE);
  t.put(file, "magic", file_magic);
  std::string f;
  for (int i = 0; i < 4; ++i) f.push_back(static_cast<char>((file_format >> (8 * i)) & 0xFFu));
  t.put(file, "format", f);
}

}  // namespace flowkit::detail
