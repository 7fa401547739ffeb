#pragma once
// fk::link<"a", "b">: an explicit edge of a graph flow, from the child named `a` to the child
// named `b` (an atom's or a nested flow's name), on top of the edges inferred from data.
//
// fk::link<"a", "b">(decider[, depth]): a conditional edge. When `b` is about to run, the
// decider is called with the result of atom `a` (typed; nothing for a void task); if it says
// false, `b` is IGNORE, and so is what follows it, by depth:
//   fk::depth::atom       `b` alone (all of it, if `b` is a flow);
//   fk::depth::neighbors  `b` and the atoms right after it;
//   fk::depth::flow       `b` and what follows it among the graph flow's own atoms;
//   fk::depth::all        `b` and everything after it (the default).

#include <flowkit/core/name.hpp>

#include <string_view>
#include <utility>

namespace flowkit {

enum class depth : unsigned char { atom, neighbors, flow, all };

template <name From, name To, class Decider = void>
struct link_t {
  static constexpr std::string_view from = From.view();
  static constexpr std::string_view to = To.view();
  static constexpr bool has_decider = true;
  Decider decider;
  enum depth depth = depth::all;
};

template <name From, name To>
struct link_t<From, To, void> {
  static constexpr std::string_view from = From.view();
  static constexpr std::string_view to = To.view();
  static constexpr bool has_decider = false;

  template <class Decider>
  constexpr auto operator()(Decider decider, enum depth d = depth::all) const {
    return link_t<From, To, Decider>{std::move(decider), d};
  }
};

template <name From, name To>
inline constexpr link_t<From, To> link{};

template <class T>
inline constexpr bool is_link_v = false;
template <name From, name To, class Decider>
inline constexpr bool is_link_v<link_t<From, To, Decider>> = true;

}  // namespace flowkit
