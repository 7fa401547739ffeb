#pragma once
// Where a run's checkpoints will be recorded: the engine's third template parameter, a policy.
// The engine calls it from its transition funnel, after every change of an atom's state or
// intention and of the flow's state, on the thread that made the change (on an executor, several
// threads at once). The default records nothing, and its calls compile away.

#include <flowkit/core/intention.hpp>
#include <flowkit/core/states.hpp>

#include <concepts>
#include <cstddef>

namespace flowkit::detail {

template <class R>
concept recorder = requires(R& r, std::size_t atom, atom_state s, intention i, flow_state f) {
  r.on_atom(atom, s, i);
  r.on_flow(f);
};

struct no_recorder {
  static constexpr void on_atom(std::size_t, atom_state, intention) noexcept {}
  static constexpr void on_flow(flow_state) noexcept {}
};

}  // namespace flowkit::detail
