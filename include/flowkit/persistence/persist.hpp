#pragma once
// fk::persist: an engine that records its run in a checkpoint backend, and resumes it.
//
//   fk::lmdb_backend backend{"orders.lmdb"};
//   fk::engine eng{flow, fk::store<"order_id">(42), fk::persist(backend, "order-42")};
//   auto r = eng.run();
//
// Building the engine creates the run "order-42" in the backend, or loads it when it is stored
// (in this process or another, after a crash): then SUCCESS atoms are not run again and their
// stored results feed their consumers and get<>(); atoms that were RUNNING run again (at least
// once: such a task sees fk::execution::rerun()); a revert under way continues; retry histories
// and decider outcomes are as they were; a run that had ended returns its outcome and runs
// nothing. A stored run of another flow structure is refused (fk::flow_mismatch, naming the atom
// that differs when it can). docs/persistence.md has the rules.
//
// Recording. Every transition is written, through the engine's funnel, to the run's journal: the
// thread that made it encodes the atom's detail (its result serialised with Boost.Serialization)
// and appends it; a committer thread of the engine's own commits what the journal holds, in
// order, one batch per backend transaction (a later record of an atom replaces an earlier one
// not yet committed). So a successor's record is never durable before its predecessor's, and a
// worker thread never waits for a commit. With a backend that syncs every commit (LMDB's
// power_loss_safe), an atom's successors start only once its record is durable; with group
// commit (process_crash_safe), they start at once. A run ends when its last record is committed.
//
// A commit that fails (a full disk, say) suspends the run and run() throws the backend's error;
// the records it held stay in the journal and are committed first by the next run().
//
// Fencing. persist(...).fenced(check) runs check(txn) first inside every commit's transaction;
// if it throws, nothing of that commit is written and the run stops with its error. A conductor
// checks its claim on the job there (fk::lmdb_jobboard::verify(claim, txn), on the same file),
// so that an owner that lost its claim cannot write into the run.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/intention.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/detail/constexpr_type_name.hpp>
#include <flowkit/durability.hpp>
#include <flowkit/engine/atom_thunks.hpp>
#include <flowkit/engine/detail/recorder.hpp>
#include <flowkit/flow/retry.hpp>
#include <flowkit/flow/structural_hash.hpp>
#include <flowkit/persistence/backend.hpp>
#include <flowkit/persistence/errors.hpp>
#include <flowkit/persistence/model.hpp>
#include <flowkit/persistence/serialisable.hpp>
#include <flowkit/persistence/serialization.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowkit {

/// How fk::persist files and opens its run.
struct persist_options {
  std::string logbook = "default";    // the logbook a new run is filed in
  open_mode mode = create_or_resume;  // resume_only: refuse an id that is not stored (run_not_found)
};

namespace detail {

// What a checkpoint is opened with: the flow's structure and the store's slots and types, so that
// a run is never resumed by an engine whose store would read its inputs differently.
template <class Flow, class Store>
constexpr std::uint64_t run_structure_hash() {
  fnv1a_hash h;
  h.number(structural_hash<Flow>);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((h.text(Store::slot_names::views[I]),
      h.text(constexpr_type_name<std::tuple_element_t<I, typename Store::value_types>>())),
     ...);
  }
  (std::make_index_sequence<Store::size>{});
  return h.value;
}

// A retry history as bytes: per attempt its value and the failures it met.
template <class Value>
void encode_history(const retry_history<Value>& history, std::string& out) {
  out.clear();
  string_sink_buf buf{out};
  boost::archive::binary_oarchive ar{buf, archive_flags};
  const std::size_t attempts = history.size();
  ar << attempts;
  for (const attempt<Value>& a : history) {
    ar << a.value;
    const std::size_t failures = a.failures.size();
    ar << failures;
    for (const failure& f : a.failures) ar << f.atom() << f.type_name() << f.what();
  }
}

