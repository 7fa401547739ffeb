#pragma once
// fk::graph_flow<"name">(children..., fk::link<"a", "b">...): children run in an order given by
// their data (a child that reads a slot runs after the one sibling that provides it) and by
// explicit links. Links may stand anywhere among the children.

#include <flowkit/flow/check.hpp>
#include <flowkit/flow/flow.hpp>
#include <flowkit/flow/link.hpp>

#include <boost/hana/filter.hpp>
#include <boost/hana/remove_if.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/unpack.hpp>

namespace flowkit {

namespace detail {

struct is_link_fn {
  template <class T>
  constexpr auto operator()(const T&) const {
    return boost::hana::bool_c<is_link_v<T>>;
  }
};

template <name Name, class... Links, class... Children>
constexpr auto make_graph_flow(boost::hana::tuple<Links...> links, boost::hana::tuple<Children...> children) {
  using link_values = link_list<Links...>;
  using flow = flow_t<Name, flow_kind::graph, link_values, child_t<Children>...>;
  [[maybe_unused]] constexpr bool wired = check_flow<flow>();
  link_values values{boost::hana::unpack(std::move(links), [](auto&&... l) {
    return boost::hana::basic_tuple<Links...>{std::move(l)...};
  })};
  return boost::hana::unpack(std::move(children), [&](auto&&... child) {
    return flow{std::move(values), as_child(std::move(child))...};
  });
}

}  // namespace detail

template <name Name, class... Args>
constexpr auto graph_flow(Args... args) {
  namespace hana = boost::hana;
  auto all = hana::make_tuple(std::move(args)...);
  auto links = hana::filter(all, detail::is_link_fn{});
  return detail::make_graph_flow<Name>(std::move(links), hana::remove_if(std::move(all), detail::is_link_fn{}));
}

}  // namespace flowkit
