#pragma once
// What the engine means to do next with an atom, stored beside its state (TaskFlow's
// intention): a run written down with each atom's state and intention can be resumed, e.g. a
// SUCCESS atom whose intention is revert is part of a revert under way.

#include <cstddef>
#include <string_view>

namespace flowkit {

/// What the engine means to do next with an atom; persisted with the atom's state so a run can be
/// resumed.
enum class intention : unsigned char {
  execute,  // run it (or, once it ran, keep its result): the default
  revert,   // undo it: the run is reverting through it
  retry,    // a retry controller's scope is being run again
  ignore,   // a decider said no: it does not run
};

/// The number of intention values.
inline constexpr std::size_t intention_count = 4;

/// The upper-case name TaskFlow uses ("EXECUTE", "REVERT", ...); "UNKNOWN" for an invalid value.
constexpr std::string_view to_string(intention i) noexcept {
  constexpr std::string_view text[] = {"EXECUTE", "REVERT", "RETRY", "IGNORE"};
  const auto at = static_cast<unsigned>(i);
  return at < intention_count ? text[at] : std::string_view{"UNKNOWN"};
}

}  // namespace flowkit
