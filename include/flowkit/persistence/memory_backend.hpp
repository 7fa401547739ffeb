#pragma once
// fk::memory_backend: checkpoints in one process's memory, for tests and for runs that need no
// durability. Threads may share it: one mutex orders every call, so each call is atomic.

#include <flowkit/persistence/backend.hpp>
#include <flowkit/persistence/errors.hpp>
#include <flowkit/persistence/model.hpp>

#include <algorithm>
#include <concepts>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flowkit {

/// A backend (see backend.hpp) in one process's memory: for tests and runs that need no
/// durability. Every call takes one mutex, so each is atomic and any thread may call it.
class memory_backend {
 public:
  /// What a commit's guard is given: the run as it stands before the commit. The backend's lock is
  /// held while the guard runs, so a guard must not call the backend.
  class transaction {
   public:
    /// The run as it stands before the commit.
    const flow_detail& run() const noexcept { return *run_; }

   private:
    friend class memory_backend;
    explicit transaction(const flow_detail& run) noexcept : run_(&run) {}
    const flow_detail* run_;
  };

  /// An empty store.
  memory_backend() = default;
  memory_backend(const memory_backend&) = delete;
  memory_backend& operator=(const memory_backend&) = delete;

  /// Creates the run, or loads it if stored; throws fk::flow_mismatch, fk::logbook_mismatch, or
  /// fk::run_not_found (resume_only), and std::invalid_argument for an empty or too long id.
  run_record open_run(const run_spec& spec, open_mode mode = create_or_resume) {
    detail::check_spec(spec);
    std::lock_guard lk{mu_};
    auto it = runs_.find(spec.id);
    if (it != runs_.end()) {
      detail::check_same_run(it->second.flow, spec);
      return record_of(it->second);
    }
    if (mode == open_mode::resume_only) throw run_not_found(spec.id);
    entry e;
    e.flow.id = spec.id;
    e.flow.logbook = spec.logbook;
    e.flow.flow_name = spec.flow_name;
    e.flow.structure_hash = spec.structure_hash;
    e.flow.store_bytes = spec.store_bytes;
    e.flow.created = e.flow.updated = run_clock::now();
    it = runs_.emplace(spec.id, std::move(e)).first;
    return record_of(it->second);
  }

  /// The run with its atom details, or nullopt.
  std::optional<run_record> load_run(std::string_view id) const {
    std::lock_guard lk{mu_};
    auto it = runs_.find(id);
    if (it == runs_.end()) return std::nullopt;
    return record_of(it->second);
  }

  /// Applies `changes` (and their flow state) at once, after `guard(txn)`; if the guard throws,
  /// nothing is written. Throws fk::run_not_found for an unknown run.
  template <class Guard = no_guard>
    requires std::invocable<Guard&, transaction&>
  void commit(std::string_view id, const batch& changes, Guard&& guard = Guard{}) {
    detail::check_batch(changes);
    std::lock_guard lk{mu_};
    auto it = runs_.find(id);
    if (it == runs_.end()) throw run_not_found(std::string{id});
    transaction txn{it->second.flow};
    std::invoke(guard, txn);
    // Everything that allocates happens here, before the run is touched: the changes, applied in
    // order (a later change of an atom replaces an earlier one), as detached map nodes.
    atom_map staged;
    for (const atom_detail& a : changes) staged.insert_or_assign(a.name, a);
    const run_time now = run_clock::now();
    // From here on nothing allocates or throws: moving nodes between maps of one type does not.
    entry& run = it->second;
    while (!staged.empty()) {
      auto node = staged.extract(staged.begin());
      run.atoms.erase(node.key());
      run.atoms.insert(std::move(node));
    }
    if (changes.flow_state()) run.flow.state = *changes.flow_state();
    run.flow.updated = now;
  }

  /// Every logbook's name, sorted.
  std::vector<std::string> logbooks() const {
    std::lock_guard lk{mu_};
    std::vector<std::string> out;
    for (const auto& [id, e] : runs_)
      if (out.empty() || out.back() != e.flow.logbook) out.push_back(e.flow.logbook);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  /// Every run's flow detail (no atoms), by run id.
  std::vector<flow_detail> runs() const {
    std::lock_guard lk{mu_};
    std::vector<flow_detail> out;
    out.reserve(runs_.size());
    for (const auto& [id, e] : runs_) out.push_back(e.flow);
    return out;
  }

  /// The flow details of the runs in `logbook`, by run id.
  std::vector<flow_detail> runs(std::string_view logbook) const {
    std::lock_guard lk{mu_};
    std::vector<flow_detail> out;
    for (const auto& [id, e] : runs_)
      if (e.flow.logbook == logbook) out.push_back(e.flow);
    return out;
  }

  /// Removes the run and its atom details; false if there was none.
  bool erase_run(std::string_view id) {
    std::lock_guard lk{mu_};
    auto it = runs_.find(id);
    if (it == runs_.end()) return false;
    runs_.erase(it);
    return true;
  }

 private:
  using atom_map = std::map<std::string, atom_detail, std::less<>>;
  struct entry {
    flow_detail flow;
    atom_map atoms;
  };

  static run_record record_of(const entry& e) {
    run_record r{e.flow, {}};
    r.atoms.reserve(e.atoms.size());
    for (const auto& [name, a] : e.atoms) r.atoms.push_back(a);
    return r;
  }

  mutable std::mutex mu_;
  std::map<std::string, entry, std::less<>> runs_;
};

static_assert(backend<memory_backend>);

}  // namespace flowkit
