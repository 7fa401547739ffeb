#pragma once
// One phase (execute or revert) of a run on an executor.
//
// Atoms that become ready go into a lock-free queue. Work items handed to the executor each run
// queued atoms until the queue is empty, so a burst of ready atoms costs at most one submission
// per executor thread, not one per atom; the thread that called run() drains the same queue while
// it waits, so a run always progresses even when every executor thread is busy (engines nested in
// tasks cannot deadlock a pool).
//
// The queue needs no wrap-around checks: an atom is queued at most once per phase and every
// queued atom is taken before the phase ends, so a ring of one slot per atom never overflows.
// Positions only grow (across phases too), so a work item left over from an earlier phase can
// never mistake a new slot for an old one.
//
// The object is shared with the work items by a reference count: a work item that arrives after
// its phase ended finds the queue empty and only drops its reference.
//
// parallel_phases, below, is the engine's side: it counts what each atom waits for, and runs an
// atom and then releases its successors (in a revert, its predecessors).

#include <flowkit/core/states.hpp>
#include <flowkit/engine/detail/recorder.hpp>
#include <flowkit/engine/detail/serial_loop.hpp>
#include <flowkit/engine/executor.hpp>
#include <flowkit/flow/atom_graph.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

namespace flowkit::detail {

class parallel_phase {
 public:
  // Runs one atom and the successors it keeps for itself (it hands the others to pass_on()); the
  // last atom it runs is finished when it returns.
  using atom_runner = void (*)(void* engine, std::uint32_t atom, parallel_phase& phase);