template <class Value>
void decode_history(std::string_view bytes, retry_history<Value>& history) {
  view_source_buf buf{bytes};
  bounded_iarchive ar{buf, archive_flags};
  auto count = [&] {
    std::size_t n = 0;
    ar >> n;
    if (n > buf.left())
      throw boost::archive::archive_exception(boost::archive::archive_exception::input_stream_error,
                                              "a count larger than the bytes left");
    return n;
  };
  history.clear();
  for (std::size_t attempts = count(); attempts-- > 0;) {
    attempt<Value>& a = history.emplace_back();
    ar >> a.value;
    for (std::size_t failures = count(); failures-- > 0;) {
      std::string atom, type_name, what;
      ar >> atom >> type_name >> what;
      a.failures.emplace_back(std::move(atom), std::move(type_name), std::move(what), failure_phase::execute);
    }
  }
}

// How many attempts a stored retry history holds, read without its value type: the count that
// encode_history writes first. nullopt for an atom that keeps no history (empty bytes) and for
// bytes that do not start with a count. For tools that show a run (flowkit-admin).
inline std::optional<std::size_t> retry_history_attempts(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  try {
    view_source_buf buf{bytes};
    bounded_iarchive ar{buf, archive_flags};
    std::size_t attempts = 0;
    ar >> attempts;
    return attempts;
  } catch (const boost::archive::archive_exception&) {
    return std::nullopt;
  }
}

// Each atom's result and history, to bytes and back: functions of its task's type, in a table
// built at compile time like the engine's own (atom_thunks.hpp).
//
// A result of arithmetic type is copied as its bytes, which is what Boost's binary archive
// writes for it (no header, no codecvt: sizeof(T) bytes, a bool as one byte 0 or 1) and reads
// back (too few bytes: input_stream_error), without building an archive: building one copies a
// std::locale, about 8,000 instructions, more than everything else a record costs
// (docs/benchmarks.md, "Checkpoints").
template <class T>
inline constexpr bool stored_as_bytes = std::is_arithmetic_v<T>;

template <class Task>
void encode_result(const atom_context& ctx, std::string& out) {
  using stored = stored_result_t<Task>;
  if constexpr (std::is_empty_v<stored>) {
    out.clear();
  } else if constexpr (stored_as_bytes<stored>) {
    const stored value = *std::launder(reinterpret_cast<const stored*>(ctx.result));
    char bytes[sizeof(stored)];
    std::memcpy(bytes, &value, sizeof bytes);
    out.assign(bytes, sizeof bytes);
  } else {
    serialize_to(out, *std::launder(reinterpret_cast<const stored*>(ctx.result)));
  }
}

template <class Task>
void decode_result(atom_context& ctx, std::string_view bytes) {
  using stored = stored_result_t<Task>;
  if constexpr (std::is_empty_v<stored>) {
    emplace_result<Task>(ctx, stored{});
  } else if constexpr (stored_as_bytes<stored>) {
    if (bytes.size() < sizeof(stored))
      throw boost::archive::archive_exception(boost::archive::archive_exception::input_stream_error);
    stored value{};
    if constexpr (std::is_same_v<stored, bool>)
      value = bytes[0] != 0;
    else
      std::memcpy(&value, bytes.data(), sizeof value);
    emplace_result<Task>(ctx, value);
  } else {
    stored value{};
    deserialize_from(bytes, value);
    emplace_result<Task>(ctx, value);
  }
}

template <class Retry>
void encode_retry_history(const atom_context& ctx, std::string& out) {
  encode_history(static_cast<const retry_run<Retry>*>(ctx.task)->history, out);
}

template <class Retry>
void decode_retry_history(atom_context& ctx, std::string_view bytes) {
  decode_history(bytes, static_cast<retry_run<Retry>*>(ctx.task)->history);
}

template <std::size_t Atoms>
struct checkpoint_table {
  std::array<void (*)(const atom_context&, std::string&), Atoms + 1> encode{};
  std::array<void (*)(atom_context&, std::string_view), Atoms + 1> decode{};
  std::array<std::string_view, Atoms + 1> result_type{};  // for messages
  std::array<void (*)(const atom_context&, std::string&), Atoms + 1> encode_history{};
  std::array<void (*)(atom_context&, std::string_view), Atoms + 1> decode_history{};
  std::size_t at = 0;

