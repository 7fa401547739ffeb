#pragma once
// fk::engine binds a flow to its store and runs it: on the calling thread (fk::serial, one fixed
// order, fail-fast) or on an executor (fk::thread_pool, or a user's). Wiring was decided by the
// compiler; at run time an atom's inputs are references into typed result storage found by
// compile-time indices (no std::any, no string lookups, no allocation per task).
//
//   fk::engine eng{flow, fk::store<"order_id">(42)};
//   auto r = eng.run();                           // or eng.run(pool)
//   const std::string& t = r.get<"tracking">();
//
// Semantics (TaskFlow's, see docs/engine.md): when a task throws, no new atom starts, running
// atoms finish, then every atom that ran is reverted in reverse dependency order. A revert that
// throws stops further reverts and the flow ends FAILURE; running the engine again resumes them.
// suspend() stops starting atoms; run() again continues where the run stopped.
//
// This is the façade. The engine's parts are in engine/detail/, each a layer the next one
// builds on: result_storage.hpp (results, inputs, atom contexts), run_state.hpp (states,
// intentions, failures, retry histories, and the one funnel every transition passes through),
// deciders.hpp, retry_scopes.hpp (failure resolution), atom_steps.hpp (one atom's execute and
// revert), serial_loop.hpp and parallel_phase.hpp (the two ways to run a phase).

#include <flowkit/core/failure.hpp>
#include <flowkit/core/intention.hpp>
#include <flowkit/core/outcome.hpp>
#include <flowkit/core/progress.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/core/store.hpp>
#include <flowkit/engine/bindings.hpp>
#include <flowkit/engine/detail/parallel_phase.hpp>
#include <flowkit/engine/detail/recorder.hpp>
#include <flowkit/engine/detail/run_state.hpp>
#include <flowkit/engine/executor.hpp>
#include <flowkit/engine/listener.hpp>
#include <flowkit/engine/run_result.hpp>
#include <flowkit/engine/trace_listener.hpp>
#include <flowkit/flow/retry.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace flowkit {

namespace detail {

// What get<name>() returns for a name that the flow does not know, after its diagnostic.
struct unknown_result_t {};
inline constexpr unknown_result_t unknown_result{};

}  // namespace detail

/// Runs a flow: binds it to its store (the flow's inputs) and, optionally, a recorder that
/// checkpoints every transition (fk::persist). A wiring error is a compile error here. One run at a
/// time per engine; many engines may run one flow value at once. Results are read by slot name.
/// Recorder: where each transition is recorded (detail/recorder.hpp); by default nowhere, at no cost.
template <flow_like Flow, class Store = store_t<names<>>, detail::recorder Recorder = detail::no_recorder>
class engine : private detail::parallel_phases<Flow, Store, Recorder> {
  static_assert(is_store_v<Store>, "fk::engine{flow, store}: the second argument is made by fk::store<...>(...)");

  using base = detail::parallel_phases<Flow, Store, Recorder>;
  using base::none;
  using base::recording;
  using base::spec;
  using base::wired;

 public:
  /// The flow type run.
  using flow_type = Flow;
  /// The store type (fk::store_t<...>).
  using store_type = Store;
  /// The number of atoms (tasks and retry controllers) of the flow.
  static constexpr std::size_t atom_count = spec.size.atoms;

  /// With a recorder (fk::persist), building the engine creates its run in the backend, or
  /// loads the run stored under that id: then the engine's state is the stored one and the
  /// store's values are the run's own (the `store` given is used only by a new run).
  explicit engine(Flow flow, Store store = {}, Recorder recorder = {})
      : base(std::move(flow), std::move(store), std::move(recorder)) {
    if constexpr (!wired) {
      detail::report_bindings<Flow, Store>();
    } else {
      if constexpr (recording) this->recorder_.open(recorded_state());
      // FLOWKIT_TRACE=<file>: traced without a line of code (trace_listener.hpp). Tested here, once
      // per engine built, so that an untraced engine pays nothing per run.
      detail::trace_if_asked(*this);
    }
  }
  /// A flow without inputs, recorded.
  engine(Flow flow, Recorder recorder) requires(Recorder::records&& Store::size == 0)
      : engine(std::move(flow), Store{}, std::move(recorder)) {}
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;
  /// A recorder's own thread (fk::persist's committer) may still touch the run state (a failed
  /// commit suspends the run): it is stopped before any of that state is destroyed.
  ~engine() {
    if constexpr (requires { this->recorder_.close(); }) this->recorder_.close();
  }

