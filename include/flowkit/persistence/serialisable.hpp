#pragma once
// fk::serialisable<T>: whether a checkpoint can hold a T, that is whether Boost.Serialization
// writes and reads it with flowkit's archives (persistence/serialization.hpp). True for
//   - arithmetic types and enums; std::string; std::monostate (a void task's result);
//   - std::vector, std::deque, std::list, std::set, std::multiset, std::map, std::multimap,
//     std::array, std::pair and std::tuple of serialisable types; fk::store_t of them;
//   - a class with a member `serialize(Archive&, unsigned)` (public, or private behind
//     `friend class boost::serialization::access`; split save()/load() members come with one
//     through BOOST_SERIALIZATION_SPLIT_MEMBER());
//   - a class with a free `serialize(Archive&, T&, unsigned)` in its own namespace or in
//     boost::serialization (BOOST_SERIALIZATION_SPLIT_FREE(T) declares one there);
//   - any type for which the user specialises fk::enable_serialisable:
//       template <> inline constexpr bool fk::enable_serialisable<my_type> = true;
// Boost's own catch-all boost::serialization::serialize(ar, t, version) takes any T and fails
// only in its body, so "does serialize(ar, t, v) compile" says nothing: each case is detected
// explicitly, and a container is serialisable when its elements are.
//
// And the engine's check: with a checkpoint backend, every value it stores for an atom (each output
// of a task, a retry controller's value) must be serialisable. `outputs_serialisable<Flow>()` asks;
// `report_unserialisable_output<Flow>()` turns the first offender into one compile error that
// names the task and the slot (flow/diagnostics.hpp).

#include <flowkit/core/store.hpp>
#include <flowkit/core/task.hpp>
#include <flowkit/engine/atom_thunks.hpp>
#include <flowkit/flow/diagnostics.hpp>
#include <flowkit/flow/retry.hpp>
#include <flowkit/flow/spec.hpp>
#include <flowkit/persistence/serialization.hpp>

#include <boost/serialization/array.hpp>
#include <boost/serialization/deque.hpp>
#include <boost/serialization/list.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/nvp.hpp>
#include <boost/serialization/serialization.hpp>
#include <boost/serialization/set.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

#include <array>
#include <cstddef>
#include <deque>
#include <list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

// Boost 1.74 serialises neither std::tuple nor std::monostate. Later Boosts serialise
// std::monostate in <boost/serialization/std_variant.hpp>: that one is used where it exists.
#if __has_include(<boost/serialization/std_variant.hpp>)
#include <boost/serialization/std_variant.hpp>
#define FLOWKIT_BOOST_HAS_MONOSTATE 1
#endif

namespace boost::serialization {

template <class Archive, class... Ts>
void serialize(Archive& ar, std::tuple<Ts...>& t, const unsigned int /*version*/) {
  std::apply([&](auto&... element) { ((ar & boost::serialization::make_nvp("element", element)), ...); }, t);
}

#ifndef FLOWKIT_BOOST_HAS_MONOSTATE
template <class Archive>
void serialize(Archive& /*ar*/, std::monostate& /*nothing*/, const unsigned int /*version*/) {}
#endif

}  // namespace boost::serialization

#undef FLOWKIT_BOOST_HAS_MONOSTATE

