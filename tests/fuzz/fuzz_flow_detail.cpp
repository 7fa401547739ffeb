// libFuzzer target: detail::ckpt::decode_flow_detail and restamp_flow_detail, the decoders of a
// checkpoint's flow detail records. Any bytes: a record or corrupt_record, never a read outside
// them (ASan), never UB (UBSan); a record it accepts encodes back to the same bytes, and a
// restamped record decodes to the same run with the new state and time.

#include "fuzz_support.hpp"

#include <flowkit/persistence/errors.hpp>
#include <flowkit/persistence/record_codec.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ckpt = flowkit::detail::ckpt;
  using flowkit::fuzz::invariant_broken;
  const std::string_view rec{reinterpret_cast<const char*>(data), size};
  flowkit::flow_detail f;
  try {
    ckpt::decode_flow_detail(flowkit::fuzz::run, rec, f);
  } catch (const flowkit::corrupt_record&) {
    try {
      std::string out;
      ckpt::restamp_flow_detail(flowkit::fuzz::run, rec, flowkit::flow_state::running, {}, out);
    } catch (const flowkit::corrupt_record&) {
      return 0;
    }
    invariant_broken();  // restamping accepted what decoding refused
  }
  if (f.id != flowkit::fuzz::run) invariant_broken();
  std::string again;
  ckpt::encode_flow_detail(f, again);
  if (again != rec) invariant_broken();

  const flowkit::run_time later = f.updated + std::chrono::seconds{1};
  ckpt::restamp_flow_detail(flowkit::fuzz::run, rec, flowkit::flow_state::success, later, again);
  const flowkit::flow_detail g = ckpt::decode_flow_detail(flowkit::fuzz::run, again);
  if (g.state != flowkit::flow_state::success || g.updated != later || g.created != f.created ||
      g.logbook != f.logbook || g.flow_name != f.flow_name || g.store_bytes != f.store_bytes ||
      g.structure_hash != f.structure_hash)
    invariant_broken();
  return 0;
}
