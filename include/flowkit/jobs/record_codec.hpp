#pragma once
// The byte layout of a job record in a board file (board format 2, record version 3). Little-endian,
// fixed header first so that claim checks read a few fields; a checksum over the whole record so
// that a damaged record is reported as corrupt instead of served.
//
//   0  u8  record version (3)        1  u8  priority        2  u16 zero
//   4  u32 FNV-1a of bytes [0,4) and [8,end)
//   8  u64 sequence    16 i64 created (ns since epoch)    24 i64 claim expiry (ns)
//   32 u64 token (the fencing token)
//   40 i64 claimed: when the current claim was made (ns)
//   48 i64 not before: the end of a back-off (ns); INT64_MIN when the job has none
//   56 seven strings, each u32 length + bytes: owner, owner identity (the claiming process),
//      name, flow, flow_detail, store signature, store bytes (a Boost binary archive without
//      header)
//   then the history: u32 count, and each attempt, oldest first: u64 token, i64 claimed (ns),
//      i64 ended (ns), u8 how (0 abandoned, 1 expired, 2 revoked), and three strings: owner,
//      owner identity, reason
//
// Record version 2 (written before the history) is the same without bytes 40..56 and without the
// history; it is read as a record with neither (a claim's time unknown: the epoch), and written
// back as version 3 by the next change of the job.
//
// Every decoder of a board's stored bytes is here (decode_record, view_record,
// decode_trash_entry, id_from_key): bytes in, a record out or corrupt_job. A fuzzer drives them
// (tests/fuzz).

#include <flowkit/detail/byte_codec.hpp>
#include <flowkit/jobs/job.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowkit::detail {

inline constexpr std::uint8_t record_version = 3;
inline constexpr std::uint8_t record_version_2 = 2;  // still read
inline constexpr std::size_t record_strings = 7;
inline constexpr std::size_t record_header = 56;
inline constexpr std::size_t record_header_2 = 40;
inline constexpr std::int64_t no_time_ns = std::numeric_limits<std::int64_t>::min();  // not before: none
inline constexpr std::size_t attempt_fixed = 8 + 8 + 8 + 1;  // token, claimed, ended, how

inline std::uint32_t fnv1a(std::string_view bytes, std::uint32_t h = 2166136261u) noexcept {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

inline std::uint32_t record_checksum(std::string_view rec) noexcept {
  return fnv1a(rec.substr(8), fnv1a(rec.substr(0, 4)));
}

// Replaces out with r's bytes (out's capacity is kept: boards reuse one buffer).
inline void encode_record(const job_record& r, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(record_version));
  out.push_back(static_cast<char>(r.priority));
  put_le(out, 0, 2);
  put_le(out, 0, 4);  // checksum, below
  put_le(out, r.sequence, 8);
  put_le(out, static_cast<std::uint64_t>(to_ns(r.created)), 8);
  put_le(out, static_cast<std::uint64_t>(to_ns(r.expires)), 8);
  put_le(out, r.token, 8);
  put_le(out, static_cast<std::uint64_t>(to_ns(r.claimed)), 8);
  put_le(out, static_cast<std::uint64_t>(r.not_before ? to_ns(*r.not_before) : no_time_ns), 8);
  for (std::string_view s :
       {std::string_view{r.owner}, std::string_view{r.owner_id}, std::string_view{r.name},
        std::string_view{r.flow}, std::string_view{r.flow_detail}, std::string_view{r.store_signature},
        std::string_view{r.store_bytes}})
    put_str(out, s);
  put_le(out, r.attempts.size(), 4);
  for (const job_attempt& a : r.attempts) {
    put_le(out, a.token, 8);
    put_le(out, static_cast<std::uint64_t>(to_ns(a.claimed)), 8);
    put_le(out, static_cast<std::uint64_t>(to_ns(a.ended)), 8);
    out.push_back(static_cast<char>(a.how));
    put_str(out, a.owner);
    put_str(out, a.identity);
    put_str(out, a.reason);
  }
  set_le(out, 4, record_checksum(out), 4);
}

// The fields claim decisions need, read in place. Throws corrupt_job.
struct record_view {
  std::string_view bytes;
  std::uint8_t version;
  job_priority priority;
  std::uint64_t sequence;
  std::int64_t expires_ns;
  std::uint64_t token;
  std::int64_t not_before_ns;  // no_time_ns: none
  std::string_view owner;

  bool claimed_at(job_time now) const noexcept { return !owner.empty() && from_ns(expires_ns) > now; }
  bool backing_off_at(job_time now) const noexcept {
    return not_before_ns != no_time_ns && from_ns(not_before_ns) > now;
  }
  bool claimable_at(job_time now) const noexcept { return !claimed_at(now) && !backing_off_at(now); }
};

