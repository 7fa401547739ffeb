#pragma once
// fk::run_result: what a run ended with: the flow's state, its failures and its typed results.
// It views the engine that ran, so it is valid until that engine runs again or is destroyed.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/name.hpp>
#include <flowkit/core/states.hpp>

#include <string_view>
#include <vector>

namespace flowkit {

template <class Engine>
class run_result {
 public:
  explicit run_result(const Engine& engine) noexcept : engine_(&engine) {}

  flow_state state() const noexcept { return engine_->state(); }
  bool succeeded() const noexcept { return state() == flow_state::success; }
  // Every failure of the run: execute failures first, then revert failures (see phase()).
  const std::vector<failure>& failures() const noexcept { return engine_->failures(); }
  // Atoms that ran but are not reverted, when a revert failed.
  std::vector<std::string_view> unreverted() const { return engine_->unreverted(); }

  template <name Slot>
  const auto& get() const {
    return engine_->template get<Slot>();
  }
  template <name Slot>
  bool has() const noexcept {
    return engine_->template has<Slot>();
  }
  // The attempts of the retry controller named "<flow>_retry": each value tried and the failures
  // it met. Kept after a run that ended REVERTED.
  template <name Retry>
  const auto& history() const {
    return engine_->template history<Retry>();
  }

 private:
  const Engine* engine_;
};

}  // namespace flowkit
