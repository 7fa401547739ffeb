#pragma once
// The states of atoms and flows, and the one table of legal transitions for each. Every state
// change the engine makes is checked against these tables: an illegal one is a bug, reported as
// fk::invalid_transition, never a silent state.

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace flowkit {

/// The state of an atom (a task or a retry controller) in a run, as TaskFlow names them.
enum class atom_state : unsigned char {
  /// Not run yet (or reset).
  pending,
  /// Its execute is under way.
  running,
  /// Execute returned; its results are stored.
  success,
  /// Execute threw.
  failure,
  /// Its revert is under way.
  reverting,
  /// Revert returned (or there was nothing to undo).
  reverted,
  /// Revert threw.
  revert_failure,
  /// A decider said no: it does not run.
  ignore,
  /// A retry controller whose scope is being run again.
  retrying,
};

/// The state of a flow run.
enum class flow_state : unsigned char {
  /// Not run yet (or reset).
  pending,
  /// Atoms are being executed.
  running,
  /// Every atom that was to run succeeded.
  success,
  /// A revert failed: the run can be resumed to retry the revert.
  failure,
  /// An atom failed: what ran is being reverted.
  reverting,
  /// Everything that ran was reverted.
  reverted,
  /// Suspend was asked for: running atoms are being let finish.
  suspending,
  /// Stopped between atoms; running the engine again resumes it.
  suspended,
  /// A suspended or failed run is being picked up again.
  resuming,
};

/// The number of atom_state values.
inline constexpr std::size_t atom_state_count = 9;
/// The number of flow_state values.
inline constexpr std::size_t flow_state_count = 9;

/// The upper-case name TaskFlow uses, e.g. "REVERT_FAILURE".
constexpr std::string_view to_string(atom_state s) noexcept {
  constexpr std::string_view text[] = {"PENDING",  "RUNNING",        "SUCCESS", "FAILURE", "REVERTING",
                                       "REVERTED", "REVERT_FAILURE", "IGNORE",  "RETRYING"};
  return text[static_cast<unsigned>(s)];
}

/// The upper-case name TaskFlow uses, e.g. "SUSPENDED".
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

/// TaskFlow's atom transitions, plus: REVERT_FAILURE -> REVERTING (running the engine again
/// resumes a revert that failed, where TaskFlow strands it) and X -> PENDING for a reset.
/// `atom_transitions(from, to)` says whether a transition is legal.
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

/// Flow transitions: a run goes PENDING -> RUNNING -> SUCCESS, or through REVERTING to REVERTED
/// (everything that ran was reverted) or FAILURE (a revert failed; RUNNING -> FAILURE when it was
/// a retry scope's revert). A suspended run, or one whose revert failed, comes back through
/// RESUMING.
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

/// Thrown when the engine would make a state change its tables forbid: a bug in flowkit, never
/// a user error.
class invalid_transition : public std::logic_error {
 public:
  invalid_transition(std::string_view what, std::string_view from, std::string_view to)
      : std::logic_error("flowkit: illegal transition of " + std::string(what) + " from " + std::string(from) +
                         " to " + std::string(to)) {}
};

}  // namespace flowkit
