#pragma once
// One phase (execute or revert) of a run on an executor. Atoms that become ready go into a
// ready queue, and one work item per queued atom goes to the executor; the thread that called
// run() drains the same queue while it waits, so a run always progresses even when every pool
// thread is busy (engines nested in tasks cannot deadlock a pool). The object is shared with the
// work items by a reference count: a work item that arrives after its phase ended finds the
// queue empty and only drops its reference.

#include <flowkit/engine/executor.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace flowkit::detail {

class parallel_phase {
 public:
  // Runs one atom and whatever successors it keeps for itself (see keep()), and calls
  // finished() once for each.
  using atom_runner = void (*)(void* engine, std::uint32_t atom, parallel_phase& phase);

  explicit parallel_phase(std::size_t atoms) : ring_(atoms == 0 ? 1 : atoms) {}

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
  }

  // Queues an atom whose predecessors are done and hands one work item to the executor.
  void make_ready(std::uint32_t atom) {
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock{mutex_};
      ring_[(head_ + count_) % ring_.size()] = atom;
      ++count_;
      if (caller_waiting_) wake_caller_.notify_one();
    }
    references_.fetch_add(1, std::memory_order_relaxed);
    submit_(executor_, work{&work_entry, this});
  }

  // Counts an atom that the current thread will run next itself, without queueing it.
  void keep() noexcept { in_flight_.fetch_add(1, std::memory_order_relaxed); }

  // An atom (queued or kept) is done, including the release of its successors.
  void finished() {
    if (in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock{mutex_};
      wake_caller_.notify_one();
    }
  }

  // The calling thread: run queued atoms until none is queued or running.
  void drive() {
    for (;;) {
      std::uint32_t atom;
      if (try_pop(atom)) {
        runner_(engine_, atom, *this);
        continue;
      }
      if (in_flight_.load(std::memory_order_acquire) == 0) break;
      for (int spin = 0; spin < 256 && !work_or_done(); ++spin) std::this_thread::yield();
      std::unique_lock lock{mutex_};
      caller_waiting_ = true;
      wake_caller_.wait(lock, [&] { return count_ > 0 || in_flight_.load(std::memory_order_acquire) == 0; });
      caller_waiting_ = false;
    }
    engine_ = nullptr;
    runner_ = nullptr;
  }

 private:
  ~parallel_phase() = default;

  bool work_or_done() {
    if (in_flight_.load(std::memory_order_acquire) == 0) return true;
    std::lock_guard lock{mutex_};
    return count_ > 0;
  }

  bool try_pop(std::uint32_t& atom) {
    std::lock_guard lock{mutex_};
    if (count_ == 0) return false;
    atom = ring_[head_];
    head_ = (head_ + 1) % ring_.size();
    --count_;
    return true;
  }

  static void work_entry(void* self) noexcept {
    auto& phase = *static_cast<parallel_phase*>(self);
    std::uint32_t atom;
    if (phase.try_pop(atom)) phase.runner_(phase.engine_, atom, phase);
    phase.release();
  }

  std::atomic<std::size_t> references_{1};
  std::atomic<std::size_t> in_flight_{0};
  std::mutex mutex_;
  std::condition_variable wake_caller_;
  bool caller_waiting_ = false;
  std::vector<std::uint32_t> ring_;  // each atom is queued at most once a phase
  std::size_t head_ = 0, count_ = 0;
  void* engine_ = nullptr;
  atom_runner runner_ = nullptr;
  void* executor_ = nullptr;
  void (*submit_)(void*, work) = nullptr;
};

}  // namespace flowkit::detail
