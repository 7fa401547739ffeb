#pragma once
// fk::engine binds a flow to its store and runs it. Everything about wiring was decided by the
// compiler; at run time an atom's inputs are references into typed result storage, found by
// compile-time indices (no std::any, no string lookups, no allocation per task).
//
//   fk::engine eng{flow, fk::store<"order_id">(42)};
//   auto r = eng.run();                       // serial, on the calling thread
//   const std::string& t = r.get<"tracking">();

#include <flowkit/core/failure.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/core/store.hpp>
#include <flowkit/engine/bindings.hpp>
#include <flowkit/engine/run_result.hpp>
#include <flowkit/flow/atom_graph.hpp>

#include <boost/hana/at.hpp>
#include <boost/hana/basic_tuple.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace flowkit {

namespace detail {

// What an atom's execute left behind: its result (an empty marker for void).
template <class Task>
using result_slot = std::optional<
    std::conditional_t<std::is_void_v<typename Task::result_type>, std::monostate, typename Task::result_type>>;

template <class Flow, class Indices>
struct results_of;
template <class Flow, std::size_t... Is>
struct results_of<Flow, std::index_sequence<Is...>> {
  using type = boost::hana::basic_tuple<result_slot<atom_type<Flow, Is>>...>;
};

}  // namespace detail

template <flow_like Flow, class Store = store_t<names<>>>
class engine {
  static_assert(is_store_v<Store>, "fk::engine{flow, store}: the second argument is made by fk::store<...>(...)");

  static constexpr auto& spec = detail::spec_v<Flow>;
  static constexpr bool wired = detail::check_bindings<Flow, Store>();

 public:
  using flow_type = Flow;
  using store_type = Store;
  static constexpr std::size_t atom_count = spec.size.atoms;

  explicit engine(Flow flow, Store store = {}) : flow_(std::move(flow)), store_(std::move(store)) {
    states_.fill(atom_state::pending);
  }

  // Runs the flow to its end on the calling thread, atoms in one fixed topological order.
  run_result<engine> run() {
    if constexpr (wired) {
      failures_.clear();
      flow_state_ = flow_state::running;
      for (std::size_t i = 0; i < atom_count; ++i) {
        const std::size_t atom = detail::analysis_v<Flow>.order[i];
        if (states_[atom] == atom_state::success) continue;
        states_[atom] = atom_state::running;
        try {
          execute_table[atom](*this);
          states_[atom] = atom_state::success;
        } catch (...) {
          states_[atom] = atom_state::failure;
          failures_.push_back(failure::current(spec.atoms[atom].label));
          flow_state_ = flow_state::failure;
          return run_result<engine>{*this};
        }
      }
      flow_state_ = flow_state::success;
    }
    return run_result<engine>{*this};
  }

  // A result by slot name: the output of the flow's last provider of it, else the store's value.
  // Undefined unless that provider ran (see has<name>()).
  template <name Slot>
  const auto& get() const {
    constexpr bool known = detail::check_result_name<Flow, Store, Slot>();
    if constexpr (known) {
      constexpr detail::input_source src = detail::result_source<Flow, Store>(Slot.view());
      if constexpr (src.kind == detail::source_kind::store)
        return store_.template value<src.index>();
      else
        return output<src.atom, src.index>();
    }
  }

  // Whether get<name>() has a value to give now.
  template <name Slot>
  bool has() const noexcept {
    constexpr bool known = detail::check_result_name<Flow, Store, Slot>();
    if constexpr (known) {
      constexpr detail::input_source src = detail::result_source<Flow, Store>(Slot.view());
      if constexpr (src.kind == detail::source_kind::store)
        return true;
      else
        return boost::hana::at_c<src.atom>(results_).has_value();
    } else {
      return false;
    }
  }

  atom_state state_of(std::string_view atom) const {
    for (std::size_t a = 0; a < atom_count; ++a)
      if (spec.atoms[a].label == atom) return states_[a];
    throw std::out_of_range("flowkit: no atom named '" + std::string(atom) + "' in flow '" +
                            std::string(Flow::name.view()) + "'");
  }
  flow_state state() const noexcept { return flow_state_; }
  const std::vector<failure>& failures() const noexcept { return failures_; }
  const Flow& flow() const noexcept { return flow_; }
  const Store& store() const noexcept { return store_; }

 private:
  template <std::size_t Atom, std::size_t Output>
  const auto& output() const {
    using task = detail::atom_type<Flow, Atom>;
    const auto& result = *boost::hana::at_c<Atom>(results_);
    if constexpr (task::output_count == 1)
      return result;
    else
      return std::get<Output>(result);
  }

  template <std::size_t Atom, std::size_t Input>
  const auto& input() const {
    constexpr detail::input_source src = detail::source_of<Flow, Store>(spec.atoms[Atom].input_begin + Input);
    if constexpr (src.kind == detail::source_kind::atom_output)
      return output<src.atom, src.index>();
    else if constexpr (src.kind == detail::source_kind::store)
      return store_.template value<src.index>();
    else
      return detail::atom_object<const Flow, Atom>(flow_).template bound_value<Input>();
  }

  template <std::size_t Atom>
  static void execute_atom(engine& self) {
    auto& task = detail::atom_object<Flow, Atom>(self.flow_);
    using task_type = std::remove_cvref_t<decltype(task)>;
    auto fetch = [&self]<std::size_t Input>(std::integral_constant<std::size_t, Input>) -> decltype(auto) {
      return self.template input<Atom, Input>();
    };
    progress report{};
    auto& slot = boost::hana::at_c<Atom>(self.results_);
    if constexpr (std::is_void_v<typename task_type::result_type>) {
      task.execute(fetch, self.stop_.get_token(), report);
      slot.emplace();
    } else {
      slot.emplace(task.execute(fetch, self.stop_.get_token(), report));
    }
  }

  using atom_function = void (*)(engine&);
  static constexpr auto execute_table = []<std::size_t... Is>(std::index_sequence<Is...>) {
    return std::array<atom_function, atom_count>{&engine::execute_atom<Is>...};
  }(std::make_index_sequence<atom_count>{});

  Flow flow_;
  Store store_;
  typename detail::results_of<Flow, std::make_index_sequence<atom_count>>::type results_{};
  std::array<atom_state, atom_count> states_{};
  flow_state flow_state_ = flow_state::pending;
  std::vector<failure> failures_;
  std::stop_source stop_;
};

template <flow_like Flow>
engine(Flow) -> engine<Flow>;
template <flow_like Flow, class Store>
engine(Flow, Store) -> engine<Flow, Store>;

}  // namespace flowkit
