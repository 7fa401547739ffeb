#pragma once
// A flow is a value whose type holds its whole structure: its kind, its name, its children
// (tasks and flows, and first of all its retry controller if it has one) and, for graph flows,
// its explicit links. Building one is free at run time; analysing one happens in the compiler
// (flow/analysis.hpp).

#include <flowkit/core/name.hpp>
#include <flowkit/core/task.hpp>
#include <flowkit/detail/type_at.hpp>
#include <flowkit/flow/retry.hpp>

#include <boost/hana/at.hpp>
#include <boost/hana/basic_tuple.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace flowkit {

/// The kind of a flow: linear (one after another), unordered (in any order, in parallel) or graph
/// (ordered by data and links).
enum class flow_kind : unsigned char { linear, unordered, graph };

namespace detail {

template <class... Links>
struct link_list {
  static constexpr std::size_t size = sizeof...(Links);
  boost::hana::basic_tuple<Links...> values;
};

template <class Flow>
constexpr void report_flow();

// "<flow>_retry", TaskFlow's name for a flow's retry controller.
template <name Flow>
constexpr auto retry_name() {
  constexpr std::string_view suffix = "_retry";
  name<Flow.size() + suffix.size() + 1> result{};
  for (std::size_t i = 0; i < Flow.size(); ++i) result.chars[i] = Flow.chars[i];
  for (std::size_t i = 0; i < suffix.size(); ++i) result.chars[Flow.size() + i] = suffix[i];
  return result;
}

template <class T>
inline constexpr bool is_retry_v = false;
template <name Name, class Controller, name Provides, name Reads, class ReadType>
inline constexpr bool is_retry_v<retry_t<Name, Controller, Provides, Reads, ReadType>> = true;

}  // namespace detail

/// A flow: its name, kind, explicit links and children (a retry controller first, if it has one),
/// all in its type. Made by fk::linear_flow, fk::unordered_flow or fk::graph_flow.
template <name Name, flow_kind Kind, class Links, class... Children>
class flow_t {
 public:
  /// The flow's name.
  static constexpr auto name = Name;
  /// linear, unordered or graph.
  static constexpr flow_kind kind = Kind;
  /// The number of children, the retry controller included.
  static constexpr std::size_t child_count = sizeof...(Children);
  /// Whether the flow's first child is a retry controller.
  static constexpr bool has_retry = [] {
    if constexpr (sizeof...(Children) == 0) return false;
    else return detail::is_retry_v<detail::type_at<0, Children...>>;
  }();
  /// The explicit links (graph flows; empty otherwise).
  using links_type = Links;

  /// Made by fk::linear_flow, fk::unordered_flow or fk::graph_flow.
  constexpr explicit flow_t(Links links, Children... children)
      : links_(std::move(links)), children_(std::move(children)...) {}

  /// The I-th child (a task, a retry controller or a flow).
  template <std::size_t I>
  constexpr const auto& child() const noexcept { return boost::hana::at_c<I>(children_); }
  template <std::size_t I>
  constexpr auto& child() noexcept { return boost::hana::at_c<I>(children_); }
  /// The type of the I-th child.
  template <std::size_t I>
  using child_type = detail::type_at<I, Children...>;

  /// All children at once (for folds: one instantiation per flow, not one per child).
  constexpr auto& children() noexcept { return children_; }
  constexpr const auto& children() const noexcept { return children_; }

  /// The flow's explicit links.
  constexpr const Links& links() const noexcept { return links_; }
  constexpr Links& links() noexcept { return links_; }

  /// The flow with a retry controller: fk::times(3), fk::for_each<"slot">(values), ...
  template <class Controller, flowkit::name Provides, flowkit::name Reads, class ReadType>
  constexpr auto retry(retry_spec<Controller, Provides, Reads, ReadType> spec) const {
    static_assert(!has_retry, "flow::retry(controller): a flow has one retry controller at most");
    using retry_atom = retry_t<detail::retry_name<Name>(), Controller, Provides, Reads, ReadType>;
    using flow = flow_t<Name, Kind, Links, retry_atom, Children...>;
    detail::report_flow<flow>();
    return [&]<std::size_t... Is>(std::index_sequence<Is...>) {
      return flow{links_, retry_atom{std::move(spec.controller)}, child<Is>()...};
    }(std::index_sequence_for<Children...>{});
  }

 private:
  [[no_unique_address]] Links links_;
  boost::hana::basic_tuple<Children...> children_;
};

/// Whether T is a flow (an fk::flow_t).
template <class T>
inline constexpr bool is_flow_v = false;
template <name Name, flow_kind Kind, class Links, class... Children>
inline constexpr bool is_flow_v<flow_t<Name, Kind, Links, Children...>> = true;

/// A flow: what fk::linear_flow, fk::unordered_flow and fk::graph_flow make.
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
