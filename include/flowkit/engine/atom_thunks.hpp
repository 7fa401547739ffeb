#pragma once
// How the engine calls a task without naming the flow. Each task type gets a handful of
// functions — execute, revert, destroy its result — whose only template argument is the task's
// own type; they reach inputs and outputs through pointers the engine set up. A function named
// by the whole flow's type (every atom's lambda spelled out) costs compile time and symbol
// space in proportion to the flow, and one such function per atom made both quadratic.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/outcome.hpp>
#include <flowkit/core/progress.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/core/task.hpp>
#include <flowkit/flow/flow.hpp>
#include <flowkit/flow/retry.hpp>

#include <boost/hana/unpack.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <new>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace flowkit {

/// Thrown by get<name>() for a slot whose producer has no result now (it never ran, was reverted,
/// or was ignored by a decider), and for an input that needs such a slot.
class no_result : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {

// An input's value: *value points at it, or is null when its producer has no result now; then
// `fallback` (a store value), if set, stands in.
struct input_ref {
  const void* const* value = nullptr;
  const void* fallback = nullptr;
  std::size_t producer = static_cast<std::size_t>(-1);
};

// What the engine knows of the run, for messages.
struct run_view {
  const std::string_view* atom_labels = nullptr;
  const std::atomic<atom_state>* states = nullptr;
};

// One atom, as its functions see it.
struct atom_context {
  std::string_view label;
  void* task;
  std::byte* result;     // storage for the task's result
  bool* has_result;      // whether `result` holds one
  const void** outputs;  // pointers to the outputs, published for consumers
  const input_ref* inputs;
  const run_view* view;
  bool rerun = false;  // RUNNING in the checkpoint the run was resumed from (fk::execution)
};

// What every task of a run shares: the stop token, and where progress reports go (no sink when
// nobody listens).
struct run_context {
  const std::stop_token* stop = nullptr;
  progress::sink progress_sink = nullptr;
  void* progress_context = nullptr;
};

[[noreturn]] inline void throw_no_input(const atom_context& ctx, std::string_view task, std::string_view slot,
                                        std::size_t producer) {
  const std::string_view who = ctx.view->atom_labels[producer];
  throw no_result("flowkit: input '" + std::string(slot) + "' of '" + std::string(task) + "' has no value: atom '" +
                  std::string(who) + "' that provides it is " +
                  std::string(to_string(ctx.view->states[producer].load(std::memory_order_acquire))));
}

template <class Task>
using stored_result_t =
    std::conditional_t<std::is_void_v<typename Task::result_type>, std::monostate, typename Task::result_type>;

// The default of an optional input. A function of its own, not an expression in make_fetch's
// lambda: clang looks up a member named in a discarded `if constexpr` branch when the enclosing
// template is instantiated, and a retry controller has no bound_value.
template <class Task, std::size_t I>
const auto& optional_default(const atom_context& ctx) {
  return static_cast<const Task*>(ctx.task)->template bound_value<I>();
}

template <class Task>
auto make_fetch(atom_context& ctx) {
  return [&ctx]<std::size_t I>(std::integral_constant<std::size_t, I>) -> const typename Task::template input_type<I>& {
    using value_type = typename Task::template input_type<I>;
    const input_ref& ref = ctx.inputs[I];
    if (const void* p = *ref.value) [[likely]]
      return *static_cast<const value_type*>(p);
    if (ref.fallback) return *static_cast<const value_type*>(ref.fallback);
    if constexpr (Task::input_kinds[I] == input_kind::optional)
      return optional_default<Task, I>(ctx);
    else
      throw_no_input(ctx, Task::name.view(), Task::input_slots[I], ref.producer);
  };
}

// Points the atom's outputs into its result, for its consumers.
template <class Task, class Result>
void publish_outputs(atom_context& ctx, Result* result) noexcept {
  if constexpr (Task::output_count == 1) {
    ctx.outputs[0] = result;
  } else if constexpr (Task::output_count > 1) {
    [&]<std::size_t... Ks>(std::index_sequence<Ks...>) {
      ((ctx.outputs[Ks] = &std::get<Ks>(*result)), ...);
    }(std::make_index_sequence<Task::output_count>{});
  }
}

template <class Task>
void execute_task(atom_context& ctx, const run_context& run) {
  Task& task = *static_cast<Task*>(ctx.task);
  const std::stop_token& stop = *run.stop;
  progress report{ctx.label, run.progress_sink, run.progress_context};  // dead, and gone, if unused
  // Only a task that can see it reads the re-run flag: reading it in every execute cost 2-3 ns
  // per task on a 100-task chain (docs/benchmarks.md, "Part A").
  if constexpr (Task::takes_execution)
    if (ctx.rerun) [[unlikely]] {
      progress_access::set_rerun(report, true);
      ctx.rerun = false;  // this execute is the re-run; a later one (a retry's) is not
    }
  using result_type = typename Task::result_type;
  if constexpr (std::is_void_v<result_type>) {
    task.execute(make_fetch<Task>(ctx), stop, report);
  } else {
    auto* result = ::new (static_cast<void*>(ctx.result)) result_type(task.execute(make_fetch<Task>(ctx), stop, report));
    publish_outputs<Task>(ctx, result);
  }
  *ctx.has_result = true;
}

// Puts a result back (from a saved run state), as if the task had just returned it.
template <class Task>
void emplace_result(atom_context& ctx, const stored_result_t<Task>& value) {
  using result_type = typename Task::result_type;
  if constexpr (!std::is_void_v<result_type>)
    publish_outputs<Task>(ctx, ::new (static_cast<void*>(ctx.result)) result_type(value));
  *ctx.has_result = true;
}

// Forgets the task's result: its outputs are gone.
template <class Task>
void destroy_result(atom_context& ctx) noexcept {
  if (!*ctx.has_result) return;
  using result_type = typename Task::result_type;
  if constexpr (!std::is_void_v<result_type> && !std::is_trivially_destructible_v<result_type>)
    std::launder(reinterpret_cast<result_type*>(ctx.result))->~result_type();
  for (std::size_t k = 0; k < Task::output_count; ++k) ctx.outputs[k] = nullptr;
  *ctx.has_result = false;
}

// Reverts with the inputs, the outcome (the result, or `failed` when execute threw) and every
// failure of the run; then the result is gone.
template <class Task>
void revert_task(atom_context& ctx, const failure* failed, failures all) {
  Task& task = *static_cast<Task*>(ctx.task);
  using result_type = typename Task::result_type;
  if constexpr (Task::has_revert) {
    if (!*ctx.has_result && failed)
      task.revert(make_fetch<Task>(ctx), outcome<result_type>{*failed}, all);
    else if constexpr (std::is_void_v<result_type>)
      task.revert(make_fetch<Task>(ctx), outcome<void>{}, all);
    else
      task.revert(make_fetch<Task>(ctx),
                  outcome<result_type>{*std::launder(reinterpret_cast<const result_type*>(ctx.result))}, all);
  }
  destroy_result<Task>(ctx);
}

// A retry controller's part of the run state: the controller (in the flow) and its history (the
// run's). The atom_context of a retry atom points at this, not at the controller.
template <class Retry>
struct retry_run {
  const Retry* retry = nullptr;
  typename Retry::history_type history;
};

// A retry's execute: the controller gives the next value from the history, which records it as
// a new attempt.
template <class Retry>
void execute_retry(atom_context& ctx, const run_context&) {
  auto& run = *static_cast<retry_run<Retry>*>(ctx.task);
  using value_type = typename Retry::value_type;
  auto* value =
      ::new (static_cast<void*>(ctx.result)) value_type(run.retry->next(make_fetch<Retry>(ctx), run.history));
  publish_outputs<Retry>(ctx, value);
  *ctx.has_result = true;
  run.history.push_back({*value, {}});
}

// A retry's revert undoes nothing: its value is forgotten, its history kept until the retry is
// PENDING again.
template <class Retry>
void revert_retry(atom_context& ctx, const failure*, failures) {
  destroy_result<Retry>(ctx);
}

// Records the failures of the retry's current attempt, and asks the controller what to do.
template <class Retry>
retry_decision retry_on_failure(atom_context& ctx, failures met) {
  auto& run = *static_cast<retry_run<Retry>*>(ctx.task);
  if (!run.history.empty()) run.history.back().failures.assign(met.begin(), met.end());
  return run.retry->decide(make_fetch<Retry>(ctx), run.history);
}

template <class Retry>
void clear_retry_history(atom_context& ctx) noexcept {
  static_cast<retry_run<Retry>*>(ctx.task)->history.clear();
}

using execute_function = void (*)(atom_context&, const run_context&);
using revert_function = void (*)(atom_context&, const failure*, failures);
using destroy_function = void (*)(atom_context&) noexcept;
using on_failure_function = retry_decision (*)(atom_context&, failures);
using clear_history_function = void (*)(atom_context&) noexcept;

// Calls visit.template operator()<Task>() for every task type of a flow, in pre-order.
template <class Node, class Visit>
constexpr void for_each_task_type(Visit& visit) {
  if constexpr (task_like<Node>) {
    visit.template operator()<Node>();
  } else {
    [&]<name Name, flow_kind Kind, class Links, class... Children>(const flow_t<Name, Kind, Links, Children...>*) {
      (for_each_task_type<Children>(visit), ...);
    }(static_cast<const Node*>(nullptr));
  }
}

// Each atom's functions, and where its result lives in the engine's storage.
template <std::size_t Atoms>
struct atom_table {
  std::array<execute_function, Atoms + 1> execute{};
  std::array<revert_function, Atoms + 1> revert{};
  std::array<destroy_function, Atoms + 1> destroy{};
  std::array<on_failure_function, Atoms + 1> on_failure{};  // retry controllers only
  std::array<clear_history_function, Atoms + 1> clear_history{};
  std::array<std::size_t, Atoms + 1> result_offset{};
  std::size_t result_bytes = 0;
  std::size_t result_align = 1;
  bool trivial_results = true;  // every result trivially destructible: forgetting them is a fill
  std::size_t at = 0;

