#pragma once
// Where each input of a flow bound to a store gets its value, decided at compile time: an atom's
// output, the store, the task itself (inject) or the task's default. Also the engine-time wiring
// checks: inputs that nothing provides, store values of the wrong type, unknown result names.

#include <flowkit/core/store.hpp>
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

template <class Flow, class Store>
constexpr bool bindings_wired() {
  if constexpr (!flow_wired<Flow>)
    return false;
  else
    return first_unbound_input<Flow, Store>().first == npos;
}

// Instantiates the diagnostic for the first wiring error of the flow, or else of its bindings.
template <class Flow, class Store>
constexpr void report_bindings() {
  if constexpr (!flow_wired<Flow>) {
    report_flow<Flow>();
  } else {
    constexpr auto unbound = first_unbound_input<Flow, Store>();
    if constexpr (unbound.first != npos) {
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
