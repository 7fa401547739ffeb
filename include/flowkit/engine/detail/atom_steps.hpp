#pragma once
// One atom's execute and revert, as both the serial loop and the parallel phase run them: the
// transitions around the task's function, and what a throw leaves (a failure, recorded).

#include <flowkit/core/failure.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/core/task.hpp>
#include <flowkit/engine/detail/retry_scopes.hpp>

#include <cstddef>

namespace flowkit::detail {

template <class Flow, class Store, class Recorder>
class atom_steps : public retry_scopes<Flow, Store, Recorder> {
  using base = retry_scopes<Flow, Store, Recorder>;

 public:
  using base::base;
  using base::none;
  using base::spec;
  using base::table;
  using store_by = typename base::store_by;

  // Runs an atom's execute on the parallel path. True when it succeeded, or when a decider (now or
  // earlier) ignored it.
  bool execute_one(std::size_t atom) {
    if (this->ignored_by_decider(atom)) return true;
    atom_state from = this->state(atom);
    if constexpr (base::has_deciders) {
      // Another thread's decider may ignore this atom at any moment: start it only if it was not.
      do {
        if (from == atom_state::ignore) return true;
        this->check_transition(atom, from, atom_state::running);
      } while (!this->template transition<store_by::exchange>(atom, from, atom_state::running));
    } else {
      if (from == atom_state::ignore) return true;
      this->check_transition(atom, from, atom_state::running);
      this->template transition<store_by::relaxed>(atom, from, atom_state::running);
    }
    return run_execute(atom);
  }

  // The task's execute, for an atom now RUNNING. MayListen false: the caller knows that nobody
  // listens, and no test for listeners is made.
  template <bool MayListen = true>
  [[gnu::always_inline]] inline bool run_execute(std::size_t atom) {
    try {
      table.execute[atom](this->context_of(atom), this->run_context_);
    } catch (...) {
      execute_failed_now(atom);
      return false;
    }
    this->template advance<atom_state::running, atom_state::success, MayListen>(atom);
    return true;
  }

  bool revert_one(std::size_t atom) {
    this->set_state(atom, atom_state::reverting);
    try {
      // A task that failed before it ran has nothing to undo, and its revert would ask again for
      // the input that was missing.
      if (!failed_before_running(atom)) {
        atom_context& context = this->context_of(atom);
        const auto& executed = this->execute_failures_;
        const std::size_t at = this->failure_of_[atom];
        table.revert[atom](context, at != none ? &executed[at] : nullptr,
                           flowkit::failures{executed.data(), executed.size()});
      }
    } catch (...) {
      const failure* f = this->record_failure(atom, failure_phase::revert);
      this->set_state(atom, atom_state::revert_failure, f);
      this->raise(base::revert_failed);
      return false;
    }
    this->set_state(atom, atom_state::reverted);
    return true;
  }

 private:
  // In a catch block: the atom's execute threw. Out of line, to keep the inlined path small.
  [[gnu::noinline]] void execute_failed_now(std::size_t atom) {
    const failure* f = this->record_failure(atom, failure_phase::execute);
    this->template advance<atom_state::running, atom_state::failure>(atom, f);
    this->raise(base::execute_failed);
  }

  // Whether the atom's execute failed before the task itself was called: an input it needs has
  // no value (its producer was ignored by a decider). Inputs do not change while an atom waits
  // for its revert (its producers revert after it), so what is missing now was missing then.
  bool failed_before_running(std::size_t atom) const noexcept {
    if (this->failure_of_[atom] == none) return false;
    for (std::size_t i = spec.atoms[atom].input_begin; i < spec.atoms[atom].input_end; ++i)
      if (spec.inputs[i].kind == input_kind::slot && !*this->inputs_[i].value && !this->inputs_[i].fallback)
        return true;
    return false;
  }
};

}  // namespace flowkit::detail
