#pragma once
// The byte layout of checkpoint records (format 1), and every decoder of stored checkpoint bytes,
// in one place. Each decoder has one narrow signature: bytes in (with the run id and atom name
// that the record's key gives, for the error), a record out, or fk::corrupt_record; none reads
// outside the bytes it is given, whatever they hold. A fuzzer drives exactly these functions.
//
// Little-endian; a fixed header, then length-prefixed fields; a checksum over the whole record
// so that a damaged record is refused, not served. docs/storage-format.md describes the layout.
//
// Atom detail (key: run id and atom name, see atom_key()):
//    0 u8  record version (1)        1 u8 state (atom_state)        2 u8 intention
//    3 u8  outcome kinds: bits 0-1 result, bits 2-3 revert result (0 none, 1 bytes, 2 failure)
//    4 u32 checksum of bytes [0,4) and [8,end)
//    8 u32 atom version
//   12 result, then revert result: kind 1: a string (u32 length + bytes); kind 2: three strings
//      (failed atom, exception type name, what()); kind 0: nothing
//      then the retry history: a string
// Flow detail (key: run id):
//    0 u8  record version (1)        1 u8 state (flow_state)        2 u16 zero
//    4 u32 checksum of bytes [0,4) and [8,end)
//    8 u64 structural hash          16 i64 created (ns since the epoch)   24 i64 updated (ns)
//   32 three strings: logbook, flow name, store bytes

#include <flowkit/detail/byte_codec.hpp>
#include <flowkit/persistence/errors.hpp>
#include <flowkit/persistence/model.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace flowkit::detail::ckpt {

inline constexpr std::uint8_t atom_record_version = 1;
inline constexpr std::uint8_t flow_record_version = 1;
inline constexpr std::size_t atom_header = 12;
inline constexpr std::size_t flow_header = 32;

// The byte primitives (detail/byte_codec.hpp), shared with the jobboard's records.
using detail::from_ns;
using detail::get_le;
using detail::put_le;
using detail::put_str;
using detail::set_le;
using detail::to_ns;

// FNV-1a's scheme over 64-bit little-endian words (the tail byte by byte), folded to 32 bits:
// about eight times faster than byte-wise FNV-1a on results of a few hundred bytes.
inline std::uint64_t hash_words(std::string_view bytes, std::uint64_t h) noexcept {
  constexpr std::uint64_t prime = 1099511628211ull;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) h = (h ^ get_le(bytes, i, 8)) * prime;
  for (; i < bytes.size(); ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * prime;
  return h;
}
inline std::uint32_t checksum(std::string_view rec) noexcept {
  const std::uint64_t h = hash_words(rec.substr(8), hash_words(rec.substr(0, 4), 14695981039346656037ull));
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}
inline void seal(std::string& rec) noexcept { set_le(rec, 4, checksum(rec), 4); }

// ---- keys ----------------------------------------------------------------------------------

// An atom's key: the run id's length (1 byte), the run id, the atom's name. All atoms of a run
// share the prefix run_prefix(run), and sort by name after it.
inline void run_prefix(std::string_view run, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(static_cast<unsigned char>(run.size())));
  out.append(run);
}
inline void atom_key(std::string_view run, std::string_view atom, std::string& out) {
  run_prefix(run, out);
  out.append(atom);
}
// The logbook index's key: the logbook's length (1 byte), the logbook, the run id.
inline void book_key(std::string_view book, std::string_view run, std::string& out) {
  run_prefix(book, out);
  out.append(run);
}
// Splits a prefixed key into its prefix string and the rest; nullopt if it is not one.
inline std::optional<std::pair<std::string_view, std::string_view>> split_key(std::string_view key) noexcept {
  if (key.empty()) return std::nullopt;
  const std::size_t n = static_cast<unsigned char>(key[0]);
  if (n == 0 || n > key.size() - 1) return std::nullopt;
  return std::pair{key.substr(1, n), key.substr(1 + n)};
}

// ---- encoders ------------------------------------------------------------------------------

