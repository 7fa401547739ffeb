#pragma once
// fk::structural_hash<Flow>: a 64-bit fingerprint of a flow's structure, computed at compile
// time. A checkpoint stores it; a run resumed with a flow whose hash differs is refused.
//
// It covers what decides how a run's state fits a flow: every node's kind (task, retry
// controller and its kind, linear / unordered / graph flow), name and place in the tree; every
// atom's input slots (name, kind: slot, injected or optional) and output slots (name), each with
// its type's name; every explicit link (its ends, whether it has a decider, and the decider's
// depth); the retry scopes (which flow each retry controller is attached to). It does not cover
// what a run can change without upsetting a checkpoint: the tasks' code, the values bound into
// them, a controller's parameters (times(3) or times(4)), a decider's code.
//
// The bytes hashed (FNV-1a, 64 bits) are a serialisation of those, each string preceded by its
// length, so that no two structures give the same bytes. Type names come from
// detail/constexpr_type_name.hpp: the same compiler agrees with itself across builds and
// processes; GCC and clang give different hashes for the same flow.

#include <flowkit/core/task.hpp>
#include <flowkit/detail/constexpr_type_name.hpp>
#include <flowkit/flow/flow.hpp>
#include <flowkit/flow/retry.hpp>
#include <flowkit/flow/spec.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace flowkit {
namespace detail {

struct fnv1a_hash {
  std::uint64_t value = 14695981039346656037ull;
  constexpr void byte(unsigned char b) noexcept {
    value ^= b;
    value *= 1099511628211ull;
  }
  constexpr void number(std::uint64_t n) noexcept {
    for (int i = 0; i < 8; ++i) byte(static_cast<unsigned char>(n >> (8 * i)));
  }
  constexpr void text(std::string_view s) noexcept {
    number(s.size());
    for (char c : s) byte(static_cast<unsigned char>(c));
  }
};

// Per atom, in the spec's order (pre-order): its input and output types' names and, for a retry
// controller, its kind.
template <std::size_t Inputs, std::size_t Outputs, std::size_t Atoms>
struct slot_type_names {
  std::array<std::string_view, Inputs + 1> inputs{};
  std::array<std::string_view, Outputs + 1> outputs{};
  std::array<std::string_view, Atoms + 1> retry_kinds{};
  std::size_t input = 0, output = 0, atom = 0;

  template <class Task>
  constexpr void operator()() {
    [&]<std::size_t... Is>(std::index_sequence<Is...>) {
      ((inputs[input++] = constexpr_type_name<typename Task::template input_type<Is>>()), ...);
    }
    (std::make_index_sequence<Task::input_count>{});
    [&]<std::size_t... Os>(std::index_sequence<Os...>) {
      ((outputs[output++] = constexpr_type_name<typename Task::template output_type<Os>>()), ...);
    }
    (std::make_index_sequence<Task::output_count>{});
    if constexpr (retry_atom<Task>) retry_kinds[atom] = Task::kind;
    ++atom;
  }
};

template <class Node, class Visit>
constexpr void visit_atom_types(Visit& visit) {
  if constexpr (task_like<Node>) {
    visit.template operator()<Node>();
  } else {
    [&]<name Name, flow_kind Kind, class Links, class... Children>(
        const flow_t<Name, Kind, Links, Children...>*) {
      (visit_atom_types<Children>(visit), ...);
    }
    (static_cast<const Node*>(nullptr));
  }
}

// An atom's input slots (name, kind, type) and output slots (name, type), each list counted.
template <class Spec, class Types>
constexpr void hash_slots(fnv1a_hash& h, const Spec& s, const Types& types, const atom_entry& atom) {
  h.number(atom.input_end - atom.input_begin);
  for (std::size_t i = atom.input_begin; i < atom.input_end; ++i) {
    h.text(s.inputs[i].slot);
    h.number(static_cast<std::uint64_t>(s.inputs[i].kind));
    h.text(types.inputs[i]);
  }
  h.number(atom.output_end - atom.output_begin);
  for (std::size_t o = atom.output_begin; o < atom.output_end; ++o) {
    h.text(s.outputs[o].label);
    h.text(types.outputs[o]);
  }
}

template <class Flow>
constexpr std::uint64_t compute_structural_hash() {
  constexpr auto& s = spec_v<Flow>;
  slot_type_names<s.size.inputs, s.size.outputs, s.size.atoms> types{};
  visit_atom_types<Flow>(types);
  fnv1a_hash h;
  h.text("flowkit structural hash 1");  // the version of this serialisation
  h.number(s.size.nodes);
  for (std::size_t n = 0; n < s.size.nodes; ++n) {
    const node_entry& node = s.nodes[n];
    h.number(static_cast<std::uint64_t>(node.kind));
    h.text(node.label);
    h.number(node.parent);
    h.number(node.end);
    h.number(node.retry);
    h.number(node.link_begin);  // the links of this flow
    h.number(node.link_end);
  }
  h.number(s.size.atoms);
  for (std::size_t a = 0; a < s.size.atoms; ++a) {
    const atom_entry& atom = s.atoms[a];
    h.text(atom.label);
    h.number(atom.node);
    h.text(types.retry_kinds[a]);
    hash_slots(h, s, types, atom);
  }
  h.number(s.size.links);
  for (std::size_t l = 0; l < s.size.links; ++l) {
    h.text(s.links[l].from);
    h.text(s.links[l].to);
    h.number(s.links[l].has_decider);
    h.number(static_cast<std::uint64_t>(s.links[l].how_far));
  }
  return h.value;
}

// Per atom, the part of the structure that is the atom's own: its name, kind, enclosing flow and
// slots with their types. A checkpoint keeps it as the atom's version, so that a run refused
// for a changed structure can say which atom changed.
template <class Flow>
constexpr auto compute_atom_hashes() {
  constexpr auto& s = spec_v<Flow>;
  slot_type_names<s.size.inputs, s.size.outputs, s.size.atoms> types{};
  visit_atom_types<Flow>(types);
  std::array<std::uint32_t, s.size.atoms + 1> hashes{};
  for (std::size_t a = 0; a < s.size.atoms; ++a) {
    const atom_entry& atom = s.atoms[a];
    fnv1a_hash h;
    h.text(atom.label);
    h.text(s.nodes[s.nodes[atom.node].parent].label);
    h.text(types.retry_kinds[a]);
    hash_slots(h, s, types, atom);
    hashes[a] = static_cast<std::uint32_t>(h.value ^ (h.value >> 32));
  }
  return hashes;
}

}  // namespace detail

/// A 64-bit hash of the flow's structure (atoms, nesting, slots and their types, links), computed
/// at compile time; a checkpoint of a flow with another hash is refused on resume. Stable across
/// builds with one compiler; GCC and clang give different hashes.
template <flow_like Flow>
inline constexpr std::uint64_t structural_hash = detail::compute_structural_hash<Flow>();

namespace detail {
template <flow_like Flow>
inline constexpr auto atom_hashes = compute_atom_hashes<Flow>();
}  // namespace detail

}  // namespace flowkit
