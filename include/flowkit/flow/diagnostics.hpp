#pragma once
// Wiring errors, one class template each. The first `error:` line says what is wrong in words;
// the note under it names the slot and the task, e.g.
//   note: 'flowkit::diagnostic::missing_input<flowkit::name<9>{"order_id"}, flowkit::name<6>{"fetch"}>'
// An error here means the flow named in the note is wired wrongly: read the note, not this file.
//
// GCC prints a name template argument as a string ({"order_id"}); clang 14 prints its character
// codes ({{111, 114, ...}}), and an empty struct argument as `{}`. So a diagnostic takes each name
// as `shown<name>`: with GCC the name itself, with clang the type `chars<'o', 'r', 'd', 'e', 'r',
// '_', 'i', 'd'>`, which it prints character by character. Hence a name parameter is a value with
// GCC and a type with clang (FLOWKIT_SHOWN_NAME, undefined at the end of this file).

#include <cstddef>
#include <utility>

#include <flowkit/core/name.hpp>
#include <flowkit/detail/type_at.hpp>

namespace flowkit {

/// A name spelled as a pack of characters, for compilers that print names as numbers.
template <char... Chars>
struct chars {};

namespace detail {

#if defined(__clang__)
#define FLOWKIT_SHOWN_NAME class
template <name Name>
auto spell() {
  return []<std::size_t... I>(std::index_sequence<I...>) { return chars<Name.chars[I]...>{}; }
  (std::make_index_sequence<Name.size()>{});
}
template <name Name>
using shown = decltype(spell<Name>());
#else
#define FLOWKIT_SHOWN_NAME auto
template <name Name>
inline constexpr auto shown = Name;
#endif

}  // namespace detail
}  // namespace flowkit

