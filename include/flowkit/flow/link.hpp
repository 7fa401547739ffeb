#pragma once
// fk::link<"a", "b">: an explicit edge of a graph flow, from the child named `a` to the child
// named `b` (an atom's or a nested flow's name), on top of the edges inferred from data.
//
// fk::link<"a", "b">(decider), fk::link<"a", "b", depth>(decider): a conditional edge. When `b`
// is about to run, the decider is called with the result of atom `a` (typed; nothing for a void
// task); if it says false, `b` is IGNORE, and so is what follows it, by depth:
//   fk::depth::atom       `b` alone (all of it, if `b` is a flow);
//   fk::depth::neighbors  `b` and the tasks linked right after it in the graph flow (a nested
//                         flow after it is not a task: its atoms run);
//   fk::depth::flow       `b` and what follows it among the graph flow's own atoms;
//   fk::depth::all        `b` and everything after it (the default).
// The depth is part of the link's type, so the compiler knows what a decider may ignore (and
// rejects a flow where a task would then miss a required input).

#include <flowkit/core/name.hpp>
#include <flowkit/detail/type_at.hpp>

#include <string_view>
#include <utility>

namespace flowkit {

/// How much a decider that says no ignores, beyond the link's target (see above).
enum class depth : unsigned char { atom, neighbors, flow, all };

/// An edge of a graph flow with a decider; made by `fk::link<"a", "b">(decider)`.
template <name From, name To, class Decider = void, depth Depth = depth::all>
struct link_t {
  /// The name of the child the edge starts at.
  static constexpr std::string_view from = From.view();
  /// The name of the child the edge leads to.
  static constexpr std::string_view to = To.view();
  /// Whether the edge carries a decider.
  static constexpr bool has_decider = true;
  /// What the decider ignores when it says no.
  static constexpr enum depth depth = Depth;
  /// Called with the result of atom `from`; false makes `to` IGNORE.
  Decider decider;
};

/// An edge of a graph flow without a decider: what `fk::link<"a", "b">` is.
template <name From, name To, depth Depth>
struct link_t<From, To, void, Depth> {
  static constexpr std::string_view from = From.view();
  static constexpr std::string_view to = To.view();
  static constexpr bool has_decider = false;
  static constexpr enum depth depth = Depth;

  /// Adds a decider: called with the result of atom `a`, it says whether `b` runs.
  template <class Decider>
  constexpr auto operator()(Decider decider) const {
    return link_t<From, To, Decider, Depth>{std::move(decider)};
  }
  /// The depth is a template argument, not a value: see above.
  template <class Decider>
  constexpr auto operator()(Decider decider, enum depth) const {
    static_assert(
        detail::always_false<Decider>,
        "fk::link<from, to>(decider, depth): write the depth as a template argument, "
        "fk::link<from, to, depth>(decider), so that the compiler knows what the decider may ignore");
    return link_t<From, To, Decider, Depth>{std::move(decider)};  // one error, not a cascade
  }
};

/// fk::link<"a", "b">, fk::link<"a", "b", depth>: see above.
template <name From, name To, depth Depth = depth::all>
inline constexpr link_t<From, To, void, Depth> link{};

/// Whether T is a link.
template <class T>
inline constexpr bool is_link_v = false;
template <name From, name To, class Decider, depth Depth>
inline constexpr bool is_link_v<link_t<From, To, Decider, Depth>> = true;

/// A depth given to a link without a decider means nothing (TaskFlow refuses it too).
template <class T>
inline constexpr bool depth_without_decider_v = false;
template <name From, name To, depth Depth>
inline constexpr bool depth_without_decider_v<link_t<From, To, void, Depth>> = Depth != depth::all;

}  // namespace flowkit
