#pragma once
// fk::run_result: what a run ended with: the flow's state, its failures and its typed results.
// It views the engine that ran, so it is valid until that engine runs again or is destroyed.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/name.hpp>
#include <flowkit/core/states.hpp>

#include <string_view>
#include <vector>

namespace flowkit {

/// How a run ended: the flow's state, its failures and its typed results. A view of the engine:
/// valid until that engine runs again or is destroyed.
template <class Engine>
class run_result {
 public:
  /// Made by engine::run.
  explicit run_result(const Engine& engine) noexcept : engine_(&engine) {}

  /// The flow's state at the end of the run: SUCCESS, REVERTED, FAILURE or SUSPENDED.
  flow_state state() const noexcept { return engine_->state(); }
  /// Whether the flow ended SUCCESS.
  bool succeeded() const noexcept { return state() == flow_state::success; }
  /// Every failure of the run: execute failures first, then revert failures (see phase()).
  const std::vector<failure>& failures() const noexcept { return engine_->failures(); }
  /// Atoms that ran but are not reverted, when a revert failed.
  std::vector<std::string_view> unreverted() const { return engine_->unreverted(); }

  /// A result by slot name (see engine::get); throws fk::no_result when it has no value.
  template <name Slot>
  const auto& get() const {
    return engine_->template get<Slot>();
  }
  /// Whether get<Slot>() has a value to give.
  template <name Slot>
  bool has() const noexcept {
    return engine_->template has<Slot>();
  }
  /// The attempts of the retry controller named "<flow>_retry": each value tried and the failures
  /// it met. Kept after a run that ended REVERTED.
  template <name Retry>
  const auto& history() const {
    return engine_->template history<Retry>();
  }

 private:
  const Engine* engine_;
};

}  // namespace flowkit
