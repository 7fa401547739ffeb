#pragma once
// Reflection of a callable's parameters and result: what a task's slots are made of.

#include <cstddef>
#include <type_traits>

namespace flowkit::detail {

template <class... Ts>
struct type_list {
  static constexpr std::size_t size = sizeof...(Ts);
};

template <class Signature>
struct signature_traits;

template <class R, class... Args>
struct signature_traits<R(Args...)> {
  using result = R;
  using params = type_list<Args...>;
};

template <class T>
struct member_signature;
#define FLOWKIT_MEMBER_SIGNATURE(QUALIFIERS)                              \
  template <class C, class R, class... Args>                              \
  struct member_signature<R (C::*)(Args...) QUALIFIERS> {                 \
    using type = R(Args...);                                              \
  };
FLOWKIT_MEMBER_SIGNATURE()
FLOWKIT_MEMBER_SIGNATURE(const)
FLOWKIT_MEMBER_SIGNATURE(noexcept)
FLOWKIT_MEMBER_SIGNATURE(const noexcept)
FLOWKIT_MEMBER_SIGNATURE(&)
FLOWKIT_MEMBER_SIGNATURE(const&)
#undef FLOWKIT_MEMBER_SIGNATURE

template <class F>
concept has_single_call_operator = requires { &F::operator(); };

template <class F>
struct callable_signature;

template <class F>
  requires has_single_call_operator<F>
struct callable_signature<F> {
  using type = typename member_signature<decltype(&F::operator())>::type;
};

template <class R, class... Args>
struct callable_signature<R (*)(Args...)> {
  using type = R(Args...);
};
template <class R, class... Args>
struct callable_signature<R (*)(Args...) noexcept> {
  using type = R(Args...);
};

template <class F>
concept reflectable_callable = requires { typename callable_signature<F>::type; };

}  // namespace flowkit::detail