  template <class Task>
  constexpr void operator()() {
    encode[at] = &encode_result<Task>;
    decode[at] = &decode_result<Task>;
    result_type[at] = constexpr_type_name<stored_result_t<Task>>();
    if constexpr (retry_atom<Task>) {
      encode_history[at] = &encode_retry_history<Task>;
      decode_history[at] = &decode_retry_history<Task>;
    }
    ++at;
  }
};

template <class Flow, std::size_t Atoms>
constexpr checkpoint_table<Atoms> make_checkpoint_table() {
  checkpoint_table<Atoms> table{};
  for_each_task_type<Flow>(table);
  return table;
}

// A stored atom state as a loaded run holds it: an atom caught RUNNING runs again (from
// PENDING); one caught REVERTING is reverted again (from what it was before: SUCCESS, or FAILURE
// when its execute failed).
constexpr atom_state loaded_state(atom_state stored, bool failed) noexcept {
  switch (stored) {
    case atom_state::running:
      return atom_state::pending;
    case atom_state::reverting:
      return failed ? atom_state::failure : atom_state::success;
    default:
      return stored;
  }
}

// A stored flow state as a loaded run holds it: a run caught under way is a suspended one.
constexpr flow_state loaded_state(flow_state stored) noexcept {
  switch (stored) {
    case flow_state::running:
    case flow_state::resuming:
    case flow_state::reverting:
    case flow_state::suspending:
      return flow_state::suspended;
    default:
      return stored;
  }
}

}  // namespace detail

/// The recorder fk::persist makes, given to fk::engine: it records the run in `Backend` and
/// resumes it from there (see above). Move-only; the engine owns it, and its committer thread.
template <backend Backend>
class persist_t {
 public:
  /// Tells the engine that this recorder writes a checkpoint.
  static constexpr bool records = true;

  /// Throws std::invalid_argument for an empty or too long run id; the run is opened by the engine.
  persist_t(Backend& backend, std::string run_id, persist_options opts)
      : backend_(&backend), id_(std::move(run_id)), opts_(std::move(opts)) {
    detail::check_run_id(id_);
    if constexpr (requires { backend.durability(); })
      holds_ = backend.durability() != durability::process_crash_safe;
  }
  persist_t(persist_t&&) noexcept = default;
  persist_t& operator=(persist_t&&) = delete;
  /// Stops the committer thread, as close().
  ~persist_t() { close(); }

  /// Stops the committer thread (once everything it holds is dealt with); the engine calls it
  /// first thing in its destructor, before the run state the committer may touch is gone.
  void close() noexcept {
    if (journal_) journal_->stop();
  }

  /// The run's id in the backend.
  const std::string& run_id() const noexcept { return id_; }
  /// The backend the run is recorded in.
  Backend& backend() const noexcept { return *backend_; }

  /// Every commit of this run first calls check(txn) in its transaction (see "Fencing" above).
  template <class Check>
    requires std::invocable<Check&, typename Backend::transaction&>
  persist_t fenced(Check check) && {
    fence_ = std::move(check);
    return std::move(*this);
  }

  // ----- the recorder's side of the engine (engine/detail/recorder.hpp) -----

  // Whether the engine's values can be written down: else open() is the one compile error, and
  // nothing else is instantiated.
  template <class State>
  static constexpr bool storable =
      detail::outputs_serialisable<typename State::flow_type>() && serialisable<typename State::store_type>;

  template <class State>
  void open(State& s) {
    using Flow = typename State::flow_type;
    using Store = typename State::store_type;
    if constexpr (!detail::outputs_serialisable<Flow>()) {
      detail::report_unserialisable_output<Flow>();
    } else if constexpr (!serialisable<Store>) {
      static_assert(serialisable<Store>,
                    "flowkit: with a checkpoint backend, the store's values must be serialisable with "
                    "Boost.Serialization: give each type a serialize() member or free function, or "
                    "specialise fk::enable_serialisable");
    } else {
      open_run(s);
    }
  }

