#pragma once
// The flat, constexpr picture of a flow: its nodes in pre-order (a flow node's subtree is the
// contiguous range after it), its atoms, their input and output slots, and its links. The
// analysis works on these arrays with plain loops, so its cost grows with the flow's size, not
// with the depth of template recursion.

#include <flowkit/core/task.hpp>
#include <flowkit/flow/flow.hpp>
#include <flowkit/flow/link.hpp>
#include <flowkit/detail/type_id.hpp>

#include <array>
#include <cstddef>
#include <limits>
#include <string_view>

namespace flowkit::detail {

inline constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

// A retry node is the retry controller atom of its parent flow, always its first child.
enum class node_kind : unsigned char { task, retry, linear, unordered, graph };

struct node_entry {
  node_kind kind{};
  std::string_view label;
  std::size_t parent = npos;
  std::size_t end = 0;  // one past the last node of this subtree
  std::size_t first_child = npos, last_child = npos, child_count = 0;
  std::size_t prev_sibling = npos, next_sibling = npos;
  std::size_t atom_begin = 0, atom_end = 0;  // atoms of the subtree; a task node has one
  std::size_t link_begin = 0, link_end = 0;
  std::size_t retry = npos;  // a flow's retry controller atom
};

struct input_entry {
  std::string_view slot;
  type_id type{};
  input_kind kind{};
};

struct output_entry {
  std::string_view label;
  type_id type{};
  std::size_t atom_of = 0;
};

struct atom_entry {
  std::string_view label;
  bool is_retry = false;
  std::size_t node = 0;
  std::size_t input_begin = 0, input_end = 0;
  std::size_t output_begin = 0, output_end = 0;
};

struct link_entry {
  std::string_view from, to;
  bool has_decider = false;
  depth how_far = depth::all;  // what a decider that says no ignores
};

struct spec_size {
  std::size_t nodes = 0, atoms = 0, inputs = 0, outputs = 0, links = 0;
};

template <class T>
struct size_of_node;

template <task_like T>
struct size_of_node<T> {
  static constexpr spec_size value{1, 1, T::input_count, T::output_count, 0};
};

template <name Name, flow_kind Kind, class... Links, class... Children>
struct size_of_node<flow_t<Name, Kind, link_list<Links...>, Children...>> {
  static constexpr spec_size value{1 + (size_of_node<Children>::value.nodes + ... + 0),
                                   (size_of_node<Children>::value.atoms + ... + 0),
                                   (size_of_node<Children>::value.inputs + ... + 0),
                                   (size_of_node<Children>::value.outputs + ... + 0),
                                   sizeof...(Links) + (size_of_node<Children>::value.links + ... + 0)};
};

template <spec_size Size>
struct flow_spec {
  static constexpr spec_size size = Size;
  std::array<node_entry, Size.nodes> nodes{};
  std::array<atom_entry, Size.atoms> atoms{};
  std::array<input_entry, Size.inputs + 1> inputs{};  // +1: no zero-sized arrays to special-case
  std::array<output_entry, Size.outputs + 1> outputs{};
  std::array<link_entry, Size.links + 1> links{};
};

struct spec_cursor {
  std::size_t node = 0, atom = 0, input = 0, output = 0, link = 0;
};

template <class T, class Spec>
constexpr void fill_node(Spec& spec, spec_cursor& at, std::size_t parent);

template <class Spec>
constexpr void attach_child(Spec& spec, std::size_t parent, std::size_t child) {
  node_entry& p = spec.nodes[parent];
  spec.nodes[child].parent = parent;
  if (p.last_child == npos) {
    p.first_child = child;
  } else {
    spec.nodes[p.last_child].next_sibling = child;
    spec.nodes[child].prev_sibling = p.last_child;
  }
  p.last_child = child;
  ++p.child_count;
}

template <class T, class Spec>
  requires task_like<T>
constexpr void fill_task(Spec& spec, spec_cursor& at) {
  const std::size_t node = at.node++;
  const std::size_t atom = at.atom++;
  spec.nodes[node].kind = retry_atom<T> ? node_kind::retry : node_kind::task;
  spec.nodes[node].label = T::name.view();
  spec.nodes[node].end = at.node;
  spec.nodes[node].atom_begin = atom;
  spec.nodes[node].atom_end = atom + 1;
  atom_entry& a = spec.atoms[atom];
  a.label = T::name.view();
  a.is_retry = retry_atom<T>;
  a.node = node;
  a.input_begin = at.input;
  for (std::size_t i = 0; i < T::input_count; ++i)
    spec.inputs[at.input++] = {T::input_slots[i], T::input_types[i], T::input_kinds[i]};
  a.input_end = at.input;
  a.output_begin = at.output;
  for (std::size_t k = 0; k < T::output_count; ++k)
    spec.outputs[at.output++] = {T::output_names[k], T::output_types[k], atom};
  a.output_end = at.output;
}

template <flow_kind Kind>
inline constexpr node_kind node_kind_of = Kind == flow_kind::linear      ? node_kind::linear
                                          : Kind == flow_kind::unordered ? node_kind::unordered
                                                                         : node_kind::graph;

template <class T, class Spec>
constexpr void fill_flow(Spec& spec, spec_cursor& at) {
  []<name Name, flow_kind Kind, class... Links, class... Children>(
      Spec& s, spec_cursor& c, flow_t<Name, Kind, link_list<Links...>, Children...>*) {
    const std::size_t node = c.node++;
    s.nodes[node].kind = node_kind_of<Kind>;
    s.nodes[node].label = Name.view();
    s.nodes[node].atom_begin = c.atom;
    s.nodes[node].link_begin = c.link;
    ((s.links[c.link++] = link_entry{Links::from, Links::to, Links::has_decider, Links::depth}), ...);
    s.nodes[node].link_end = c.link;
    (fill_node<Children>(s, c, node), ...);
    s.nodes[node].atom_end = c.atom;
    s.nodes[node].end = c.node;
  }(spec, at, static_cast<T*>(nullptr));
}

template <class T, class Spec>
constexpr void fill_node(Spec& spec, spec_cursor& at, std::size_t parent) {
  const std::size_t node = at.node;
  if constexpr (task_like<T>)
    fill_task<T>(spec, at);
  else
    fill_flow<T>(spec, at);
  if (parent != npos) attach_child(spec, parent, node);
  if constexpr (retry_atom<T>) spec.nodes[parent].retry = spec.nodes[node].atom_begin;
}

template <class Flow>
constexpr auto build_spec() {
  flow_spec<size_of_node<Flow>::value> spec{};
  spec_cursor at{};
  fill_node<Flow>(spec, at, npos);
  return spec;
}

template <class Flow>
inline constexpr auto spec_v = build_spec<Flow>();

// The type of atom I of a flow, found by descending the tree: cheap because each level is one
// overload-resolution lookup, and there are as many levels as the flow is deep.
template <class Node, std::size_t I>
struct atom_type_at {
  using type = Node;
};

template <std::size_t I, class... Children>
constexpr std::size_t child_holding_atom() {
  constexpr std::array<std::size_t, sizeof...(Children)> counts{size_of_node<Children>::value.atoms...};
  std::size_t first = 0;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    if (I < first + counts[c]) return c;
    first += counts[c];
  }
  return npos;
}

