#pragma once
// What the engine tests share: the executors every test runs under, and a listener that records
// events as "name STATE" lines and checks each against the transition tables.
#include <flowkit/flowkit.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace fk = flowkit;

namespace testing {

enum class where { serial, pool1, pool2, pool4 };

inline const char* describe(where w) {
  switch (w) {
    case where::serial: return "serial";
    case where::pool1: return "thread_pool{1}";
    case where::pool2: return "thread_pool{2}";
    case where::pool4: return "thread_pool{4}";
  }
  return "?";
}

inline fk::thread_pool& pool(std::size_t threads) {
  static fk::thread_pool one{1}, two{2}, four{4};
  return threads == 1 ? one : threads == 2 ? two : four;
}

template <class Engine>
auto run_on(Engine& eng, where w) {
  switch (w) {
    case where::pool1: return eng.run(pool(1));
    case where::pool2: return eng.run(pool(2));
    case where::pool4: return eng.run(pool(4));
    case where::serial: break;
  }
  return eng.run();
}

// Records "atom STATE" and "flow STATE" lines. The engine calls listeners one at a time.
struct capture {
  std::vector<std::string> events;
  std::vector<std::string> illegal;

  void on_flow(const fk::flow_event& e) {
    if (!fk::flow_transitions(e.from, e.to)) illegal.push_back(std::string(e.flow));
    events.push_back(std::string(e.flow) + ".f " + std::string(fk::to_string(e.to)));
  }
  void on_atom(const fk::atom_event& e) {
    if (!fk::atom_transitions(e.from, e.to)) illegal.push_back(std::string(e.atom));
    events.push_back(std::string(e.atom) + " " + std::string(fk::to_string(e.to)));
  }

  // Position of an event, or npos.
  std::size_t at(const std::string& event) const {
    const auto it = std::find(events.begin(), events.end(), event);
    return it == events.end() ? static_cast<std::size_t>(-1) : static_cast<std::size_t>(it - events.begin());
  }
  bool has(const std::string& event) const { return at(event) != static_cast<std::size_t>(-1); }
  // The events of one atom, in order.
  std::vector<std::string> of(const std::string& atom) const {
    std::vector<std::string> mine;
    for (const auto& e : events)
      if (e.rfind(atom + " ", 0) == 0) mine.push_back(e.substr(atom.size() + 1));
    return mine;
  }
};

// A flag one thread raises and another waits for; the wait fails the test instead of hanging if
// the flag never comes.
class signal {
 public:
  void raise() {
    {
      std::lock_guard lock{mutex_};
      raised_ = true;
    }
    changed_.notify_all();
  }
  bool wait() {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, std::chrono::seconds{20}, [&] { return raised_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool raised_ = false;
};

// Suspends its engine when an atom reaches a given state.
template <class Engine>
struct suspend_on {
  Engine* engine;
  std::string atom;
  fk::atom_state state;
  void on_atom(const fk::atom_event& e) {
    if (e.atom == atom && e.to == state) engine->suspend();
  }
};

}  // namespace testing
