#pragma once
// The edges between atoms that the engine schedules by: successors in compressed rows and each
// atom's number of predecessors, so that an atom becomes ready when a counter reaches zero.
// A flow-level edge X -> Y (linear order, a graph flow's edge) joins every last atom of X to
// every first atom of Y, as TaskFlow's compiler does.

#include <flowkit/flow/analysis.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace flowkit::detail {

template <spec_size Size, class Visit>
constexpr void visit_ends(const flow_spec<Size>& s, const flow_analysis<Size>& an, std::size_t node,
                          bool sources, Visit& visit) {
  const node_entry& n = s.nodes[node];
  if (n.kind == node_kind::task || n.kind == node_kind::retry) {
    visit(n.atom_begin);
    return;
  }
  // A flow's retry controller runs before everything else in the flow.
  if (sources && n.retry != npos) {
    visit(n.retry);
    return;
  }
  const std::size_t* first = an.sequence.data() + an.sequence_begin[node];
  const std::size_t children = n.child_count;
  if (n.kind == node_kind::linear) {
    // The first (or last) child that has atoms at all.
    for (std::size_t i = 0; i < children; ++i) {
      const std::size_t c = first[sources ? i : children - 1 - i];
      if (s.nodes[c].atom_begin != s.nodes[c].atom_end) return visit_ends(s, an, c, sources, visit);
    }
    return;
  }
  for (std::size_t i = 0; i < children; ++i) {
    const std::size_t c = first[i];
    if (n.kind == node_kind::graph && (sources ? an.has_in[c] : an.has_out[c])) continue;
    if (s.nodes[c].kind == node_kind::retry && children > 1) continue;  // not a sink: all follow it
    visit_ends(s, an, c, sources, visit);
  }
}

// Calls edge(from_atom, to_atom) for every atom-level edge.
template <spec_size Size, class Edge>
constexpr void for_each_atom_edge(const flow_spec<Size>& s, const flow_analysis<Size>& an, Edge edge) {
  auto join = [&](std::size_t x, std::size_t y) {
    auto each_sink = [&](std::size_t from) {
      auto each_source = [&](std::size_t to) { edge(from, to); };
      visit_ends(s, an, y, true, each_source);
    };
    visit_ends(s, an, x, false, each_sink);
  };
  for (std::size_t f = 0; f < Size.nodes; ++f) {
    if (s.nodes[f].kind != node_kind::linear) continue;
    std::size_t previous = npos;
    for (std::size_t c = s.nodes[f].first_child; c != npos; c = s.nodes[c].next_sibling) {
      if (s.nodes[c].atom_begin == s.nodes[c].atom_end) continue;
      if (previous != npos) join(previous, c);
      previous = c;
    }
  }
  for (std::size_t e = 0; e < an.child_edge_count; ++e) join(an.child_edges[e].from, an.child_edges[e].to);
  // In unordered and graph flows the retry controller precedes every other child.
  for (std::size_t f = 0; f < Size.nodes; ++f) {
    if (s.nodes[f].kind == node_kind::linear || s.nodes[f].retry == npos) continue;
    for (std::size_t c = s.nodes[f].first_child; c != npos; c = s.nodes[c].next_sibling)
      if (s.nodes[c].kind != node_kind::retry && s.nodes[c].atom_begin != s.nodes[c].atom_end)
        join(s.atoms[s.nodes[f].retry].node, c);
  }
}

// The decider links an atom checks when it is about to run: those aimed at it, or at a flow
// that it starts. Compressed rows, like the edges.
template <spec_size Size, class Visit>
constexpr void for_each_decider_check(const flow_spec<Size>& s, const flow_analysis<Size>& an, Visit visit) {
  for (std::size_t l = 0; l < Size.links; ++l) {
    if (!s.links[l].has_decider) continue;
    auto check = [&](std::size_t atom) { visit(atom, l); };
    visit_ends(s, an, an.link_to[l], true, check);
  }
}

template <spec_size Size>
constexpr std::size_t count_decider_checks(const flow_spec<Size>& s, const flow_analysis<Size>& an) {
  std::size_t n = 0;
  for_each_decider_check(s, an, [&](std::size_t, std::size_t) { ++n; });
  return n;
}

template <std::size_t Atoms, std::size_t Checks>
struct decider_checks {
  std::array<std::size_t, Atoms + 1> begin{};
  std::array<std::size_t, Checks + 1> links{};
};