  static parallel_phase* create(std::size_t atoms) { return new parallel_phase(atoms); }
  void release() noexcept {
    if (references_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  template <executor E>
  void begin(void* engine, atom_runner runner, E& ex) {
    engine_ = engine;
    runner_ = runner;
    executor_ = &ex;
    submit_ = [](void* e, work w) { static_cast<E*>(e)->submit(w); };
    width_.store(concurrency_of(ex), std::memory_order_relaxed);
  }

  // Starts the phase with the atoms that are ready now, then runs atoms on the calling thread
  // until none is queued or running.
  void run(const std::uint32_t* ready, std::size_t count) {
    if (count == 0) return;
    in_flight_.store(count, std::memory_order_seq_cst);
    push(ready, count);
    drive();
  }

  // The atom that was running is done and `count` successors it released follow it: the current
  // thread runs one of them next itself, the others are queued.
  void pass_on(const std::uint32_t* others, std::size_t count) {
    if (count == 0) return;
    in_flight_.fetch_add(count, std::memory_order_relaxed);  // before any of them can finish
    push(others, count);
  }

  // An atom whose successors wait for its checkpoint (recorder.hpp): the phase stays open until
  // end_hold(), which another thread (the committer) calls after passing the successors on.
  // Called by the thread running the atom, whose own count keeps in_flight_ above zero.
  void hold() noexcept {
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    references_.fetch_add(1, std::memory_order_relaxed);
  }
  void end_hold() noexcept {
    retire(1);
    release();
  }

 private:
  struct slot {
    std::atomic<std::uint64_t> published{0};  // position + 1 once `atom` is written for it
    std::atomic<std::uint32_t> atom{0};       // atomic: a late reader may look at a slot being reused
  };

  explicit parallel_phase(std::size_t atoms)
      : capacity_(atoms == 0 ? 1 : atoms), slots_(std::make_unique<slot[]>(capacity_)) {}
  ~parallel_phase() = default;

  void push(const std::uint32_t* atoms, std::size_t count) {
    const std::uint64_t first = tail_.fetch_add(count, std::memory_order_seq_cst);
    for (std::size_t i = 0; i < count; ++i) {
      slot& s = slots_[(first + i) % capacity_];
      s.atom.store(atoms[i], std::memory_order_relaxed);
      s.published.store(first + i + 1, std::memory_order_release);
    }
    call_workers(count);
    wake_caller();
  }

  bool try_pop(std::uint32_t& atom) {
    std::uint64_t position = head_.load(std::memory_order_acquire);
    for (;;) {
      slot& s = slots_[position % capacity_];
      if (s.published.load(std::memory_order_acquire) != position + 1) {
        // Empty, or its producer has reserved the slot and not yet written it.
        const std::uint64_t now = head_.load(std::memory_order_acquire);
        if (now == position) return false;
        position = now;
        continue;
      }
      atom = s.atom.load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(position, position + 1, std::memory_order_acq_rel)) return true;
    }
  }

  bool has_queued() const noexcept {
    return tail_.load(std::memory_order_seq_cst) != head_.load(std::memory_order_seq_cst);
  }

  // Hands up to `wanted` more work items to the executor, keeping at most width_ out at once.
  void call_workers(std::size_t wanted) {
    while (wanted-- > 0 && enlist()) {
      references_.fetch_add(1, std::memory_order_relaxed);
      submit_(executor_, work{&work_entry, this});
    }
  }

  bool enlist() noexcept {
    std::size_t active = active_.load(std::memory_order_seq_cst);
    while (active < width_.load(std::memory_order_relaxed))
      if (active_.compare_exchange_weak(active, active + 1, std::memory_order_seq_cst)) return true;
    return false;
  }

  // Atoms finished on one thread are counted off in_flight_ when that thread finds the queue
  // empty, not one by one: that counter is shared by every thread, and only the phase's end
  // needs it exact.
  void retire(std::size_t finished) {
    if (finished != 0 && in_flight_.fetch_sub(finished, std::memory_order_seq_cst) == finished) wake_caller();
  }

  static void work_entry(void* self) noexcept {
    auto& phase = *static_cast<parallel_phase*>(self);
    for (;;) {
      std::uint32_t atom;
      std::size_t finished = 0;
      for (; phase.try_pop(atom); ++finished) phase.runner_(phase.engine_, atom, phase);
      phase.retire(finished);
      phase.active_.fetch_sub(1, std::memory_order_seq_cst);
      // A push that found every work item busy may have come just before that decrement, and
      // counted on this one: look again.
      if (!phase.has_queued() || !phase.enlist()) break;
    }
    phase.release();
  }

  void drive() {
    for (std::size_t finished = 0;;) {
      std::uint32_t atom;
      if (try_pop(atom)) {
        runner_(engine_, atom, *this);
        ++finished;
        continue;
      }
      retire(finished);
      finished = 0;
      if (in_flight_.load(std::memory_order_acquire) == 0) return;
      // The next atom is usually microseconds away: spin a little before sleeping.
      for (int spin = 0; spin < 256 && !work_or_done(); ++spin) std::this_thread::yield();
      const std::uint32_t seen = wake_.load(std::memory_order_acquire);
      caller_waiting_.store(true, std::memory_order_seq_cst);
      if (!work_or_done()) wake_.wait(seen, std::memory_order_acquire);
      caller_waiting_.store(false, std::memory_order_relaxed);
    }
  }

  bool work_or_done() const noexcept {
    return in_flight_.load(std::memory_order_seq_cst) == 0 || has_queued();
  }

  void wake_caller() {
    if (!caller_waiting_.load(std::memory_order_seq_cst)) return;
    wake_.fetch_add(1, std::memory_order_release);
    wake_.notify_one();
  }

  const std::size_t capacity_;
  const std::unique_ptr<slot[]> slots_;
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<std::size_t> in_flight_{0};  // queued, running, or finished and not retired
  alignas(64) std::atomic<std::size_t> active_{0};     // work items out on the executor
  std::atomic<std::size_t> references_{1};
  std::atomic<std::uint32_t> wake_{0};
  std::atomic<bool> caller_waiting_{false};
  std::atomic<std::size_t> width_{1};  // atomic: a work item of an earlier phase may read it
  void* engine_ = nullptr;
  atom_runner runner_ = nullptr;
  void* executor_ = nullptr;
  void (*submit_)(void*, work) = nullptr;
};

template <class Flow, class Store, class Recorder>
class parallel_phases : public serial_phases<Flow, Store, Recorder> {
  using base = serial_phases<Flow, Store, Recorder>;

 public:
  using base::atom_count;
  using base::base;
  using base::order;

  ~parallel_phases() {
    if (phase_) phase_->release();
  }

