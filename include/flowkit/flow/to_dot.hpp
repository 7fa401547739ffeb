#pragma once
// fk::to_dot(flow): the flow as a Graphviz digraph. Atoms are boxes labelled by name; nested
// flows are clusters; an edge that carries data is labelled with its slot and type; an edge that
// only orders (a linear flow's sequence, an fk::link) is dashed; inputs that come from outside
// the flow (the engine's store) are ellipses.

#include <flowkit/detail/type_name.hpp>
#include <flowkit/flow/atom_graph.hpp>

#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

namespace flowkit {

namespace detail {

inline std::string dot_quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

constexpr std::string_view kind_label(node_kind k) {
  switch (k) {
    case node_kind::linear: return "linear";
    case node_kind::unordered: return "unordered";
    case node_kind::graph: return "graph";
    case node_kind::retry: return "retry";
    case node_kind::task: break;
  }
  return "task";
}

// The demangled type of every input of the flow, by global input index.
template <class Flow>
std::vector<std::string> input_type_names() {
  constexpr auto& s = spec_v<Flow>;
  std::vector<std::string> names(s.size.inputs);
  [&]<std::size_t... As>(std::index_sequence<As...>) {
    (
        [&]<std::size_t A>(std::integral_constant<std::size_t, A>) {
          using task = atom_type<Flow, A>;
          [&]<std::size_t... Is>(std::index_sequence<Is...>) {
            ((names[s.atoms[A].input_begin + Is] = type_name(typeid(typename task::template input_type<Is>))),
             ...);
          }(std::make_index_sequence<task::input_count>{});
        }(std::integral_constant<std::size_t, As>{}),
        ...);
  }(std::make_index_sequence<s.size.atoms>{});
  return names;
}

constexpr std::string_view depth_label(depth d) {
  switch (d) {
    case depth::atom: return "atom";
    case depth::neighbors: return "neighbors";
    case depth::flow: return "flow";
    case depth::all: break;
  }
  return "all";
}

// Each decider link's depth, by global link index (part of the link's type, so in the spec).
template <class Flow>
std::vector<depth> decider_depths(const Flow&) {
  constexpr auto& s = spec_v<Flow>;
  std::vector<depth> depths(s.size.links, depth::all);
  for (std::size_t l = 0; l < s.size.links; ++l)
    if (s.links[l].has_decider) depths[l] = s.links[l].how_far;
  return depths;
}

// The retry controller of each atom that is one, e.g. "times", by atom index.
template <class Flow>
std::vector<std::string_view> retry_kinds() {
  constexpr auto& s = spec_v<Flow>;
  std::vector<std::string_view> kinds(s.size.atoms);
  [&]<std::size_t... As>(std::index_sequence<As...>) {
    (
        [&]<std::size_t A>(std::integral_constant<std::size_t, A>) {
          if constexpr (retry_atom<atom_type<Flow, A>>) kinds[A] = atom_type<Flow, A>::kind;
        }(std::integral_constant<std::size_t, As>{}),
        ...);
  }(std::make_index_sequence<s.size.atoms>{});
  return kinds;
}

}  // namespace detail

/// The flow as a Graphviz digraph (DOT text): atoms as boxes, nested flows as clusters, data
/// edges labelled with slot and type, order-only edges dashed, store inputs as ellipses.
template <flow_like Flow>
std::string to_dot(const Flow& flow) {
  using namespace detail;
  constexpr auto& s = spec_v<Flow>;
  constexpr auto& an = analysis_v<Flow>;
  constexpr auto& graph = atom_graph_v<Flow>;
  const std::vector<std::string> types = input_type_names<Flow>();
  const std::vector<std::string_view> retry_kind = retry_kinds<Flow>();
  const std::vector<depth> depths = decider_depths(flow);

  std::ostringstream dot;
  dot << "digraph " << dot_quoted(s.nodes[0].label) << " {\n"
      << "  label=" << dot_quoted(std::string(s.nodes[0].label) + " (" + std::string(kind_label(s.nodes[0].kind)) + ")")
      << ";\n  labelloc=t;\n  node [shape=box, style=rounded];\n";

  // Atoms, nested flows as clusters (pre-order: a flow's subtree is the nodes up to its end).
  std::vector<std::size_t> open_ends;
  for (std::size_t n = 1; n < s.size.nodes; ++n) {
    while (!open_ends.empty() && n >= open_ends.back()) {
      open_ends.pop_back();
      dot << std::string(2 + 2 * open_ends.size(), ' ') << "}\n";
    }
    const std::string indent(2 + 2 * open_ends.size(), ' ');
    if (s.nodes[n].kind == node_kind::task) {
      dot << indent << dot_quoted(s.nodes[n].label) << ";\n";
    } else if (s.nodes[n].kind == node_kind::retry) {
      dot << indent << dot_quoted(s.nodes[n].label) << " [shape=diamond, label="
          << dot_quoted(std::string(s.nodes[n].label) + " (" + std::string(retry_kind[s.nodes[n].atom_begin]) + ")") << "];\n";
    } else {
      std::string label = std::string(s.nodes[n].label) + " (" + std::string(kind_label(s.nodes[n].kind)) + ")";
      if (s.nodes[n].retry != npos) label += ", retried by " + std::string(retry_kind[s.nodes[n].retry]);
      dot << indent << "subgraph " << dot_quoted("cluster_" + std::to_string(n)) << " {\n"
          << indent << "  label=" << dot_quoted(label) << ";\n";
      if (s.nodes[n].retry != npos) dot << indent << "  style=dashed;\n";
      open_ends.push_back(s.nodes[n].end);
    }
  }
  while (!open_ends.empty()) {
    open_ends.pop_back();
    dot << std::string(2 + 2 * open_ends.size(), ' ') << "}\n";
  }

  // Data edges, and inputs from outside the flow.
  std::vector<std::pair<std::size_t, std::size_t>> data_edges;
  std::vector<std::string_view> outside;
  for (std::size_t a = 0; a < s.size.atoms; ++a)
    for (std::size_t i = s.atoms[a].input_begin; i < s.atoms[a].input_end; ++i) {
      const std::string label = std::string(s.inputs[i].slot) + ": " + types[i];
      if (s.inputs[i].kind == input_kind::injected) continue;
      if (const provider p = an.producers[i]; p.found()) {
        dot << "  " << dot_quoted(s.atoms[p.atom].label) << " -> " << dot_quoted(s.atoms[a].label)
            << " [label=" << dot_quoted(label) << "];\n";
        data_edges.emplace_back(p.atom, a);
      } else {
        const std::string id = "slot:" + std::string(s.inputs[i].slot);
        bool seen = false;
        for (std::string_view o : outside) seen = seen || o == s.inputs[i].slot;
        if (!seen) {
          outside.push_back(s.inputs[i].slot);
          dot << "  " << dot_quoted(id) << " [shape=ellipse, style=dashed, label="
              << dot_quoted(s.inputs[i].slot) << "];\n";
        }
        dot << "  " << dot_quoted(id) << " -> " << dot_quoted(s.atoms[a].label) << " [label=" << dot_quoted(label)
            << (s.inputs[i].kind == input_kind::optional ? ", style=dotted" : "") << "];\n";
      }
    }

  // Decider links: from the atom whose result is decided on, to the target (an atom, or the
  // first atoms of a flow).
  std::vector<std::pair<std::size_t, std::size_t>> decider_edges;
  for (std::size_t l = 0; l < s.size.links; ++l) {
    if (!s.links[l].has_decider) continue;
    const std::size_t from = s.nodes[an.link_from[l]].atom_begin;
    auto draw = [&](std::size_t to) {
      decider_edges.emplace_back(from, to);
      dot << "  " << dot_quoted(s.atoms[from].label) << " -> " << dot_quoted(s.atoms[to].label)
          << " [color=blue, fontcolor=blue, label=" << dot_quoted("decider, depth " + std::string(depth_label(depths[l])))
          << "];\n";
    };
    visit_ends(s, an, an.link_to[l], true, draw);
  }

  // Edges that only order.
  for (std::size_t a = 0; a < s.size.atoms; ++a)
    for (std::size_t e = graph.successors_begin[a]; e < graph.successors_begin[a + 1]; ++e) {
      bool carries_data = false;
      for (const auto& [from, to] : data_edges) carries_data = carries_data || (from == a && to == graph.successors[e]);
      for (const auto& [from, to] : decider_edges) carries_data = carries_data || (from == a && to == graph.successors[e]);
      if (!carries_data)
        dot << "  " << dot_quoted(s.atoms[a].label) << " -> " << dot_quoted(s.atoms[graph.successors[e]].label)
            << " [style=dashed];\n";
    }
  dot << "}\n";
  return dot.str();
}

}  // namespace flowkit
