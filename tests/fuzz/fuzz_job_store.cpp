// libFuzzer target: a job's store read back (job::store<S>()), which deserialises the stored
// Boost binary archive. Any bytes: the store or corrupt_job, never a read outside them (ASan),
// never UB (UBSan), never an allocation out of proportion to the bytes.

#include "fuzz_support.hpp"

#include <flowkit/jobs/errors.hpp>
#include <flowkit/jobs/job.hpp>
#include <flowkit/persistence/serialization.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using S = flowkit::fuzz::job_store;
  flowkit::detail::job_record r;
  r.id = flowkit::fuzz::fixed_job_id();
  r.store_signature = flowkit::store_signature<S>();
  r.store_bytes.assign(reinterpret_cast<const char*>(data), size);
  const flowkit::job j = flowkit::detail::job_access::make_job(std::move(r), {});
  try {
    (void)j.store<S>();
  } catch (const flowkit::corrupt_job&) {
  }
  return 0;
}