 private:
  template <class State>
  void open_run(State& s) {
    using Flow = typename State::flow_type;
    using Store = typename State::store_type;
    run_spec spec{
        id_, opts_.logbook, std::string{Flow::name.view()}, detail::run_structure_hash<Flow, Store>(), {}};
    if constexpr (Store::size != 0) serialize_to(spec.store_bytes, s.store_);
    run_record stored;
    try {
      stored = backend_->open_run(spec, opts_.mode);
    } catch (const flow_mismatch& e) {
      throw flow_mismatch(e.run(), e.stored_flow(), e.stored_hash(), e.given_flow(), e.given_hash(),
                          difference<State>(e));
    }
    restore(s, stored);
    journal_ = std::make_unique<journal>(State::atom_count);
  }

 public:
  template <class State>
  void begin_run(State& s) {
    journal_->begin(*backend_, id_, fence_ ? &fence_ : nullptr, &s, [](void* state) noexcept {
      try {
        static_cast<State*>(state)->request_suspend();
      } catch (...) {  // a lock that cannot be taken: the run stops at its next commit instead
      }
    });
  }

  template <class State>
  void end_run(State&, bool clean) {
    journal_->flush(clean);
  }

  template <class State>
  void on_atom(State& s, std::size_t atom, atom_state to, intention i, const failure* error) {
    if constexpr (storable<State>) {
      try {
        record(s, atom, to, i, error);
      } catch (...) {  // a value whose serialize() threw: the run stops, and run() says why
        journal_->fail(std::current_exception());
      }
    }
  }

  template <class State>
  void on_flow(State&, flow_state to) {
    if constexpr (storable<State>) {
      journal& j = *journal_;
      std::unique_lock lk{j.mu};
      j.pending.set_flow_state(to);
      j.appended_one(lk);
    }
  }

  bool holds_successors() const noexcept { return holds_; }

  // The records made between these two are committed in one transaction: the committer takes
  // nothing from the journal meanwhile.
  void group_begin() {
    if (journal_) journal_->group(+1);
  }
  void group_end() noexcept {
    if (journal_) journal_->group(-1);
  }

  // Waits until every record appended so far is durable; false when a commit failed (the run
  // is being stopped).
  bool wait_durable() { return journal_->wait_durable(); }

  void after_durable(const detail::deferred_release& release) { journal_->after_durable(release); }

 private:
  template <class State>
  void record(State& s, std::size_t atom, atom_state to, intention i, const failure* error) {
    static constexpr auto table =
        detail::make_checkpoint_table<typename State::flow_type, State::atom_count>();
    static constexpr auto& versions = detail::atom_hashes<typename State::flow_type>;
    // Encoded here, on the thread that made the change; copied into the journal under its lock.
    thread_local std::string result, history;
    result.clear();
    history.clear();
    detail::atom_context& ctx = s.context_of(atom);
    enum class kind : unsigned char { none, bytes, failure } result_kind = kind::none;
    const failure* failed = nullptr;
    if (to != atom_state::pending && to != atom_state::running) {
      if (s.has_result_[atom]) {
        table.encode[atom](ctx, result);
        result_kind = kind::bytes;
      } else if (s.failure_of_[atom] != State::none) {
        failed = to == atom_state::failure && error ? error : &s.execute_failures_[s.failure_of_[atom]];
        result_kind = kind::failure;
      }
    }
    const failure* revert_failed = nullptr;
    if (to == atom_state::revert_failure) revert_failed = error ? error : last_revert_failure(s, atom);
    if (table.encode_history[atom] && to != atom_state::pending) table.encode_history[atom](ctx, history);

    journal& j = *journal_;
    std::unique_lock lk{j.mu};
    atom_detail& d = j.slot(atom);
    d.name.assign(ctx.label);
    d.state = to;
    d.intention = i;
    d.version = versions[atom];
    if (result_kind == kind::bytes)
      assign(d.result, result);
    else if (result_kind == kind::failure)
      d.result = stored_failure::of(*failed);
    else
      d.result = std::monostate{};
    if (revert_failed)
      d.revert_result = stored_failure::of(*revert_failed);
    else
      d.revert_result = std::monostate{};
    d.retry_history.assign(history);
    j.appended_one(lk);
  }

  using fence_type = std::function<void(typename Backend::transaction&)>;

