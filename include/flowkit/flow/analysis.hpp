#pragma once
// The compile-time analysis of a flow (all constexpr, over the arrays of flow/spec.hpp):
//  - which atom output feeds each input (TaskFlow's scoping: in a linear flow the nearest
//    earlier provider wins; unordered siblings may not feed each other; in a graph flow exactly
//    one sibling may provide what a child needs, and that makes an edge);
//  - the edges between atoms and a topological order;
//  - the first wiring error, if any, for flow/diagnostics.hpp to turn into a compile error.

#include <flowkit/flow/spec.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>

namespace flowkit::detail {

enum class flow_error : unsigned char {
  none,
  duplicate_atom_name,
  unknown_link_end,
  unordered_dependency,
  duplicate_provider,
  type_mismatch,
  cycle,
  decider_needs_atom,
};

struct diagnosis {
  flow_error error = flow_error::none;
  std::size_t atom = npos;    // the atom concerned (the consumer, for slot errors)
  std::size_t input = npos;   // the consumer's input (global index)
  std::size_t other = npos;   // the other atom: a provider, or the second of a duplicate name
  std::size_t output = npos;  // the provider's output (global index)
  std::size_t node = npos, other_node = npos;  // nodes, for cycles and links
  std::string_view slot;                      // the slot, or the unknown link end
  constexpr bool ok() const noexcept { return error == flow_error::none; }
};

constexpr diagnosis make_diagnosis(flow_error error, std::size_t atom = npos, std::size_t input = npos,
                                   std::size_t other = npos, std::size_t output = npos) {
  diagnosis d;
  d.error = error;
  d.atom = atom;
  d.input = input;
  d.other = other;
  d.output = output;
  return d;
}

// An atom output that provides a slot; `second` is set when two providers are equally near.
struct provider {
  std::size_t atom = npos, output = npos, second = npos;
  constexpr bool found() const noexcept { return atom != npos; }
  constexpr bool ambiguous() const noexcept { return second != npos; }
};

// An edge between two children of one flow (a graph flow's inferred or explicit edge).
struct child_edge {
  std::size_t from = npos, to = npos;
  std::size_t input = npos;  // the input whose data made this edge, npos for an explicit link
  constexpr bool operator<(const child_edge& o) const noexcept {
    return from != o.from ? from < o.from : to != o.to ? to < o.to : input < o.input;
  }
};

template <spec_size Size>
struct flow_analysis {
  diagnosis error{};
  std::array<provider, Size.inputs + 1> producers{};  // npos atom: the input comes from outside
  std::array<child_edge, Size.inputs + Size.links + 1> child_edges{};
  std::size_t child_edge_count = 0;
  std::array<bool, Size.nodes> has_in{}, has_out{};  // a child edge ends / starts at the node
  std::array<std::size_t, Size.nodes> sequence{};     // children of every flow, in run order
  std::array<std::size_t, Size.nodes> sequence_begin{};
  std::array<std::size_t, Size.atoms + 1> order{};  // atoms in a topological order
  std::array<std::size_t, Size.atoms + 1> retry_of{};  // the innermost retry controlling an atom, or npos
  std::array<std::size_t, Size.links + 1> link_from{}, link_to{};  // a link's ends (child nodes)
  std::array<std::size_t, Size.outputs + 1> outputs_by_name{};     // output indices, sorted by slot
};

// The child of `flow` whose subtree holds `node`, or npos.
template <spec_size Size>
constexpr std::size_t child_holding(const flow_spec<Size>& s, std::size_t flow, std::size_t node) {
  if (node <= flow || node >= s.nodes[flow].end) return npos;
  while (s.nodes[node].parent != flow) node = s.nodes[node].parent;
  return node;
}

template <spec_size Size>
constexpr provider export_of(const flow_spec<Size>& s, std::size_t node, std::string_view slot) {
  const node_entry& n = s.nodes[node];
  if (n.kind == node_kind::task || n.kind == node_kind::retry) {
    const atom_entry& a = s.atoms[n.atom_begin];
    for (std::size_t k = a.output_begin; k < a.output_end; ++k)
      if (s.outputs[k].label == slot) return {n.atom_begin, k, npos};
    return {};
  }
  if (n.kind == node_kind::linear) {
    for (std::size_t c = n.last_child; c != npos; c = s.nodes[c].prev_sibling)
      if (provider p = export_of(s, c, slot); p.found()) return p;
    return {};
  }
  provider result{};
  for (std::size_t c = n.first_child; c != npos; c = s.nodes[c].next_sibling) {
    provider p = export_of(s, c, slot);
    if (p.ambiguous()) return p;
    if (!p.found()) continue;
    if (result.found()) return {result.atom, result.output, p.atom};
    result = p;
  }
  return result;
}

template <spec_size Size>
constexpr bool check_names(const flow_spec<Size>& s, diagnosis& d) {
  std::array<std::size_t, Size.atoms + 1> by_name{};
  for (std::size_t a = 0; a < Size.atoms; ++a) by_name[a] = a;
  std::sort(by_name.begin(), by_name.begin() + Size.atoms, [&](std::size_t x, std::size_t y) {
    return s.atoms[x].label != s.atoms[y].label ? s.atoms[x].label < s.atoms[y].label : x < y;
  });
  for (std::size_t i = 1; i < Size.atoms; ++i)
    if (s.atoms[by_name[i - 1]].label == s.atoms[by_name[i]].label) {
      d = make_diagnosis(flow_error::duplicate_atom_name, by_name[i - 1], npos, by_name[i]);
      return false;
    }
  return true;
}

template <spec_size Size>
constexpr std::size_t child_named(const flow_spec<Size>& s, std::size_t flow, std::string_view name) {
  for (std::size_t c = s.nodes[flow].first_child; c != npos; c = s.nodes[c].next_sibling)
    if (s.nodes[c].label == name) return c;
  return npos;
}

template <spec_size Size>
constexpr bool resolve_input(const flow_spec<Size>& s, flow_analysis<Size>& an, std::size_t atom,
                             std::size_t input) {
  const input_entry& in = s.inputs[input];
  diagnosis& d = an.error;
  if (in.kind == input_kind::injected) return true;
  // The outputs named like the slot: [lower, upper) of outputs_by_name.
  std::size_t lower = 0, upper = Size.outputs;
  {
    std::size_t lo = 0, hi = Size.outputs;
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (s.outputs[an.outputs_by_name[mid]].label < in.slot) lo = mid + 1; else hi = mid;
    }
    lower = lo;
    hi = Size.outputs;
    while (lo < hi) {
      const std::size_t mid = (lo + hi) / 2;
      if (s.outputs[an.outputs_by_name[mid]].label == in.slot) lo = mid + 1; else hi = mid;
    }
    upper = lo;
  }
  if (lower == upper) {
    an.producers[input] = {};
    return true;
  }
  for (std::size_t node = s.atoms[atom].node, parent = s.nodes[node].parent; parent != npos;
       node = parent, parent = s.nodes[node].parent) {
    // A flow's retry controller reads from outside its flow.
    if (s.nodes[node].kind == node_kind::retry) continue;
    // The children of `parent` (other than the reader's own) that provide the slot somewhere
    // inside: found through the outputs sorted by name, not by scanning every sibling.
    std::size_t nearest = npos, first_other = npos, second_other = npos, retry_child = npos;
    for (std::size_t k = lower; k < upper; ++k) {
      const std::size_t c = child_holding(s, parent, s.atoms[s.outputs[an.outputs_by_name[k]].atom_of].node);
      if (c == npos || c == node) continue;
      if (s.nodes[c].kind == node_kind::retry) {
        retry_child = c;
        if (s.nodes[parent].kind != node_kind::linear) continue;
      }
      if (c < node && (nearest == npos || c > nearest)) nearest = c;
      if (first_other == npos || first_other == c) first_other = c;
      else if (second_other == npos) second_other = c;
    }
    provider found{};
    std::size_t from = npos;
    switch (s.nodes[parent].kind) {
      case node_kind::linear:
        if (nearest != npos) found = export_of(s, nearest, in.slot);
        break;
      case node_kind::unordered:
        if (first_other != npos) {
          const provider p = export_of(s, first_other, in.slot);
          d = make_diagnosis(flow_error::unordered_dependency, atom, input, p.atom, p.output);
          d.slot = in.slot;
          return false;
        }
        break;
      case node_kind::graph:
        if (second_other != npos) {
          found = export_of(s, first_other, in.slot);
          found.second = export_of(s, second_other, in.slot).atom;
        } else if (first_other != npos) {
          found = export_of(s, first_other, in.slot);
          from = first_other;
        }
        break;
      case node_kind::task:
      case node_kind::retry:
        break;
    }
    // What the flow's retry controller provides, every child of the flow sees.
    if (!found.found() && retry_child != npos && s.nodes[parent].kind != node_kind::linear)
      found = export_of(s, retry_child, in.slot);
    if (found.ambiguous()) {
      d = make_diagnosis(flow_error::duplicate_provider, atom, input, found.atom, found.output);
      d.node = found.second;
      d.slot = in.slot;
      return false;
    }
    if (!found.found()) continue;
    if (s.outputs[found.output].type != in.type) {
      d = make_diagnosis(flow_error::type_mismatch, atom, input, found.atom, found.output);
      d.slot = in.slot;
      return false;
    }
    an.producers[input] = found;
    if (from != npos) an.child_edges[an.child_edge_count++] = {from, node, input};
    return true;
  }
  an.producers[input] = {};
  return true;
}