template <std::size_t Checks, spec_size Size>
constexpr auto build_decider_checks(const flow_spec<Size>& s, const flow_analysis<Size>& an) {
  decider_checks<Size.atoms, Checks> d{};
  for_each_decider_check(s, an, [&](std::size_t atom, std::size_t) { ++d.begin[atom + 1]; });
  for (std::size_t a = 0; a < Size.atoms; ++a) d.begin[a + 1] += d.begin[a];
  std::array<std::size_t, Size.atoms + 1> filled{};
  for_each_decider_check(s, an, [&](std::size_t atom, std::size_t link) {
    d.links[d.begin[atom] + filled[atom]++] = link;
  });
  return d;
}

template <class Flow>
inline constexpr auto decider_checks_v =
    build_decider_checks<count_decider_checks(spec_v<Flow>, analysis_v<Flow>)>(spec_v<Flow>, analysis_v<Flow>);

template <spec_size Size>
constexpr std::size_t count_atom_edges(const flow_spec<Size>& s, const flow_analysis<Size>& an) {
  std::size_t count = 0;
  for_each_atom_edge(s, an, [&](std::size_t, std::size_t) { ++count; });
  return count;
}

template <std::size_t Atoms, std::size_t Edges>
struct atom_graph {
  std::array<std::size_t, Atoms + 1> successors_begin{};  // successors of a: [begin[a], begin[a+1])
  std::array<std::size_t, Edges + 1> successors{};
  std::array<std::size_t, Atoms + 1> predecessor_count{};
  std::array<std::size_t, Edges + 1> predecessors{};  // by target, same layout
  std::array<std::size_t, Atoms + 1> predecessors_begin{};
};

template <std::size_t Edges, spec_size Size>
constexpr auto build_atom_graph(const flow_spec<Size>& s, const flow_analysis<Size>& an) {
  atom_graph<Size.atoms, Edges> g{};
  std::array<std::pair<std::size_t, std::size_t>, Edges + 1> pairs{};
  std::size_t n = 0;
  for_each_atom_edge(s, an, [&](std::size_t from, std::size_t to) { pairs[n++] = {from, to}; });
  std::sort(pairs.begin(), pairs.begin() + Edges);
  for (std::size_t e = 0; e < Edges; ++e) {
    g.successors[e] = pairs[e].second;
    ++g.successors_begin[pairs[e].first + 1];
    ++g.predecessor_count[pairs[e].second];
  }
  for (std::size_t a = 0; a < Size.atoms; ++a) {
    g.successors_begin[a + 1] += g.successors_begin[a];
    g.predecessors_begin[a + 1] = g.predecessors_begin[a] + g.predecessor_count[a];
  }
  std::array<std::size_t, Size.atoms + 1> filled{};
  for (std::size_t e = 0; e < Edges; ++e) {
    const std::size_t to = pairs[e].second;
    g.predecessors[g.predecessors_begin[to] + filled[to]++] = pairs[e].first;
  }
  return g;
}

template <class Flow>
inline constexpr std::size_t atom_edge_count_v = count_atom_edges(spec_v<Flow>, analysis_v<Flow>);

template <class Flow>
inline constexpr auto atom_graph_v =
    build_atom_graph<atom_edge_count_v<Flow>>(spec_v<Flow>, analysis_v<Flow>);

// What a decider link ignores when it says no: its target (all of it, if it is a flow) and, by
// the link's depth, what follows (TaskFlow's depths):
//   atom       nothing more;
//   neighbors  the tasks that the target's graph flow links right after it: not a nested flow
//              (TaskFlow: "immediate task successors"; a flow is not a task), nor what follows
//              the graph flow itself;
//   flow       what follows the target among the graph flow's own atoms, not inside nested flows;
//   all        every atom after the target, at any level.
// Calls visit(atom) once per atom: the target's atoms first, then breadth-first.
template <spec_size Size, std::size_t Atoms, std::size_t Edges, class Visit>
constexpr void for_each_ignored_atom(const flow_spec<Size>& s, const flow_analysis<Size>& an,
                                     const atom_graph<Atoms, Edges>& g, std::size_t link, Visit& visit) {
  const std::size_t target = an.link_to[link];
  const std::size_t graph_flow = s.nodes[target].parent;
  const depth how_far = s.links[link].how_far;
  std::array<bool, Size.atoms + 1> seen{};
  std::array<std::size_t, Size.atoms + 1> queue{};
  std::size_t count = 0;
  for (std::size_t a = s.nodes[target].atom_begin; a < s.nodes[target].atom_end; ++a) {
    seen[a] = true;
    queue[count++] = a;
    visit(a);
  }
  if (how_far == depth::atom) return;
  if (how_far == depth::neighbors) {
    for (std::size_t e = 0; e < an.child_edge_count; ++e) {
      const child_edge& edge = an.child_edges[e];
      if (edge.from != target || s.nodes[edge.to].kind != node_kind::task) continue;
      const std::size_t a = s.nodes[edge.to].atom_begin;
      if (!seen[a]) {
        seen[a] = true;
        visit(a);
      }
    }
    return;
  }
  for (std::size_t i = 0; i < count; ++i)
    for (std::size_t e = g.successors_begin[queue[i]]; e < g.successors_begin[queue[i] + 1]; ++e) {
      const std::size_t next = g.successors[e];
      if (seen[next]) continue;
      if (how_far == depth::flow && s.nodes[s.atoms[next].node].parent != graph_flow) continue;
      seen[next] = true;
      queue[count++] = next;
      visit(next);
    }
}