  // The run's records on their way to the backend.
  struct journal {
    explicit journal(std::size_t atoms) : slot_of(atoms + 1, 0) {}
    journal(const journal&) = delete;
    journal& operator=(const journal&) = delete;

    std::mutex mu;
    std::condition_variable work;               // the committer waits here for records
    std::condition_variable durable;            // wait_durable() and flush() wait here
    batch pending, committing;                  // appended, not yet taken / being committed
    std::vector<std::uint32_t> pending_atoms;   // the atom of each of pending's details
    std::vector<std::uint32_t> committing_atoms;  // and of committing's
    std::vector<std::uint32_t> slot_of;         // per atom: its detail's place in pending + 1, or 0
    std::uint64_t appended = 0, committed = 0;  // records appended and committed, in order
    bool committer_waiting = false, committing_now = false, stopping = false, started = false;
    int grouping = 0;          // > 0: records that must be committed together are being appended
    std::exception_ptr error;  // the commit that failed, until the next run
    std::vector<std::pair<std::uint64_t, detail::deferred_release>> held;
    std::vector<detail::deferred_release> releasing;  // the committer's own: those due after a commit
    Backend* backend = nullptr;
    const std::string* id = nullptr;
    const fence_type* fence = nullptr;  // checked in every commit's transaction, if set
    void* state = nullptr;
    void (*halt)(void*) noexcept = nullptr;
    std::thread committer;

    atom_detail& slot(std::size_t atom) {
      if (const std::uint32_t at = slot_of[atom]) return pending[at - 1];
      pending_atoms.push_back(static_cast<std::uint32_t>(atom));
      slot_of[atom] = static_cast<std::uint32_t>(pending.size() + 1);
      return pending.next();
    }

    void appended_one(std::unique_lock<std::mutex>& lk) {
      ++appended;
      if (committer_waiting && !error) {
        lk.unlock();
        work.notify_one();
      }
    }

    template <class Halt>
    void begin(Backend& b, const std::string& run, const fence_type* check, void* run_state, Halt stop_run) {
      std::unique_lock lk{mu};
      backend = &b;
      id = &run;
      fence = check;
      state = run_state;
      halt = stop_run;
      error = nullptr;  // a failed commit's records are still pending: the committer tries again
      if (!started) {
        started = true;
        committer = std::thread{[this] { commit_loop(); }};
      } else if (committer_waiting) {
        lk.unlock();
        work.notify_one();
      }
    }

    bool idle() const noexcept { return committed == appended && !committing_now; }

    void group(int step) noexcept {
      std::unique_lock lk{mu};
      grouping += step;
      if (grouping == 0 && committer_waiting) {
        lk.unlock();
        work.notify_one();
      }
    }

    // A record that could not be made: like a failed commit, it stops the run.
    void fail(std::exception_ptr why) noexcept {
      void* halted = nullptr;
      std::vector<std::pair<std::uint64_t, detail::deferred_release>> waiting;
      {
        std::lock_guard lk{mu};
        if (!error) error = std::move(why);
        halted = state;
        waiting.swap(held);
      }
      if (halted && halt) halt(halted);
      for (const auto& h : waiting) h.second.run(h.second, false);  // their successors do not start
      durable.notify_all();
    }

    // Returns once everything appended is committed, or a commit failed (then throws, if clean).
    void flush(bool clean) {
      std::unique_lock lk{mu};
      durable.wait(lk, [&] { return idle() || error; });
      if (error && clean) std::rethrow_exception(error);
    }

    bool wait_durable() {
      std::unique_lock lk{mu};
      const std::uint64_t target = appended;
      durable.wait(lk, [&] { return committed >= target || error; });
      return !error;
    }

    void after_durable(const detail::deferred_release& release) {
      std::unique_lock lk{mu};
      if (committed >= appended || error) {
        const bool durable = !error;
        lk.unlock();
        release.run(release, durable);
        return;
      }
      held.emplace_back(appended, release);
    }

    void stop() noexcept {
      {
        std::lock_guard lk{mu};
        if (!started || !committer.joinable()) return;
        stopping = true;
      }
      work.notify_one();
      committer.join();
    }