template <spec_size Size>
constexpr bool add_links(const flow_spec<Size>& s, flow_analysis<Size>& an) {
  for (std::size_t g = 0; g < Size.nodes; ++g)
    for (std::size_t l = s.nodes[g].link_begin; l < s.nodes[g].link_end; ++l) {
      const std::size_t from = child_named(s, g, s.links[l].from);
      const std::size_t to = child_named(s, g, s.links[l].to);
      if (from == npos || to == npos) {
        an.error = make_diagnosis(flow_error::unknown_link_end);
        an.error.node = g;
        an.error.slot = from == npos ? s.links[l].from : s.links[l].to;
        return false;
      }
      if (s.links[l].has_decider && s.nodes[from].kind != node_kind::task) {
        an.error = make_diagnosis(flow_error::decider_needs_atom);
        an.error.node = g;
        an.error.slot = s.links[l].from;
        return false;
      }
      an.link_from[l] = from;
      an.link_to[l] = to;
      an.child_edges[an.child_edge_count++] = {from, to, npos};
    }
  return true;
}

// The retry whose scope each atom is in: its nearest enclosing flow's, skipping the flow that a
// retry controller itself belongs to.
template <spec_size Size>
constexpr void find_retry_scopes(const flow_spec<Size>& s, flow_analysis<Size>& an) {
  for (std::size_t a = 0; a < Size.atoms; ++a) {
    an.retry_of[a] = npos;
    for (std::size_t f = s.nodes[s.atoms[a].node].parent; f != npos; f = s.nodes[f].parent)
      if (s.nodes[f].retry != npos && s.nodes[f].retry != a) {
        an.retry_of[a] = s.nodes[f].retry;
        break;
      }
  }
}

