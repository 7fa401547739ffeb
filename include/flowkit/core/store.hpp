#pragma once
// fk::store<"a", "b">(1, 2.5): the flow's inputs, named and typed. The engine reads an input from
// the store only when no task before the consumer produces it (see docs/concepts.md).

#include <flowkit/core/name.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace flowkit {

template <class Names, class... Values>
class store_t;

/// The store made by fk::store: the flow's named, typed inputs, kept by value.
template <name... Names, class... Values>
class store_t<names<Names...>, Values...> {
  static_assert(sizeof...(Names) == sizeof...(Values),
                "fk::store<names...>(values...) needs one value per name");

 public:
  /// The slots' names (fk::names<...>).
  using slot_names = names<Names...>;
  /// The values' types, in the order of the names.
  using value_types = std::tuple<Values...>;
  /// The number of values.
  static constexpr std::size_t size = sizeof...(Values);

  /// Every value default-constructed (how fk::store<>() makes the store without names).
  constexpr store_t() = default;
  /// The values, one per name, in order; fk::store is the usual way to make one.
  template <class... Args>
    requires(sizeof...(Args) == size && sizeof...(Args) > 0)
  constexpr explicit store_t(std::in_place_t, Args&&... args)
      : values_(std::forward<Args>(args)...) {}

  /// Index of a slot in this store, or size if absent.
  static constexpr std::size_t index_of(std::string_view slot) noexcept {
    for (std::size_t i = 0; i < size; ++i)
      if (slot_names::views[i] == slot) return i;
    return size;
  }
  /// Whether the store has a value for `slot`.
  static constexpr bool contains(std::string_view slot) noexcept { return index_of(slot) < size; }

  /// The I-th value.
  template <std::size_t I>
  constexpr const auto& value() const noexcept { return std::get<I>(values_); }
  template <std::size_t I>
  constexpr auto& value() noexcept { return std::get<I>(values_); }

  /// The value of slot `Slot`; naming a slot the store lacks is a compile error.
  template <name Slot>
    requires(contains(Slot.view()))
  constexpr const auto& get() const noexcept { return std::get<index_of(Slot.view())>(values_); }

  /// Every value, as a tuple.
  const value_types& values() const noexcept { return values_; }
  value_types& values() noexcept { return values_; }

 private:
  value_types values_;
};

namespace detail {
// What the store keeps of a value: the value itself, except text given as a string literal or a
// char pointer, kept as a std::string (the type tasks take text as, and one that can be
// serialised), not as a pointer to characters the store does not own.
template <class V>
using stored_value_t =
    std::conditional_t<std::is_same_v<std::decay_t<V>, const char*> || std::is_same_v<std::decay_t<V>, char*>,
                       std::string, std::decay_t<V>>;
}  // namespace detail

/// fk::store<"order_id">(42), fk::store<"a", "b">(1, "x") (text is kept as a std::string),
/// fk::store<>() for none.
template <name... Names, class... Values>
constexpr auto store(Values&&... values) {
  static_assert(sizeof...(Names) == sizeof...(Values),
                "fk::store<names...>(values...) needs one value per name");
  if constexpr (sizeof...(Values) == 0)
    return store_t<names<Names...>>{};
  else
    return store_t<names<Names...>, detail::stored_value_t<Values>...>{std::in_place,
                                                                       std::forward<Values>(values)...};
}

/// Whether T is an fk::store_t (made by fk::store).
template <class T>
inline constexpr bool is_store_v = false;
template <class Names, class... Values>
inline constexpr bool is_store_v<store_t<Names, Values...>> = true;

}  // namespace flowkit
