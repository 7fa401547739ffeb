#pragma once
// An engine's run state, and the funnel through which it changes.
//
// The run state is
//
//   - the flow's state;
//   - per atom, its state and intention (core/intention.hpp);
//   - per atom, whether it has a result, and the result (result_storage.hpp);
//   - the failures: execute failures (and which atom each belongs to), revert failures, and the
//     list the last run reported;
//   - per retry controller, its history.
//
// Nothing else of an engine outlives a run: the flags that stop a phase, the counters of the
// parallel phase and the stop source are made afresh by every run().
//
// Every change of an atom's state passes through run_state::transition(), and of an intention
// alone through intend(): there the listeners are told and the recorder (recorder.hpp) records.
//
// run_state_access reads each part (for a recorder that writes it down); save_run_state() and
// restore_run_state() copy the whole of it, the in-memory rehearsal of resuming a run in a new
// engine.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/intention.hpp>
#include <flowkit/core/progress.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/engine/atom_thunks.hpp>
#include <flowkit/engine/detail/recorder.hpp>
#include <flowkit/engine/detail/result_storage.hpp>
#include <flowkit/engine/listener.hpp>
#include <flowkit/flow/spec.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <new>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowkit::detail {

template <class Flow, class Store, class Recorder>
class run_state : public result_storage<Flow, Store> {
  using base = result_storage<Flow, Store>;

 public:
  using base::atom_count;
  using base::none;
  using base::spec;
  using base::table;
  using flow_type = Flow;
  using store_type = Store;
  static constexpr bool recording = Recorder::records;

  run_state(Flow flow, Store store, Recorder recorder)
      : base(std::move(flow), std::move(store)), recorder_(std::move(recorder)) {
    for (auto& s : states_) s.store(atom_state::pending, std::memory_order_relaxed);
    intentions_.fill(intention::execute);
    failure_of_.fill(none);
    if constexpr (base::wired) {
      this->bind_inputs(states_.data());
      // A retry's functions see its part of the run state, which points at the controller.
      [this]<std::size_t... Ks>(std::index_sequence<Ks...>) {
        ((std::get<Ks>(retry_runs_).retry =
              static_cast<const atom_type<Flow, retry_atoms[Ks]>*>(this->tasks_[retry_atoms[Ks]]),
          this->contexts_[retry_atoms[Ks]].task = &std::get<Ks>(retry_runs_)),
         ...);
      }(std::make_index_sequence<retry_count>{});
    }
  }

  // ----- retries -----

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
      -> std::tuple<retry_run<atom_type<Flow, retry_atoms[Ks]>>...>;
  template <std::size_t... Ks>
  static auto histories_for(std::index_sequence<Ks...>)
      -> std::tuple<typename atom_type<Flow, retry_atoms[Ks]>::history_type...>;
  using histories_type = decltype(histories_for(std::make_index_sequence<retry_count>{}));

  // ----- reading the state -----

  atom_state state(std::size_t atom) const noexcept { return states_[atom].load(std::memory_order_acquire); }

  bool any_intention(intention i) const noexcept {
    for (std::size_t a = 0; a < atom_count; ++a)
      if (intentions_[a] == i) return true;
    return false;
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

  // ----- the funnel: every transition passes through transition() -----

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
    recorder_.on_atom(*this, atom, to, intentions_[atom], error);
    if constexpr (MayListen)
      if (listening_) [[unlikely]]
        notify_atom(atom, from, to, error);
    return true;
  }

  // The funnel for a change of intention alone (a failure being resolved).
  void intend(std::size_t atom, intention i) {
    intentions_[atom] = i;
    recorder_.on_atom(*this, atom, state(atom), i, nullptr);
  }