inline record_view view_record(const job_id& id, std::string_view rec) {
  auto bad = [&](const std::string& why) { return corrupt_job(id.str(), why); };
  if (rec.empty()) throw bad("record of 0 bytes is too short");
  const auto version = static_cast<std::uint8_t>(rec[0]);
  if (version != record_version && version != record_version_2)
    throw bad("unknown record version " + std::to_string(version));
  const std::size_t header = version == record_version ? record_header : record_header_2;
  // The strings' lengths, and version 3's attempt count, at the least.
  const std::size_t least = header + record_strings * 4 + (version == record_version ? 4 : 0);
  if (rec.size() < least) throw bad("record of " + std::to_string(rec.size()) + " bytes is too short");
  if (static_cast<std::uint32_t>(get_le(rec, 4, 4)) != record_checksum(rec)) throw bad("checksum mismatch");
  // Version 3 writes zeros there; anything else would not be written back as it was read.
  if (version == record_version && get_le(rec, 2, 2) != 0) throw bad("reserved bytes are not zero");
  const auto prio = static_cast<std::uint8_t>(rec[1]);
  if (prio > 4) throw bad("priority " + std::to_string(prio) + " out of range");
  const std::uint32_t owner_len = static_cast<std::uint32_t>(get_le(rec, header, 4));
  if (owner_len > rec.size() - header - 4) throw bad("field overruns the record");
  return record_view{rec,
                     version,
                     static_cast<job_priority>(prio),
                     get_le(rec, 8, 8),
                     static_cast<std::int64_t>(get_le(rec, 24, 8)),
                     get_le(rec, 32, 8),
                     version == record_version ? static_cast<std::int64_t>(get_le(rec, 48, 8)) : no_time_ns,
                     rec.substr(header + 4, owner_len)};
}

// Reads a record's fields from `at` on; throws corrupt_job where one would overrun it.
class record_reader {
 public:
  record_reader(const job_id& id, std::string_view rec, std::size_t at) : id_(id), rec_(rec), at_(at) {}
  std::size_t at() const noexcept { return at_; }
  std::uint64_t fixed(int bytes) {
    if (rec_.size() - at_ < static_cast<std::size_t>(bytes)) throw corrupt_job(id_.str(), "record truncated");
    const std::uint64_t v = get_le(rec_, at_, bytes);
    at_ += static_cast<std::size_t>(bytes);
    return v;
  }
  void text(std::string& out) {
    const std::size_t len = fixed(4);
    if (len > rec_.size() - at_) throw corrupt_job(id_.str(), "field overruns the record");
    out.assign(rec_.substr(at_, len));
    at_ += len;
  }

 private:
  const job_id& id_;
  std::string_view rec_;
  std::size_t at_;
};

inline job_record decode_record(const job_id& id, std::string_view rec) {
  const record_view v = view_record(id, rec);
  const bool v3 = v.version == record_version;
  job_record r;
  r.id = id;
  r.priority = v.priority;
  r.sequence = v.sequence;
  r.created = from_ns(static_cast<std::int64_t>(get_le(rec, 16, 8)));
  r.expires = from_ns(v.expires_ns);
  r.token = v.token;
  if (v3) {
    r.claimed = from_ns(static_cast<std::int64_t>(get_le(rec, 40, 8)));
    if (v.not_before_ns != no_time_ns) r.not_before = from_ns(v.not_before_ns);
  }
  record_reader in{id, rec, v3 ? record_header : record_header_2};
  for (std::string* field :
       {&r.owner, &r.owner_id, &r.name, &r.flow, &r.flow_detail, &r.store_signature, &r.store_bytes})
    in.text(*field);
  if (v3) {
    const std::size_t count = in.fixed(4);
    // Each attempt takes attempt_fixed + 12 bytes at the least: a count the bytes cannot hold is
    // refused before anything is reserved for it.
    if (count > (rec.size() - in.at()) / (attempt_fixed + 12))
      throw corrupt_job(id.str(), "history of " + std::to_string(count) + " attempts overruns the record");
    r.attempts.resize(count);
    for (job_attempt& a : r.attempts) {
      a.token = in.fixed(8);
      a.claimed = from_ns(static_cast<std::int64_t>(in.fixed(8)));
      a.ended = from_ns(static_cast<std::int64_t>(in.fixed(8)));
      const auto how = static_cast<std::uint8_t>(in.fixed(1));
      if (how > static_cast<std::uint8_t>(attempt_end::revoked))
        throw corrupt_job(id.str(), "attempt end " + std::to_string(how) + " out of range");
      a.how = static_cast<attempt_end>(how);
      in.text(a.owner);
      in.text(a.identity);
      in.text(a.reason);
    }
  }
  if (in.at() != rec.size()) throw corrupt_job(id.str(), "trailing bytes after the record");
  return r;
}

