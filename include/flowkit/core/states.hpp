#pragma once
// The states of atoms and flows (TaskFlow's), and their names for logs and DOT output.

#include <string_view>

namespace flowkit {

enum class atom_state : unsigned char {
  pending,
  running,
  success,
  failure,
  reverting,
  reverted,
  revert_failure,
  ignore,
  retrying,
};

enum class flow_state : unsigned char {
  pending,
  running,
  success,
  failure,
  reverting,
  reverted,
  suspending,
  suspended,
  resuming,
};

constexpr std::string_view to_string(atom_state s) noexcept {
  constexpr std::string_view text[] = {"PENDING",   "RUNNING",  "SUCCESS",        "FAILURE", "REVERTING",
                                       "REVERTED",  "REVERT_FAILURE", "IGNORE", "RETRYING"};
  return text[static_cast<unsigned>(s)];
}

constexpr std::string_view to_string(flow_state s) noexcept {
  constexpr std::string_view text[] = {"PENDING",  "RUNNING",    "SUCCESS",   "FAILURE", "REVERTING",
                                       "REVERTED", "SUSPENDING", "SUSPENDED", "RESUMING"};
  return text[static_cast<unsigned>(s)];
}

}  // namespace flowkit