namespace flowkit {

/// Specialise as true for a type that Boost.Serialization handles in a way fk::serialisable does
/// not detect.
template <class T>
inline constexpr bool enable_serialisable = false;

namespace detail {

template <class T>
struct serialisable_impl;

template <class T>
inline constexpr bool serialisable_v =
    enable_serialisable<std::remove_cv_t<T>> || serialisable_impl<std::remove_cv_t<T>>::value;

// A member named `serialize`, whatever its access (Boost's tutorial makes it private and befriends
// boost::serialization::access): naming it in a class that also inherits one from
// `has_serialize_member` is ambiguous exactly then.
struct has_serialize_member {
  int serialize;
};
template <class T>
struct serialize_member_probe : T, has_serialize_member {};

template <class T>
concept member_serialize = std::is_class_v<T> &&
    ((!std::is_final_v<T> && !requires { &serialize_member_probe<T>::serialize; }) ||
     requires(T & t, boost::archive::binary_oarchive& out, bounded_iarchive& in, unsigned version) {
       t.serialize(out, version);
       t.serialize(in, version);
     });

namespace free_serialize {

// Ties with Boost's catch-all boost::serialization::serialize(Archive&, T&, unsigned), so the call
// below compiles only when a more specific overload exists. The version_type argument brings
// boost::serialization into the lookup, as Boost's own call does.
template <class Archive, class T>
void serialize(Archive&, T&, const unsigned int) = delete;

template <class T>
concept found = requires(T& t, boost::archive::binary_oarchive& out, bounded_iarchive& in,
                         boost::serialization::version_type version) {
  serialize(out, t, version);
  serialize(in, t, version);
};

}  // namespace free_serialize

// A concept, so that the first case that holds answers.
template <class T>
concept boost_serialisable =
    std::is_arithmetic_v<T> || std::is_enum_v<T> || member_serialize<T> || free_serialize::found<T>;

template <class T>
struct serialisable_impl : std::bool_constant<boost_serialisable<T>> {};

template <class... Ts>
struct all_serialisable : std::bool_constant<(serialisable_v<Ts> && ...)> {};

template <>
struct serialisable_impl<std::string> : std::true_type {};
template <>
struct serialisable_impl<std::monostate> : std::true_type {};
template <class T, class A>
struct serialisable_impl<std::vector<T, A>> : all_serialisable<T> {};
template <class T, class A>
struct serialisable_impl<std::deque<T, A>> : all_serialisable<T> {};
template <class T, class A>
struct serialisable_impl<std::list<T, A>> : all_serialisable<T> {};
template <class T, class C, class A>
struct serialisable_impl<std::set<T, C, A>> : all_serialisable<T> {};
template <class T, class C, class A>
struct serialisable_impl<std::multiset<T, C, A>> : all_serialisable<T> {};
template <class K, class V, class C, class A>
struct serialisable_impl<std::map<K, V, C, A>> : all_serialisable<K, V> {};
template <class K, class V, class C, class A>
struct serialisable_impl<std::multimap<K, V, C, A>> : all_serialisable<K, V> {};
template <class T, std::size_t N>
struct serialisable_impl<std::array<T, N>> : all_serialisable<T> {};
template <class T, class U>
struct serialisable_impl<std::pair<T, U>> : all_serialisable<T, U> {};
template <class... Ts>
struct serialisable_impl<std::tuple<Ts...>> : all_serialisable<Ts...> {};
template <class Names, class... Values>
struct serialisable_impl<store_t<Names, Values...>> : all_serialisable<Values...> {};

}  // namespace detail

/// Whether flowkit can write a T into a checkpoint with Boost.Serialization: arithmetic types,
/// enums, classes with serialize(), std containers of those, or enable_serialisable<T>.
template <class T>
concept serialisable = detail::serialisable_v<T>;

namespace detail {

// The first value of an atom that is not serialisable: its output (0 for a retry controller's
// value, or the result of a task that names no output) and the slot's name.
struct unserialisable_output {
  std::size_t atom = npos;
  std::size_t output = npos;
  std::string_view slot;
};

// The output of Task whose type is not serialisable, or npos.
template <class Task>
constexpr std::size_t first_unserialisable_slot() {
  if constexpr (retry_atom<Task>) {
    return serialisable<typename Task::value_type> ? npos : 0;
  } else if constexpr (std::is_void_v<typename Task::result_type>) {
    return npos;
  } else if constexpr (Task::output_count <= 1) {
    return serialisable<typename Task::result_type> ? npos : 0;
  } else {
    return []<std::size_t... K>(std::index_sequence<K...>) {
      constexpr std::array<bool, sizeof...(K)> ok{serialisable<typename Task::template output_type<K>>...};
      for (std::size_t k = 0; k < ok.size(); ++k)
        if (!ok[k]) return k;
      return npos;
    }
    (std::make_index_sequence<Task::output_count>{});
  }
}

struct find_unserialisable_output {
  unserialisable_output found{};
  std::size_t at = 0;

  template <class Task>
  constexpr void operator()() {
    if (found.atom == npos) {
      if (constexpr std::size_t k = first_unserialisable_slot<Task>(); k != npos) {
        found.atom = at;
        found.output = k;
        if constexpr (Task::output_count == 0)
          found.slot = retry_atom<Task> ? "value" : "result";
        else
          found.slot = Task::output_names[k];
      }
    }
    ++at;
  }
};

template <class Flow>
inline constexpr unserialisable_output unserialisable_output_v = [] {
  find_unserialisable_output find{};
  for_each_task_type<Flow>(find);
  return find.found;
}();

// Whether every value the engine stores for Flow's atoms is serialisable.
template <class Flow>
constexpr bool outputs_serialisable() {
  return unserialisable_output_v<Flow>.atom == npos;
}

// Instantiates diagnostic::output_not_serialisable for the flow's first value that is not
// serialisable, if it has one.
template <class Flow>
constexpr void report_unserialisable_output() {
  constexpr unserialisable_output found = unserialisable_output_v<Flow>;
  if constexpr (found.atom != npos) {
    using task = atom_type<Flow, found.atom>;
    using type = typename task::template output_type<found.output>;
    constexpr auto slot = name_from<found.slot.size()>(found.slot);
    (void)diagnostic::output_not_serialisable<shown<task::name>, shown<slot>, type>{};
  }
}

}  // namespace detail
}  // namespace flowkit
