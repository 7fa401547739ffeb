// libFuzzer target: the decoders of a jobboard's stored bytes (jobs/record_codec.hpp): a job
// record of either version the board reads (decode_record, and view_record, which claim decisions
// read in place), a trash entry (decode_trash_entry) and a key of fk.jobs (id_from_key). Any
// bytes: a record or corrupt_job, never a read outside them (ASan), never UB (UBSan); view_record
// agrees with decode_record; a version 3 record that decode_record accepts encodes back to exactly
// the same bytes, and a version 2 record encodes to a version 3 record that decodes to the same
// job (the conversion a board makes at the job's next change).

#include "fuzz_support.hpp"

#include <flowkit/jobs/errors.hpp>
#include <flowkit/jobs/record_codec.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace d = flowkit::detail;
  using flowkit::fuzz::invariant_broken;
  const std::string_view bytes{reinterpret_cast<const char*>(data), size};
  const flowkit::job_id id = flowkit::fuzz::fixed_job_id();

  if (const auto key = d::id_from_key(bytes); key && d::id_key(*key) != bytes) invariant_broken();

  try {
    (void)d::decode_trash_entry(id, bytes);
  } catch (const flowkit::corrupt_job&) {
  }

  bool viewed = false;
  d::record_view v{};
  try {
    v = d::view_record(id, bytes);
    viewed = true;
  } catch (const flowkit::corrupt_job&) {
  }
  d::job_record r;
  try {
    r = d::decode_record(id, bytes);
  } catch (const flowkit::corrupt_job&) {
    return 0;
  }
  if (!viewed) invariant_broken();  // decode_record accepted what view_record refused
  const std::int64_t not_before = r.not_before ? d::to_ns(*r.not_before) : d::no_time_ns;
  if (v.owner != r.owner || v.token != r.token || v.sequence != r.sequence || v.priority != r.priority ||
      v.expires_ns != d::to_ns(r.expires) || v.not_before_ns != not_before)
    invariant_broken();
  std::string again;
  d::encode_record(r, again);
  if (v.version == d::record_version) {
    if (again != bytes) invariant_broken();
  } else {
    if (!r.attempts.empty() || r.not_before) invariant_broken();  // version 2 has neither
    try {
      if (!(d::decode_record(id, again) == r)) invariant_broken();
    } catch (const flowkit::corrupt_job&) {
      invariant_broken();  // the encoder wrote what the decoder refuses
    }
  }
  return 0;
}
