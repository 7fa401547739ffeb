#pragma once
// fk::thread_pool{n}: n worker threads taking fk::work from one queue. Workers spin briefly
// before parking, because handing work to a sleeping thread costs tens of microseconds and
// successive atoms of a flow usually arrive within less. One pool may serve many engines.
// The queue is a ring that only grows, so a pool in steady use never allocates.

#include <flowkit/engine/executor.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace flowkit {

/// A fixed set of worker threads taking fk::work from one queue (see above); an fk::executor.
class thread_pool {
 public:
  /// Starts `threads` workers; throws std::invalid_argument for 0.
  explicit thread_pool(std::size_t threads) {
    if (threads == 0) throw std::invalid_argument("flowkit: a thread_pool needs at least one thread");
    workers_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work_loop(); });
  }

  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// Runs what was submitted, then joins the workers.
  ~thread_pool() {
    {
      std::lock_guard lock{mutex_};
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  /// Queues a work item; never blocks on running work.
  void submit(work item) {
    {
      std::lock_guard lock{mutex_};
      if (count_ == ring_.size()) grow();
      ring_[(head_ + count_) % ring_.size()] = item;
      ++count_;
      queued_.store(count_, std::memory_order_release);
    }
    if (sleeping_.load(std::memory_order_acquire) > 0) wake_.notify_one();
  }

  /// The number of worker threads.
  std::size_t size() const noexcept { return workers_.size(); }

 private:
  bool try_take(work& item) {
    std::lock_guard lock{mutex_};
    if (count_ == 0) return false;
    item = ring_[head_];
    head_ = (head_ + 1) % ring_.size();
    --count_;
    queued_.store(count_, std::memory_order_relaxed);
    return true;
  }

  void grow() {
    std::vector<work> larger(ring_.size() * 2);
    for (std::size_t i = 0; i < count_; ++i) larger[i] = ring_[(head_ + i) % ring_.size()];
    ring_ = std::move(larger);
    head_ = 0;
  }

  void work_loop() {
    work item;
    for (;;) {
      if (try_take(item)) {
        item();
        continue;
      }
      // Spin a little: the next atom of a running flow is usually a few microseconds away.
      bool found = false;
      for (int spin = 0; spin < 2000 && !found; ++spin) {
        found = queued_.load(std::memory_order_acquire) > 0;
        if (!found) std::this_thread::yield();
      }
      if (found) continue;
      std::unique_lock lock{mutex_};
      sleeping_.fetch_add(1, std::memory_order_acq_rel);
      wake_.wait(lock, [&] { return stopping_ || count_ > 0; });
      sleeping_.fetch_sub(1, std::memory_order_acq_rel);
      if (count_ == 0 && stopping_) return;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<work> ring_ = std::vector<work>(64);
  std::size_t head_ = 0, count_ = 0;
  std::atomic<std::size_t> queued_{0};
  std::atomic<int> sleeping_{0};
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

static_assert(executor<thread_pool>);

}  // namespace flowkit
