#pragma once
// What the engine means to do with an atom next (TaskFlow's intention, stored beside its state):
// run it (EXECUTE), undo it (REVERT), run its flow again (RETRY, a retry controller only), or
// leave it alone (IGNORE, a decider said no).

#include <cstdint>
#include <string_view>

namespace flowkit {

enum class intention : std::uint8_t { execute, revert, retry, ignore };

constexpr std::string_view to_string(intention i) noexcept {
  constexpr std::string_view text[] = {"EXECUTE", "REVERT", "RETRY", "IGNORE"};
  return text[static_cast<unsigned>(i)];
}

}  // namespace flowkit
