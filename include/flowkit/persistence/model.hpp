#pragma once
// The persistence model, TaskFlow's, as plain values:
//
//   logbook (a name)  ->  flow detail (one run)  ->  atom details (one per atom that has one)
//
// A flow detail is a run: its id, logbook, the flow's name and structural hash, the store's inputs
// as bytes, the flow's state, and when it was created and last updated. An atom detail is one
// atom's state and intention, its result or failure, its revert result or failure, its retry
// history and its version. Results, revert results, inputs and retry histories are opaque bytes
// here (Boost binary archives made by persistence/serialization.hpp): the backend never needs
// their types. An atom without a detail is PENDING with intention EXECUTE.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/intention.hpp>
#include <flowkit/core/states.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace flowkit {

/// The clock of a run's creation and update times.
using run_clock = std::chrono::system_clock;
/// When a run was created or last updated.
using run_time = run_clock::time_point;

/// A failure as stored: which atom failed, the exception's (demangled) type name, its what(). A
/// failure loaded from a store has no live exception; fk::failure::rethrow() describes it.
struct stored_failure {
  std::string atom;
  std::string type_name;
  std::string what;

  /// The stored form of a failure.
  static stored_failure of(const failure& f) { return {f.atom(), f.type_name(), f.what()}; }
  /// The failure again, without its live exception.
  failure to_failure(failure_phase phase = failure_phase::execute) const {
    return {atom, type_name, what, phase};
  }
  friend bool operator==(const stored_failure&, const stored_failure&) = default;
};

/// What an execute (or a revert) left: nothing yet, a result (its bytes), or a failure.
using stored_outcome = std::variant<std::monostate, std::string, stored_failure>;

/// One atom's stored state within a run (see above).
struct atom_detail {
  /// The atom's name.
  std::string name;
  /// The atom's state.
  atom_state state = atom_state::pending;
  /// What the engine means to do next with the atom.
  flowkit::intention intention = flowkit::intention::execute;
  std::uint32_t version = 0;     // the atom's version, compared on resume by the engine
  stored_outcome result;         // execute: result bytes or failure
  stored_outcome revert_result;  // revert: result bytes or failure
  std::string retry_history;     // a retry controller's history, as bytes (empty: none)

  /// The result's bytes, or null when execute has no stored result.
  const std::string* result_bytes() const noexcept { return std::get_if<std::string>(&result); }
  /// The stored failure of execute, or null.
  const stored_failure* failure() const noexcept { return std::get_if<stored_failure>(&result); }
  /// The revert's result bytes, or null.
  const std::string* revert_bytes() const noexcept { return std::get_if<std::string>(&revert_result); }
  /// The stored failure of revert, or null.
  const stored_failure* revert_failure() const noexcept {
    return std::get_if<stored_failure>(&revert_result);
  }

  friend bool operator==(const atom_detail&, const atom_detail&) = default;
};

/// One run as stored (see above).
struct flow_detail {
  std::string id;                  // the run id
  std::string logbook;             // the logbook it belongs to
  std::string flow_name;           // the flow's name
  std::uint64_t structure_hash{};  // the flow's structural hash (computed by the engine)
  std::string store_bytes;         // the store's inputs, serialised
  /// The flow's state as last committed.
  flow_state state = flow_state::pending;
  /// When the run was created.
  run_time created{};
  run_time updated{};  // the last commit to the run

  friend bool operator==(const flow_detail&, const flow_detail&) = default;
};

/// A run as loaded: its flow detail and the details of its atoms, in name order.
struct run_record {
  /// The run itself.
  flow_detail flow;
  /// The atoms that have a detail, by name.
  std::vector<atom_detail> atoms;

  /// The detail of the atom named name, or null.
  const atom_detail* find(std::string_view name) const noexcept {
    for (const atom_detail& a : atoms)
      if (a.name == name) return &a;
    return nullptr;
  }
};

