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

#include <flowkit/core/failure.hpp>
#include <flowkit/core/intention.hpp>
#include <flowkit/core/outcome.hpp>
#include <flowkit/core/progress.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/core/store.hpp>
#include <flowkit/detail/parallel_phase.hpp>
#include <flowkit/engine/atom_thunks.hpp>
#include <flowkit/engine/bindings.hpp>
#include <flowkit/engine/detail/recorder.hpp>
#include <flowkit/engine/detail/run_state.hpp>
#include <flowkit/engine/executor.hpp>
#include <flowkit/engine/listener.hpp>
#include <flowkit/engine/run_result.hpp>
#include <flowkit/flow/atom_graph.hpp>
#include <flowkit/flow/retry.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
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

struct run_state_access;

}  // namespace detail

// Recorder: where each transition is recorded (detail/recorder.hpp); by default nowhere, at no cost.
template <flow_like Flow, class Store = store_t<names<>>, detail::recorder Recorder = detail::no_recorder>
class engine {
  static_assert(is_store_v<Store>, "fk::engine{flow, store}: the second argument is made by fk::store<...>(...)");

  static constexpr auto& spec = detail::spec_v<Flow>;
  static constexpr auto& order = detail::analysis_v<Flow>.order;
  static constexpr bool wired = detail::bindings_wired<Flow, Store>();

 public:
  using flow_type = Flow;
  using store_type = Store;
  static constexpr std::size_t atom_count = spec.size.atoms;

  explicit engine(Flow flow, Store store = {}, Recorder recorder = {})
      : flow_(std::move(flow)), store_(std::move(store)), recorder_(std::move(recorder)) {
    for (auto& s : states_) s.store(atom_state::pending, std::memory_order_relaxed);
    intentions_.fill(intention::execute);
    failure_of_.fill(none);
    if constexpr (wired)
      bind_inputs();
    else
      detail::report_bindings<Flow, Store>();
  }
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;
  ~engine() {
    if constexpr (wired) clear_results();
    if (phase_) phase_->release();
  }

  // Runs on the calling thread, deterministically: atoms in one fixed topological order,
  // reverts in the reverse of it, nothing started after a failure.
  run_result<engine> run() { return run(serial); }
  run_result<engine> run(serial_t) {
    return run_phases([this] { serial_execute(); }, [this] { serial_revert(); });
  }

  // Runs on an executor: ready atoms in parallel, each made ready by a counter of its
  // predecessors. The calling thread works too, and returns when the run has ended.
  template <executor E>
  run_result<engine> run(E& ex) {
    return run_phases([&] { parallel(ex, false); }, [&] { parallel(ex, true); });
  }

  // Asks a running run to stop starting atoms; running ones finish and run() returns SUSPENDED.
  // Callable from any thread, or from a listener; ignored when no run is under way. Tasks that
  // take a std::stop_token see a stop requested.
  void suspend() {
    std::lock_guard lock{control_};
    if (!running_.load(std::memory_order_relaxed)) return;
    raise(suspend_asked);
    stop_.request_stop();
  }

  // Forgets every result and failure: every atom PENDING, the flow PENDING.
  void reset() {
    for (std::size_t a = 0; a < atom_count; ++a) make_pending(a);
    clear_results();
    execute_failures_.clear();
    revert_failures_.clear();
    all_failures_.clear();
    failure_of_.fill(none);
    if (flow_state_ != flow_state::pending) set_flow_state(flow_state::pending);
  }

  // Registers a listener, between runs (during one it throws std::logic_error: a run fixes its
  // listeners when it starts). An lvalue is referred to (keep it alive while the engine lives);
  // an rvalue is kept by the engine.
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

  // A result by slot name: the output of the flow's last provider of it, else the store's value.
  // Throws fk::no_result when that provider has no result now.
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

  // Whether get<name>() has a value to give now.
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

  // The history of a retry controller, named "<flow>_retry": every attempt, its value and the
  // failures it met. A retry reverted with its scope keeps its attempts until it runs again, so
  // they are readable after a run that ended REVERTED; reset() and the next run forget them.
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

  atom_state state_of(std::string_view atom) const { return state(index_of(atom)); }
  flow_state state() const noexcept { return flow_state_; }
  const std::vector<failure>& failures() const noexcept { return all_failures_; }
  // Atoms that ran and are not reverted although the flow had to revert (a revert failed).
  std::vector<std::string_view> unreverted() const {
    std::vector<std::string_view> left;
    for (std::size_t a = 0; a < atom_count; ++a)
      if (to_revert(a)) left.push_back(spec.atoms[a].label);
    return left;
  }
  const Flow& flow() const noexcept { return flow_; }
  const Store& store() const noexcept { return store_; }