  template <executor E>
  void parallel(E& ex, bool reverting) {
    constexpr auto& graph = atom_graph_v<Flow>;
    if (!phase_) phase_ = parallel_phase::create(atom_count);
    // Count what each atom waits for, and find the atoms ready now, before any is started: once
    // work runs, counters move and an atom must be released exactly once.
    std::array<std::uint32_t, atom_count + 1> ready{};
    std::size_t ready_count = 0;
    for (std::size_t i = 0; i < atom_count; ++i) {
      const std::size_t a = order[reverting ? atom_count - 1 - i : i];
      std::uint32_t waiting = 0;
      bool eligible;
      if (!reverting) {
        eligible = this->runnable(a);
        for (std::size_t p = graph.predecessors_begin[a]; p < graph.predecessors_begin[a + 1]; ++p) {
          const atom_state before = this->state(graph.predecessors[p]);
          waiting += before != atom_state::success && before != atom_state::ignore;
        }
      } else {
        eligible = this->to_revert(a);
        for (std::size_t s = graph.successors_begin[a]; s < graph.successors_begin[a + 1]; ++s)
          waiting += this->to_revert(graph.successors[s]);
      }
      waiting_[a].store(waiting, std::memory_order_relaxed);
      if (eligible && waiting == 0) ready[ready_count++] = static_cast<std::uint32_t>(a);
    }
    phase_->begin(this, reverting ? &parallel_phases::parallel_revert : &parallel_phases::parallel_execute,
                  ex);
    if (this->halted(reverting)) return;
    phase_->run(ready.data(), ready_count);
  }

 private:
  // Runs an atom, then releases its successors: the first that becomes ready runs next on this
  // thread, the others are queued, a batch at a time (one queue operation per batch). When the
  // recorder holds successors until an atom's checkpoint is durable, it releases them instead.
  template <bool Reverting>
  static void parallel_step(void* self_pointer, std::uint32_t atom, parallel_phase& phase) {
    parallel_phases& self = *static_cast<parallel_phases*>(self_pointer);
    for (;;) {
      bool done = false;
      if (!self.halted(Reverting)) {
        if constexpr (Reverting)
          done = self.revert_one(atom);
        else  // an atom ignored by a decider counts as done for its successors
          done = self.execute_one(atom);
      }
      if (!done || self.halted(Reverting)) return;
      if constexpr (base::recording) {
        if (self.recorder_.holds_successors()) {
          phase.hold();
          self.recorder_.after_durable(deferred_release{&release_held<Reverting>, &self, &phase, atom});
          return;
        }
      }
      std::uint32_t next = 0;
      if (!self.template make_ready<Reverting, true>(atom, phase, next)) return;
      atom = next;
    }
  }

  // Makes ready the atoms that waited for `atom` only: with Keep, the first of them is kept in
  // `next` for the calling thread (true then), the others are passed on.
  template <bool Reverting, bool Keep>
  bool make_ready(std::uint32_t atom, parallel_phase& phase, std::uint32_t& next) {
    constexpr auto& graph = atom_graph_v<Flow>;
    constexpr std::size_t batch = 32;
    std::array<std::uint32_t, batch> released;
    std::size_t count = 0;
    bool keeping = false;
    const auto& neighbours = Reverting ? graph.predecessors : graph.successors;
    const auto& begin = Reverting ? graph.predecessors_begin : graph.successors_begin;
    for (std::size_t e = begin[atom]; e < begin[atom + 1]; ++e) {
      const std::size_t n = neighbours[e];
      if (Reverting && !this->to_revert(n)) continue;
      if (waiting_[n].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
      if (Keep && !keeping) {
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
    phase.pass_on(released.data(), count);
    return keeping;
  }

  // The committer's side of a hold: the atom's checkpoint is durable, so its successors may
  // start; or it could not be written, and the run stops.
  template <bool Reverting>
  static void release_held(const deferred_release& held, bool durable) noexcept {
    auto& self = *static_cast<parallel_phases*>(held.engine);
    auto& phase = *static_cast<parallel_phase*>(held.phase);
    if (!durable) self.raise(base::suspend_asked);
    std::uint32_t unused = 0;
    if (!self.halted(Reverting)) self.template make_ready<Reverting, false>(held.atom, phase, unused);
    phase.end_hold();
  }

  static void parallel_execute(void* self, std::uint32_t atom, parallel_phase& phase) {
    parallel_step<false>(self, atom, phase);
  }
  static void parallel_revert(void* self, std::uint32_t atom, parallel_phase& phase) {
    parallel_step<true>(self, atom, phase);
  }

  std::array<std::atomic<std::uint32_t>, atom_count + 1> waiting_{};
  parallel_phase* phase_ = nullptr;
};

}  // namespace flowkit::detail
