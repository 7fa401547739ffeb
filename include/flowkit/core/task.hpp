#pragma once
// Tasks: a callable with named, typed inputs and outputs.
//
//   auto charge = fk::task<"charge">(fk::inputs<"order">, fk::outputs<"receipt">,
//                                    [](const Order& o) { return bank.charge(o); })
//                     .on_revert([](const Order& o, const fk::outcome<Receipt>& r) { ... });
//
// Input types come from the callable's parameters (by value or const&), outputs from its
// result (a std::tuple for several, void for none). Parameters of type std::stop_token,
// fk::progress& and fk::execution are recognised by type and are not slots. A class with `name`, `inputs`,
// `outputs` and `execute` (and optionally `revert`) is a task too.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/name.hpp>
#include <flowkit/core/outcome.hpp>
#include <flowkit/core/progress.hpp>
#include <flowkit/detail/callable_traits.hpp>
#include <flowkit/detail/type_at.hpp>
#include <flowkit/detail/type_id.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <stop_token>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace flowkit {

/// How an input gets its value: from a slot (a task's output or the store), from a value the
/// task carries (inject), or from a slot when present and a default otherwise.
enum class input_kind : unsigned char { slot, injected, optional };

namespace detail {

enum class param_role : unsigned char { slot, stop, progress, execution };

template <class P>
inline constexpr param_role role_of =
    std::is_same_v<std::remove_cvref_t<P>, std::stop_token> ? param_role::stop
    : std::is_same_v<P, progress&>                          ? param_role::progress
    : std::is_same_v<std::remove_cvref_t<P>, execution>     ? param_role::execution
                                                            : param_role::slot;

// A slot parameter is read-only shared data: by value or by const&.
template <class P>
inline constexpr bool readable_param =
    role_of<P> != param_role::slot || !std::is_reference_v<P> ||
    (std::is_lvalue_reference_v<P> && std::is_const_v<std::remove_reference_t<P>>);

// Modifiers a task carries, in the order they were applied (the last one for a name wins).
template <name Param, name Slot>
struct rebinding {
  static constexpr std::string_view param = Param.view();
  static constexpr std::string_view slot = Slot.view();
  static constexpr bool binds_value = false;
};
template <name Param, input_kind Kind, class T>
struct bound_value {
  static constexpr std::string_view param = Param.view();
  static constexpr input_kind kind = Kind;
  static constexpr bool binds_value = true;
  T value;
};

struct no_revert {};

// The body of a lambda task: its execute and (optional) revert callables.
template <class Fn, class Revert = no_revert>
struct lambda_body {
  Fn execute_fn;
  [[no_unique_address]] Revert revert_fn;

  template <class... Args>
    requires std::invocable<Fn&, Args...>
  decltype(auto) execute(Args&&... args) {
    return std::invoke(execute_fn, std::forward<Args>(args)...);
  }
  template <class... Args>
    requires std::invocable<Revert&, Args...>
  void revert(Args&&... args) {
    std::invoke(revert_fn, std::forward<Args>(args)...);
  }
};

template <class Body>
inline constexpr bool is_lambda_body = false;
template <class Fn, class Revert>
inline constexpr bool is_lambda_body<lambda_body<Fn, Revert>> = true;

// A class task has a revert when it declares one member named so.
template <class Body>
inline constexpr bool has_revert_v = requires { &Body::revert; };
template <class Fn, class Revert>
inline constexpr bool has_revert_v<lambda_body<Fn, Revert>> = !std::is_same_v<Revert, no_revert>;

}  // namespace detail

/// A task: a callable (Body) with named, typed inputs and outputs, and the modifiers applied to it.
/// Made by fk::task or fk::as_task, never spelled out.
template <name Name, class Body, class Signature, class Inputs, class Outputs, class... Mods>
class task_t;

template <name Name, class Body, class R, class... Args, name... Ins, name... Outs, class... Mods>
class task_t<Name, Body, R(Args...), names<Ins...>, names<Outs...>, Mods...> {
  static constexpr std::array<detail::param_role, sizeof...(Args)> roles{detail::role_of<Args>...};
  static constexpr std::size_t slot_param_count =
      ((detail::role_of<Args> == detail::param_role::slot ? 1 : 0) + ... + 0);

  static_assert((detail::readable_param<Args> && ...),
                "fk::task: a task's parameter takes its input by value or by const& (tasks share "
                "their inputs and must not modify them)");
  static_assert(
      slot_param_count == sizeof...(Ins),
      "fk::task: the number of fk::inputs<...> names differs from the number of the "
      "callable's input parameters (std::stop_token, fk::progress& and fk::execution are not inputs)");

