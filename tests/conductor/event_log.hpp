#pragma once
// The events a conductor told, for a test thread to wait on: the tests follow a conductor through
// its events rather than sleeping.

#include <flowkit/conductor/conductor.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

namespace flowkit::test {

class event_log {
 public:
  void operator()(const conductor_event& e) {
    {
      std::lock_guard lk{mu_};
      events_.push_back(e);
    }
    cv_.notify_all();
  }
  // Waits until n events of this kind have come (a minute's safety net), and returns the n-th.
  conductor_event wait_for(conductor_event_kind kind, std::size_t n = 1) {
    std::unique_lock lk{mu_};
    const bool came = cv_.wait_for(lk, std::chrono::minutes{1}, [&] { return count_locked(kind) >= n; });
    REQUIRE(came);
    std::size_t seen = 0;
    for (const auto& e : events_)
      if (e.kind == kind && ++seen == n) return e;
    return {};
  }
  std::size_t count(conductor_event_kind kind) const {
    std::lock_guard lk{mu_};
    return count_locked(kind);
  }

 private:
  std::size_t count_locked(conductor_event_kind kind) const {
    return static_cast<std::size_t>(
        std::count_if(events_.begin(), events_.end(), [&](const auto& e) { return e.kind == kind; }));
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<conductor_event> events_;
};

}  // namespace flowkit::test
