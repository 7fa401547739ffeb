#pragma once
// Where each input of a flow bound to a store gets its value, decided at compile time: an atom's
// output, the store, the task itself (inject) or the task's default. Also the engine-time wiring
// checks: inputs that nothing provides, store values of the wrong type, required inputs that a
// decider may leave without a value, unknown result names.

#include <flowkit/core/store.hpp>
#include <flowkit/flow/atom_graph.hpp>
#include <flowkit/flow/check.hpp>

#include <cstddef>
#include <string_view>

namespace flowkit::detail {

enum class source_kind : unsigned char { atom_output, store, task_value, missing };

struct input_source {
  source_kind kind = source_kind::missing;
  std::size_t atom = npos;   // producer atom, for atom_output
  std::size_t index = npos;  // the producer's output index, or the store's value index
  // When the producer has no result (a decider ignored it): the store's value index, or npos;
  // and whether the task's default may stand in.
  std::size_t fallback_store = npos;
  bool fallback_default = false;
};

template <class Store>
struct store_types;
template <class Names, class... Values>
struct store_types<store_t<Names, Values...>> {
  static constexpr std::array<type_id, sizeof...(Values) + 1> ids{type_id_of<Values>..., nullptr};
};

template <class Flow, class Store>
constexpr input_source source_of(std::size_t input) {
  constexpr auto& s = spec_v<Flow>;
  constexpr auto& an = analysis_v<Flow>;
  const provider p = an.producers[input];
  const input_entry& in = s.inputs[input];
  if (p.found()) {
    const std::size_t at = Store::index_of(in.slot);
    return {source_kind::atom_output, p.atom, p.output - s.atoms[p.atom].output_begin, at < Store::size ? at : npos,
            in.kind == input_kind::optional};
  }
  if (in.kind == input_kind::injected) return {source_kind::task_value};
  if (std::size_t at = Store::index_of(in.slot); at < Store::size) return {source_kind::store, npos, at};
  if (in.kind == input_kind::optional) return {source_kind::task_value};
  return {};
}

// The first input that nothing provides, or whose store value has the wrong type.
template <class Flow, class Store>
constexpr std::pair<std::size_t, std::size_t> first_unbound_input() {
  constexpr auto& s = spec_v<Flow>;
  for (std::size_t a = 0; a < s.size.atoms; ++a)
    for (std::size_t i = s.atoms[a].input_begin; i < s.atoms[a].input_end; ++i) {
      const input_source src = source_of<Flow, Store>(i);
      if (src.kind == source_kind::missing) return {a, i};
      if (src.kind == source_kind::store && store_types<Store>::ids[src.index] != s.inputs[i].type) return {a, i};
      if (src.fallback_store != npos && store_types<Store>::ids[src.fallback_store] != s.inputs[i].type) return {a, i};
    }
  return {npos, npos};
}

// Tests only: lets a flow through the check that no decider leaves a required input without a
// value, so that the engine's guard for it at run time can be exercised.
template <class Flow>
inline constexpr bool unchecked_decider_inputs = false;

template <class Flow>
inline constexpr bool has_decider_links_v = [] {
  for (std::size_t l = 0; l < spec_v<Flow>.size.links; ++l)
    if (spec_v<Flow>.links[l].has_decider) return true;
  return false;
}();

// The first input that a decider may leave without a value while its consumer runs: its
// producer is in the reach of a decider link that its consumer is not in (flow/atom_graph.hpp),
// it needs its slot (it is not optional) and the store holds no value to stand in. Returns the
// input and the link, or npos. Flows without deciders compute nothing.
template <class Flow, class Store>
constexpr std::pair<std::size_t, std::size_t> first_input_a_decider_may_empty() {
  if constexpr (!has_decider_links_v<Flow> || unchecked_decider_inputs<Flow>) {
    return {npos, npos};
  } else {
    constexpr auto& s = spec_v<Flow>;
    constexpr auto& link_of = inputs_a_decider_may_empty_v<Flow>;
    for (std::size_t i = 0; i < s.size.inputs; ++i)
      if (link_of[i] != npos && !Store::contains(s.inputs[i].slot)) return {i, link_of[i]};
    return {npos, npos};
  }
}

// Instantiates the diagnostic for an input that a decider may leave without a value.
template <class Flow, class Store>
constexpr void report_decider_inputs() {
  constexpr auto found = first_input_a_decider_may_empty<Flow, Store>();
  if constexpr (found.first != npos) {
    constexpr auto& s = spec_v<Flow>;
    constexpr std::size_t consumer = [&] {
      std::size_t a = 0;
      while (s.atoms[a].input_end <= found.first) ++a;
      return a;
    }();
    constexpr std::string_view slot = s.inputs[found.first].slot;
    constexpr std::string_view task = s.atoms[consumer].label;
    constexpr std::string_view provider = s.atoms[analysis_v<Flow>.producers[found.first].atom].label;
    constexpr std::string_view from = s.links[found.second].from;
    constexpr std::string_view to = s.links[found.second].to;
    (void)diagnostic::decider_ignores_input<
        shown<name_from<slot.size()>(slot)>, shown<name_from<task.size()>(task)>,
        shown<name_from<provider.size()>(provider)>, shown<name_from<from.size()>(from)>,
        shown<name_from<to.size()>(to)>>{};
  }
}

template <class Flow, class Store>
constexpr bool bindings_wired() {
  if constexpr (!flow_wired<Flow>)
    return false;
  else
    return first_unbound_input<Flow, Store>().first == npos &&
           first_input_a_decider_may_empty<Flow, Store>().first == npos;
}

// Instantiates the diagnostic for the first wiring error of the flow, or else of its bindings.
template <class Flow, class Store>
constexpr void report_bindings() {
  if constexpr (!flow_wired<Flow>) {
    report_flow<Flow>();
  } else {
    constexpr auto unbound = first_unbound_input<Flow, Store>();
    if constexpr (unbound.first == npos) {
      report_decider_inputs<Flow, Store>();
    } else {
      constexpr auto& s = spec_v<Flow>;
      constexpr std::string_view slot = s.inputs[unbound.second].slot;
      constexpr std::string_view task = s.atoms[unbound.first].label;
      constexpr auto slot_name = name_from<slot.size()>(slot);
      constexpr auto task_name = name_from<task.size()>(task);
      constexpr input_source src = source_of<Flow, Store>(unbound.second);
      if constexpr (src.kind == source_kind::missing) {
        (void)diagnostic::missing_input<shown<slot_name>, shown<task_name>>{};
      } else {
        using consumer = atom_type<Flow, unbound.first>;
        using expected =
            typename consumer::template input_type<unbound.second - s.atoms[unbound.first].input_begin>;
        constexpr std::size_t at = src.kind == source_kind::store ? src.index : src.fallback_store;
        using stored = std::remove_cvref_t<decltype(std::declval<const Store&>().template value<at>())>;
        (void)diagnostic::store_type_mismatch<shown<slot_name>, shown<task_name>, expected, stored>{};
      }
    }
  }
}

// Where `get<slot>()` reads a flow's result: the root's provider of the slot, else the store.
template <class Flow, class Store>
constexpr input_source result_source(std::string_view slot) {
  constexpr auto& s = spec_v<Flow>;
  const provider p = export_of(s, 0, slot);
  if (p.ambiguous()) return {};
  if (p.found()) return {source_kind::atom_output, p.atom, p.output - s.atoms[p.atom].output_begin};
  if (std::size_t at = Store::index_of(slot); at < Store::size) return {source_kind::store, npos, at};
  return {};
}

template <class Flow, class Store, name Slot>
inline constexpr bool result_known = result_source<Flow, Store>(Slot.view()).kind != source_kind::missing;

// Instantiates the diagnostic for a get<Slot>() that the flow cannot answer.
template <class Flow, class Store, name Slot>
constexpr void report_result_name() {
  if constexpr (!result_known<Flow, Store, Slot>) {
    constexpr provider p = export_of(spec_v<Flow>, 0, Slot.view());
    if constexpr (p.ambiguous()) {
      constexpr std::string_view a = spec_v<Flow>.atoms[p.atom].label;
      constexpr std::string_view b = spec_v<Flow>.atoms[p.second].label;
      (void)diagnostic::duplicate_provider<shown<Slot>, shown<Flow::name>, shown<name_from<a.size()>(a)>,
                                           shown<name_from<b.size()>(b)>>{};
    } else {
      (void)diagnostic::unknown_result<shown<Slot>, shown<Flow::name>>{};
    }
  }
}

}  // namespace flowkit::detail