  template <class Task>
  constexpr void operator()() {
    destroy[at] = &destroy_result<Task>;
    if constexpr (retry_atom<Task>) {
      execute[at] = &execute_retry<Task>;
      revert[at] = &revert_retry<Task>;
      on_failure[at] = &retry_on_failure<Task>;
      clear_history[at] = &clear_retry_history<Task>;
    } else {
      execute[at] = &execute_task<Task>;
      revert[at] = &revert_task<Task>;
    }
    using stored = stored_result_t<Task>;
    trivial_results = trivial_results && std::is_trivially_destructible_v<stored>;
    constexpr std::size_t align = alignof(stored), size = std::is_empty_v<stored> ? 0 : sizeof(stored);
    result_bytes = (result_bytes + align - 1) / align * align;
    result_offset[at] = result_bytes;
    result_bytes += size;
    if (align > result_align) result_align = align;
    ++at;
  }
};

template <class Flow, std::size_t Atoms>
constexpr atom_table<Atoms> make_atom_table() {
  atom_table<Atoms> table{};
  for_each_task_type<Flow>(table);
  return table;
}

// The task objects of a flow, in pre-order.
template <class Node>
void collect_tasks(Node& node, void** out, std::size_t& at) {
  if constexpr (task_like<Node>) {
    out[at++] = &node;
  } else {
    boost::hana::unpack(node.children(), [&](auto&... child) { (collect_tasks(child, out, at), ...); });
  }
}

}  // namespace detail
}  // namespace flowkit
