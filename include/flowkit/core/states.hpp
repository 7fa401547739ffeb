#pragma once
// The states of atoms and flows, and the one table of legal transitions for each. Every state
// change the engine makes is checked against these tables: an illegal one is a bug, reported as
// fk::invalid_transition, never a silent state.

#include <array>
#include <stdexcept>
#include <string>
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

inline constexpr std::size_t atom_state_count = 9;
inline constexpr std::size_t flow_state_count = 9;

constexpr std::string_view to_string(atom_state s) noexcept {
  constexpr std::string_view text[] = {"PENDING",  "RUNNING",        "SUCCESS", "FAILURE", "REVERTING",
                                       "REVERTED", "REVERT_FAILURE", "IGNORE",  "RETRYING"};
  return text[static_cast<unsigned>(s)];
}

constexpr std::string_view to_string(flow_state s) noexcept {
  constexpr std::string_view text[] = {"PENDING",  "RUNNING",    "SUCCESS",   "FAILURE", "REVERTING",
                                       "REVERTED", "SUSPENDING", "SUSPENDED", "RESUMING"};
  return text[static_cast<unsigned>(s)];
}

namespace detail {
template <class State, std::size_t Count>
struct transition_table {
  std::array<std::array<bool, Count>, Count> allowed{};
  constexpr void allow(State from, std::initializer_list<State> to) {
    for (State t : to) allowed[static_cast<unsigned>(from)][static_cast<unsigned>(t)] = true;
  }
  constexpr bool operator()(State from, State to) const {
    return allowed[static_cast<unsigned>(from)][static_cast<unsigned>(to)];
  }
};
}  // namespace detail

// TaskFlow's atom transitions, plus: REVERT_FAILURE -> REVERTING (running the engine again
// resumes a revert that failed, where TaskFlow strands it) and X -> PENDING for a reset.
inline constexpr auto atom_transitions = [] {
  using enum atom_state;
  detail::transition_table<atom_state, atom_state_count> t;
  t.allow(pending, {running, ignore});
  t.allow(running, {success, failure});
  t.allow(success, {reverting, retrying, pending});
  t.allow(failure, {reverting, pending});
  t.allow(reverting, {reverted, revert_failure});
  t.allow(reverted, {pending});
  t.allow(revert_failure, {reverting, pending});
  t.allow(ignore, {pending});
  t.allow(retrying, {running, pending});
  return t;
}();

// Flow transitions: a run goes PENDING -> RUNNING -> SUCCESS, or through REVERTING to REVERTED
// (everything that ran was reverted) or FAILURE (a revert failed; RUNNING -> FAILURE when it was
// a retry scope's revert). A suspended run, or one whose revert failed, comes back through
// RESUMING.
inline constexpr auto flow_transitions = [] {
  using enum flow_state;
  detail::transition_table<flow_state, flow_state_count> t;
  t.allow(pending, {running});
  t.allow(running, {success, reverting, suspending, failure});
  t.allow(reverting, {reverted, failure, suspending});
  t.allow(suspending, {suspended, success, reverted, failure});
  t.allow(suspended, {resuming, pending});
  t.allow(resuming, {running, reverting});
  t.allow(success, {running, pending});
  t.allow(reverted, {pending});
  t.allow(failure, {resuming, pending});
  return t;
}();

class invalid_transition : public std::logic_error {
 public:
  invalid_transition(std::string_view what, std::string_view from, std::string_view to)
      : std::logic_error("flowkit: illegal transition of " + std::string(what) + " from " + std::string(from) +
                         " to " + std::string(to)) {}
};

}  // namespace flowkit
