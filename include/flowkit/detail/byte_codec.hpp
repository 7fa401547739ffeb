#pragma once
// The byte primitives of flowkit's stored records, shared by the jobboard's job records
// (jobs/record_codec.hpp) and the checkpoint store's records (persistence/record_codec.hpp):
// little-endian integers, strings as a u32 length and their bytes, and times as i64 nanoseconds
// since the epoch. The layouts built on them, and their checksums, are in those headers.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace flowkit::detail {

// Appends the low `bytes` bytes of v, least significant first.
inline void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
// Overwrites out[at, at + bytes) with the low `bytes` bytes of v, least significant first.
inline void set_le(std::string& out, std::size_t at, std::uint64_t v, int bytes) noexcept {
  for (int i = 0; i < bytes; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
// The little-endian integer of in[at, at + bytes); the caller checks that those bytes exist.
inline std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  return v;
}
// Appends s as its u32 length and its bytes.
inline void put_str(std::string& out, std::string_view s) {
  put_le(out, s.size(), 4);
  out.append(s);
}

// A time as stored: nanoseconds since the epoch.
inline std::int64_t to_ns(std::chrono::system_clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
inline std::chrono::system_clock::time_point from_ns(std::int64_t ns) noexcept {
  return std::chrono::system_clock::time_point{
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds{ns})};
}

}  // namespace flowkit::detail