  // Back to PENDING, to be executed. A retry back to PENDING starts a new history: until then,
  // its attempts stay readable (after a run that ended REVERTED, say, which is when one wants to
  // see what was tried).
  void make_pending(std::size_t atom) {
    if (state(atom) != atom_state::pending) {
      intentions_[atom] = intention::execute;
      set_state(atom, atom_state::pending);
    } else if (intentions_[atom] != intention::execute) {
      intend(atom, intention::execute);
    }
    if constexpr (has_retries)
      if (table.clear_history[atom]) table.clear_history[atom](this->context_of(atom));
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

  [[noreturn, gnu::noinline, gnu::cold]] static void throw_invalid_transition(std::size_t atom,
                                                                              atom_state from,
                                                                              atom_state to) {
    throw invalid_transition("atom '" + std::string(spec.atoms[atom].label) + "'", to_string(from),
                             to_string(to));
  }

  [[gnu::noinline]] void notify_atom(std::size_t atom, atom_state from, atom_state to, const failure* error) {
    const atom_event event{spec.atoms[atom].label, from, to, error, atom};
    std::lock_guard lock{listeners_mutex_};
    for (const auto& l : listeners_)
      if (l.atom) l.atom(l.object, event);
  }

  // The flow's funnel.
  void set_flow_state(flow_state to) {
    const flow_state from = flow_state_;
    if (!flow_transitions(from, to))
      throw invalid_transition("flow '" + std::string(Flow::name.view()) + "'", to_string(from),
                               to_string(to));
    flow_state_ = to;
    recorder_.on_flow(*this, to);
    if (listening_) {
      const flow_event event{Flow::name.view(), from, to};
      std::lock_guard lock{listeners_mutex_};
      for (const auto& l : listeners_)
        if (l.flow) l.flow(l.object, event);
    }
  }

  static void forward_progress(void* self, std::string_view atom, float value) noexcept {
    static_cast<run_state*>(self)->notify_progress(atom, value);
  }

  void notify_progress(std::string_view atom, float value) noexcept {
    const progress_event event{atom, value};
    std::lock_guard lock{listeners_mutex_};
    for (const auto& l : listeners_)
      if (l.progress) l.progress(l.object, event);
  }

  const failure* record_failure(std::size_t atom, failure_phase phase) {
    std::lock_guard lock{failures_mutex_};
    auto& list = phase == failure_phase::execute ? execute_failures_ : revert_failures_;
    list.push_back(failure::current(spec.atoms[atom].label, phase));
    if (phase == failure_phase::execute) failure_of_[atom] = list.size() - 1;
    return &list.back();
  }

  // Stops starting atoms, from any thread: engine::suspend(), or a recorder that cannot write.
  void request_suspend() {
    std::lock_guard lock{control_};
    if (!running_.load(std::memory_order_relaxed)) return;
    raise(suspend_asked);
    stop_.request_stop();
  }

  // ----- why a run must start nothing more, one bit each: tested together on every atom -----

  enum halt : unsigned { execute_failed = 1, revert_failed = 2, suspend_asked = 4 };
  void raise(unsigned h) noexcept { halts_.fetch_or(h, std::memory_order_acq_rel); }
  void lower(unsigned h) noexcept { halts_.fetch_and(~h, std::memory_order_acq_rel); }
  bool raised(unsigned h) const noexcept { return (halts_.load(std::memory_order_acquire) & h) != 0; }
  // Whether a phase must start nothing more: a failure of its own kind, or a suspend.
  bool halted(bool reverting) const noexcept {
    return raised((reverting ? revert_failed : execute_failed) | suspend_asked);
  }

  // ----- the run state proper -----
  std::array<std::atomic<atom_state>, atom_count> states_;
  std::array<intention, atom_count + 1> intentions_{};
  std::array<std::size_t, atom_count + 1> failure_of_{};  // index of the atom's execute failure
  flow_state flow_state_ = flow_state::pending;
  decltype(retry_runs_for(std::make_index_sequence<retry_count>{})) retry_runs_;  // their histories
  std::mutex failures_mutex_;
  std::vector<failure> execute_failures_, revert_failures_, all_failures_;

  // ----- what one run uses and the next makes afresh -----
  [[no_unique_address]] Recorder recorder_;
  std::atomic<unsigned> halts_{0};
  std::mutex control_;  // guards stop_ against suspend() from other threads
  std::atomic<bool> running_{false};
  std::stop_source stop_;
  std::stop_token stop_token_ = stop_.get_token();  // the run's, handed to every task
  run_context run_context_{&stop_token_};

  std::mutex listeners_mutex_;
  std::vector<listener_entry> listeners_;
  bool listening_ = false;  // !listeners_.empty(), in one byte: tested on every transition
};

// The whole run state of an engine of Flow, copied.
template <class Flow, class Atoms, class Histories>
struct run_snapshot_of;
template <class Flow, std::size_t... As, class... Histories>
struct run_snapshot_of<Flow, std::index_sequence<As...>, std::tuple<Histories...>> {
  flow_state flow{};
  std::array<atom_state, sizeof...(As)> states{};
  std::array<intention, sizeof...(As)> intentions{};
  std::tuple<std::optional<stored_result_t<atom_type<Flow, As>>>...> results;  // present or not
  std::vector<failure> execute_failures, revert_failures;
  std::vector<failure> reported_failures;  // what the last run reported (run_result::failures())
  std::array<std::size_t, sizeof...(As)> execute_failure_of{};  // index in execute_failures, or npos
  std::tuple<Histories...> histories;                           // per retry, in atom order
};

struct run_state_access {
  template <class Engine>
  static flow_state flow(const Engine& e) noexcept {
    return e.flow_state_;
  }
  template <class Engine>
  static atom_state state(const Engine& e, std::size_t atom) noexcept {
    return e.state(atom);
  }
  template <class Engine>
  static intention intent(const Engine& e, std::size_t atom) noexcept {
    return e.intentions_[atom];
  }
  // The atom's result, or nullptr when it has none (a void task's result is a std::monostate).
  template <std::size_t Atom, class Engine>
  static const auto* result(const Engine& e) noexcept {
    using stored = stored_result_t<atom_type<typename Engine::flow_type, Atom>>;
    return e.has_result_[Atom] ? std::launder(reinterpret_cast<const stored*>(
                                     e.results_.data() + Engine::table.result_offset[Atom]))
                               : nullptr;
  }
  template <class Engine>
  static const std::vector<failure>& execute_failures(const Engine& e) noexcept {
    return e.execute_failures_;
  }
  template <class Engine>
  static const std::vector<failure>& revert_failures(const Engine& e) noexcept {
    return e.revert_failures_;
  }
  // The index of the atom's execute failure in execute_failures(), or npos.
  template <class Engine>
  static std::size_t execute_failure_of(const Engine& e, std::size_t atom) noexcept {
    return e.failure_of_[atom];
  }
  template <std::size_t Atom, class Engine>
  static const auto& history(const Engine& e) noexcept {
    return std::get<Engine::retry_ordinal[Atom]>(e.retry_runs_).history;
  }

