// libFuzzer target: detail::ckpt::decode_atom_detail, the decoder of a checkpoint's atom records.
// Any bytes: a record or corrupt_record, never a read outside them (ASan), never UB (UBSan); and a
// record it accepts encodes back to exactly the same bytes.

#include "fuzz_support.hpp"

#include <flowkit/persistence/errors.hpp>
#include <flowkit/persistence/record_codec.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ckpt = flowkit::detail::ckpt;
  const std::string_view rec{reinterpret_cast<const char*>(data), size};
  flowkit::atom_detail a;
  try {
    ckpt::decode_atom_detail(flowkit::fuzz::run, flowkit::fuzz::atom, rec, a);
  } catch (const flowkit::corrupt_record&) {
    return 0;
  }
  if (a.name != flowkit::fuzz::atom) flowkit::fuzz::invariant_broken();
  std::string again;
  ckpt::encode_atom_detail(a, again);
  if (again != rec) flowkit::fuzz::invariant_broken();
  return 0;
}
