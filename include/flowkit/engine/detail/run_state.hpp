#pragma once
// An engine's run state, read out and put back: what a checkpoint holds, and all that a new
// engine needs to continue a run. It is
//
//   - the flow's state;
//   - per atom, its state and intention;
//   - per atom, whether it has a result, and the result;
//   - the failures: execute failures (and which atom each belongs to), revert failures, and the
//     list the last run reported;
//   - per retry controller, its history.
//
// Nothing else of an engine outlives a run: the flags that stop a phase, the counters of the
// parallel phase and the stop source are made afresh by every run(). run_state_access reads each
// part (for a recorder that writes it down) and save_run_state() / restore_run_state() copy the
// whole of it, the in-memory rehearsal of resuming a run in a new engine.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/intention.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/engine/atom_thunks.hpp>
#include <flowkit/flow/spec.hpp>

#include <array>
#include <cstddef>
#include <new>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowkit::detail {

// The whole run state of an engine of Flow, copied.
template <class Flow, class Atoms, class Histories>
struct run_snapshot_of;
template <class Flow, std::size_t... As, class... Histories>
struct run_snapshot_of<Flow, std::index_sequence<As...>, std::tuple<Histories...>> {
  flow_state flow{};
  std::array<atom_state, sizeof...(As)> states{};
  std::array<intention, sizeof...(As)> intentions{};
  std::tuple<std::optional<stored_result_t<atom_type<Flow, As>>>...> results;  // present or not
  std::vector<failure> execute_failures, revert_failures;
  std::vector<failure> reported_failures;  // what the last run reported (run_result::failures())
  std::array<std::size_t, sizeof...(As)> execute_failure_of{};  // index in execute_failures, or npos
  std::tuple<Histories...> histories;                           // per retry, in atom order
};

struct run_state_access {
  template <class Engine>
  static flow_state flow(const Engine& e) noexcept {
    return e.flow_state_;
  }
  template <class Engine>
  static atom_state state(const Engine& e, std::size_t atom) noexcept {
    return e.state(atom);
  }
  template <class Engine>
  static intention intent(const Engine& e, std::size_t atom) noexcept {
    return e.intentions_[atom];
  }
  // The atom's result, or nullptr when it has none (a void task's result is a std::monostate).
  template <std::size_t Atom, class Engine>
  static const auto* result(const Engine& e) noexcept {
    using stored = stored_result_t<atom_type<typename Engine::flow_type, Atom>>;
    return e.has_result_[Atom] ? std::launder(reinterpret_cast<const stored*>(
                                     e.results_.data() + Engine::table.result_offset[Atom]))
                               : nullptr;
  }
  template <class Engine>
  static const std::vector<failure>& execute_failures(const Engine& e) noexcept {
    return e.execute_failures_;
  }
  template <class Engine>
  static const std::vector<failure>& revert_failures(const Engine& e) noexcept {
    return e.revert_failures_;
  }
  // The index of the atom's execute failure in execute_failures(), or npos.
  template <class Engine>
  static std::size_t execute_failure_of(const Engine& e, std::size_t atom) noexcept {
    return e.failure_of_[atom];
  }
  template <std::size_t Atom, class Engine>
  static const auto& history(const Engine& e) noexcept {
    return std::get<Engine::retry_ordinal[Atom]>(e.retry_runs_).history;
  }

  // ----- the whole state, copied -----

  template <class Engine>
  using snapshot = run_snapshot_of<typename Engine::flow_type, std::make_index_sequence<Engine::atom_count>,
                                   typename Engine::histories_type>;

  template <class Engine>
  static snapshot<Engine> save(const Engine& e) {
    snapshot<Engine> s;
    s.flow = e.flow_state_;
    for (std::size_t a = 0; a < Engine::atom_count; ++a) {
      s.states[a] = e.state(a);
      s.intentions[a] = e.intentions_[a];
      s.execute_failure_of[a] = e.failure_of_[a];
    }
    [&]<std::size_t... As>(std::index_sequence<As...>) {
      ((result<As>(e) ? (void)std::get<As>(s.results).emplace(*result<As>(e)) : (void)0), ...);
    }(std::make_index_sequence<Engine::atom_count>{});
    s.execute_failures = e.execute_failures_;
    s.revert_failures = e.revert_failures_;
    s.reported_failures = e.all_failures_;
    [&]<std::size_t... Rs>(std::index_sequence<Rs...>) {
      ((std::get<Rs>(s.histories) = std::get<Rs>(e.retry_runs_).history), ...);
    }(std::make_index_sequence<Engine::retry_count>{});
    return s;
  }

  // Puts a saved state into an engine that is not running, replacing its own. Loading a state
  // is not a transition: neither listeners nor the recorder are told.
  template <class Engine>
  static void restore(Engine& e, const snapshot<Engine>& s) {
    e.clear_results();
    e.flow_state_ = s.flow;
    for (std::size_t a = 0; a < Engine::atom_count; ++a) {
      e.states_[a].store(s.states[a], std::memory_order_relaxed);
      e.intentions_[a] = s.intentions[a];
      e.failure_of_[a] = s.execute_failure_of[a];
    }
    [&]<std::size_t... As>(std::index_sequence<As...>) {
      ((std::get<As>(s.results) ? emplace_result<atom_type<typename Engine::flow_type, As>>(
                                      e.context_of(As), *std::get<As>(s.results))
                                : (void)0),
       ...);
    }(std::make_index_sequence<Engine::atom_count>{});
    e.execute_failures_ = s.execute_failures;
    e.revert_failures_ = s.revert_failures;
    e.all_failures_ = s.reported_failures;
    [&]<std::size_t... Rs>(std::index_sequence<Rs...>) {
      ((std::get<Rs>(e.retry_runs_).history = std::get<Rs>(s.histories)), ...);
    }(std::make_index_sequence<Engine::retry_count>{});
  }
};

template <class Engine>
using run_snapshot = run_state_access::snapshot<Engine>;

template <class Engine>
run_snapshot<Engine> save_run_state(const Engine& e) {
  return run_state_access::save(e);
}

template <class Engine>
void restore_run_state(Engine& e, const run_snapshot<Engine>& s) {
  run_state_access::restore(e, s);
}

}  // namespace flowkit::detail
