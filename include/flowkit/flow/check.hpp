#pragma once
// Turns the analysis' first error into one compile error that names the slot and the task.

#include <flowkit/flow/analysis.hpp>
#include <flowkit/flow/diagnostics.hpp>

namespace flowkit::detail {

template <const std::string_view& Text>
inline constexpr auto name_v = name_from<Text.size()>(Text);

template <class Flow, std::size_t Atom, std::size_t Input>
inline constexpr std::size_t input_of_atom = Input - spec_v<Flow>.atoms[Atom].input_begin;

template <class Flow, std::size_t Atom, std::size_t Output>
inline constexpr std::size_t output_of_atom = Output - spec_v<Flow>.atoms[Atom].output_begin;

// True when the flow is wired right; otherwise instantiates the diagnostic for its first error.
template <class Flow>
constexpr bool check_flow() {
  constexpr auto& s = spec_v<Flow>;
  constexpr diagnosis d = analysis_v<Flow>.error;
  if constexpr (d.error == flow_error::none) {
    return true;
  } else {
    constexpr std::string_view task = d.atom != npos ? s.atoms[d.atom].label : std::string_view{};
    constexpr std::string_view other = d.other != npos ? s.atoms[d.other].label : std::string_view{};
    constexpr auto task_name = name_from<task.size()>(task);
    constexpr auto other_name = name_from<other.size()>(other);
    constexpr auto slot = name_from<d.slot.size()>(d.slot);
    if constexpr (d.error == flow_error::duplicate_atom_name) {
      (void)diagnostic::duplicate_atom_name<task_name>{};
    } else if constexpr (d.error == flow_error::unknown_link_end) {
      constexpr std::string_view flow = s.nodes[d.node].label;
      (void)diagnostic::unknown_link_end<slot, name_from<flow.size()>(flow)>{};
    } else if constexpr (d.error == flow_error::unordered_dependency) {
      (void)diagnostic::unordered_dependency<slot, task_name, other_name>{};
    } else if constexpr (d.error == flow_error::duplicate_provider) {
      constexpr std::string_view second = s.atoms[d.node].label;
      (void)diagnostic::duplicate_provider<slot, task_name, other_name, name_from<second.size()>(second)>{};
    } else if constexpr (d.error == flow_error::type_mismatch) {
      using consumer = atom_type<Flow, d.atom>;
      using producer = atom_type<Flow, d.other>;
      using expected = typename consumer::template input_type<input_of_atom<Flow, d.atom, d.input>>;
      using produced = typename producer::template output_type<output_of_atom<Flow, d.other, d.output>>;
      (void)diagnostic::type_mismatch<slot, task_name, expected, produced>{};
    } else if constexpr (d.error == flow_error::decider_needs_atom) {
      constexpr std::string_view flow = s.nodes[d.node].label;
      (void)diagnostic::decider_needs_atom<slot, name_from<flow.size()>(flow)>{};
    } else if constexpr (d.error == flow_error::cycle) {
      constexpr std::string_view from = s.nodes[d.node].label;
      constexpr std::string_view to = s.nodes[d.other_node].label;
      (void)diagnostic::cycle<name_from<from.size()>(from), name_from<to.size()>(to), slot>{};
    }
    return false;
  }
}

}  // namespace flowkit::detail
