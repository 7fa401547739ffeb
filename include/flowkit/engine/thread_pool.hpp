#pragma once
// fk::thread_pool{n}: n worker threads taking fk::work from one queue. Workers spin briefly
// before parking, because handing work to a sleeping thread costs tens of microseconds and
// successive atoms of a flow usually arrive within less. One pool may serve many engines.

#include <flowkit/engine/executor.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace flowkit {

class thread_pool {
 public:
  explicit thread_pool(std::size_t threads) {
    if (threads == 0) throw std::invalid_argument("flowkit: a thread_pool needs at least one thread");
    workers_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work_loop(); });
  }

  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  // Runs what was submitted, then joins the workers.
  ~thread_pool() {
    {
      std::lock_guard lock{mutex_};
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  void submit(work item) {
    {
      std::lock_guard lock{mutex_};
      queue_.push_back(item);
      queued_.fetch_add(1, std::memory_order_release);
    }
    if (sleeping_.load(std::memory_order_acquire) > 0) wake_.notify_one();
  }

  std::size_t size() const noexcept { return workers_.size(); }

 private:
  bool try_take(work& item) {
    std::lock_guard lock{mutex_};
    if (queue_.empty()) return false;
    item = queue_.front();
    queue_.pop_front();
    queued_.fetch_sub(1, std::memory_order_relaxed);
    return true;
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
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      sleeping_.fetch_sub(1, std::memory_order_acq_rel);
      if (queue_.empty() && stopping_) return;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<work> queue_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<int> sleeping_{0};
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

static_assert(executor<thread_pool>);

}  // namespace flowkit
