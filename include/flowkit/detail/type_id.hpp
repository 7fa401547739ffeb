#pragma once
// A constant-expression identity for a type: the compile-time analysis compares slot types as
// plain values in constexpr arrays instead of instantiating a trait per pair.

namespace flowkit::detail {

struct type_id_tag {
  const type_id_tag* self;
};

template <class T>
inline constexpr type_id_tag type_tag{&type_tag<T>};

using type_id = const type_id_tag*;

template <class T>
inline constexpr type_id type_id_of = &type_tag<T>;

}  // namespace flowkit::detail
