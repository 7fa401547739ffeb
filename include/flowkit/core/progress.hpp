#pragma once
// fk::progress: a task that takes `fk::progress&` reports how far it got; the engine forwards
// each report to its listeners. Values are clamped to [0, 1].

#include <algorithm>
#include <string_view>

namespace flowkit {

class progress {
 public:
  using sink = void (*)(void* context, std::string_view atom, float value) noexcept;

  progress() = default;
  progress(std::string_view atom, sink report, void* context) noexcept
      : atom_(atom), report_(report), context_(context) {}

  void update(float value) noexcept {
    value_ = std::clamp(value, 0.0f, 1.0f);
    if (report_) report_(context_, atom_, value_);
  }
  float value() const noexcept { return value_; }
  std::string_view atom() const noexcept { return atom_; }

 private:
  std::string_view atom_;
  sink report_ = nullptr;
  void* context_ = nullptr;
  float value_ = 0.0f;
};

}  // namespace flowkit
