#pragma once
// Shared by the fuzz targets and the seed generator: the store type of the job store target, the
// run id and atom name records are decoded under, and a trap that libFuzzer reports as a crash
// (an invariant broken: the decoder accepted bytes it would not write back).

#include <flowkit/core/store.hpp>
#include <flowkit/jobs/job.hpp>

#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace flowkit::fuzz {

inline constexpr std::string_view run = "run-1";
inline constexpr std::string_view atom = "charge";

// A job's store with a value of every kind a job store commonly holds.
using job_store = decltype(flowkit::store<"order_id", "note", "items", "counts">(
    0, std::string{}, std::vector<std::string>{}, std::map<std::string, int>{}));

inline job_id fixed_job_id() {
  std::array<std::uint8_t, job_id::size> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(0x40 + i);
  return job_id{b};
}

[[noreturn]] inline void invariant_broken() { std::abort(); }

}  // namespace flowkit::fuzz
