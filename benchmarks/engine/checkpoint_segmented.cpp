// Resuming a stored run larger than the chains of chain.hpp (checkpoint.hpp's resume/
// benchmark, LMDB in group commit): FLOWKIT_BENCH_RESUME_ATOMS steps of the chain, a multiple
// of 100, as linear flows of 100 steps (s0, s1, ...) in one linear flow. Opt-in, through the
// CMake variable of the same name: a flow of 1,000 tasks here costs about 2.5 CPU minutes and
// 2.3 GiB to compile, and the cost grows with the size (docs/benchmarks.md, "Checkpoints").
#include "checkpoint.hpp"

#include <cstddef>
#include <utility>

namespace bench {
namespace {

inline constexpr std::size_t segment_size = 100;
inline constexpr std::size_t steps = FLOWKIT_BENCH_RESUME_ATOMS;
static_assert(steps > 0 && steps % segment_size == 0, "FLOWKIT_BENCH_RESUME_ATOMS: a multiple of 100");
inline constexpr std::size_t segments = steps / segment_size;

// Segment K: steps K*100 to K*100 + 99 of the chain, in a linear flow named s<K>.
template <std::size_t K, std::size_t... Is>
constexpr auto segment(std::index_sequence<Is...>) {
  return fk::linear_flow<name_v<'s', K>>(chain_step<K * segment_size + Is>()...);
}

template <std::size_t... Ks>
constexpr auto make_segmented_chain(std::index_sequence<Ks...>) {
  return fk::linear_flow<"chain">(segment<Ks>(std::make_index_sequence<segment_size>{})...);
}

}  // namespace

void register_checkpoint_segmented() {
  register_resume<steps, false>(sink::lmdb_group,
                                [] { return make_segmented_chain(std::make_index_sequence<segments>{}); });
}

}  // namespace bench