  // ----- the whole state, copied -----

  template <class Engine>
  using snapshot = run_snapshot_of<typename Engine::flow_type, std::make_index_sequence<Engine::atom_count>,
                                   typename Engine::histories_type>;

  template <class Engine>
  static snapshot<Engine> save(const Engine& e) {
    snapshot<Engine> s;
    s.flow = e.flow_state_;
    for (std::size_t a = 0; a < Engine::atom_count; ++a) {
      s.states[a] = e.state(a);
      s.intentions[a] = e.intentions_[a];
      s.execute_failure_of[a] = e.failure_of_[a];
    }
    [&]<std::size_t... As>(std::index_sequence<As...>) {
      ((result<As>(e) ? (void)std::get<As>(s.results).emplace(*result<As>(e)) : (void)0), ...);
    }(std::make_index_sequence<Engine::atom_count>{});
    s.execute_failures = e.execute_failures_;
    s.revert_failures = e.revert_failures_;
    s.reported_failures = e.all_failures_;
    [&]<std::size_t... Rs>(std::index_sequence<Rs...>) {
      ((std::get<Rs>(s.histories) = std::get<Rs>(e.retry_runs_).history), ...);
    }(std::make_index_sequence<Engine::retry_count>{});
    return s;
  }

  // Puts a saved state into an engine that is not running, replacing its own. Loading a state
  // is not a transition: neither listeners nor the recorder are told.
  template <class Engine>
  static void restore(Engine& e, const snapshot<Engine>& s) {
    e.clear_results();
    e.flow_state_ = s.flow;
    for (std::size_t a = 0; a < Engine::atom_count; ++a) {
      e.states_[a].store(s.states[a], std::memory_order_relaxed);
      e.intentions_[a] = s.intentions[a];
      e.failure_of_[a] = s.execute_failure_of[a];
    }
    [&]<std::size_t... As>(std::index_sequence<As...>) {
      ((std::get<As>(s.results) ? emplace_result<atom_type<typename Engine::flow_type, As>>(
                                      e.context_of(As), *std::get<As>(s.results))
                                : (void)0),
       ...);
    }(std::make_index_sequence<Engine::atom_count>{});
    e.execute_failures_ = s.execute_failures;
    e.revert_failures_ = s.revert_failures;
    e.all_failures_ = s.reported_failures;
    [&]<std::size_t... Rs>(std::index_sequence<Rs...>) {
      ((std::get<Rs>(e.retry_runs_).history = std::get<Rs>(s.histories)), ...);
    }(std::make_index_sequence<Engine::retry_count>{});
  }
};

// The free functions name no member of the engine: the access checks happen inside
// run_state_access, the engine's friend (clang checks them where a signature is written).
template <class Engine>
using run_snapshot = decltype(run_state_access::save(std::declval<const Engine&>()));

template <class Engine>
auto save_run_state(const Engine& e) {
  return run_state_access::save(e);
}

template <class Engine, class Snapshot>
void restore_run_state(Engine& e, const Snapshot& s) {
  run_state_access::restore(e, s);
}

}  // namespace flowkit::detail
