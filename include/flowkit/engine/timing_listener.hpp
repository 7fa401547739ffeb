#pragma once
// fk::timing_listener: how long each atom's execute and revert took, measured from its RUNNING
// (or REVERTING) transition to the state that ended it.

#include <flowkit/engine/listener.hpp>

#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace flowkit {

/// A listener that sums, per atom, the time its execute and its revert took (steady clock).
class timing_listener {
 public:
  /// The clock times are measured with.
  using clock = std::chrono::steady_clock;

  /// The listener hook; not called by users.
  void on_atom(const atom_event& e) {
    const auto now = clock::now();
    if (e.to == atom_state::running || e.to == atom_state::reverting) {
      started_[std::string(e.atom)] = now;
      return;
    }
    const auto it = started_.find(std::string(e.atom));
    if (it == started_.end()) return;
    auto& total = e.from == atom_state::reverting ? revert_[it->first] : execute_[it->first];
    total += now - it->second;
    started_.erase(it);
  }

  /// Time spent in execute (or revert) by the atom, summed over runs; zero if it never ran.
  clock::duration execute_time(std::string_view atom) const { return find(execute_, atom); }
  /// Time spent in revert by the atom, summed over runs; zero if it never reverted.
  clock::duration revert_time(std::string_view atom) const { return find(revert_, atom); }
  /// Every atom's execute time, by name.
  const std::map<std::string, clock::duration, std::less<>>& execute_times() const noexcept { return execute_; }

 private:
  static clock::duration find(const std::map<std::string, clock::duration, std::less<>>& m, std::string_view atom) {
    const auto it = m.find(atom);
    return it == m.end() ? clock::duration::zero() : it->second;
  }

  std::map<std::string, clock::time_point, std::less<>> started_;
  std::map<std::string, clock::duration, std::less<>> execute_, revert_;
};

}  // namespace flowkit
