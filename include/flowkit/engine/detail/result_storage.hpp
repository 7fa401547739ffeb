#pragma once
// An engine's storage of a run's values: the flow and the store it owns, the flow's task objects,
// each atom's result (typed, in one aligned buffer at offsets fixed at compile time), the
// pointers through which consumers read their inputs (bound once, when the engine is built, from
// the compile-time bindings of engine/bindings.hpp) and each atom's context, what its functions
// see. Nothing here allocates.

#include <flowkit/core/states.hpp>
#include <flowkit/core/store.hpp>
#include <flowkit/engine/atom_thunks.hpp>
#include <flowkit/engine/bindings.hpp>
#include <flowkit/flow/analysis.hpp>
#include <flowkit/flow/spec.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <new>
#include <string_view>
#include <utility>

namespace flowkit::detail {

template <class Flow, class Store>
class result_storage {
 public:
  static constexpr auto& spec = spec_v<Flow>;
  static constexpr auto& order = analysis_v<Flow>.order;  // the serial order, topological
  static constexpr std::size_t atom_count = spec.size.atoms;
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  static constexpr bool wired = bindings_wired<Flow, Store>();
  static constexpr auto table = make_atom_table<Flow, atom_count>();

  result_storage(Flow flow, Store store) : flow_(std::move(flow)), store_(std::move(store)) {}
  result_storage(const result_storage&) = delete;
  result_storage& operator=(const result_storage&) = delete;
  ~result_storage() {
    if constexpr (wired) clear_results();
  }

  atom_context& context_of(std::size_t atom) noexcept { return contexts_[atom]; }

  // The atom's result, which it has.
  template <std::size_t Atom>
  const auto& result_of() const noexcept {
    using stored = stored_result_t<atom_type<Flow, Atom>>;
    return *std::launder(reinterpret_cast<const stored*>(results_.data() + table.result_offset[Atom]));
  }

  // Points every input at where its value will be: an output slot, a store value, or nothing
  // (the task's own value). `states` are the atoms' states, for messages.
  void bind_inputs(const std::atomic<atom_state>* states) {
    std::size_t found = 0;
    collect_tasks(flow_, tasks_.data(), found);
    [this]<std::size_t... Ss>(std::index_sequence<Ss...>) {
      ((store_values_[Ss] = &store_.template value<Ss>()), ...);
    }(std::make_index_sequence<Store::size>{});
    static constexpr const void* nothing = nullptr;
    for (std::size_t i = 0; i < spec.size.inputs; ++i) {
      const input_source& src = sources[i];
      switch (src.kind) {
        case source_kind::atom_output:
          inputs_[i] = {&outputs_[spec.atoms[src.atom].output_begin + src.index],
                        src.fallback_store != npos ? store_values_[src.fallback_store] : nullptr, src.atom};
          break;
        case source_kind::store:
          inputs_[i] = {&store_values_[src.index], nullptr, none};
          break;
        default:
          inputs_[i] = {&nothing, nullptr, none};
      }
    }
    view_ = {labels.data(), states};
    for (std::size_t a = 0; a < atom_count; ++a) contexts_[a] = make_context(a);
  }

  void clear_results() {
    if constexpr (table.trivial_results) {
      has_result_.fill(false);
      outputs_.fill(nullptr);
    } else {
      for (std::size_t a = 0; a < atom_count; ++a) table.destroy[a](context_of(a));
    }
  }

  static constexpr auto sources = [] {
    std::array<input_source, spec.size.inputs + 1> all{};
    for (std::size_t i = 0; i < spec.size.inputs; ++i) all[i] = source_of<Flow, Store>(i);
    return all;
  }();
  static constexpr auto labels = [] {
    std::array<std::string_view, atom_count + 1> all{};
    for (std::size_t a = 0; a < atom_count; ++a) all[a] = spec.atoms[a].label;
    return all;
  }();

  Flow flow_;
  Store store_;
  std::array<void*, atom_count + 1> tasks_{};
  alignas(table.result_align) std::array<std::byte, table.result_bytes + 1> results_{};
  std::array<bool, atom_count + 1> has_result_{};
  std::array<const void*, spec.size.outputs + 1> outputs_{};
  std::array<input_ref, spec.size.inputs + 1> inputs_{};
  std::array<const void*, Store::size + 1> store_values_{};
  run_view view_{};
  std::array<atom_context, atom_count + 1> contexts_{};

 private:
  atom_context make_context(std::size_t atom) noexcept {
    return {spec.atoms[atom].label,
            tasks_[atom],
            results_.data() + table.result_offset[atom],
            &has_result_[atom],
            outputs_.data() + spec.atoms[atom].output_begin,
            inputs_.data() + spec.atoms[atom].input_begin,
            &view_};
  }
};

}  // namespace flowkit::detail
