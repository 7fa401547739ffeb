#pragma once
// Listeners see what an engine does: every flow transition, every atom transition (in order for
// each atom) and every progress report. A listener is any object with some of these hooks:
//
//   void on_flow(const fk::flow_event&);
//   void on_atom(const fk::atom_event&);
//   void on_progress(const fk::progress_event&);
//
// The engine calls them one at a time (never concurrently, even on a thread pool), so a listener
// needs no locking of its own; it must not throw and should be quick.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/states.hpp>

#include <cstddef>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowkit {

/// A flow's state changed.
struct flow_event {
  /// The flow's name.
  std::string_view flow;
  /// The state left and the state entered.
  flow_state from, to;
};

/// An atom's state changed.
struct atom_event {
  /// The atom's name.
  std::string_view atom;
  /// The state left and the state entered.
  atom_state from, to;
  const failure* error = nullptr;  // for FAILURE and REVERT_FAILURE
  /// The atom's place among the flow's atoms (0 to the engine's atom_count - 1): lets a listener
  /// keep per-atom state in an array instead of looking names up.
  std::size_t index = 0;
};

/// A task reported progress.
struct progress_event {
  /// The atom's name.
  std::string_view atom;
  /// The value reported, in [0, 1].
  float value;
};

/// An object with at least one of the hooks on_flow, on_atom, on_progress (see above).
template <class L>
concept listener = requires(L& l, const flow_event& f) { l.on_flow(f); } ||
                   requires(L& l, const atom_event& a) { l.on_atom(a); } ||
                   requires(L& l, const progress_event& p) { l.on_progress(p); };

namespace detail {

// One registered listener, type-erased: an object and the hooks it has.
struct listener_entry {
  void* object = nullptr;
  void (*flow)(void*, const flow_event&) = nullptr;
  void (*atom)(void*, const atom_event&) = nullptr;
  void (*progress)(void*, const progress_event&) = nullptr;
  std::shared_ptr<void> owned;  // set when the engine keeps the listener alive

  template <class L>
  static listener_entry of(L& l) {
    listener_entry e;
    e.object = &l;
    if constexpr (requires(const flow_event& f) { l.on_flow(f); })
      e.flow = [](void* o, const flow_event& ev) { static_cast<L*>(o)->on_flow(ev); };
    if constexpr (requires(const atom_event& a) { l.on_atom(a); })
      e.atom = [](void* o, const atom_event& ev) { static_cast<L*>(o)->on_atom(ev); };
    if constexpr (requires(const progress_event& p) { l.on_progress(p); })
      e.progress = [](void* o, const progress_event& ev) { static_cast<L*>(o)->on_progress(ev); };
    return e;
  }
};

}  // namespace detail
}  // namespace flowkit
