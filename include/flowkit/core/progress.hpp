#pragma once
// fk::progress: a task that takes `fk::progress&` reports how far it got; the engine forwards
// each report to its listeners. Values are clamped to [0, 1].
//
// fk::execution: a task that takes an `fk::execution` learns about this execute of it; rerun()
// says that a checkpoint loaded by the engine had the atom RUNNING: an earlier execute, in a
// process that died, may have done part or all of its work (resumption runs such atoms again:
// at least once, not exactly once).

#include <algorithm>
#include <string_view>

namespace flowkit {

namespace detail {
struct progress_access;
}

/// What a task that takes `fk::progress&` reports its progress through; the engine forwards each
/// report to its listeners.
class progress {
 public:
  /// Where reports go: called with the context, the atom's name and the clamped value.
  using sink = void (*)(void* context, std::string_view atom, float value) noexcept;

  /// A progress that reports nowhere.
  progress() = default;
  /// Reports the progress of `atom` to `report(context, ...)`.
  progress(std::string_view atom, sink report, void* context) noexcept
      : atom_(atom), report_(report), context_(context) {}

  /// Reports `value`, clamped to [0, 1]; never throws.
  void update(float value) noexcept {
    value_ = std::clamp(value, 0.0f, 1.0f);
    if (report_) report_(context_, atom_, value_);
  }
  /// The last value reported (0 before any).
  float value() const noexcept { return value_; }
  /// The name of the atom reporting.
  std::string_view atom() const noexcept { return atom_; }

 private:
  friend class execution;
  friend struct detail::progress_access;
  bool rerun_ = false;  // carried here, with the other per-execute facts, for fk::execution
  std::string_view atom_;
  sink report_ = nullptr;
  void* context_ = nullptr;
  float value_ = 0.0f;
};

/// What a task that takes an `fk::execution` learns about this execute of it.
class execution {
 public:
  /// The facts of the execute that `of` reports progress for.
  explicit execution(const progress& of) noexcept : atom_(of.atom_), rerun_(of.rerun_) {}
  /// The atom was RUNNING in the checkpoint this run was resumed from.
  bool rerun() const noexcept { return rerun_; }
  /// The name of the atom being executed.
  std::string_view atom() const noexcept { return atom_; }

 private:
  std::string_view atom_;
  bool rerun_;
};

namespace detail {
struct progress_access {
  static void set_rerun(progress& p, bool rerun) noexcept { p.rerun_ = rerun; }
};
}  // namespace detail

}  // namespace flowkit