  // Position of each slot among the callable's parameters.
  static constexpr auto slot_positions = [] {
    std::array<std::size_t, sizeof...(Ins) + 1> at{};
    std::size_t slot = 0;
    for (std::size_t p = 0; p < sizeof...(Args); ++p)
      if (roles[p] == detail::param_role::slot) at[slot++] = p;
    return at;
  }();

 public:
  /// The task's name.
  static constexpr auto name = Name;
  /// What execute returns: void, one output's type, or a std::tuple of several outputs' types.
  using result_type = R;
  /// The callable(s): a lambda body, or the class of a class task.
  using body_type = Body;
  /// Whether the callable takes an fk::execution (then the engine tells it about a re-run).
  static constexpr bool takes_execution = ((detail::role_of<Args> == detail::param_role::execution) || ...);

  /// The number of inputs (parameters read from slots or injected).
  static constexpr std::size_t input_count = sizeof...(Ins);
  /// The number of outputs.
  static constexpr std::size_t output_count = sizeof...(Outs);

  /// The type of input I (the parameter's type without const&).
  template <std::size_t I>
  using input_type = std::remove_cvref_t<detail::type_at<slot_positions[I], Args...>>;

  /// The type of output K.
  template <std::size_t K>
  using output_type = std::conditional_t<
      output_count == 1, R, std::tuple_element_t<K, std::conditional_t<output_count <= 1, std::tuple<R>, R>>>;

  static_assert(output_count <= 1 || requires { std::tuple_size<R>::value; },
                "fk::task: a task with several fk::outputs<...> returns a std::tuple of them");
  static_assert(output_count != 1 || !std::is_void_v<R>,
                "fk::task: a task with an output must return a value");

  /// The inputs' parameter names, in the callable's order.
  static constexpr std::array<std::string_view, input_count> input_params{Ins.view()...};
  /// The outputs' names.
  static constexpr std::array<std::string_view, output_count> output_names{Outs.view()...};

 private:
  template <class Mod>
  static constexpr bool mod_applies([[maybe_unused]] std::string_view param, [[maybe_unused]] bool value) {
    return Mod::param == param && Mod::binds_value == value;
  }
  // Index in Mods of the last modifier of `param` that binds a value (or rebinds), or npos.
  static constexpr std::size_t last_mod([[maybe_unused]] std::string_view param, [[maybe_unused]] bool value) {
    constexpr std::size_t count = sizeof...(Mods);
    std::array<bool, count + 1> hits{mod_applies<Mods>(param, value)...};
    for (std::size_t i = count; i-- > 0;)
      if (hits[i]) return i;
    return count;
  }
  static constexpr std::size_t npos = sizeof...(Mods);

 public:
  /// The slot each input reads (its own name unless rebound).
  static constexpr std::array<std::string_view, input_count> input_slots = [] {
    std::array<std::string_view, input_count> slots{Ins.view()...};
    constexpr std::array<std::string_view, sizeof...(Mods) + 1> targets{[] {
      if constexpr (Mods::binds_value) return std::string_view{};
      else return Mods::slot;
    }()...};
    for (std::size_t i = 0; i < input_count; ++i)
      if (std::size_t m = last_mod(slots[i], false); m != npos) slots[i] = targets[m];
    return slots;
  }();

  /// How each input gets its value (slot, injected or optional).
  static constexpr std::array<input_kind, input_count> input_kinds = [] {
    std::array<input_kind, input_count> kinds{};
    constexpr std::array<input_kind, sizeof...(Mods) + 1> mod_kinds{[] {
      if constexpr (Mods::binds_value) return Mods::kind;
      else return input_kind::slot;
    }()...};
    for (std::size_t i = 0; i < input_count; ++i) {
      std::size_t m = last_mod(input_params[i], true);
      kinds[i] = m == npos ? input_kind::slot : mod_kinds[m];
    }
    return kinds;
  }();

  /// The inputs' types, as type ids for the compile-time analysis.
  static constexpr auto input_types = []<std::size_t... Is>(std::index_sequence<Is...>) {
    return std::array<detail::type_id, input_count>{detail::type_id_of<input_type<Is>>...};
  }(std::make_index_sequence<input_count>{});
  /// The outputs' types, likewise.
  static constexpr auto output_types = []<std::size_t... Ks>(std::index_sequence<Ks...>) {
    return std::array<detail::type_id, output_count>{detail::type_id_of<output_type<Ks>>...};
  }(std::make_index_sequence<output_count>{});

  /// Whether the task has a revert.
  static constexpr bool has_revert = detail::has_revert_v<Body>;

