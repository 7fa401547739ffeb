#pragma once
// Failure resolution: each failed atom's innermost retry controller decides, for its scope (the
// flow it is attached to), from the history the run keeps for it. What it decides is written
// down as intentions: REVERT for what must be reverted, RETRY for a retry whose scope runs again.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/intention.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/engine/detail/deciders.hpp>
#include <flowkit/flow/analysis.hpp>
#include <flowkit/flow/retry.hpp>

#include <array>
#include <cstddef>
#include <vector>

namespace flowkit::detail {

template <class Flow, class Store, class Recorder>
class retry_scopes : public deciders<Flow, Store, Recorder> {
  using base = deciders<Flow, Store, Recorder>;

 public:
  using base::atom_count;
  using base::base;
  using base::none;
  using base::spec;
  using base::table;

  // Sets the intentions: REVERT for the scope of a retry that retries and RETRY for the retry;
  // REVERT for the scope and the retry itself of one that reverts (and its parent decides next);
  // or REVERT for everything (then true). An atom IGNOREd by a decider stays IGNORE. A retry whose
  // flow is reverted by an enclosing scope does not retry, whatever it said.
  bool resolve_failures() {
    constexpr auto& an = analysis_v<Flow>;
    bool everything = false;
    std::array<bool, atom_count + 1> decided{};  // retries that decided this round
    for (std::size_t f = 0; f < atom_count && !everything; ++f) {
      if (this->state(f) != atom_state::failure) continue;
      // A retry controller that fails (no values left) reverts its own scope.
      std::size_t r = spec.atoms[f].is_retry ? f : an.retry_of[f];
      retry_decision decision = spec.atoms[f].is_retry ? retry_decision::revert : decide(r, decided);
      for (;;) {
        if (r == none || decision == retry_decision::revert_all) {
          everything = true;
          break;
        }
        if (decision == retry_decision::retry) {
          mark_scope(r, false);
          if (this->intentions_[r] != intention::revert) this->intend(r, intention::retry);
          break;
        }
        mark_scope(r, true);  // revert: the enclosing scope handles the failure
        r = an.retry_of[r];
        decision = decide(r, decided);
      }
    }
    if (everything)
      for (std::size_t a = 0; a < atom_count; ++a)
        if (this->intentions_[a] != intention::ignore) this->intend(a, intention::revert);
    return everything;
  }

  // After a retried scope was reverted: its atoms back to PENDING, its retry to RETRYING. Every
  // atom with a REVERT intention is in the flow of one of these retries.
  void rerun_retried_scopes() {
    for (std::size_t r = 0; r < atom_count; ++r) {
      if (this->intentions_[r] != intention::retry) continue;
      const std::size_t flow = spec.nodes[spec.atoms[r].node].parent;
      for (std::size_t a = spec.nodes[flow].atom_begin; a < spec.nodes[flow].atom_end; ++a) {
        if (a == r) continue;
        this->failure_of_[a] = none;  // first: make_pending records the atom as it is then
        this->make_pending(a);
      }
      this->intentions_[r] = intention::execute;
      this->set_state(r, atom_state::retrying);
    }
    this->execute_failures_.clear();  // each attempt's reverts see only that attempt's failures
    this->lower(base::execute_failed);
  }

 private:
  retry_decision decide(std::size_t retry, std::array<bool, atom_count + 1>& decided) {
    if (retry == none) return retry_decision::revert_all;
    if (decided[retry]) return retry_decision::retry;  // one decision per retry per round
    decided[retry] = true;
    // The failures met inside the retry's flow, for its history.
    const std::size_t first = spec.nodes[spec.nodes[spec.atoms[retry].node].parent].atom_begin;
    const std::size_t last = spec.nodes[spec.nodes[spec.atoms[retry].node].parent].atom_end;
    std::vector<failure> met;
    for (std::size_t a = first; a < last; ++a)
      if (this->failure_of_[a] != none) met.push_back(this->execute_failures_[this->failure_of_[a]]);
    return table.on_failure[retry](this->context_of(retry), flowkit::failures{met.data(), met.size()});
  }

  // The atoms of a retry's flow, with or without the retry itself.
  void mark_scope(std::size_t retry, bool with_retry) {
    const std::size_t flow = spec.nodes[spec.atoms[retry].node].parent;
    for (std::size_t a = spec.nodes[flow].atom_begin; a < spec.nodes[flow].atom_end; ++a)
      if ((a != retry || with_retry) && this->intentions_[a] != intention::ignore)
        this->intend(a, intention::revert);
  }
};

}  // namespace flowkit::detail
