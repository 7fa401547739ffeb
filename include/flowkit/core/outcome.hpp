#pragma once
// fk::outcome<R>: what a task's execute produced, handed to its revert: the result, or the
// failure if execute threw.

#include <flowkit/core/failure.hpp>

#include <utility>
#include <variant>

namespace flowkit {

template <class R>
class outcome {
 public:
  explicit outcome(const R& result) : state_(std::in_place_index<0>, &result) {}
  explicit outcome(const failure& error) : state_(std::in_place_index<1>, &error) {}

  bool succeeded() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return succeeded(); }
  const R& result() const { return *std::get<0>(state_); }
  const R& operator*() const { return result(); }
  const R* operator->() const { return &result(); }
  const failure& error() const { return *std::get<1>(state_); }

 private:
  // An outcome only views what the engine holds: a revert never copies a result.
  std::variant<const R*, const failure*> state_;
};

template <>
class outcome<void> {
 public:
  outcome() = default;
  explicit outcome(const failure& error) : error_(&error) {}

  bool succeeded() const noexcept { return error_ == nullptr; }
  explicit operator bool() const noexcept { return succeeded(); }
  const failure& error() const { return *error_; }

 private:
  const failure* error_ = nullptr;
};

}  // namespace flowkit
