#pragma once
// Deciders: a graph-flow link may carry a decider, asked with its source's result when its target
// is about to start; when it says no, the target, and what follows it by the link's depth, become
// IGNORE (intention IGNORE). Which atoms a link ignores was found at compile time
// (flow/atom_graph.hpp), the same that the engine's wiring check reasons about.

#include <flowkit/core/states.hpp>
#include <flowkit/engine/detail/run_state.hpp>
#include <flowkit/flow/analysis.hpp>
#include <flowkit/flow/atom_graph.hpp>
#include <flowkit/flow/link.hpp>

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace flowkit::detail {

template <class Flow, class Store, class Recorder>
class deciders : public run_state<Flow, Store, Recorder> {
  using base = run_state<Flow, Store, Recorder>;

 public:
  using base::base;
  using base::none;
  using base::spec;
  using base::state;
  using base::table;
  using store_by = typename base::store_by;

  static constexpr bool has_deciders = decider_checks_v<Flow>.links.size() != 1;

  // Whether a decider link aimed at this atom (or at a flow it starts) says no; if so the atom,
  // and what follows it by the link's depth, become IGNORE. Every link checked here aims at the
  // same target (a link's target has a sibling before it, so it starts no enclosing flow), so
  // the widest depth among the no's ignores the most.
  bool ignored_by_decider(std::size_t atom) {
    constexpr auto& checks = decider_checks_v<Flow>;
    if constexpr (checks.links.size() == 1) {
      return false;  // no deciders in this flow: no cost
    } else {
      int widest = -1;
      std::size_t link = none;
      for (std::size_t e = checks.begin[atom]; e < checks.begin[atom + 1]; ++e)
        if (const int d = decide_table[checks.links[e]](*this); d > widest)
          widest = d, link = checks.links[e];
      if (widest < 0) return false;
      ignore_from(link);
      return true;
    }
  }

 private:
  void ignore_from(std::size_t link) {
    constexpr auto& reach = decider_reach_v<Flow>;
    for (std::size_t e = reach.begin[link]; e < reach.begin[link + 1]; ++e) try_ignore(reach.atoms[e]);
  }

  bool try_ignore(std::size_t atom) {
    static_assert(atom_transitions(atom_state::pending, atom_state::ignore));
    atom_state from = atom_state::pending;
    return this->template transition<store_by::exchange>(atom, from, atom_state::ignore);
  }

  // The decider of link L: -1 to let its target run, else the depth to ignore by.
  template <std::size_t L>
  static int decide_link(deciders& self) {
    constexpr auto& an = analysis_v<Flow>;
    if constexpr (!spec.links[L].has_decider) {
      return -1;
    } else {
      constexpr std::size_t source = spec.nodes[an.link_from[L]].atom_begin;
      auto& link = link_object<Flow, L>(self.flow_);
      if (self.state(source) == atom_state::ignore) return -1;  // TaskFlow skips such edges
      using result = typename atom_type<Flow, source>::result_type;
      bool go;
      if constexpr (std::is_void_v<result>) {
        static_assert(
            std::is_invocable_r_v<bool, decltype(link.decider)&>,
            "fk::link<from, to>(decider): a decider after a void task takes nothing and returns bool");
        go = link.decider();
      } else {
        static_assert(
            std::is_invocable_r_v<bool, decltype(link.decider)&, const result&>,
            "fk::link<from, to>(decider): a decider takes the result of `from` (const R&) and returns bool");
        go = link.decider(self.template result_of<source>());
      }
      return go ? -1 : static_cast<int>(spec.links[L].how_far);
    }
  }

  static constexpr auto decide_table = []<std::size_t... Ls>(std::index_sequence<Ls...>) {
    if constexpr (base::wired)
      return std::array<int (*)(deciders&), sizeof...(Ls)>{&deciders::decide_link<Ls>...};
    else
      return std::array<int (*)(deciders&), sizeof...(Ls)>{};
  }(std::make_index_sequence<spec.size.links>{});
};

}  // namespace flowkit::detail
