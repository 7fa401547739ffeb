#pragma once
// fk::unordered_flow<"name">(children...): children run in any order, in parallel on a thread
// pool; they may not depend on each other.

#include <flowkit/flow/check.hpp>
#include <flowkit/flow/flow.hpp>

namespace flowkit {

/// fk::unordered_flow<"name">(children...): the children run in any order, possibly in parallel;
/// one child reading what a sibling provides is a compile error.
template <name Name, class... Children>
constexpr auto unordered_flow(Children... children) {
  using flow = flow_t<Name, flow_kind::unordered, detail::link_list<>, detail::child_t<Children>...>;
  detail::report_flow<flow>();
  return flow{{}, detail::as_child(std::move(children))...};
}

}  // namespace flowkit
