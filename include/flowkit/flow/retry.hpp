#pragma once
// Retry controllers: attached to a flow with `.retry(...)`, a controller runs first in its flow
// and decides, when an atom of the flow fails, whether the flow is run again (RETRY), reverted
// and its failure left to the enclosing scope (REVERT), or the whole run reverted (REVERT_ALL).
//
//   fk::linear_flow<"pay">(charge).retry(fk::times(3))
//   fk::linear_flow<"ship">(book).retry(fk::for_each<"carrier">(std::vector<std::string>{"dhl", "ups"}))
//   fk::linear_flow<"try">(call).retry(fk::parameterized_for_each<"hosts", "host",
//   std::vector<std::string>>())
//
// A controller keeps no state of a run: the engine keeps each retry's history (every attempt, with
// the value tried and the failures met) in its run state and gives it to the controller, which
// decides from it.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/name.hpp>
#include <flowkit/core/outcome.hpp>
#include <flowkit/core/progress.hpp>
#include <flowkit/core/task.hpp>
#include <flowkit/detail/type_id.hpp>

#include <array>
#include <cstddef>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace flowkit {

/// What a retry controller decides when an atom of its flow fails: run the flow again, revert it
/// and leave the failure to the enclosing scope, or revert the whole run.
enum class retry_decision : unsigned char { retry, revert, revert_all };

/// One run of a retried flow: the value its controller gave, and the failures it met.
template <class Value>
struct attempt {
  /// The value the controller gave this attempt.
  Value value;
  /// The failures the attempt met.
  std::vector<failure> failures;
};

/// Every attempt of one retry controller in a run, oldest first.
template <class Value>
using retry_history = std::vector<attempt<Value>>;

/// A for_each controller has run out of values.
class retries_exhausted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
// A controller's options; `revert_all` escalates to the whole run when retries run out.
struct retry_options {
  bool revert_all = false;
};
}  // namespace detail

/// Pass to fk::times or fk::for_each: when retries run out, revert the whole run, not only the flow.
inline constexpr detail::retry_options revert_all_when_exhausted{true};

/// The built-in controllers. A controller has a value_type, `value_type next(history[, input])`
/// (throwing when there is no next value) and `retry_decision on_failure(history[, input])`; the
/// input is the slot the controller reads, if any.

/// Never retries: the flow is reverted and the failure goes to the enclosing scope (fk::always_revert).
struct always_revert_controller {
  /// Controllers without a value provide std::monostate.
  using value_type = std::monostate;
  /// The controller's name, for to_dot and the structural hash.
  static constexpr std::string_view kind = "always_revert";
  /// The value of the next attempt.
  value_type next(const retry_history<value_type>&) const { return {}; }
  /// What to do about a failure.
  retry_decision on_failure(const retry_history<value_type>&) const { return retry_decision::revert; }
};

/// Never retries: the whole run is reverted (fk::always_revert_all).
struct always_revert_all_controller {
  using value_type = std::monostate;
  static constexpr std::string_view kind = "always_revert_all";
  value_type next(const retry_history<value_type>&) const { return {}; }
  retry_decision on_failure(const retry_history<value_type>&) const { return retry_decision::revert_all; }
};

/// Runs the flow up to `attempts` times in all; the value is the attempt's number, from 1.
struct times_controller {
  using value_type = int;
  static constexpr std::string_view kind = "times";
  /// The number of runs in all, at least 1.
  int attempts = 1;
  /// When the attempts run out: revert the whole run (true) or the flow only.
  bool revert_all = false;
  value_type next(const retry_history<value_type>& h) const { return static_cast<int>(h.size()) + 1; }
  retry_decision on_failure(const retry_history<value_type>& h) const {
    if (static_cast<int>(h.size()) < attempts) return retry_decision::retry;
    return revert_all ? retry_decision::revert_all : retry_decision::revert;
  }
};

namespace detail {
// The first value of `values` not yet tried (a multiset difference, as TaskFlow does).
template <class Container, class Value>
const Value* next_untried(const Container& values, const retry_history<Value>& history) {
  std::vector<bool> used(history.size(), false);
  for (const auto& v : values) {
    bool tried = false;
    for (std::size_t i = 0; i < history.size() && !tried; ++i)
      if (!used[i] && history[i].value == v) used[i] = tried = true;
    if (!tried) return &v;
  }
  return nullptr;
}
template <class Container, class Value>
std::size_t untried_count(const Container& values, const retry_history<Value>& history) {
  std::size_t n = 0;
  for (const auto& v : values) (void)v, ++n;
  return n > history.size() ? n - history.size() : 0;
}
}  // namespace detail

/// Tries the flow with each value in turn until one works.
template <class Container>
struct for_each_controller {
  using value_type = std::decay_t<decltype(*std::begin(std::declval<const Container&>()))>;
  static constexpr std::string_view kind = "for_each";
  /// The values to try, in order.
  Container values;
  /// When the values run out: revert the whole run (true) or the flow only.
  bool revert_all = false;
  /// The first value not yet tried; throws fk::retries_exhausted when none is left.
  value_type next(const retry_history<value_type>& h) const {
    if (const value_type* v = detail::next_untried(values, h)) return *v;
    throw retries_exhausted("flowkit: for_each retry has no values left to try");
  }
  /// Retry while a value is left untried.
  retry_decision on_failure(const retry_history<value_type>& h) const {
    if (detail::untried_count(values, h) > 0) return retry_decision::retry;
    return revert_all ? retry_decision::revert_all : retry_decision::revert;
  }
};

