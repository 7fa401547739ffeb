#pragma once
// The backend concept: what the engine needs from a checkpoint store. The engine takes a backend
// as a type (a policy), so the core never includes a store.
//
//   b.open_run(spec[, mode])    create the run (or load it if stored): a run_record. A stored run
//                               of another flow name or structural hash is refused (flow_mismatch,
//                               naming both), one in another logbook too (logbook_mismatch);
//                               mode fk::resume_only refuses an unknown id (run_not_found).
//   b.load_run(id)              the run with all its atom details, or nullopt.
//   b.commit(id, batch[, guard]) writes a batch of atom details and an optional flow state in one
//                               transaction, in the batch's order, and stamps the run's update
//                               time. guard(txn), if given, runs first inside that transaction
//                               (B::transaction&: for LMDB the lmdb_txn the writes go through);
//                               if it throws, nothing is written and the exception propagates.
//                               An unknown run is run_not_found.
//   b.logbooks()                every logbook's name, sorted.
//   b.runs() / b.runs(logbook)  flow details (no atoms), sorted by run id.
//   b.erase_run(id)             removes the run and its atom details; false if there was none.
//
// Every call is atomic and may be made from any thread. A guard must only read, or write through
// the transaction it is given: the LMDB backend runs a transaction again from the start when it
// grows its map.

#include <flowkit/persistence/errors.hpp>
#include <flowkit/persistence/model.hpp>

#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flowkit {

/// The guard of a commit that checks nothing.
struct no_guard {
  template <class Transaction>
  constexpr void operator()(Transaction&) const noexcept {}
};

namespace detail {
// open_run()'s refusal of a stored run that another flow (or another logbook) made.
inline void check_same_run(const flow_detail& stored, const run_spec& spec) {
  if (stored.flow_name != spec.flow_name || stored.structure_hash != spec.structure_hash)
    throw flow_mismatch(stored.id, stored.flow_name, stored.structure_hash, spec.flow_name,
                        spec.structure_hash);
  if (stored.logbook != spec.logbook) throw logbook_mismatch(stored.id, stored.logbook, spec.logbook);
}

// A guard of some other type than no_guard, to check that commit() takes any callable.
template <class Transaction>
struct probe_guard {
  void operator()(Transaction&) const {}
};
}  // namespace detail

/// A checkpoint store the engine can record runs to (see above): fk::memory_backend,
/// fk::lmdb_backend, fk::pg_backend.
template <class B>
concept backend = requires(B& b, const B& cb, const run_spec& spec, std::string_view id,
                           std::string_view book, const batch& changes,
                           detail::probe_guard<typename B::transaction> guard) {
  typename B::transaction;
  { b.open_run(spec) } -> std::same_as<run_record>;
  { b.open_run(spec, resume_only) } -> std::same_as<run_record>;
  { cb.load_run(id) } -> std::same_as<std::optional<run_record>>;
  { b.commit(id, changes) } -> std::same_as<void>;
  { b.commit(id, changes, guard) } -> std::same_as<void>;
  { cb.logbooks() } -> std::same_as<std::vector<std::string>>;
  { cb.runs() } -> std::same_as<std::vector<flow_detail>>;
  { cb.runs(book) } -> std::same_as<std::vector<flow_detail>>;
  { b.erase_run(id) } -> std::same_as<bool>;
};

}  // namespace flowkit