// A trash entry (fk.jobs.trash): u32 length + the job's record, i64 when (ns), then two strings:
// who trashed it (the owner, or the operator) and why. rec_buf is a scratch buffer for the record.
inline void encode_trash_entry(const job_record& r, job_time when, std::string_view by,
                               std::string_view reason, std::string& rec_buf, std::string& out) {
  encode_record(r, rec_buf);
  out.clear();
  put_le(out, rec_buf.size(), 4);
  out += rec_buf;
  put_le(out, static_cast<std::uint64_t>(to_ns(when)), 8);
  put_str(out, by);
  put_str(out, reason);
}

// Decodes a trash entry of job id. Throws corrupt_job; never reads outside v.
inline trashed_job decode_trash_entry(const job_id& id, std::string_view v) {
  auto bad = [&] { return corrupt_job(id.str(), "trash entry truncated"); };
  if (v.size() < 4) throw bad();
  const std::size_t len = get_le(v, 0, 4);
  if (len > v.size() - 4) throw bad();
  job_record r = decode_record(id, v.substr(4, len));
  std::size_t at = 4 + len;
  if (v.size() - at < 8) throw bad();
  const job_time when = from_ns(static_cast<std::int64_t>(get_le(v, at, 8)));
  at += 8;
  std::string strs[2];
  for (std::string& s : strs) {
    if (v.size() - at < 4) throw bad();
    const std::size_t n = get_le(v, at, 4);
    at += 4;
    if (n > v.size() - at) throw bad();
    s.assign(v.substr(at, n));
    at += n;
  }
  return trashed_job{job_access::make_complete(std::move(r)), std::move(strs[1]), std::move(strs[0]), when};
}

inline std::string_view id_key(const job_id& id) noexcept {
  return {reinterpret_cast<const char*>(id.bytes().data()), job_id::size};
}
inline std::optional<job_id> id_from_key(std::string_view k) noexcept {
  if (k.size() != job_id::size) return std::nullopt;
  std::array<std::uint8_t, job_id::size> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(k[i]);
  return job_id{b};
}

// Order index key: rank (0 = VERY_HIGH) then sequence, big-endian so LMDB's byte order is ours.
inline std::string order_key_bytes(job_priority p, std::uint64_t sequence) {
  std::string k(9, '\0');
  k[0] = static_cast<char>(4 - static_cast<std::uint8_t>(p));
  for (int i = 0; i < 8; ++i) k[1 + i] = static_cast<char>((sequence >> (8 * (7 - i))) & 0xff);
  return k;
}

// The board's index database, fk.jobs.index: two key spaces in one B-tree (every tree a
// transaction changes costs page writes at its commit, and a claim changes both spaces). Every
// job is in exactly one of them; every key ends with the job's order key.
//   'r' + order key -> job id   the claimable jobs, in listing order
//   'x' + expiry + order key -> job id   the claimed jobs by expiry: ns since the epoch with the
//                              sign bit flipped, big-endian, so that LMDB's byte order is time order
inline constexpr std::size_t order_key_size = 9;
inline constexpr char index_ready = 'r';
inline constexpr char index_expiry = 'x';

inline std::string index_key(char space, job_priority p, std::uint64_t sequence) {
  std::string k(1, space);
  k += order_key_bytes(p, sequence);
  return k;
}
inline std::string expiry_index_key(std::int64_t expires_ns, job_priority p, std::uint64_t sequence) {
  const std::uint64_t biased = static_cast<std::uint64_t>(expires_ns) ^ (std::uint64_t{1} << 63);
  std::string k(9, index_expiry);
  for (int i = 0; i < 8; ++i)
    k[static_cast<std::size_t>(1 + i)] = static_cast<char>((biased >> (8 * (7 - i))) & 0xff);
  k += order_key_bytes(p, sequence);
  return k;
}
// The expiry in an 'x' key (18 bytes); the order key is its last 9 bytes.
inline std::int64_t expiry_of_index_key(std::string_view k) noexcept {
  std::uint64_t biased = 0;
  for (std::size_t i = 1; i < 9 && i < k.size(); ++i)
    biased = (biased << 8) | static_cast<unsigned char>(k[i]);
  return static_cast<std::int64_t>(biased ^ (std::uint64_t{1} << 63));
}
inline constexpr std::size_t expiry_index_key_size = 1 + 8 + 9;

}  // namespace flowkit::detail