  /// Runs on the calling thread, deterministically: atoms in one fixed topological order,
  /// reverts in the reverse of it, nothing started after a failure.
  /// A task's exception does not escape run(): it becomes a failure, and the run reverts. Throws
  /// std::logic_error when a run is already under way.
  run_result<engine> run() { return run(serial); }
  run_result<engine> run(serial_t) {
    return run_phases([this] { serial_execute(); }, [this] { serial_revert(); });
  }

  /// Runs on an executor: ready atoms in parallel, each made ready by a counter of its
  /// predecessors. The calling thread works too, and returns when the run has ended.
  template <executor E>
  run_result<engine> run(E& ex) {
    return run_phases([&] { parallel(ex, false); }, [&] { parallel(ex, true); });
  }

  /// Asks a running run to stop starting atoms; running ones finish and run() returns SUSPENDED.
  /// Callable from any thread, or from a listener; ignored when no run is under way. Tasks that
  /// take a std::stop_token see a stop requested.
  void suspend() { this->request_suspend(); }

  /// Forgets every result and failure: every atom PENDING, the flow PENDING.
  void reset() {
    recorded_as_one([&] {
      for (std::size_t a = 0; a < atom_count; ++a) make_pending(a);
      clear_results();
      execute_failures_.clear();
      revert_failures_.clear();
      all_failures_.clear();
      failure_of_.fill(none);
      if (flow_state_ != flow_state::pending) set_flow_state(flow_state::pending);
    });
  }

  /// Registers a listener, between runs (during one it throws std::logic_error: a run fixes its
  /// listeners when it starts). An lvalue is referred to (keep it alive while the engine lives);
  /// an rvalue is kept by the engine.
  template <class L>
    requires listener<std::remove_cvref_t<L>>
  void listen(L&& l) {
    using type = std::remove_cvref_t<L>;
    if (running_.load(std::memory_order_acquire))
      throw std::logic_error("flowkit: a listener for the engine of flow '" + std::string(Flow::name.view()) +
                             "' was registered during a run; register listeners between runs");
    listening_ = true;
    if constexpr (std::is_lvalue_reference_v<L>) {
      listeners_.push_back(detail::listener_entry::of(l));
    } else {
      auto owned = std::make_shared<type>(std::forward<L>(l));
      auto entry = detail::listener_entry::of(*owned);
      entry.owned = std::move(owned);
      listeners_.push_back(std::move(entry));
    }
  }

  /// A result by slot name: the output of the flow's last provider of it, else the store's value.
  /// Throws fk::no_result when that provider has no result now.
  template <name Slot>
  const auto& get() const {
    if constexpr (detail::result_known<Flow, Store, Slot>) {
      constexpr detail::input_source src = detail::result_source<Flow, Store>(Slot.view());
      if constexpr (src.kind == detail::source_kind::store) {
        return store_.template value<src.index>();
      } else {
        using value_type = typename detail::atom_type<Flow, src.atom>::template output_type<src.index>;
        const void* value = outputs_[spec.atoms[src.atom].output_begin + src.index];
        if (!value)
          throw no_result("flowkit: slot '" + std::string(Slot.view()) + "' has no value: atom '" +
                          std::string(spec.atoms[src.atom].label) + "' that provides it is " +
                          std::string(to_string(state(src.atom))));
        return *static_cast<const value_type*>(value);
      }
    } else {
      detail::report_result_name<Flow, Store, Slot>();
      return detail::unknown_result;  // after the diagnostic, so that it stays the only error
    }
  }

  /// Whether get<name>() has a value to give now.
  template <name Slot>
  bool has() const noexcept {
    if constexpr (detail::result_known<Flow, Store, Slot>) {
      constexpr detail::input_source src = detail::result_source<Flow, Store>(Slot.view());
      if constexpr (src.kind == detail::source_kind::store)
        return true;
      else
        return outputs_[spec.atoms[src.atom].output_begin + src.index] != nullptr;
    } else {
      detail::report_result_name<Flow, Store, Slot>();
      return false;
    }
  }

  /// The history of a retry controller, named "<flow>_retry": every attempt, its value and the
  /// failures it met. A retry reverted with its scope keeps its attempts until it runs again, so
  /// they are readable after a run that ended REVERTED; reset() and the next run forget them.
  template <name Retry>
  const auto& history() const {
    constexpr std::size_t atom = [] {
      for (std::size_t a = 0; a < atom_count; ++a)
        if (spec.atoms[a].label == Retry.view() && spec.atoms[a].is_retry) return a;
      return none;
    }();
    if constexpr (atom == none) {
      (void)diagnostic::unknown_retry<detail::shown<Retry>, detail::shown<Flow::name>>{};
      static const retry_history<std::monostate> no_history;  // keeps the diagnostic the only error
      return no_history;
    } else
      return std::get<retry_ordinal[atom]>(retry_runs_).history;
  }

