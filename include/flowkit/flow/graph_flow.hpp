#pragma once
// fk::graph_flow<"name">(children..., fk::link<"a", "b">...): children run in an order given by
// their data (a child that reads a slot runs after the one sibling that provides it) and by
// explicit links. Links may stand anywhere among the children.

#include <flowkit/flow/check.hpp>
#include <flowkit/flow/flow.hpp>
#include <flowkit/flow/link.hpp>

#include <boost/hana/at.hpp>
#include <boost/hana/basic_tuple.hpp>

#include <array>
#include <cstddef>
#include <utility>

namespace flowkit {

namespace detail {

// The positions of the arguments that are links (or that are not), computed once as an array,
// so that splitting N arguments costs N lookups rather than a chain of filtered tuples.
template <bool Links, class... Args>
constexpr auto positions_of() {
  constexpr std::array<bool, sizeof...(Args) + 1> is_link{is_link_v<Args>..., false};
  constexpr std::size_t count = ((is_link_v<Args> == Links ? 1 : 0) + ... + 0);
  std::array<std::size_t, count + 1> at{};
  std::size_t n = 0;
  for (std::size_t i = 0; i < sizeof...(Args); ++i)
    if (is_link[i] == Links) at[n++] = i;
  return std::pair{at, count};
}

template <name Name, class... Args, std::size_t... Cs, std::size_t... Ls>
constexpr auto make_graph_flow(boost::hana::basic_tuple<Args...>& all, std::index_sequence<Cs...>,
                               std::index_sequence<Ls...>) {
  constexpr auto children = positions_of<false, Args...>().first;
  [[maybe_unused]] constexpr auto links = positions_of<true, Args...>().first;
  using link_values = link_list<type_at<links[Ls], Args...>...>;
  static_assert(!(depth_without_decider_v<type_at<links[Ls], Args...>> || ...),
                "fk::link<from, to, depth>: a depth is given to a link without a decider; write "
                "fk::link<from, to, depth>(decider), or drop the depth");
  using flow = flow_t<Name, flow_kind::graph, link_values, child_t<type_at<children[Cs], Args...>>...>;
  report_flow<flow>();
  return flow{link_values{boost::hana::basic_tuple<type_at<links[Ls], Args...>...>{
                  std::move(boost::hana::at_c<links[Ls]>(all))...}},
              as_child(std::move(boost::hana::at_c<children[Cs]>(all)))...};
}

}  // namespace detail

/// fk::graph_flow<"name">(children..., fk::link<"a", "b">...): the children run in the order their
/// data and the links give; a cycle, two providers of one slot or a link to an unknown child is a
/// compile error.
template <name Name, class... Args>
constexpr auto graph_flow(Args... args) {
  boost::hana::basic_tuple<Args...> all{std::move(args)...};
  return detail::make_graph_flow<Name>(all, std::make_index_sequence<detail::positions_of<false, Args...>().second>{},
                                       std::make_index_sequence<detail::positions_of<true, Args...>().second>{});
}

}  // namespace flowkit