// Orders every flow's children: declaration order for linear and unordered flows, Kahn's
// algorithm over the child edges (ties by declaration order) for graph flows.
template <spec_size Size>
constexpr bool order_children(const flow_spec<Size>& s, flow_analysis<Size>& an) {
  auto& edges = an.child_edges;
  const std::size_t edge_count = an.child_edge_count;
  std::array<std::size_t, Size.nodes> indegree{};
  std::array<std::size_t, Size.nodes> edges_from{};  // first edge (sorted by from) of each node
  for (std::size_t n = 0; n < Size.nodes; ++n) edges_from[n] = npos;
  for (std::size_t e = edge_count; e-- > 0;) {
    edges_from[edges[e].from] = e;
    ++indegree[edges[e].to];
    an.has_out[edges[e].from] = an.has_in[edges[e].to] = true;
  }
  std::size_t next = 0;
  for (std::size_t f = 0; f < Size.nodes; ++f) {
    if (s.nodes[f].kind == node_kind::task || s.nodes[f].kind == node_kind::retry) continue;
    an.sequence_begin[f] = next;
    const std::size_t begin = next;
    if (s.nodes[f].kind != node_kind::graph) {
      for (std::size_t c = s.nodes[f].first_child; c != npos; c = s.nodes[c].next_sibling) an.sequence[next++] = c;
      continue;
    }
    // Kahn: the sequence itself is the queue.
    for (std::size_t c = s.nodes[f].first_child; c != npos; c = s.nodes[c].next_sibling)
      if (indegree[c] == 0) an.sequence[next++] = c;
    for (std::size_t q = begin; q < next; ++q)
      for (std::size_t e = edges_from[an.sequence[q]]; e != npos && e < edge_count && edges[e].from == an.sequence[q]; ++e)
        if (--indegree[edges[e].to] == 0) an.sequence[next++] = edges[e].to;
    const std::size_t children = s.nodes[f].child_count;
    if (next - begin == children) continue;
    // A cycle: walk back from a child left over until a child repeats; report that edge.
    std::array<bool, Size.nodes> seen{};
    std::size_t at = npos;
    for (std::size_t c = s.nodes[f].first_child; c != npos && at == npos; c = s.nodes[c].next_sibling)
      if (indegree[c] != 0) at = c;
    for (;;) {
      seen[at] = true;
      std::size_t back = npos;
      for (std::size_t e = 0; e < edge_count && back == npos; ++e)
        if (edges[e].to == at && indegree[edges[e].from] != 0) back = e;
      an.error = make_diagnosis(flow_error::cycle);
      an.error.node = edges[back].from;
      an.error.other_node = at;
      an.error.input = edges[back].input;
      an.error.slot = edges[back].input == npos ? std::string_view{} : s.inputs[edges[back].input].slot;
      if (seen[edges[back].from]) return false;
      at = edges[back].from;
    }
  }
  return true;
}