/// What creating (or re-opening) a run needs: the run's identity and the flow it is a run of.
struct run_spec {
  /// The run's id (at most max_run_id_size bytes, not empty).
  std::string id;
  /// The logbook the run belongs to (not empty).
  std::string logbook;
  /// The flow's registered name.
  std::string flow_name;
  /// The flow's structural hash.
  std::uint64_t structure_hash{};
  std::string store_bytes;  // used when the run is created; a stored run keeps its own inputs
};

/// open_run(): create the run if it does not exist, or only resume a stored one.
enum class open_mode : unsigned char { create_or_resume, resume_only };
/// Create the run, or resume it if stored.
inline constexpr open_mode create_or_resume = open_mode::create_or_resume;
/// Resume a stored run only; an unknown id throws fk::run_not_found.
inline constexpr open_mode resume_only = open_mode::resume_only;

/// The changes one commit makes to a run: atom details to write (each replaces the atom's stored
/// detail, created if need be; applied in the order given, so a later change of the same atom
/// wins) and, optionally, the run's new flow state. A batch is meant to be reused: clear() keeps
/// the capacity of its details and their strings, so a steady stream of commits stops allocating.
class batch {
 public:
  /// Adds a copy of a (copy-assigned over a slot kept from before the last clear()).
  atom_detail& put(const atom_detail& a) {
    if (size_ < atoms_.size())
      atoms_[size_] = a;
    else
      atoms_.push_back(a);
    return atoms_[size_++];
  }
  /// A slot to fill in place: its strings keep their capacity from earlier use, so assign to them.
  atom_detail& next() {
    if (size_ == atoms_.size()) atoms_.emplace_back();
    return atoms_[size_++];
  }
  /// Makes the commit set the run's flow state too.
  void set_flow_state(flowkit::flow_state s) noexcept { flow_state_ = s; }

  /// The i-th detail added since the last clear(), to change in place.
  atom_detail& operator[](std::size_t i) noexcept { return atoms_[i]; }

  /// The details added since the last clear(), in order.
  const atom_detail* begin() const noexcept { return atoms_.data(); }
  const atom_detail* end() const noexcept { return atoms_.data() + size_; }
  /// The number of details added.
  std::size_t size() const noexcept { return size_; }
  /// Whether the batch changes nothing.
  bool empty() const noexcept { return size_ == 0 && !flow_state_; }
  /// The flow state to set, if any.
  std::optional<flowkit::flow_state> flow_state() const noexcept { return flow_state_; }

  /// Empties the batch, keeping its storage.
  void clear() noexcept {
    size_ = 0;
    flow_state_.reset();
  }

 private:
  std::vector<atom_detail> atoms_;
  std::size_t size_ = 0;
  std::optional<flowkit::flow_state> flow_state_;
};

/// Limits every backend enforces, so that a run that fits one fits all (LMDB keys are at most
/// 511 bytes; an atom's key is its run id and its name).
inline constexpr std::size_t max_run_id_size = 240;
inline constexpr std::size_t max_logbook_size = 240;
inline constexpr std::size_t max_atom_name_size = 240;

namespace detail {
inline void check_name(std::string_view what, std::string_view s, std::size_t max) {
  if (s.empty()) throw std::invalid_argument("flowkit: a " + std::string{what} + " must not be empty");
  if (s.size() > max)
    throw std::invalid_argument("flowkit: " + std::string{what} + " '" + std::string{s.substr(0, 32)} +
                                "...' has " + std::to_string(s.size()) + " bytes; at most " +
                                std::to_string(max) + " are allowed");
}
inline void check_run_id(std::string_view id) { check_name("run id", id, max_run_id_size); }
inline void check_spec(const run_spec& s) {
  check_run_id(s.id);
  check_name("logbook name", s.logbook, max_logbook_size);
}
inline void check_batch(const batch& b) {
  for (const atom_detail& a : b) check_name("atom name", a.name, max_atom_name_size);
}
}  // namespace detail

}  // namespace flowkit
