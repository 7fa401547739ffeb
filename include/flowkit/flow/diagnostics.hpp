#pragma once
// Wiring errors, one class template each. The first `error:` line says what is wrong in words;
// the note under it names the slot and the task, e.g.
//   note: 'flowkit::diagnostic::missing_input<flowkit::name<9>{"order_id"}, flowkit::name<6>{"fetch"}>'
// An error here means the flow named in the note is wired wrongly: read the note, not this file.

#include <flowkit/core/name.hpp>
#include <flowkit/detail/type_at.hpp>

namespace flowkit::diagnostic {

// missing_input<slot, task>
template <name Slot, name Task>
struct missing_input {
  static_assert(detail::always_false<missing_input>,
                "flowkit: a task's input is produced by no task before it and is not in the "
                "engine's store (the note names the slot, then the task)");
};

// type_mismatch<slot, task, what the task takes, what its producer makes>
template <name Slot, name Task, class Expected, class Produced>
struct type_mismatch {
  static_assert(detail::always_false<type_mismatch>,
                "flowkit: a task's input has another type than the output that feeds it (the note "
                "names the slot, the task, the type it takes, then the type produced)");
};

// duplicate_provider<slot, task, provider, other provider>
template <name Slot, name Task, name Provider, name OtherProvider>
struct duplicate_provider {
  static_assert(detail::always_false<duplicate_provider>,
                "flowkit: two tasks equally near a consumer provide the slot it reads, so which "
                "one feeds it is ambiguous (the note names the slot, the consumer, then both "
                "providers)");
};

// unordered_dependency<slot, task, provider>
template <name Slot, name Task, name Provider>
struct unordered_dependency {
  static_assert(detail::always_false<unordered_dependency>,
                "flowkit: a task of an unordered flow reads a slot that its sibling provides, but "
                "siblings of an unordered flow may not depend on each other (the note names the "
                "slot, the task, then its sibling)");
};

// cycle<from, to, slot>: `to` depends on `from` through `slot` ("" for an fk::link), and
// `from` depends on `to` again.
template <name From, name To, name Slot>
struct cycle {
  static_assert(detail::always_false<cycle>,
                "flowkit: the dependencies between the children of a graph flow form a cycle (the "
                "note names two of its members and the slot between them, empty for an fk::link)");
};

// unknown_link_end<end, graph flow>
template <name End, name Flow>
struct unknown_link_end {
  static_assert(detail::always_false<unknown_link_end>,
                "flowkit: an fk::link names no child of its graph flow (the note names the link "
                "end, then the flow)");
};

// decider_needs_atom<link start, graph flow>
template <name From, name Flow>
struct decider_needs_atom {
  static_assert(detail::always_false<decider_needs_atom>,
                "flowkit: a decider link starts at a flow, but a decider reads the result of one "
                "atom (the note names the link's start, then the graph flow)");
};

// decider_ignores_input<slot, task, provider, link from, link to>
template <name Slot, name Task, name Provider, name LinkFrom, name LinkTo>
struct decider_ignores_input {
  static_assert(detail::always_false<decider_ignores_input>,
                "flowkit: a decider may ignore the task that provides an input while the task that "
                "needs the input still runs; widen the link's depth to reach that task, make the "
                "input optional, or give the store a value for it (the note names the slot, the "
                "task, the provider, then the link's ends)");
};

// duplicate_atom_name<task>
template <name Task>
struct duplicate_atom_name {
  static_assert(detail::always_false<duplicate_atom_name>,
                "flowkit: two atoms of one flow have the same name; names identify atoms in "
                "results, checkpoints and links (the note names it)");
};

// store_type_mismatch<slot, task, what the task takes, what the store holds>
template <name Slot, name Task, class Expected, class Stored>
struct store_type_mismatch {
  static_assert(detail::always_false<store_type_mismatch>,
                "flowkit: a store value has another type than the task input that reads it (the "
                "note names the slot, the task, the type it takes, then the store's type)");
};

// unknown_result<slot, flow>
template <name Slot, name Flow>
struct unknown_result {
  static_assert(detail::always_false<unknown_result>,
                "flowkit: get<name>() reads a slot that the flow does not produce and the store "
                "does not hold (the note names the slot, then the flow)");
};

// unknown_retry<name, flow>
template <name Retry, name Flow>
struct unknown_retry {
  static_assert(detail::always_false<unknown_retry>,
                "flowkit: history<name>() names no retry controller of the flow; a flow's "
                "controller is named \"<flow>_retry\" (the note names the name, then the flow)");
};

}  // namespace flowkit::diagnostic