template <spec_size Size>
constexpr void order_atoms(const flow_spec<Size>& s, flow_analysis<Size>& an) {
  // Depth-first over the tree, children in their run order; an explicit stack keeps this a loop.
  std::array<std::size_t, Size.nodes + 1> stack{}, position{};
  std::size_t depth = 0, count = 0;
  stack[0] = 0;
  position[0] = 0;
  while (true) {
    const std::size_t n = stack[depth];
    if (s.nodes[n].kind == node_kind::task || s.nodes[n].kind == node_kind::retry) {
      an.order[count++] = s.nodes[n].atom_begin;
    } else {
      const std::size_t children = s.nodes[n].child_count;
      if (position[depth] < children) {
        stack[depth + 1] = an.sequence[an.sequence_begin[n] + position[depth]++];
        position[++depth] = 0;
        continue;
      }
    }
    if (depth == 0) break;
    --depth;
  }
}

template <spec_size Size>
constexpr flow_analysis<Size> analyse(const flow_spec<Size>& s) {
  flow_analysis<Size> an{};
  if (!check_names(s, an.error) || !add_links(s, an)) return an;
  for (std::size_t o = 0; o < Size.outputs; ++o) an.outputs_by_name[o] = o;
  std::sort(an.outputs_by_name.begin(), an.outputs_by_name.begin() + Size.outputs,
            [&](std::size_t x, std::size_t y) { return s.outputs[x].label < s.outputs[y].label; });
  for (std::size_t a = 0; a < Size.atoms; ++a)
    for (std::size_t i = s.atoms[a].input_begin; i < s.atoms[a].input_end; ++i)
      if (!resolve_input(s, an, a, i)) return an;
  // One edge per pair of children, whatever the number of slots behind it.
  std::sort(an.child_edges.begin(), an.child_edges.begin() + an.child_edge_count);
  std::size_t unique = 0;
  for (std::size_t e = 0; e < an.child_edge_count; ++e)
    if (unique == 0 || an.child_edges[unique - 1].from != an.child_edges[e].from ||
        an.child_edges[unique - 1].to != an.child_edges[e].to)
      an.child_edges[unique++] = an.child_edges[e];
  an.child_edge_count = unique;
  if (!order_children(s, an)) return an;
  order_atoms(s, an);
  find_retry_scopes(s, an);
  return an;
}

template <class Flow>
inline constexpr auto analysis_v = analyse(spec_v<Flow>);

}  // namespace flowkit::detail