    void commit_loop() {
      std::unique_lock lk{mu};
      for (;;) {
        committer_waiting = true;
        work.wait(lk, [&] { return stopping || (!error && !pending.empty() && grouping == 0); });
        committer_waiting = false;
        const bool has_records = !pending.empty();
        if (!has_records || (error && stopping)) {
          if (stopping) return;
          continue;
        }
        // Take everything appended so far: one transaction, in order. The lists swap, so each
        // keeps its capacity: no allocation per commit once they have grown.
        std::swap(pending, committing);
        for (const std::uint32_t a : pending_atoms) slot_of[a] = 0;
        committing_atoms.swap(pending_atoms);
        pending_atoms.clear();
        const std::uint64_t target = appended;
        committing_now = true;
        lk.unlock();
        std::exception_ptr failed;
        try {
          if (fence)
            backend->commit(*id, committing, *fence);
          else
            backend->commit(*id, committing);
        } catch (...) {
          failed = std::current_exception();
        }
        lk.lock();
        committing_now = false;
        if (!failed) {
          committed = target;
          committing.clear();
          committing_atoms.clear();
        } else {
          error = failed;
          keep_for_later();
        }
        // What waited for these records may go on: successors held for them, and, after a
        // failure, everything (the run is halted first, so held successors do not start).
        releasing.clear();  // keeps its capacity: no allocation per commit
        auto it = std::partition(held.begin(), held.end(),
                                 [&](const auto& h) { return !(error || h.first <= committed); });
        for (auto r = it; r != held.end(); ++r) releasing.push_back(r->second);
        held.erase(it, held.end());
        void* halted = error ? state : nullptr;
        lk.unlock();
        if (halted && halt) halt(halted);
        for (const detail::deferred_release& r : releasing) r.run(r, !halted);
        durable.notify_all();
        lk.lock();
      }
    }

    // A failed batch goes back in front of what was appended since: its records are older.
    void keep_for_later() {
      batch merged;
      std::vector<std::uint32_t> atoms;
      std::vector<std::uint32_t> place(slot_of.size(), 0);
      auto add = [&](std::uint32_t atom, const atom_detail& d) {
        if (place[atom]) {
          merged[place[atom] - 1] = d;
        } else {
          merged.put(d);
          atoms.push_back(atom);
          place[atom] = static_cast<std::uint32_t>(merged.size());
        }
      };
      std::size_t k = 0;
      for (const atom_detail& d : committing) add(committing_atoms[k++], d);
      k = 0;
      for (const atom_detail& d : pending) add(pending_atoms[k++], d);
      const auto flow = pending.flow_state() ? pending.flow_state() : committing.flow_state();
      if (flow) merged.set_flow_state(*flow);
      pending = std::move(merged);
      pending_atoms = std::move(atoms);
      slot_of = std::move(place);
      committing.clear();
      committing_atoms.clear();
    }
  };

  static void assign(stored_outcome& to, const std::string& bytes) {
    if (auto* s = std::get_if<std::string>(&to))
      s->assign(bytes);  // keeps the string's capacity
    else
      to = bytes;
  }

  template <class State>
  static const failure* last_revert_failure(State& s, std::size_t atom) {
    std::lock_guard lk{s.failures_mutex_};
    const std::string_view label = s.context_of(atom).label;
    for (auto f = s.revert_failures_.rbegin(); f != s.revert_failures_.rend(); ++f)
      if (f->atom() == label) return &*f;
    return nullptr;
  }

  // ----- loading a stored run -----