namespace flowkit::diagnostic {

/// missing_input<slot, task>
template <FLOWKIT_SHOWN_NAME Slot, FLOWKIT_SHOWN_NAME Task>
struct missing_input {
  static_assert(detail::always_false<missing_input>,
                "flowkit: a task's input is produced by no task before it and is not in the "
                "engine's store (the note names the slot, then the task)");
};

/// type_mismatch<slot, task, what the task takes, what its producer makes>
template <FLOWKIT_SHOWN_NAME Slot, FLOWKIT_SHOWN_NAME Task, class Expected, class Produced>
struct type_mismatch {
  static_assert(detail::always_false<type_mismatch>,
                "flowkit: a task's input has another type than the output that feeds it (the note "
                "names the slot, the task, the type it takes, then the type produced)");
};

/// duplicate_provider<slot, task, provider, other provider>
template <FLOWKIT_SHOWN_NAME Slot, FLOWKIT_SHOWN_NAME Task, FLOWKIT_SHOWN_NAME Provider,
          FLOWKIT_SHOWN_NAME OtherProvider>
struct duplicate_provider {
  static_assert(detail::always_false<duplicate_provider>,
                "flowkit: two tasks equally near a consumer provide the slot it reads, so which "
                "one feeds it is ambiguous (the note names the slot, the consumer, then both "
                "providers)");
};

/// unordered_dependency<slot, task, provider>
template <FLOWKIT_SHOWN_NAME Slot, FLOWKIT_SHOWN_NAME Task, FLOWKIT_SHOWN_NAME Provider>
struct unordered_dependency {
  static_assert(detail::always_false<unordered_dependency>,
                "flowkit: a task of an unordered flow reads a slot that its sibling provides, but "
                "siblings of an unordered flow may not depend on each other (the note names the "
                "slot, the task, then its sibling)");
};

/// cycle<from, to, slot>: `to` depends on `from` through `slot` ("" for an fk::link), and
/// `from` depends on `to` again.
template <FLOWKIT_SHOWN_NAME From, FLOWKIT_SHOWN_NAME To, FLOWKIT_SHOWN_NAME Slot>
struct cycle {
  static_assert(detail::always_false<cycle>,
                "flowkit: the dependencies between the children of a graph flow form a cycle (the "
                "note names two of its members and the slot between them, empty for an fk::link)");
};

/// unknown_link_end<end, graph flow>
template <FLOWKIT_SHOWN_NAME End, FLOWKIT_SHOWN_NAME Flow>
struct unknown_link_end {
  static_assert(detail::always_false<unknown_link_end>,
                "flowkit: an fk::link names no child of its graph flow (the note names the link "
                "end, then the flow)");
};

/// decider_needs_atom<link start, graph flow>
template <FLOWKIT_SHOWN_NAME From, FLOWKIT_SHOWN_NAME Flow>
struct decider_needs_atom {
  static_assert(detail::always_false<decider_needs_atom>,
                "flowkit: a decider link starts at a flow, but a decider reads the result of one "
                "atom (the note names the link's start, then the graph flow)");
};

/// decider_ignores_input<slot, task, provider, link from, link to>
template <FLOWKIT_SHOWN_NAME Slot, FLOWKIT_SHOWN_NAME Task, FLOWKIT_SHOWN_NAME Provider, FLOWKIT_SHOWN_NAME LinkFrom,
          FLOWKIT_SHOWN_NAME LinkTo>
struct decider_ignores_input {
  static_assert(detail::always_false<decider_ignores_input>,
                "flowkit: a decider may ignore the task that provides an input while the task that "
                "needs the input still runs; widen the link's depth to reach that task, make the "
                "input optional, or give the store a value for it (the note names the slot, the "
                "task, the provider, then the link's ends)");
};

/// duplicate_atom_name<task>
template <FLOWKIT_SHOWN_NAME Task>
struct duplicate_atom_name {
  static_assert(detail::always_false<duplicate_atom_name>,
                "flowkit: two atoms of one flow have the same name; names identify atoms in "
                "results, checkpoints and links (the note names it)");
};

/// store_type_mismatch<slot, task, what the task takes, what the store holds>
template <FLOWKIT_SHOWN_NAME Slot, FLOWKIT_SHOWN_NAME Task, class Expected, class Stored>
struct store_type_mismatch {
  static_assert(detail::always_false<store_type_mismatch>,
                "flowkit: a store value has another type than the task input that reads it (the "
                "note names the slot, the task, the type it takes, then the store's type)");
};

/// unknown_result<slot, flow>
template <FLOWKIT_SHOWN_NAME Slot, FLOWKIT_SHOWN_NAME Flow>
struct unknown_result {
  static_assert(detail::always_false<unknown_result>,
                "flowkit: get<name>() reads a slot that the flow does not produce and the store "
                "does not hold (the note names the slot, then the flow)");
};

/// unknown_retry<name, flow>
template <FLOWKIT_SHOWN_NAME Retry, FLOWKIT_SHOWN_NAME Flow>
struct unknown_retry {
  static_assert(detail::always_false<unknown_retry>,
                "flowkit: history<name>() names no retry controller of the flow; a flow's "
                "controller is named \"<flow>_retry\" (the note names the name, then the flow)");
};

/// output_not_serialisable<task, slot, type>: with a checkpoint backend (see
/// persistence/serialisable.hpp). The slot is "value" for a retry controller that provides no
/// slot, and "result" for a task that returns a value but names no output.
template <FLOWKIT_SHOWN_NAME Task, FLOWKIT_SHOWN_NAME Slot, class Type>
struct output_not_serialisable {
  static_assert(detail::always_false<output_not_serialisable>,
                "flowkit: with a checkpoint backend, every output must be serialisable with "
                "Boost.Serialization: give the type a serialize() member or free function, or "
                "specialise fk::enable_serialisable (the note names the task, the slot, then the "
                "type)");
};

}  // namespace flowkit::diagnostic

#undef FLOWKIT_SHOWN_NAME
