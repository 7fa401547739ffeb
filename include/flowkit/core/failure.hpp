#pragma once
// fk::failure: an exception captured as a value: which atom threw, the exception's type name
// (demangled: "std::invalid_argument", "std::string"), its what(), and the live exception for
// rethrow() while in process.

#include <flowkit/detail/type_name.hpp>

#include <exception>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

namespace flowkit {

/// When a failure happened: in a task's execute or in its revert.
enum class failure_phase : unsigned char { execute, revert };

/// An exception captured as a value: the atom that threw, the exception's type name, its what(),
/// and, within the process that caught it, the exception itself for rethrow().
class failure {
 public:
  /// An empty failure (no atom, no exception).
  failure() = default;

  /// Captures the exception in flight; call from inside a catch block.
  static failure current(std::string_view atom, failure_phase phase = failure_phase::execute) {
    failure f;
    f.atom_ = atom;
    f.phase_ = phase;
    f.error_ = std::current_exception();
    try {
      throw;
    } catch (const std::exception& e) {
      f.type_name_ = detail::type_name(typeid(e));
      f.what_ = e.what();
    } catch (...) {
      const std::type_info* type = detail::current_exception_type();
      f.type_name_ = type ? detail::type_name(*type) : "unknown exception";
    }
    return f;
  }

  /// A failure known only by its description, e.g. one loaded from a checkpoint.
  failure(std::string atom, std::string type_name, std::string what,
          failure_phase phase = failure_phase::execute)
      : atom_(std::move(atom)), type_name_(std::move(type_name)), what_(std::move(what)), phase_(phase) {}

  /// The name of the atom whose execute or revert threw.
  const std::string& atom() const noexcept { return atom_; }
  /// The exception's demangled type name, e.g. "std::invalid_argument".
  const std::string& type_name() const noexcept { return type_name_; }
  /// The exception's what() ("" for one not derived from std::exception).
  const std::string& what() const noexcept { return what_; }
  /// The live exception; null for a failure not captured in this process (e.g. loaded).
  const std::exception_ptr& exception() const noexcept { return error_; }
  /// Whether execute or revert threw.
  failure_phase phase() const noexcept { return phase_; }

  /// Throws the original exception, or a std::runtime_error describing it if it was not
  /// captured in this process.
  [[noreturn]] void rethrow() const {
    if (error_) std::rethrow_exception(error_);
    throw std::runtime_error(atom_ + " failed with " + type_name_ + ": " + what_);
  }

 private:
  std::string atom_;
  std::string type_name_;
  std::string what_;
  std::exception_ptr error_;
  failure_phase phase_ = failure_phase::execute;
};

/// Every failure of a flow run, handed to a revert that asks for them.
using failures = std::span<const failure>;

}  // namespace flowkit