template <std::size_t C, class... Children>
constexpr std::size_t atoms_before_child() {
  constexpr std::array<std::size_t, sizeof...(Children)> counts{size_of_node<Children>::value.atoms...};
  std::size_t first = 0;
  for (std::size_t c = 0; c < C; ++c) first += counts[c];
  return first;
}

template <name Name, flow_kind Kind, class Links, class... Children, std::size_t I>
struct atom_type_at<flow_t<Name, Kind, Links, Children...>, I> {
  static constexpr std::size_t child = child_holding_atom<I, Children...>();
  using type = typename atom_type_at<type_at<child, Children...>,
                                     I - atoms_before_child<child, Children...>()>::type;
};

template <class Flow, std::size_t I>
using atom_type = typename atom_type_at<Flow, I>::type;

// The graph flow node that holds link L.
template <class Flow, std::size_t L>
inline constexpr std::size_t link_owner = [] {
  for (std::size_t n = 0; n < spec_v<Flow>.size.nodes; ++n)
    if (spec_v<Flow>.nodes[n].link_begin <= L && L < spec_v<Flow>.nodes[n].link_end) return n;
  return npos;
}();

// The link object of link L.
template <class Flow, std::size_t L, class FlowObject>
constexpr auto& link_object(FlowObject& flow);

// The flow object at a pre-order node index (for the links it holds).
template <class Node, std::size_t N>
constexpr decltype(auto) node_object(Node& node) {
  if constexpr (N == 0) {
    return (node);
  } else {
    return []<name Name, flow_kind Kind, class Links, class... Children>(
               auto& flow, const flow_t<Name, Kind, Links, Children...>*) -> decltype(auto) {
      constexpr std::array<std::size_t, sizeof...(Children)> sizes{size_of_node<Children>::value.nodes...};
      constexpr auto where = [&] {
        std::size_t first = 1;
        for (std::size_t c = 0; c < sizes.size(); ++c) {
          if (N < first + sizes[c]) return std::pair{c, N - first};
          first += sizes[c];
        }
        return std::pair{npos, npos};
      }();
      return node_object<std::remove_reference_t<decltype(flow.template child<where.first>())>, where.second>(
          flow.template child<where.first>());
    }(node, static_cast<const std::remove_const_t<Node>*>(nullptr));
  }
}

template <class Flow, std::size_t L, class FlowObject>
constexpr auto& link_object(FlowObject& flow) {
  constexpr std::size_t owner = link_owner<Flow, L>;
  return boost::hana::at_c<L - spec_v<Flow>.nodes[owner].link_begin>(
      node_object<FlowObject, owner>(flow).links().values);
}

}  // namespace flowkit::detail
