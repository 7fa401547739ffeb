#pragma once
// Where a run's checkpoints are recorded: the engine's third template parameter, a policy. The
// default records nothing, and its calls compile away; fk::persist (persistence/persist.hpp) is
// the recorder that writes a run to a checkpoint backend.
//
// A recorder with `records` true is called by the engine
//   - open(state), when the engine is built: create the run, or load it into `state`;
//   - begin_run(state) as a run starts and end_run(state, clean) when it ends (clean false when
//     it ends by an exception: end_run must not throw then);
//   - on_atom(state, atom, to, intention, error) from the transition funnel, after every change of
//     an atom's state or intention, on the thread that made it (on an executor, several threads
//     at once), and on_flow(state, to) after every change of the flow's state;
//   - holds_successors(): whether an atom's successors must wait until its record is durable.
//     Then the serial path calls wait_durable() before it starts an atom (false: a commit
//     failed, stop the run), and the parallel path
//     hands the release of an atom's successors to after_durable(release) instead of making them
//     ready: a worker thread never waits for a commit.
//   - group_begin() and group_end() around changes of many atoms that must be durable together or
//     not at all (a failure's resolution, a retried scope made pending, reset()).
// `state` is the engine's run state (run_state.hpp), read and written through run_state_access.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/intention.hpp>
#include <flowkit/core/states.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>

namespace flowkit::detail {

// The successors of an atom, to be made ready once its record is durable: run(release, true).
// run(release, false) when it cannot be made durable: the run stops, and they do not start.
struct deferred_release {
  void (*run)(const deferred_release&, bool durable) noexcept = nullptr;
  void* engine = nullptr;
  void* phase = nullptr;
  std::uint32_t atom = 0;
};

template <class R>
concept recorder = std::move_constructible<R> && requires {
  { R::records } -> std::convertible_to<bool>;
};

struct no_recorder {
  static constexpr bool records = false;
  template <class State>
  static constexpr void on_atom(State&, std::size_t, atom_state, intention, const failure*) noexcept {}
  template <class State>
  static constexpr void on_flow(State&, flow_state) noexcept {}
};

}  // namespace flowkit::detail
