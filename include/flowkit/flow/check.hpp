#pragma once
// Turns the analysis' first error into one compile error that names the slot and the task.
//
// Asking whether a flow is wired (`flow_wired`) and reporting why not (`report_flow`) are apart:
// clang marks a function invalid once a diagnostic fails inside it, and a constant that called it
// would fail too, adding an error per use to the one that matters.

#include <flowkit/flow/analysis.hpp>
#include <flowkit/flow/diagnostics.hpp>

namespace flowkit::detail {

template <const std::string_view& Text>
inline constexpr auto name_v = name_from<Text.size()>(Text);

template <class Flow, std::size_t Atom, std::size_t Input>
inline constexpr std::size_t input_of_atom = Input - spec_v<Flow>.atoms[Atom].input_begin;

template <class Flow, std::size_t Atom, std::size_t Output>
inline constexpr std::size_t output_of_atom = Output - spec_v<Flow>.atoms[Atom].output_begin;

template <class Flow>
inline constexpr bool flow_wired = analysis_v<Flow>.error.ok();

// Instantiates the diagnostic for the flow's first error, if it has one.
template <class Flow>
constexpr void report_flow() {
  constexpr auto& s = spec_v<Flow>;
  constexpr diagnosis d = analysis_v<Flow>.error;
  if constexpr (d.error != flow_error::none) {
    constexpr std::string_view task = d.atom != npos ? s.atoms[d.atom].label : std::string_view{};
    constexpr std::string_view other = d.other != npos ? s.atoms[d.other].label : std::string_view{};
    constexpr auto task_name = name_from<task.size()>(task);
    constexpr auto other_name = name_from<other.size()>(other);
    constexpr auto slot = name_from<d.slot.size()>(d.slot);
    if constexpr (d.error == flow_error::duplicate_atom_name) {
      (void)diagnostic::duplicate_atom_name<shown<task_name>>{};
    } else if constexpr (d.error == flow_error::unknown_link_end) {
      constexpr std::string_view flow = s.nodes[d.node].label;
      (void)diagnostic::unknown_link_end<shown<slot>, shown<name_from<flow.size()>(flow)>>{};
    } else if constexpr (d.error == flow_error::unordered_dependency) {
      (void)diagnostic::unordered_dependency<shown<slot>, shown<task_name>, shown<other_name>>{};
    } else if constexpr (d.error == flow_error::duplicate_provider) {
      constexpr std::string_view second = s.atoms[d.node].label;
      (void)diagnostic::duplicate_provider<shown<slot>, shown<task_name>, shown<other_name>,
                                           shown<name_from<second.size()>(second)>>{};
    } else if constexpr (d.error == flow_error::type_mismatch) {
      using consumer = atom_type<Flow, d.atom>;
      using producer = atom_type<Flow, d.other>;
      using expected = typename consumer::template input_type<input_of_atom<Flow, d.atom, d.input>>;
      using produced = typename producer::template output_type<output_of_atom<Flow, d.other, d.output>>;
      (void)diagnostic::type_mismatch<shown<slot>, shown<task_name>, expected, produced>{};
    } else if constexpr (d.error == flow_error::decider_needs_atom) {
      constexpr std::string_view flow = s.nodes[d.node].label;
      (void)diagnostic::decider_needs_atom<shown<slot>, shown<name_from<flow.size()>(flow)>>{};
    } else if constexpr (d.error == flow_error::cycle) {
      constexpr std::string_view from = s.nodes[d.node].label;
      constexpr std::string_view to = s.nodes[d.other_node].label;
      (void)diagnostic::cycle<shown<name_from<from.size()>(from)>, shown<name_from<to.size()>(to)>,
                              shown<slot>>{};
    }
  }
}

}  // namespace flowkit::detail
