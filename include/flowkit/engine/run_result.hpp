#pragma once
// fk::run_result: what a run ended with: the flow's state, its failures and its typed results.
// It views the engine that ran, so it is valid until that engine runs again or is destroyed.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/name.hpp>
#include <flowkit/core/states.hpp>

#include <vector>

namespace flowkit {

template <class Engine>
class run_result {
 public:
  explicit run_result(const Engine& engine) noexcept : engine_(&engine) {}

  flow_state state() const noexcept { return engine_->state(); }
  bool succeeded() const noexcept { return state() == flow_state::success; }
  const std::vector<failure>& failures() const noexcept { return engine_->failures(); }

  template <name Slot>
  const auto& get() const {
    return engine_->template get<Slot>();
  }
  template <name Slot>
  bool has() const noexcept {
    return engine_->template has<Slot>();
  }

 private:
  const Engine* engine_;
};

}  // namespace flowkit
