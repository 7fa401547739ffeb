#pragma once
// type_at<I, Ts...>: the I-th type of a pack in one overload resolution, not I nested
// instantiations, so looking up atom I of a 500-task flow stays cheap.

#include <cstddef>
#include <utility>

namespace flowkit::detail {

template <std::size_t I, class T>
struct indexed {
  using type = T;
};

template <class Indices, class... Ts>
struct indexed_pack;

template <std::size_t... Is, class... Ts>
struct indexed_pack<std::index_sequence<Is...>, Ts...> : indexed<Is, Ts>... {};

template <std::size_t I, class T>
indexed<I, T> select(const indexed<I, T>&);

template <std::size_t I, class... Ts>
using type_at = typename decltype(select<I>(
    std::declval<indexed_pack<std::index_sequence_for<Ts...>, Ts...>>()))::type;

template <class T>
inline constexpr bool always_false = false;

}  // namespace flowkit::detail
