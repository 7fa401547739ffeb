#pragma once
// The serial path (fk::serial, what run() uses): atoms in one fixed topological order on the
// calling thread, reverts in the reverse of it, nothing started after a failure. Tuned: see
// docs/benchmarks.md ("Engine").

#include <flowkit/core/states.hpp>
#include <flowkit/engine/detail/atom_steps.hpp>

#include <cstddef>
#include <utility>

namespace flowkit::detail {

template <class Flow, class Store, class Recorder>
class serial_phases : public atom_steps<Flow, Store, Recorder> {
  using base = atom_steps<Flow, Store, Recorder>;

 public:
  using base::atom_count;
  using base::base;
  using base::order;
  using store_by = typename base::store_by;

  // The loop is unrolled by 8, each copy with its own call of the tasks' functions: through one
  // call site, hundreds of different tasks' functions are an indirect branch the processor keeps
  // mispredicting (a 1,000-task chain cost twice as much per task as a 100-task one); eight
  // sites share the targets out so that each is predicted.
  //
  // Listeners cannot come or go during a run, so the loop is chosen once: the one without them
  // has no test for them per atom.
  void serial_execute() {
    if (this->listening_)
      serial_loop<true>();
    else
      serial_loop<false>();
  }

  void serial_revert() {
    for (std::size_t i = atom_count; i-- > 0;) {
      const std::size_t atom = order[i];
      if (!this->to_revert(atom)) continue;
      if (this->halted(true) || !wait_for_checkpoint() || !this->revert_one(atom)) return;
    }
  }

 private:
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

  // When the recorder holds successors until a checkpoint is durable, an atom starts only once
  // everything recorded before it is (on the calling thread, which is no executor's). False
  // when a commit failed: the run stops.
  bool wait_for_checkpoint() {
    if constexpr (base::recording) {
      if (this->recorder_.holds_successors() && !this->recorder_.wait_durable()) [[unlikely]] {
        this->raise(base::suspend_asked);
        return false;
      }
    }
    return true;
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
    atom_state from = this->state(atom);
    if (from != atom_state::pending && from != atom_state::retrying) return true;
    if (this->halted(false)) return false;
    if (this->ignored_by_decider(atom)) return true;
    if (!wait_for_checkpoint()) return false;
    this->template transition<store_by::relaxed, Listening>(atom, from, atom_state::running);
    return this->template run_execute<Listening>(atom);
  }
};

}  // namespace flowkit::detail
