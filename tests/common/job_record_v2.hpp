#pragma once
// A job record as record version 2 wrote it (before the claim's time, the back-off and the
// history), built here byte by byte from its documented layout rather than by the codec, so that
// the tests and the fuzzer's seeds check that boards still read what an older flowkit wrote:
//
//   0  u8  record version (2)   1  u8  priority   2  u16 zero   4  u32 FNV-1a of [0,4) and [8,end)
//   8  u64 sequence   16 i64 created   24 i64 claim expiry   32 u64 token
//   40 seven strings (u32 length + bytes): owner, owner identity, name, flow, flow detail,
//      store signature, store bytes

#include <flowkit/jobs/job.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace flowkit::test {

inline std::string job_record_v2(const detail::job_record& r) {
  std::string out;
  auto le = [&](std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto ns = [](job_time t) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  };
  out.push_back('\x02');
  out.push_back(static_cast<char>(r.priority));
  le(0, 2);
  le(0, 4);  // the checksum, below
  le(r.sequence, 8);
  le(ns(r.created), 8);
  le(ns(r.expires), 8);
  le(r.token, 8);
  for (std::string_view s :
       {std::string_view{r.owner}, std::string_view{r.owner_id}, std::string_view{r.name},
        std::string_view{r.flow}, std::string_view{r.flow_detail}, std::string_view{r.store_signature},
        std::string_view{r.store_bytes}}) {
    le(s.size(), 4);
    out.append(s);
  }
  std::uint32_t h = 2166136261u;  // FNV-1a over [0,4) then [8,end)
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i == 4) i = 8;
    h ^= static_cast<unsigned char>(out[i]);
    h *= 16777619u;
  }
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(4 + i)] = static_cast<char>((h >> (8 * i)) & 0xff);
  return out;
}

}  // namespace flowkit::test