  /// Usually made by fk::task or fk::as_task.
  constexpr task_t(Body body, std::tuple<Mods...> mods = {})
      : body_(std::move(body)), mods_(std::move(mods)) {}

  /// The value a task carries for input I (injected, or its default).
  template <std::size_t I>
  const input_type<I>& bound_value() const noexcept {
    constexpr std::size_t m = last_mod(input_params[I], true);
    static_assert(m != npos, "input has no bound value");
    return std::get<m>(mods_).value;
  }

  /// Runs execute. fetch(std::integral_constant<std::size_t, I>) yields input I's value for
  /// inputs read from slots; injected inputs come from the task itself.
  template <class Fetch>
  R execute(Fetch&& fetch, const std::stop_token& stop, progress& report) {
    return [&]<std::size_t... Ps>(std::index_sequence<Ps...>) -> R {
      return body_.execute(argument<Ps>(fetch, stop, report)...);
    }(std::index_sequence_for<Args...>{});
  }

  /// Runs revert (when the task has one) with the task's inputs, its outcome and, if the revert
  /// asks for them, the flow's failures.
  template <class Fetch>
  void revert(Fetch&& fetch, const outcome<R>& result, failures flow_failures) {
    if constexpr (has_revert) {
      [&]<std::size_t... Is>(std::index_sequence<Is...>) {
        if constexpr (requires { body_.revert(input<Is>(fetch)..., result, flow_failures); })
          body_.revert(input<Is>(fetch)..., result, flow_failures);
        else
          body_.revert(input<Is>(fetch)..., result);
      }(std::make_index_sequence<input_count>{});
    }
  }

  /// Modifiers return a new task; the original is unchanged.
  /// inject<"param">(value): the input `param` always takes `value` (a copy kept in the task) and
  /// reads no slot.
  template <flowkit::name Param, class T>
  constexpr auto inject(T&& value) const {
    return with_mod<Param, input_kind::injected>(std::forward<T>(value));
  }
  /// with_default<"param">(value): the input `param` reads its slot when one is there, else `value`.
  template <flowkit::name Param, class T>
  constexpr auto with_default(T&& value) const {
    return with_mod<Param, input_kind::optional>(std::forward<T>(value));
  }
  /// rebind<"param", "slot">(): the input `param` reads the slot `slot` instead of its own name.
  template <flowkit::name Param, flowkit::name Slot>
  constexpr auto rebind() const {
    static_assert(has_param(Param.view()), "fk::rebind<param, slot>: 'param' is not an input of the task");
    return task_t<Name, Body, R(Args...), names<Ins...>, names<Outs...>, Mods...,
                  detail::rebinding<Param, Slot>>{body_,
                                                  std::tuple_cat(mods_, std::tuple<detail::rebinding<Param, Slot>>{})};
  }
  /// Lambda tasks only: the revert takes the inputs, then `const fk::outcome<R>&`, then
  /// optionally `fk::failures` (every failure of the flow run).
  template <class RevertFn>
    requires detail::is_lambda_body<Body>
  constexpr auto on_revert(RevertFn revert_fn) const {
    constexpr bool fits = []<std::size_t... Is>(std::index_sequence<Is...>) {
      return std::invocable<RevertFn&, const input_type<Is>&..., const outcome<R>&> ||
             std::invocable<RevertFn&, const input_type<Is>&..., const outcome<R>&, failures>;
    }(std::make_index_sequence<input_count>{});
    static_assert(fits,
                  "fk::task::on_revert: a revert takes the task's inputs (by value or const&), then "
                  "const fk::outcome<R>&, then optionally fk::failures");
    using new_body = detail::lambda_body<decltype(body_.execute_fn), RevertFn>;
    return task_t<Name, new_body, R(Args...), names<Ins...>, names<Outs...>, Mods...>{
        new_body{body_.execute_fn, std::move(revert_fn)}, mods_};
  }

  /// The callable(s) the task runs.
  const Body& body() const noexcept { return body_; }
  /// The modifiers applied (inject, with_default, rebind), in order.
  const std::tuple<Mods...>& modifiers() const noexcept { return mods_; }

 private:
  static constexpr bool has_param(std::string_view param) {
    for (std::string_view p : input_params)
      if (p == param) return true;
    return false;
  }
  static constexpr std::size_t param_index(std::string_view param) {
    for (std::size_t i = 0; i < input_count; ++i)
      if (input_params[i] == param) return i;
    return input_count;
  }