/// Like for_each, with the values read from a slot of the flow.
template <class Container>
struct parameterized_for_each_controller {
  using value_type = std::decay_t<decltype(*std::begin(std::declval<const Container&>()))>;
  static constexpr std::string_view kind = "parameterized_for_each";
  /// When the values run out: revert the whole run (true) or the flow only.
  bool revert_all = false;
  /// The first value of `from` not yet tried; throws fk::retries_exhausted when none is left.
  value_type next(const retry_history<value_type>& h, const Container& from) const {
    if (const value_type* v = detail::next_untried(from, h)) return *v;
    throw retries_exhausted("flowkit: parameterized_for_each retry has no values left to try");
  }
  retry_decision on_failure(const retry_history<value_type>& h, const Container& from) const {
    if (detail::untried_count(from, h) > 0) return retry_decision::retry;
    return revert_all ? retry_decision::revert_all : retry_decision::revert;
  }
};

/// What `.retry(...)` takes: a controller, the slot it provides (if any) and the slot it reads.
template <class Controller, name Provides = name<1>{""}, name Reads = name<1>{""}, class ReadType = void>
struct retry_spec {
  /// The controller: one of the *_controller types, or a user's with the same members.
  Controller controller;
};

/// Never retry; revert the flow and leave the failure to the enclosing scope.
inline constexpr retry_spec<always_revert_controller> always_revert{};
/// Never retry; revert the whole run.
inline constexpr retry_spec<always_revert_all_controller> always_revert_all{};

/// fk::times(n): run the flow up to n times in all (n < 1 counts as 1); the attempt's number,
/// from 1, is the controller's value.
constexpr retry_spec<times_controller> times(int attempts, detail::retry_options options = {}) {
  return {times_controller{attempts < 1 ? 1 : attempts, options.revert_all}};
}

/// fk::for_each<"slot">(values): run the flow with each value in turn, provided as `slot`, until
/// one attempt succeeds.
template <name Slot, class Container>
auto for_each(Container values, detail::retry_options options = {}) {
  return retry_spec<for_each_controller<Container>, Slot>{{std::move(values), options.revert_all}};
}

/// fk::parameterized_for_each<"values", "slot", Container>(): like for_each, with the values read
/// from the slot `values` at run time.
template <name Values, name Slot, class Container>
auto parameterized_for_each(detail::retry_options options = {}) {
  return retry_spec<parameterized_for_each_controller<Container>, Slot, Values, Container>{{options.revert_all}};
}

/// The atom a retry controller becomes: named "<flow>_retry", placed first in its flow.
template <name Name, class Controller, name Provides, name Reads, class ReadType>
class retry_t {
 public:
  /// The controller's value type (what it provides to its flow).
  using value_type = typename Controller::value_type;
  using result_type = value_type;
  /// Every attempt of this controller in a run.
  using history_type = retry_history<value_type>;

  /// "<flow>_retry".
  static constexpr auto name = Name;
  /// Marks a retry controller's atom for the engine (fk::retry_atom).
  static constexpr bool is_retry = true;
  /// The engine reverts a retry controller with its scope.
  static constexpr bool has_revert = true;
  /// The controller's kind, e.g. "times".
  static constexpr std::string_view kind = Controller::kind;
  /// 1 when the controller reads a slot (parameterized_for_each), else 0.
  static constexpr std::size_t input_count = std::is_void_v<ReadType> ? 0 : 1;
  /// 1 when the controller provides its value as a slot, else 0.
  static constexpr std::size_t output_count = Provides.size() == 0 ? 0 : 1;

  /// The slot types, names and kinds, as a task has them (fk::task_like), for the analysis.
  template <std::size_t I>
  using input_type = std::enable_if_t<(I < input_count), ReadType>;
  template <std::size_t>
  using output_type = value_type;

  static constexpr auto input_slots = [] {
    if constexpr (input_count == 0) return std::array<std::string_view, 0>{};
    else return std::array<std::string_view, 1>{Reads.view()};
  }();
  static constexpr std::array<input_kind, input_count> input_kinds{};
  static constexpr auto input_types = [] {
    if constexpr (input_count == 0) return std::array<detail::type_id, 0>{};
    else return std::array<detail::type_id, 1>{detail::type_id_of<ReadType>};
  }();
  static constexpr auto output_names = [] {
    if constexpr (output_count == 0) return std::array<std::string_view, 0>{};
    else return std::array<std::string_view, 1>{Provides.view()};
  }();
  static constexpr auto output_types = [] {
    if constexpr (output_count == 0) return std::array<detail::type_id, 0>{};
    else return std::array<detail::type_id, 1>{detail::type_id_of<value_type>};
  }();

  /// Made by a flow's .retry(...).
  explicit retry_t(Controller controller) : controller_(std::move(controller)) {}

  /// The value of the next attempt, from the run's history of this retry (the engine records the
  /// attempt). `fetch` gives the slot the controller reads, if any.
  template <class Fetch>
  value_type next(Fetch&& fetch, const history_type& history) const {
    if constexpr (input_count == 0)
      return controller_.next(history);
    else
      return controller_.next(history, fetch(std::integral_constant<std::size_t, 0>{}));
  }

  /// Whether to retry, revert or revert all, from the history whose last attempt holds the
  /// failures just met.
  template <class Fetch>
  retry_decision decide(Fetch&& fetch, const history_type& history) const {
    if constexpr (input_count == 0)
      return controller_.on_failure(history);
    else
      return controller_.on_failure(history, fetch(std::integral_constant<std::size_t, 0>{}));
  }

  /// The controller, as given to `.retry(...)`.
  const Controller& controller() const noexcept { return controller_; }

 private:
  Controller controller_;
};

/// A retry controller's atom (an fk::retry_t).
template <class T>
concept retry_atom = requires { requires T::is_retry; };

}  // namespace flowkit
