// libFuzzer target: the decoders of a jobboard's stored bytes (jobs/record_codec.hpp): a job
// record (decode_record, and view_record, which claim decisions read in place), a trash entry
// (decode_trash_entry) and a key of fk.jobs (id_from_key). Any bytes: a record or corrupt_job,
// never a read outside them (ASan), never UB (UBSan); view_record agrees with decode_record, and a
// record decode_record accepts encodes back to exactly the same bytes.

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
  if (v.owner != r.owner || v.token != r.token || v.sequence != r.sequence || v.priority != r.priority ||
      v.expires_ns != d::to_ns(r.expires))
    invariant_broken();
  std::string again;
  d::encode_record(r, again);
  if (again != bytes) invariant_broken();
  return 0;
}