  /// The state of the atom named `atom`; throws std::out_of_range when the flow has none.
  atom_state state_of(std::string_view atom) const { return state(index_of(atom)); }
  /// The flow's state.
  flow_state state() const noexcept { return flow_state_; }
  /// Every failure of the last run: execute failures, then revert failures.
  const std::vector<failure>& failures() const noexcept { return all_failures_; }
  /// Atoms that ran and are not reverted although the flow had to revert (a revert failed).
  std::vector<std::string_view> unreverted() const {
    std::vector<std::string_view> left;
    for (std::size_t a = 0; a < atom_count; ++a)
      if (to_revert(a)) left.push_back(spec.atoms[a].label);
    return left;
  }
  /// The flow this engine runs.
  const Flow& flow() const noexcept { return flow_; }
  /// The flow's inputs (for a resumed recorded run, the run's own).
  const Store& store() const noexcept { return store_; }

 private:
  friend struct detail::run_state_access;
  using base::all_failures_;
  using base::any_intention;
  using base::clear_results;
  using base::control_;
  using base::execute_failed;
  using base::execute_failures_;
  using base::failure_of_;
  using base::flow_;
  using base::flow_state_;
  using base::halts_;
  using base::listeners_;
  using base::listening_;
  using base::make_pending;
  using base::outputs_;
  using base::parallel;
  using base::raise;
  using base::raised;
  using base::rerun_retried_scopes;
  using base::resolve_failures;
  using base::retry_ordinal;
  using base::retry_runs_;
  using base::revert_failed;
  using base::revert_failures_;
  using base::run_context_;
  using base::running_;
  using base::serial_execute;
  using base::serial_revert;
  using base::set_flow_state;
  using base::state;
  using base::stop_;
  using base::stop_token_;
  using base::store_;
  using base::suspend_asked;
  using base::to_revert;

  // ----- one run: the flow's states around the execute and revert phases -----

  template <class Execute, class Revert>
  run_result<engine> run_phases(Execute execute, Revert revert) {
    if constexpr (wired) {
      // A recorded run is one run: once it has ended, running it again runs nothing and
      // returns how it ended (reset() starts it over).
      if constexpr (recording)
        if (flow_state_ == flow_state::success || flow_state_ == flow_state::reverted)
          return run_result<engine>{*this};
      // Whether a revert is under way (some atom's intention is REVERT), and whether it is the
      // whole flow's (no retry's intention is RETRY); read from the atoms when a run resumes.
      bool reverting = begin_run();
      bool everything = reverting && !any_intention(intention::retry);
      struct end_run {
        engine& self;
        bool recorded = !recording;
        ~end_run() {
          if constexpr (recording)
            if (!recorded) self.recorder_.end_run(self.recorded_state(), false);
          self.finish_run();
        }
      } guard{*this};
      for (;;) {
        if (!reverting) {
          execute();
          if (raised(execute_failed)) {
            everything = recorded_as_one([&] { return resolve_failures(); });
            reverting = true;
            if (everything) set_flow_state(flow_state::reverting);
          } else if (raised(suspend_asked) && !all_done()) {
            suspend_flow();
            break;
          } else {
            set_flow_state(flow_state::success);
            break;
          }
        }
        revert();
        if (raised(revert_failed)) {
          set_flow_state(flow_state::failure);
          break;
        }
        if (raised(suspend_asked) && !unreverted().empty()) {
          suspend_flow();
          break;
        }
        if (everything) {
          set_flow_state(flow_state::reverted);
          break;
        }
        recorded_as_one([&] { rerun_retried_scopes(); });  // a retry said: run its flow again
        reverting = false;
      }
      if constexpr (recording) {
        guard.recorded = true;
        this->recorder_.end_run(recorded_state(), true);  // the run's last records are durable, or it throws
      }
    }
    return run_result<engine>{*this};
  }

