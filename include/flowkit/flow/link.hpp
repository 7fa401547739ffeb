#pragma once
// fk::link<"a", "b">: an explicit edge of a graph flow, from the child named `a` to the child
// named `b` (an atom's or a nested flow's name), on top of the edges inferred from data.

#include <flowkit/core/name.hpp>

#include <string_view>

namespace flowkit {

template <name From, name To>
struct link_t {
  static constexpr std::string_view from = From.view();
  static constexpr std::string_view to = To.view();
};

template <name From, name To>
inline constexpr link_t<From, To> link{};

template <class T>
inline constexpr bool is_link_v = false;
template <name From, name To>
inline constexpr bool is_link_v<link_t<From, To>> = true;

}  // namespace flowkit