// Every decider link's ignored atoms, in compressed rows: link l ignores atoms[begin[l]] up to
// atoms[begin[l + 1]]. Links without a decider ignore nothing.
template <std::size_t Links, std::size_t Entries>
struct decider_reach {
  std::array<std::size_t, Links + 1> begin{};
  std::array<std::size_t, Entries + 1> atoms{};
};

template <spec_size Size, std::size_t Atoms, std::size_t Edges>
constexpr std::size_t count_ignored_atoms(const flow_spec<Size>& s, const flow_analysis<Size>& an,
                                          const atom_graph<Atoms, Edges>& g) {
  std::size_t n = 0;
  auto count = [&](std::size_t) { ++n; };
  for (std::size_t l = 0; l < Size.links; ++l)
    if (s.links[l].has_decider) for_each_ignored_atom(s, an, g, l, count);
  return n;
}

template <std::size_t Entries, spec_size Size, std::size_t Atoms, std::size_t Edges>
constexpr auto build_decider_reach(const flow_spec<Size>& s, const flow_analysis<Size>& an,
                                   const atom_graph<Atoms, Edges>& g) {
  decider_reach<Size.links, Entries> r{};
  std::size_t n = 0;
  auto add = [&](std::size_t atom) { r.atoms[n++] = atom; };
  for (std::size_t l = 0; l < Size.links; ++l) {
    r.begin[l] = n;
    if (s.links[l].has_decider) for_each_ignored_atom(s, an, g, l, add);
  }
  r.begin[Size.links] = n;
  return r;
}

template <class Flow>
inline constexpr auto decider_reach_v =
    build_decider_reach<count_ignored_atoms(spec_v<Flow>, analysis_v<Flow>, atom_graph_v<Flow>)>(
        spec_v<Flow>, analysis_v<Flow>, atom_graph_v<Flow>);

// For every input, the first decider link that may ignore the atom providing it while leaving
// the consumer to run (outside the link's reach), or npos. Only inputs that need their slot
// count: an optional input falls back on its default. Whether the engine's store stands in is
// the engine's business (engine/bindings.hpp).
template <spec_size Size, std::size_t Links, std::size_t Entries>
constexpr auto find_inputs_a_decider_may_empty(const flow_spec<Size>& s, const flow_analysis<Size>& an,
                                               const decider_reach<Links, Entries>& reach) {
  std::array<std::size_t, Size.inputs + 1> link_of{};
  link_of.fill(npos);
  for (std::size_t l = 0; l < Size.links; ++l) {
    if (reach.begin[l] == reach.begin[l + 1]) continue;
    std::array<bool, Size.atoms + 1> ignored{};
    for (std::size_t e = reach.begin[l]; e < reach.begin[l + 1]; ++e) ignored[reach.atoms[e]] = true;
    for (std::size_t a = 0; a < Size.atoms; ++a) {
      if (ignored[a]) continue;
      for (std::size_t i = s.atoms[a].input_begin; i < s.atoms[a].input_end; ++i)
        if (link_of[i] == npos && s.inputs[i].kind == input_kind::slot && an.producers[i].found() &&
            ignored[an.producers[i].atom])
          link_of[i] = l;
    }
  }
  return link_of;
}

template <class Flow>
inline constexpr auto inputs_a_decider_may_empty_v = find_inputs_a_decider_may_empty(spec_v<Flow>,
                                                                                     analysis_v<Flow>,
                                                                                     decider_reach_v<Flow>);

}  // namespace flowkit::detail