  // Returns whether a revert is under way.
  bool begin_run() {
    {
      std::lock_guard lock{control_};
      if (running_.load(std::memory_order_relaxed))
        throw std::logic_error("flowkit: engine of flow '" + std::string(Flow::name.view()) + "' is already running");
      running_.store(true, std::memory_order_relaxed);
      // No run is under way and suspend() raises its flag under this lock: one plain store clears
      // every flag.
      halts_.store(0, std::memory_order_relaxed);
      if (stop_.stop_requested()) {  // a new source only after a stop: copying a token costs atomics
        stop_ = std::stop_source{};
        stop_token_ = stop_.get_token();
      }
    }
    if constexpr (recording) {
      try {
        this->recorder_.begin_run(recorded_state());
      } catch (...) {
        running_.store(false, std::memory_order_release);
        throw;
      }
    }
    // Listeners are fixed for the run: tasks report progress to them, or to nobody at no cost.
    using state_part = detail::run_state<Flow, Store, Recorder>;
    run_context_.progress_sink = listening_ ? &state_part::forward_progress : nullptr;
    run_context_.progress_context = static_cast<state_part*>(this);
    if (execute_failures_.capacity() < atom_count) {
      // Reserved once, so a failure's address stays put while other atoms still run.
      execute_failures_.reserve(atom_count);
      revert_failures_.reserve(atom_count);
    }
    revert_failures_.clear();
    switch (flow_state_) {
      case flow_state::reverted:
        reset();
        set_flow_state(flow_state::running);
        return false;
      case flow_state::suspended:
      case flow_state::failure: {
        // A failure whose resolution was not recorded, or only in part (the process died while
        // its intentions, one record per atom, were being committed), is resolved again from the
        // start: none of its reverts had begun, their records coming after. The execute phase
        // starts nothing, then the failure is resolved.
        if (unresolved_failure()) {
          for (std::size_t a = 0; a < atom_count; ++a)
            if (this->intentions_[a] == intention::revert || this->intentions_[a] == intention::retry)
              this->intend(a, intention::execute);
          raise(execute_failed);
        }
        const bool reverting = any_intention(intention::revert);
        set_flow_state(flow_state::resuming);
        set_flow_state(reverting && !any_intention(intention::retry) ? flow_state::reverting
                                                                     : flow_state::running);
        return reverting;
      }
      default:  // PENDING, or SUCCESS: every intention is EXECUTE or IGNORE
        set_flow_state(flow_state::running);
        return false;
    }
  }

  void finish_run() {
    if (!execute_failures_.empty() || !revert_failures_.empty() || !all_failures_.empty()) {
      all_failures_.assign(execute_failures_.begin(), execute_failures_.end());
      all_failures_.insert(all_failures_.end(), revert_failures_.begin(), revert_failures_.end());
    }
    // No lock: a suspend() that still sees the run under way only raises a flag and requests a
    // stop, both of which the next begin_run() clears under the lock.
    running_.store(false, std::memory_order_release);
  }

  void suspend_flow() {
    set_flow_state(flow_state::suspending);
    set_flow_state(flow_state::suspended);
  }

  // Changes of many atoms that a checkpoint must hold all or none of (a failure's resolution, a
  // retried scope made pending): the recorder commits them in one transaction.
  template <class F>
  decltype(auto) recorded_as_one(F&& change) {
    if constexpr (recording) {
      this->recorder_.group_begin();
      struct group_end {
        engine& self;
        ~group_end() { self.recorder_.group_end(); }
      } recorded_together{*this};
      return change();
    } else {
      return change();
    }
  }

  bool unresolved_failure() const noexcept {
    for (std::size_t a = 0; a < atom_count; ++a)
      if (state(a) == atom_state::failure && this->intentions_[a] == intention::execute) return true;
    return false;
  }

  detail::run_state<Flow, Store, Recorder>& recorded_state() noexcept { return *this; }

  bool all_done() const noexcept {
    for (std::size_t a = 0; a < atom_count; ++a)
      if (state(a) != atom_state::success && state(a) != atom_state::ignore) return false;
    return true;
  }

  std::size_t index_of(std::string_view atom) const {
    for (std::size_t a = 0; a < atom_count; ++a)
      if (spec.atoms[a].label == atom) return a;
    throw std::out_of_range("flowkit: no atom named '" + std::string(atom) + "' in flow '" +
                            std::string(Flow::name.view()) + "'");
  }
};

/// Deduction guides: fk::engine{flow}, {flow, store}, {flow, store, recorder}, {flow, recorder}.
template <flow_like Flow>
engine(Flow) -> engine<Flow>;
template <flow_like Flow, class Store>
engine(Flow, Store) -> engine<Flow, Store>;
template <flow_like Flow, class Store, class Recorder>
engine(Flow, Store, Recorder) -> engine<Flow, Store, Recorder>;
template <flow_like Flow, detail::recorder Recorder>
  requires(!is_store_v<Recorder> && Recorder::records)
engine(Flow, Recorder)
->engine<Flow, store_t<names<>>, Recorder>;

}  // namespace flowkit