 private:
  friend struct detail::run_state_access;
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  // ----- one run: the flow's states around the execute and revert phases -----

  template <class Execute, class Revert>
  run_result<engine> run_phases(Execute execute, Revert revert) {
    if constexpr (wired) {
      // Whether a revert is under way (some atom's intention is REVERT), and whether it is the
      // whole flow's (no retry's intention is RETRY); read from the atoms when a run resumes.
      bool reverting = begin_run();
      bool everything = reverting && !any_intention(intention::retry);
      struct end_run {
        engine& self;
        ~end_run() { self.finish_run(); }
      } guard{*this};
      for (;;) {
        if (!reverting) {
          execute();
          if (raised(execute_failed)) {
            everything = resolve_failures();
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
        rerun_retried_scopes();  // a retry said: run its flow again
        reverting = false;
      }
    }
    return run_result<engine>{*this};
  }

  // ----- failure resolution: each failed atom's innermost retry decides -----

  // Sets the intentions: REVERT for the scope of a retry that retries and RETRY for the retry;
  // REVERT for the scope and the retry itself of one that reverts (and its parent decides next);
  // or REVERT for everything (then true). An atom IGNOREd by a decider stays IGNORE. A retry whose
  // flow is reverted by an enclosing scope does not retry, whatever it said.
  bool resolve_failures() {
    constexpr auto& an = detail::analysis_v<Flow>;
    bool everything = false;
    std::array<bool, atom_count + 1> decided{};  // retries that decided this round
    for (std::size_t f = 0; f < atom_count && !everything; ++f) {
      if (state(f) != atom_state::failure) continue;
      // A retry controller that fails (no values left) reverts its own scope.
      std::size_t r = spec.atoms[f].is_retry ? f : an.retry_of[f];
      retry_decision decision = spec.atoms[f].is_retry ? retry_decision::revert : decide(r, decided);
      for (;;) {
        if (r == none || decision == retry_decision::revert_all) {
          everything = true;
          break;
        }
        if (decision == retry_decision::retry) {
          mark_scope(r, false);
          if (intentions_[r] != intention::revert) intend(r, intention::retry);
          break;
        }
        mark_scope(r, true);  // revert: the enclosing scope handles the failure
        r = an.retry_of[r];
        decision = decide(r, decided);
      }
    }
    if (everything)
      for (std::size_t a = 0; a < atom_count; ++a)
        if (intentions_[a] != intention::ignore) intend(a, intention::revert);
    return everything;
  }

  retry_decision decide(std::size_t retry, std::array<bool, atom_count + 1>& decided) {
    if (retry == none) return retry_decision::revert_all;
    if (decided[retry]) return retry_decision::retry;  // one decision per retry per round
    decided[retry] = true;
    // The failures met inside the retry's flow, for its history.
    const std::size_t first = spec.nodes[spec.nodes[spec.atoms[retry].node].parent].atom_begin;
    const std::size_t last = spec.nodes[spec.nodes[spec.atoms[retry].node].parent].atom_end;
    std::vector<failure> met;
    for (std::size_t a = first; a < last; ++a)
      if (failure_of_[a] != none) met.push_back(execute_failures_[failure_of_[a]]);
    return table.on_failure[retry](context_of(retry), flowkit::failures{met.data(), met.size()});
  }

  // The atoms of a retry's flow, with or without the retry itself.
  void mark_scope(std::size_t retry, bool with_retry) {
    const std::size_t flow = spec.nodes[spec.atoms[retry].node].parent;
    for (std::size_t a = spec.nodes[flow].atom_begin; a < spec.nodes[flow].atom_end; ++a)
      if ((a != retry || with_retry) && intentions_[a] != intention::ignore) intend(a, intention::revert);
  }

  bool any_intention(intention i) const noexcept {
    for (std::size_t a = 0; a < atom_count; ++a)
      if (intentions_[a] == i) return true;
    return false;
  }

  // After a retried scope was reverted: its atoms back to PENDING, its retry to RETRYING.
  // Every atom with a REVERT intention is in the flow of one of these retries.
  void rerun_retried_scopes() {
    for (std::size_t r = 0; r < atom_count; ++r) {
      if (intentions_[r] != intention::retry) continue;
      const std::size_t flow = spec.nodes[spec.atoms[r].node].parent;
      for (std::size_t a = spec.nodes[flow].atom_begin; a < spec.nodes[flow].atom_end; ++a) {
        if (a == r) continue;
        make_pending(a);
        failure_of_[a] = none;
      }
      intentions_[r] = intention::execute;
      set_state(r, atom_state::retrying);
    }
    execute_failures_.clear();  // each attempt's reverts see only that attempt's failures
    lower(execute_failed);
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
    // Listeners are fixed for the run: tasks report progress to them, or to nobody at no cost.
    run_context_.progress_sink = listening_ ? &engine::forward_progress : nullptr;
    run_context_.progress_context = this;
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

  // Whether a phase must start nothing more: a failure of its own kind, or a suspend.
  bool halted(bool reverting) const noexcept {
    return raised((reverting ? revert_failed : execute_failed) | suspend_asked);
  }

  bool all_done() const noexcept {
    for (std::size_t a = 0; a < atom_count; ++a)
      if (state(a) != atom_state::success && state(a) != atom_state::ignore) return false;
    return true;
  }

  // Atoms that ran and are in the part being reverted.
  bool to_revert(std::size_t a) const noexcept {
    const atom_state s = state(a);
    return intentions_[a] == intention::revert &&
           (s == atom_state::success || s == atom_state::failure || s == atom_state::revert_failure);
  }

  bool runnable(std::size_t a) const noexcept {
    const atom_state s = state(a);
    return s == atom_state::pending || s == atom_state::retrying;
  }

  // ----- serial phases -----

  // The loop is unrolled by 8, each copy with its own call of the tasks' functions: through one
  // call site, hundreds of different tasks' functions are an indirect branch the processor keeps
  // mispredicting (a 1,000-task chain cost twice as much per task as a 100-task one); eight
  // sites share the targets out so that each is predicted.
  //
  // Listeners cannot come or go during a run, so the loop is chosen once: the one without them
  // has no test for them per atom.
  void serial_execute() {
    if (listening_)
      serial_loop<true>();
    else
      serial_loop<false>();
  }

  template <bool Listening>
  void serial_loop() {
    constexpr std::size_t unroll = 8;
    std::size_t i = 0;
    for (; i + unroll <= atom_count; i += unroll) {
      const bool going = [&]<std::size_t... Ks>(std::index_sequence<Ks...>) {
        return (execute_serial<Listening>(atom_at(i + Ks)) && ...);
      }(std::make_index_sequence<unroll>{});
      if (!going) return;
    }
    for (; i < atom_count; ++i)
      if (!execute_serial<Listening>(atom_at(i))) return;
  }

  // The i-th atom of the serial order: i itself in most flows (a linear flow runs its atoms in
  // the order it holds them), which spares a load per atom.
  static constexpr bool order_is_identity = [] {
    for (std::size_t i = 0; i < atom_count; ++i)
      if (order[i] != i) return false;
    return true;
  }();
  static std::size_t atom_at(std::size_t i) noexcept {
    if constexpr (order_is_identity)
      return i;
    else
      return order[i];
  }

  // One atom on the serial path: skipped unless runnable, else run. Nothing else changes states
  // meanwhile, so no transition needs checking at run time. False when the phase must stop.
  template <bool Listening>
  [[gnu::always_inline]] inline bool execute_serial(std::size_t atom) {
    static_assert(atom_transitions(atom_state::pending, atom_state::running) &&
                  atom_transitions(atom_state::retrying, atom_state::running));
    atom_state from = state(atom);
    if (from != atom_state::pending && from != atom_state::retrying) return true;
    if (halted(false)) return false;
    if (ignored_by_decider(atom)) return true;
    transition<store_by::relaxed, Listening>(atom, from, atom_state::running);
    return run_execute<Listening>(atom);
  }

  void serial_revert() {
    for (std::size_t i = atom_count; i-- > 0;) {
      const std::size_t atom = order[i];
      if (!to_revert(atom)) continue;
      if (halted(true) || !revert_one(atom)) return;
    }
  }

  // ----- parallel phases -----

  template <executor E>
  void parallel(E& ex, bool reverting) {
    constexpr auto& graph = detail::atom_graph_v<Flow>;
    if (!phase_) phase_ = detail::parallel_phase::create(atom_count);
    // Count what each atom waits for, and find the atoms ready now, before any is started: once
    // work runs, counters move and an atom must be released exactly once.
    std::array<std::uint32_t, atom_count + 1> ready{};
    std::size_t ready_count = 0;
    for (std::size_t i = 0; i < atom_count; ++i) {
      const std::size_t a = order[reverting ? atom_count - 1 - i : i];
      std::uint32_t waiting = 0;
      bool eligible;
      if (!reverting) {
        eligible = runnable(a);
        for (std::size_t p = graph.predecessors_begin[a]; p < graph.predecessors_begin[a + 1]; ++p) {
          const atom_state before = state(graph.predecessors[p]);
          waiting += before != atom_state::success && before != atom_state::ignore;
        }
      } else {
        eligible = to_revert(a);
        for (std::size_t s = graph.successors_begin[a]; s < graph.successors_begin[a + 1]; ++s)
          waiting += to_revert(graph.successors[s]);
      }
      waiting_[a].store(waiting, std::memory_order_relaxed);
      if (eligible && waiting == 0) ready[ready_count++] = static_cast<std::uint32_t>(a);
    }
    phase_->begin(this, reverting ? &engine::parallel_revert : &engine::parallel_execute, ex);
    if (halted(reverting)) return;
    phase_->run(ready.data(), ready_count);
  }

  // Runs an atom, then releases its successors: the first that becomes ready runs next on this
  // thread, the others are queued, a batch at a time (one queue operation per batch).
  template <bool Reverting>
  static void parallel_step(void* self_pointer, std::uint32_t atom, detail::parallel_phase& phase) {
    constexpr auto& graph = detail::atom_graph_v<Flow>;
    constexpr std::size_t batch = 32;
    engine& self = *static_cast<engine*>(self_pointer);
    for (;;) {
      std::array<std::uint32_t, batch> released;
      std::size_t count = 0;
      bool keeping = false;  // whether this thread has its next atom already
      std::uint32_t next = 0;
      bool done = false;
      if (!self.halted(Reverting)) {
        if constexpr (Reverting)
          done = self.revert_one(atom);
        else  // an atom ignored by a decider counts as done for its successors
          done = self.execute_one(atom);
      }
      if (done && !self.halted(Reverting)) {
        const auto& neighbours = Reverting ? graph.predecessors : graph.successors;
        const auto& begin = Reverting ? graph.predecessors_begin : graph.successors_begin;
        for (std::size_t e = begin[atom]; e < begin[atom + 1]; ++e) {
          const std::size_t n = neighbours[e];
          if (Reverting && !self.to_revert(n)) continue;
          if (self.waiting_[n].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
          if (!keeping) {
            next = static_cast<std::uint32_t>(n);
            keeping = true;
            continue;
          }
          released[count++] = static_cast<std::uint32_t>(n);
          if (count == batch) {
            phase.pass_on(released.data(), count);
            count = 0;
          }
        }
      }
      phase.pass_on(released.data(), count);
      if (!keeping) return;
      atom = next;
    }
  }
  static void parallel_execute(void* self, std::uint32_t atom, detail::parallel_phase& phase) {
    parallel_step<false>(self, atom, phase);
  }
  static void parallel_revert(void* self, std::uint32_t atom, detail::parallel_phase& phase) {
    parallel_step<true>(self, atom, phase);
  }

  // ----- one atom -----

  // Runs an atom's execute on the parallel path. True when it succeeded, or when a decider (now or
  // earlier) ignored it.
  bool execute_one(std::size_t atom) {
    if (ignored_by_decider(atom)) return true;
    atom_state from = state(atom);
    if constexpr (has_deciders) {
      // Another thread's decider may ignore this atom at any moment: start it only if it was not.
      do {
        if (from == atom_state::ignore) return true;
        check_transition(atom, from, atom_state::running);
      } while (!transition<store_by::exchange>(atom, from, atom_state::running));
    } else {
      if (from == atom_state::ignore) return true;
      check_transition(atom, from, atom_state::running);
      transition<store_by::relaxed>(atom, from, atom_state::running);
    }
    return run_execute(atom);
  }

  // The task's execute, for an atom now RUNNING. MayListen false: the caller knows that nobody
  // listens, and no test for listeners is made.
  template <bool MayListen = true>
  [[gnu::always_inline]] inline bool run_execute(std::size_t atom) {
    try {
      table.execute[atom](context_of(atom), run_context_);
    } catch (...) {
      execute_failed_now(atom);
      return false;
    }
    advance<atom_state::running, atom_state::success, MayListen>(atom);
    return true;
  }

  // In a catch block: the atom's execute threw. Out of line, to keep the inlined path small.
  [[gnu::noinline]] void execute_failed_now(std::size_t atom) {
    const failure* f = record_failure(atom, failure_phase::execute);
    advance<atom_state::running, atom_state::failure>(atom, f);
    raise(execute_failed);
  }

  bool revert_one(std::size_t atom) {
    set_state(atom, atom_state::reverting);
    try {
      // A task that failed before it ran has nothing to undo, and its revert would ask again for
      // the input that was missing.
      if (!failed_before_running(atom)) {
        detail::atom_context& context = context_of(atom);
        const failure* failed = failure_of_[atom] != none ? &execute_failures_[failure_of_[atom]] : nullptr;
        table.revert[atom](context, failed,
                           flowkit::failures{execute_failures_.data(), execute_failures_.size()});
      }
    } catch (...) {
      const failure* f = record_failure(atom, failure_phase::revert);
      set_state(atom, atom_state::revert_failure, f);
      raise(revert_failed);
      return false;
    }
    set_state(atom, atom_state::reverted);
    return true;
  }

  // Whether the atom's execute failed before the task itself was called: an input it needs has
  // no value (its producer was ignored by a decider). Inputs do not change while an atom waits
  // for its revert (its producers revert after it), so what is missing now was missing then.
  bool failed_before_running(std::size_t atom) const noexcept {
    if (failure_of_[atom] == none) return false;
    for (std::size_t i = spec.atoms[atom].input_begin; i < spec.atoms[atom].input_end; ++i)
      if (spec.inputs[i].kind == input_kind::slot && !*inputs_[i].value && !inputs_[i].fallback) return true;
    return false;
  }

  const failure* record_failure(std::size_t atom, failure_phase phase) {
    std::lock_guard lock{failures_mutex_};
    auto& list = phase == failure_phase::execute ? execute_failures_ : revert_failures_;
    list.push_back(failure::current(spec.atoms[atom].label, phase));
    if (phase == failure_phase::execute) failure_of_[atom] = list.size() - 1;
    return &list.back();
  }

  // ----- one atom's storage: its task, result, outputs and inputs -----

  detail::atom_context& context_of(std::size_t atom) noexcept { return contexts_[atom]; }

  detail::atom_context make_context(std::size_t atom) noexcept {
    return {spec.atoms[atom].label,
            tasks_[atom],
            results_.data() + table.result_offset[atom],
            &has_result_[atom],
            outputs_.data() + spec.atoms[atom].output_begin,
            inputs_.data() + spec.atoms[atom].input_begin,
            &view_};
  }

  // Points every input at where its value will be: an output slot, a store value, or nothing
  // (the task's own value).
  void bind_inputs() {
    std::size_t found = 0;
    detail::collect_tasks(flow_, tasks_.data(), found);
    [this]<std::size_t... Ss>(std::index_sequence<Ss...>) {
      ((store_values_[Ss] = &store_.template value<Ss>()), ...);
    }(std::make_index_sequence<Store::size>{});
    static constexpr const void* nothing = nullptr;
    for (std::size_t i = 0; i < spec.size.inputs; ++i) {
      const detail::input_source& src = sources[i];
      switch (src.kind) {
        case detail::source_kind::atom_output:
          inputs_[i] = {&outputs_[spec.atoms[src.atom].output_begin + src.index],
                        src.fallback_store != detail::npos ? store_values_[src.fallback_store] : nullptr, src.atom};
          break;
        case detail::source_kind::store:
          inputs_[i] = {&store_values_[src.index], nullptr, none};
          break;
        default:
          inputs_[i] = {&nothing, nullptr, none};
      }
    }
    view_ = {labels.data(), states_.data()};
    for (std::size_t a = 0; a < atom_count; ++a) contexts_[a] = make_context(a);
    // A retry's functions see its part of the run state, which points at the controller.
    [this]<std::size_t... Ks>(std::index_sequence<Ks...>) {
      ((std::get<Ks>(retry_runs_).retry =
            static_cast<const detail::atom_type<Flow, retry_atoms[Ks]>*>(tasks_[retry_atoms[Ks]]),
        contexts_[retry_atoms[Ks]].task = &std::get<Ks>(retry_runs_)),
       ...);
    }(std::make_index_sequence<retry_count>{});
  }

  static constexpr bool has_deciders = detail::decider_checks_v<Flow>.links.size() != 1;
  static constexpr std::size_t retry_count = [] {
    std::size_t n = 0;
    for (std::size_t a = 0; a < atom_count; ++a) n += spec.atoms[a].is_retry;
    return n;
  }();
  static constexpr bool has_retries = retry_count != 0;
  // The retry atoms in order, and each atom's place among them.
  static constexpr auto retry_atoms = [] {
    std::array<std::size_t, retry_count + 1> all{};
    for (std::size_t a = 0, k = 0; a < atom_count; ++a)
      if (spec.atoms[a].is_retry) all[k++] = a;
    return all;
  }();
  static constexpr auto retry_ordinal = [] {
    std::array<std::size_t, atom_count + 1> all{};
    for (std::size_t k = 0; k < retry_count; ++k) all[retry_atoms[k]] = k;
    return all;
  }();
  template <std::size_t... Ks>
  static auto retry_runs_for(std::index_sequence<Ks...>)
      -> std::tuple<detail::retry_run<detail::atom_type<Flow, retry_atoms[Ks]>>...>;
  template <std::size_t... Ks>
  static auto histories_for(std::index_sequence<Ks...>)
      -> std::tuple<typename detail::atom_type<Flow, retry_atoms[Ks]>::history_type...>;
  using histories_type = decltype(histories_for(std::make_index_sequence<retry_count>{}));

  static constexpr auto sources = [] {
    std::array<detail::input_source, spec.size.inputs + 1> all{};
    for (std::size_t i = 0; i < spec.size.inputs; ++i) all[i] = detail::source_of<Flow, Store>(i);
    return all;
  }();
  static constexpr auto labels = [] {
    std::array<std::string_view, atom_count + 1> all{};
    for (std::size_t a = 0; a < atom_count; ++a) all[a] = spec.atoms[a].label;
    return all;
  }();

  // ----- deciders -----

  // Whether a decider link aimed at this atom (or at a flow it starts) says no; if so the atom,
  // and what follows it by the link's depth, become IGNORE. Every link checked here aims at the
  // same target (a link's target has a sibling before it, so it starts no enclosing flow), so
  // the widest depth among the no's ignores the most.
  bool ignored_by_decider(std::size_t atom) {
    constexpr auto& checks = detail::decider_checks_v<Flow>;
    if constexpr (checks.links.size() == 1) {
      return false;  // no deciders in this flow: no cost
    } else {
      int widest = -1;
      std::size_t link = none;
      for (std::size_t e = checks.begin[atom]; e < checks.begin[atom + 1]; ++e)
        if (const int d = decide_table[checks.links[e]](*this); d > widest)
          widest = d, link = checks.links[e];
      if (widest < 0) return false;
      ignore_from(link);
      return true;
    }
  }

  // The atoms the link ignores were found at compile time (flow/atom_graph.hpp), the same that
  // the engine's wiring check reasons about.
  void ignore_from(std::size_t link) {
    constexpr auto& reach = detail::decider_reach_v<Flow>;
    for (std::size_t e = reach.begin[link]; e < reach.begin[link + 1]; ++e) try_ignore(reach.atoms[e]);
  }

  bool try_ignore(std::size_t atom) {
    static_assert(atom_transitions(atom_state::pending, atom_state::ignore));
    atom_state from = atom_state::pending;
    return transition<store_by::exchange>(atom, from, atom_state::ignore);
  }

  // The decider of link L: -1 to let its target run, else the depth to ignore by.
  template <std::size_t L>
  static int decide_link(engine& self) {
    constexpr auto& an = detail::analysis_v<Flow>;
    if constexpr (!spec.links[L].has_decider) {
      return -1;
    } else {
      constexpr std::size_t source = spec.nodes[an.link_from[L]].atom_begin;
      auto& link = detail::link_object<Flow, L>(self.flow_);
      if (self.state(source) == atom_state::ignore) return -1;  // TaskFlow skips such edges
      using result = typename detail::atom_type<Flow, source>::result_type;
      bool go;
      if constexpr (std::is_void_v<result>) {
        static_assert(std::is_invocable_r_v<bool, decltype(link.decider)&>,
                      "fk::link<from, to>(decider): a decider after a void task takes nothing and returns bool");
        go = link.decider();
      } else {
        static_assert(std::is_invocable_r_v<bool, decltype(link.decider)&, const result&>,
                      "fk::link<from, to>(decider): a decider takes the result of `from` (const R&) and returns bool");
        go = link.decider(*std::launder(
            reinterpret_cast<const result*>(self.results_.data() + table.result_offset[source])));
      }
      return go ? -1 : static_cast<int>(spec.links[L].how_far);
    }
  }

  static constexpr auto decide_table = []<std::size_t... Ls>(std::index_sequence<Ls...>) {
    if constexpr (wired)
      return std::array<int (*)(engine&), sizeof...(Ls)>{&engine::decide_link<Ls>...};
    else
      return std::array<int (*)(engine&), sizeof...(Ls)>{};
  }(std::make_index_sequence<spec.size.links>{});

  void clear_results() {
    if constexpr (table.trivial_results) {
      has_result_.fill(false);
      outputs_.fill(nullptr);
    } else {
      for (std::size_t a = 0; a < atom_count; ++a) table.destroy[a](context_of(a));
    }
  }

  // ----- states and listeners: every transition passes through transition() -----

  atom_state state(std::size_t atom) const noexcept { return states_[atom].load(std::memory_order_acquire); }

  std::size_t index_of(std::string_view atom) const {
    for (std::size_t a = 0; a < atom_count; ++a)
      if (spec.atoms[a].label == atom) return a;
    throw std::out_of_range("flowkit: no atom named '" + std::string(atom) + "' in flow '" +
                            std::string(Flow::name.view()) + "'");
  }

  // How transition() stores the new state: a plain store (release, or relaxed where nothing
  // else reads the state meanwhile), or a compare-exchange that fails if the state is no longer
  // `from` (a decider on another thread may ignore the atom at any moment).
  enum class store_by : unsigned char { release, relaxed, exchange };

  // The funnel: every change of an atom's state is made here, recorded (the recorder policy;
  // nothing by default) and told to the listeners. An IGNORE state carries the IGNORE
  // intention. Callers check the change against the table: at run time (set_state,
  // check_transition) or, where its start is known, by a static_assert (advance). Inlined, it is
  // the store, a test of `listening_` and the recorder's call. MayListen false: the caller knows
  // that nobody listens. False only when an exchange found the state moved (then `from` is the
  // state found).
  template <store_by By = store_by::release, bool MayListen = true>
  [[gnu::always_inline]] inline bool transition(std::size_t atom, atom_state& from, atom_state to,
                                                const failure* error = nullptr) {
    if constexpr (By == store_by::exchange) {
      if (!states_[atom].compare_exchange_strong(from, to, std::memory_order_acq_rel)) return false;
    } else {
      states_[atom].store(to,
                          By == store_by::relaxed ? std::memory_order_relaxed : std::memory_order_release);
    }
    if (to == atom_state::ignore) intentions_[atom] = intention::ignore;
    recorder_.on_atom(atom, to, intentions_[atom]);
    if constexpr (MayListen)
      if (listening_) [[unlikely]]
        notify_atom(atom, from, to, error);
    return true;
  }

  // The funnel for a change of intention alone (a failure being resolved).
  void intend(std::size_t atom, intention i) {
    intentions_[atom] = i;
    recorder_.on_atom(atom, state(atom), i);
  }

  // Back to PENDING, to be executed.
  // A retry back to PENDING starts a new history: until then, its attempts stay readable (after
  // a run that ended REVERTED, say, which is when one wants to see what was tried).
  void make_pending(std::size_t atom) {
    if (state(atom) != atom_state::pending) {
      intentions_[atom] = intention::execute;
      set_state(atom, atom_state::pending);
    } else if (intentions_[atom] != intention::execute) {
      intend(atom, intention::execute);
    }
    if constexpr (has_retries)
      if (table.clear_history[atom]) table.clear_history[atom](context_of(atom));
  }

  // A change whose start is read at run time, checked against the table.
  void set_state(std::size_t atom, atom_state to, const failure* error = nullptr) {
    atom_state from = state(atom);
    check_transition(atom, from, to);
    transition(atom, from, to, error);
  }

  // A change whose start the engine knows (it made it): legal by the table, checked at compile
  // time.
  template <atom_state From, atom_state To, bool MayListen = true>
  void advance(std::size_t atom, const failure* error = nullptr) {
    static_assert(atom_transitions(From, To), "the engine makes only transitions of the table");
    atom_state from = From;
    transition<store_by::release, MayListen>(atom, from, To, error);
  }

  // The check is a table lookup and a test, small enough to inline; the throw is out of line.
  static void check_transition(std::size_t atom, atom_state from, atom_state to) {
    if (!atom_transitions(from, to)) [[unlikely]]
      throw_invalid_transition(atom, from, to);
  }

  [[noreturn, gnu::noinline, gnu::cold]] static void throw_invalid_transition(std::size_t atom, atom_state from,
                                                                             atom_state to) {
    throw invalid_transition("atom '" + std::string(spec.atoms[atom].label) + "'", to_string(from), to_string(to));
  }

  [[gnu::noinline]] void notify_atom(std::size_t atom, atom_state from, atom_state to, const failure* error) {
    const atom_event event{spec.atoms[atom].label, from, to, error};
    std::lock_guard lock{listeners_mutex_};
    for (const auto& l : listeners_)
      if (l.atom) l.atom(l.object, event);
  }

  void set_flow_state(flow_state to) {
    const flow_state from = flow_state_;
    if (!flow_transitions(from, to))
      throw invalid_transition("flow '" + std::string(Flow::name.view()) + "'", to_string(from), to_string(to));
    flow_state_ = to;
    recorder_.on_flow(to);
    if (listening_) {
      const flow_event event{Flow::name.view(), from, to};
      std::lock_guard lock{listeners_mutex_};
      for (const auto& l : listeners_)
        if (l.flow) l.flow(l.object, event);
    }
  }

  static void forward_progress(void* self, std::string_view atom, float value) noexcept {
    static_cast<engine*>(self)->notify_progress(atom, value);
  }

  void notify_progress(std::string_view atom, float value) noexcept {
    const progress_event event{atom, value};
    std::lock_guard lock{listeners_mutex_};
    for (const auto& l : listeners_)
      if (l.progress) l.progress(l.object, event);
  }

  Flow flow_;
  Store store_;
  static constexpr auto table = detail::make_atom_table<Flow, atom_count>();
  std::array<void*, atom_count + 1> tasks_{};
  alignas(table.result_align) std::array<std::byte, table.result_bytes + 1> results_{};
  std::array<bool, atom_count + 1> has_result_{};
  std::array<const void*, spec.size.outputs + 1> outputs_{};
  std::array<detail::input_ref, spec.size.inputs + 1> inputs_{};
  std::array<const void*, Store::size + 1> store_values_{};
  detail::run_view view_{};
  std::array<detail::atom_context, atom_count + 1> contexts_{};
  std::array<std::atomic<atom_state>, atom_count> states_;
  std::array<std::atomic<std::uint32_t>, atom_count + 1> waiting_{};
  std::array<intention, atom_count + 1> intentions_{};
  std::array<std::size_t, atom_count + 1> failure_of_{};  // index of the atom's execute failure
  flow_state flow_state_ = flow_state::pending;
  decltype(retry_runs_for(std::make_index_sequence<retry_count>{})) retry_runs_;  // their histories
  [[no_unique_address]] Recorder recorder_;
  // Why a run must start nothing more, one bit each: tested together on every atom.
  enum halt : unsigned { execute_failed = 1, revert_failed = 2, suspend_asked = 4 };
  std::atomic<unsigned> halts_{0};
  void raise(unsigned h) noexcept { halts_.fetch_or(h, std::memory_order_acq_rel); }
  void lower(unsigned h) noexcept { halts_.fetch_and(~h, std::memory_order_acq_rel); }
  bool raised(unsigned h) const noexcept { return (halts_.load(std::memory_order_acquire) & h) != 0; }

  std::mutex control_;  // guards stop_ against suspend() from other threads
  std::atomic<bool> running_{false};
  std::stop_source stop_;
  std::stop_token stop_token_ = stop_.get_token();  // the run's, handed to every task
  detail::run_context run_context_{&stop_token_};

  std::mutex failures_mutex_;
  std::vector<failure> execute_failures_, revert_failures_, all_failures_;

  std::mutex listeners_mutex_;
  std::vector<detail::listener_entry> listeners_;
  bool listening_ = false;  // !listeners_.empty(), in one byte: tested on every transition
  detail::parallel_phase* phase_ = nullptr;
};

template <flow_like Flow>
engine(Flow) -> engine<Flow>;
template <flow_like Flow, class Store>
engine(Flow, Store) -> engine<Flow, Store>;
template <flow_like Flow, class Store, class Recorder>
engine(Flow, Store, Recorder) -> engine<Flow, Store, Recorder>;

}  // namespace flowkit