namespace codec_detail {
inline std::uint8_t kind_of(const stored_outcome& o) noexcept { return static_cast<std::uint8_t>(o.index()); }
inline void put_outcome(std::string& out, const stored_outcome& o) {
  if (const auto* bytes = std::get_if<std::string>(&o)) {
    put_str(out, *bytes);
  } else if (const auto* f = std::get_if<stored_failure>(&o)) {
    put_str(out, f->atom);
    put_str(out, f->type_name);
    put_str(out, f->what);
  }
}
}  // namespace codec_detail

// Replaces out with a's record (out keeps its capacity: callers reuse one buffer). The name is
// not part of the record: it is in the key.
inline void encode_atom_detail(const atom_detail& a, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(atom_record_version));
  out.push_back(static_cast<char>(a.state));
  out.push_back(static_cast<char>(a.intention));
  out.push_back(
      static_cast<char>(codec_detail::kind_of(a.result) | (codec_detail::kind_of(a.revert_result) << 2)));
  put_le(out, 0, 4);  // checksum, below
  put_le(out, a.version, 4);
  codec_detail::put_outcome(out, a.result);
  codec_detail::put_outcome(out, a.revert_result);
  put_str(out, a.retry_history);
  seal(out);
}

// Replaces out with f's record. The id is not part of the record: it is the key.
inline void encode_flow_detail(const flow_detail& f, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(flow_record_version));
  out.push_back(static_cast<char>(f.state));
  put_le(out, 0, 2);
  put_le(out, 0, 4);  // checksum, below
  put_le(out, f.structure_hash, 8);
  put_le(out, static_cast<std::uint64_t>(to_ns(f.created)), 8);
  put_le(out, static_cast<std::uint64_t>(to_ns(f.updated)), 8);
  put_str(out, f.logbook);
  put_str(out, f.flow_name);
  put_str(out, f.store_bytes);
  seal(out);
}

// ---- decoders ------------------------------------------------------------------------------

namespace codec_detail {
// Reads length-prefixed strings off a record, bounds-checked; throws corrupt_record.
class reader {
 public:
  reader(std::string_view run, std::string_view atom, std::string_view rec, std::size_t at) noexcept
      : run_(run), atom_(atom), rec_(rec), at_(at) {}

  [[noreturn]] void fail(const std::string& why) const {
    throw corrupt_record(std::string{run_}, std::string{atom_}, why);
  }

  std::string_view str() {
    if (rec_.size() - at_ < 4) fail("record truncated at byte " + std::to_string(at_));
    const std::uint64_t len = get_le(rec_, at_, 4);
    at_ += 4;
    if (len > rec_.size() - at_)
      fail("a field of " + std::to_string(len) + " bytes at byte " + std::to_string(at_) +
           " overruns the record");
    const std::string_view s = rec_.substr(at_, len);
    at_ += len;
    return s;
  }
  void finish() const {
    if (at_ != rec_.size()) fail(std::to_string(rec_.size() - at_) + " trailing bytes after the record");
  }

 private:
  std::string_view run_, atom_, rec_;
  std::size_t at_;
};

// Checks the version byte, the length and the checksum shared by both kinds of records.
inline void check_frame(reader& r, std::string_view rec, std::uint8_t version, std::size_t header) {
  if (rec.size() < header + 4) r.fail("record of " + std::to_string(rec.size()) + " bytes is too short");
  const auto v = static_cast<std::uint8_t>(rec[0]);
  if (v != version)
    r.fail("unknown record version " + std::to_string(v) + " (this flowkit writes " +
           std::to_string(version) + ")");
  if (static_cast<std::uint32_t>(get_le(rec, 4, 4)) != checksum(rec)) r.fail("checksum mismatch");
}

inline void read_outcome(reader& r, std::uint8_t kind, stored_outcome& into) {
  switch (kind) {
    case 0:
      into = std::monostate{};
      return;
    case 1: {
      const std::string_view bytes = r.str();
      if (auto* s = std::get_if<std::string>(&into))
        s->assign(bytes);
      else
        into.emplace<std::string>(bytes);
      return;
    }
    default: {
      const std::string_view atom = r.str(), type = r.str(), what = r.str();
      stored_failure* f = std::get_if<stored_failure>(&into);
      if (!f) f = &into.emplace<stored_failure>();
      f->atom.assign(atom);
      f->type_name.assign(type);
      f->what.assign(what);
      return;
    }
  }
}
}  // namespace codec_detail

