#pragma once
// fk::outcome<R>: what a task's execute produced, handed to its revert: the result, or the
// failure if execute threw.

#include <flowkit/core/failure.hpp>

#include <utility>
#include <variant>

namespace flowkit {

/// What a task's execute produced, handed to its revert: a view of the result, or of the failure
/// if execute threw. Valid only during the revert call.
template <class R>
class outcome {
 public:
  /// Views a result (execute returned).
  explicit outcome(const R& result) : state_(std::in_place_index<0>, &result) {}
  /// Views a failure (execute threw).
  explicit outcome(const failure& error) : state_(std::in_place_index<1>, &error) {}

  /// Whether execute returned (rather than threw).
  bool succeeded() const noexcept { return state_.index() == 0; }
  /// The same as succeeded().
  explicit operator bool() const noexcept { return succeeded(); }
  /// The result; throws std::bad_variant_access when execute threw.
  const R& result() const { return *std::get<0>(state_); }
  /// The result, as result().
  const R& operator*() const { return result(); }
  const R* operator->() const { return &result(); }
  /// The failure; throws std::bad_variant_access when execute returned.
  const failure& error() const { return *std::get<1>(state_); }

 private:
  // An outcome only views what the engine holds: a revert never copies a result.
  std::variant<const R*, const failure*> state_;
};

/// The outcome of a task that returns nothing: success, or the failure if execute threw.
template <>
class outcome<void> {
 public:
  /// Execute returned.
  outcome() = default;
  /// Execute threw.
  explicit outcome(const failure& error) : error_(&error) {}

  bool succeeded() const noexcept { return error_ == nullptr; }
  /// The same as succeeded().
  explicit operator bool() const noexcept { return succeeded(); }
  /// The failure; only when !succeeded() (otherwise the behaviour is undefined).
  const failure& error() const { return *error_; }

 private:
  const failure* error_ = nullptr;
};

}  // namespace flowkit
