#pragma once
// fk::linear_flow<"name">(children...): children run one after another; each sees what the
// children before it provide (the nearest provider wins).

#include <flowkit/flow/check.hpp>
#include <flowkit/flow/flow.hpp>

namespace flowkit {

/// fk::linear_flow<"name">(children...): the children (tasks, class tasks, flows) run in the order
/// given; a wiring error (missing input, wrong type...) is a compile error.
template <name Name, class... Children>
constexpr auto linear_flow(Children... children) {
  using flow = flow_t<Name, flow_kind::linear, detail::link_list<>, detail::child_t<Children>...>;
  detail::report_flow<flow>();
  return flow{{}, detail::as_child(std::move(children))...};
}

}  // namespace flowkit