// Decodes the record of atom `atom` of run `run` into `into` (whose strings' capacity is reused).
// Throws corrupt_record naming the run and the atom; `into` is then unspecified.
inline void decode_atom_detail(std::string_view run, std::string_view atom, std::string_view rec,
                               atom_detail& into) {
  codec_detail::reader r{run, atom, rec, atom_header};
  codec_detail::check_frame(r, rec, atom_record_version, atom_header);
  const auto state = static_cast<std::uint8_t>(rec[1]);
  const auto intent = static_cast<std::uint8_t>(rec[2]);
  const auto kinds = static_cast<std::uint8_t>(rec[3]);
  if (state >= atom_state_count) r.fail("atom state " + std::to_string(state) + " out of range");
  if (intent >= intention_count) r.fail("intention " + std::to_string(intent) + " out of range");
  if ((kinds & 3) > 2 || ((kinds >> 2) & 3) > 2 || (kinds >> 4) != 0)
    r.fail("outcome kinds " + std::to_string(kinds) + " out of range");
  into.name.assign(atom);
  into.state = static_cast<atom_state>(state);
  into.intention = static_cast<intention>(intent);
  into.version = static_cast<std::uint32_t>(get_le(rec, 8, 4));
  codec_detail::read_outcome(r, kinds & 3, into.result);
  codec_detail::read_outcome(r, (kinds >> 2) & 3, into.revert_result);
  into.retry_history.assign(r.str());
  r.finish();
}

inline atom_detail decode_atom_detail(std::string_view run, std::string_view atom, std::string_view rec) {
  atom_detail a;
  decode_atom_detail(run, atom, rec, a);
  return a;
}

// Validates a flow detail record without copying anything out of it. Throws corrupt_record.
inline void check_flow_detail(std::string_view run, std::string_view rec) {
  codec_detail::reader r{run, {}, rec, flow_header};
  codec_detail::check_frame(r, rec, flow_record_version, flow_header);
  const auto state = static_cast<std::uint8_t>(rec[1]);
  if (state >= flow_state_count) r.fail("flow state " + std::to_string(state) + " out of range");
  if (get_le(rec, 2, 2) != 0) r.fail("reserved bytes are not zero");
  for (int i = 0; i < 3; ++i) (void)r.str();
  r.finish();
}

// Decodes the flow detail of run `run` into `into`. Throws corrupt_record naming the run.
inline void decode_flow_detail(std::string_view run, std::string_view rec, flow_detail& into) {
  check_flow_detail(run, rec);
  codec_detail::reader r{run, {}, rec, flow_header};
  into.id.assign(run);
  into.state = static_cast<flow_state>(static_cast<std::uint8_t>(rec[1]));
  into.structure_hash = get_le(rec, 8, 8);
  into.created = from_ns(static_cast<std::int64_t>(get_le(rec, 16, 8)));
  into.updated = from_ns(static_cast<std::int64_t>(get_le(rec, 24, 8)));
  into.logbook.assign(r.str());
  into.flow_name.assign(r.str());
  into.store_bytes.assign(r.str());
}

inline flow_detail decode_flow_detail(std::string_view run, std::string_view rec) {
  flow_detail f;
  decode_flow_detail(run, rec, f);
  return f;
}

// Replaces out with the flow detail record rec, its state set to state (if given) and its update
// time to updated: a commit's change to its run, made without decoding the store bytes.
inline void restamp_flow_detail(std::string_view run, std::string_view rec, std::optional<flow_state> state,
                                run_time updated, std::string& out) {
  check_flow_detail(run, rec);
  out.assign(rec);
  if (state) out[1] = static_cast<char>(*state);
  set_le(out, 24, static_cast<std::uint64_t>(to_ns(updated)), 8);
  seal(out);
}

}  // namespace flowkit::detail::ckpt