  template <class State>
  void restore(State& s, const run_record& stored) {
    using Flow = typename State::flow_type;
    using Store = typename State::store_type;
    static constexpr auto table = detail::make_checkpoint_table<Flow, State::atom_count>();
    if (stored.atoms.empty() && stored.flow.state == flow_state::pending) return;  // a new run
    if constexpr (Store::size != 0) {
      try {
        deserialize_from(stored.flow.store_bytes, s.store_);
      } catch (const std::exception& e) {
        throw corrupt_record(id_, {}, std::string{"its inputs do not read as the flow's store: "} + e.what());
      }
    }
    // Atoms by name (a run's details come in name order; the flow's atoms in spec order).
    std::vector<std::pair<std::string_view, std::size_t>> by_name;
    by_name.reserve(State::atom_count);
    for (std::size_t a = 0; a < State::atom_count; ++a) by_name.emplace_back(State::spec.atoms[a].label, a);
    std::sort(by_name.begin(), by_name.end());
    for (const atom_detail& d : stored.atoms) {
      const auto found = std::lower_bound(by_name.begin(), by_name.end(),
                                          std::pair<std::string_view, std::size_t>{d.name, 0});
      if (found == by_name.end() || found->first != d.name)
        throw corrupt_record(id_, d.name, "flow '" + std::string{Flow::name.view()} + "' has no such atom");
      const std::size_t a = found->second;
      detail::atom_context& ctx = s.context_of(a);
      const bool failed = d.failure() != nullptr;
      const atom_state state = detail::loaded_state(d.state, failed);
      s.states_[a].store(state, std::memory_order_relaxed);
      s.intentions_[a] = d.intention;
      ctx.rerun = d.state == atom_state::running;
      try {
        // A retry caught RUNNING keeps its history: the attempts before the one it was making.
        if (table.decode_history[a] && !d.retry_history.empty())
          table.decode_history[a](ctx, d.retry_history);
        if (state == atom_state::pending) continue;  // no result, no failure
        if (const std::string* bytes = d.result_bytes()) table.decode[a](ctx, *bytes);
      } catch (const std::exception& e) {
        throw corrupt_record(
            id_, d.name,
            "its result does not read as " + std::string{table.result_type[a]} + ": " + e.what());
      }
      if (failed) {
        s.execute_failures_.push_back(d.failure()->to_failure(failure_phase::execute));
        s.failure_of_[a] = s.execute_failures_.size() - 1;
      }
      if (const stored_failure* f = d.revert_failure())
        s.revert_failures_.push_back(f->to_failure(failure_phase::revert));
    }
    s.flow_state_ = detail::loaded_state(stored.flow.state);
    if (s.flow_state_ == flow_state::pending) s.flow_state_ = flow_state::suspended;  // atoms moved
    s.all_failures_ = s.execute_failures_;
    s.all_failures_.insert(s.all_failures_.end(), s.revert_failures_.begin(), s.revert_failures_.end());
  }

  // Which atom makes a stored run another flow's, when the stored details can tell.
  template <class State>
  std::string difference(const flow_mismatch& e) const {
    using Flow = typename State::flow_type;
    static constexpr auto& versions = detail::atom_hashes<Flow>;
    if (e.stored_flow() != e.given_flow()) return {};
    const std::optional<run_record> stored = backend_->load_run(id_);
    if (!stored) return {};
    for (const atom_detail& d : stored->atoms) {
      std::size_t a = 0;
      while (a < State::atom_count && State::spec.atoms[a].label != d.name) ++a;
      if (a == State::atom_count) return "atom '" + d.name + "' is in the run but not in the flow";
      if (d.version != versions[a])
        return "atom '" + d.name + "' differs (its kind, its place, or its slots or their types)";
    }
    return "no recorded atom differs: the flow's links or nesting, an atom not run yet, or the store's "
           "slots differ";
  }

  Backend* backend_;
  std::string id_;
  persist_options opts_;
  fence_type fence_;
  bool holds_ = false;
  std::unique_ptr<journal> journal_;
};

/// The recorder that writes an engine's run to `backend` under `run_id`, creating the run or
/// resuming it (see above): the engine's third argument. The backend must outlive the engine.
template <backend Backend>
persist_t<Backend> persist(Backend& backend, std::string run_id, persist_options opts = {}) {
  return persist_t<Backend>{backend, std::move(run_id), std::move(opts)};
}

/// fk::persist(backend, "run-id", fk::resume_only): resume a stored run, or throw fk::run_not_found.
template <backend Backend>
persist_t<Backend> persist(Backend& backend, std::string run_id, open_mode mode) {
  return persist_t<Backend>{backend, std::move(run_id), persist_options{.mode = mode}};
}

}  // namespace flowkit