  template <flowkit::name Param, input_kind Kind, class T>
  constexpr auto with_mod(T&& value) const {
    constexpr std::size_t index = param_index(Param.view());
    static_assert(index < input_count, "fk::task: inject<param>/with_default<param> names no input of the task");
    using value_type = input_type<index>;
    static_assert(std::is_constructible_v<value_type, T&&>,
                  "fk::task: the value given to inject<param>/with_default<param> does not convert to the input's type");
    using mod = detail::bound_value<Param, Kind, value_type>;
    return task_t<Name, Body, R(Args...), names<Ins...>, names<Outs...>, Mods..., mod>{
        body_, std::tuple_cat(mods_, std::tuple<mod>{mod{value_type(std::forward<T>(value))}})};
  }

  template <std::size_t I, class Fetch>
  decltype(auto) input(Fetch& fetch) const {
    if constexpr (input_kinds[I] == input_kind::injected)
      return bound_value<I>();
    else
      return fetch(std::integral_constant<std::size_t, I>{});
  }

  template <std::size_t P, class Fetch>
  decltype(auto) argument(Fetch& fetch, const std::stop_token& stop, progress& report) const {
    constexpr detail::param_role role = roles[P];
    if constexpr (role == detail::param_role::stop)
      return (stop);
    else if constexpr (role == detail::param_role::progress)
      return (report);
    else if constexpr (role == detail::param_role::execution)
      return execution{report};
    else {
      constexpr std::size_t slot = [] {
        std::size_t s = 0;
        for (std::size_t p = 0; p < P; ++p) s += roles[p] == detail::param_role::slot;
        return s;
      }();
      return input<slot>(fetch);
    }
  }

  [[no_unique_address]] Body body_;
  [[no_unique_address]] std::tuple<Mods...> mods_;
};

/// What the compile-time analysis needs of a task.
template <class T>
concept task_like = requires {
  T::name.view();
  T::input_slots;
  T::input_kinds;
  T::input_types;
  T::output_names;
  T::output_types;
};

namespace detail {

template <name Name, class Inputs, class Outputs, class Fn>
constexpr auto make_lambda_task(Fn fn) {
  if constexpr (!reflectable_callable<Fn>) {
    static_assert(always_false<Fn>,
                  "fk::task: the callable must have exactly one non-template call operator (a "
                  "generic lambda's parameter types cannot be read: spell them out)");
  } else {
    using signature = typename callable_signature<Fn>::type;
    return task_t<Name, lambda_body<Fn>, signature, Inputs, Outputs>{lambda_body<Fn>{std::move(fn), {}}};
  }
}

}  // namespace detail

/// fk::task<"name">([fk::inputs<...>,] [fk::outputs<...>,] callable)
/// Makes a lambda task; the callable needs one non-template call operator (a generic lambda is a
/// compile error), and its parameters must match the input names.
template <name Name, class Fn>
constexpr auto task(Fn fn) {
  return detail::make_lambda_task<Name, names<>, names<>>(std::move(fn));
}
template <name Name, name... Ins, class Fn>
constexpr auto task(input_names<Ins...>, Fn fn) {
  return detail::make_lambda_task<Name, names<Ins...>, names<>>(std::move(fn));
}
template <name Name, name... Outs, class Fn>
constexpr auto task(output_names<Outs...>, Fn fn) {
  return detail::make_lambda_task<Name, names<>, names<Outs...>>(std::move(fn));
}
template <name Name, name... Ins, name... Outs, class Fn>
constexpr auto task(input_names<Ins...>, output_names<Outs...>, Fn fn) {
  return detail::make_lambda_task<Name, names<Ins...>, names<Outs...>>(std::move(fn));
}

/// A class task (TaskFlow's subclass style):
///   struct ship {
///     static constexpr fk::name name = "ship";
///     using inputs = fk::names<"order", "receipt">;
///     using outputs = fk::names<"tracking">;
///     std::string execute(const Order&, const Receipt&);
///     void revert(const Order&, const Receipt&, const fk::outcome<std::string>&);  // optional
///   };
template <class T>
concept class_task = requires {
  T::name.view();
  typename T::inputs;
  typename T::outputs;
  &T::execute;
};

/// Makes a task of a class task object: `fk::as_task(ship{...})`.
template <class T>
  requires class_task<T>
constexpr auto as_task(T object) {
  using signature = typename detail::member_signature<decltype(&T::execute)>::type;
  return task_t<T::name, T, signature, typename T::inputs, typename T::outputs>{std::move(object)};
}

/// fk::rebind<"param", "slot">(task): the task's input `param` reads the slot `slot`.
template <name Param, name Slot, task_like Task>
constexpr auto rebind(const Task& t) {
  return t.template rebind<Param, Slot>();
}

}  // namespace flowkit
