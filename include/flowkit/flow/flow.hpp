#pragma once
// A flow is a value whose type holds its whole structure: its kind, its name, its children
// (tasks and flows) and, for graph flows, its explicit links. Building one is free at run time;
// analysing one happens in the compiler (flow/analysis.hpp).

#include <flowkit/core/name.hpp>
#include <flowkit/core/task.hpp>
#include <flowkit/detail/type_at.hpp>

#include <boost/hana/basic_tuple.hpp>
#include <boost/hana/at.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace flowkit {

enum class flow_kind : unsigned char { linear, unordered, graph };

namespace detail {
template <class... Links>
struct link_list {
  static constexpr std::size_t size = sizeof...(Links);
};
}  // namespace detail

template <name Name, flow_kind Kind, class Links, class... Children>
class flow_t {
 public:
  static constexpr auto name = Name;
  static constexpr flow_kind kind = Kind;
  static constexpr std::size_t child_count = sizeof...(Children);
  using links = Links;

  constexpr explicit flow_t(Children... children) : children_(std::move(children)...) {}

  template <std::size_t I>
  constexpr const auto& child() const noexcept { return boost::hana::at_c<I>(children_); }
  template <std::size_t I>
  constexpr auto& child() noexcept { return boost::hana::at_c<I>(children_); }

  template <std::size_t I>
  using child_type = detail::type_at<I, Children...>;

 private:
  boost::hana::basic_tuple<Children...> children_;
};

template <class T>
inline constexpr bool is_flow_v = false;
template <name Name, flow_kind Kind, class Links, class... Children>
inline constexpr bool is_flow_v<flow_t<Name, Kind, Links, Children...>> = true;

template <class T>
concept flow_like = is_flow_v<T>;

namespace detail {

// What a flow accepts as a child: a task, a class task (adapted here) or a flow.
template <class T>
constexpr auto as_child(T child) {
  if constexpr (task_like<T> || flow_like<T>)
    return child;
  else if constexpr (class_task<T>)
    return as_task(std::move(child));
  else
    static_assert(always_false<T>,
                  "a flow's children are tasks (fk::task<...>(...) or a class with name, inputs, "
                  "outputs and execute) and flows");
}

template <class T>
using child_t = decltype(as_child(std::declval<T>()));

}  // namespace detail
}  // namespace flowkit
