#pragma once
// A type's name as a compile-time string, read from the compiler's own spelling of a function
// template's signature (__PRETTY_FUNCTION__): no typeid, no address, so the same compiler gives
// the same text in every build and every process.
//
// GCC and clang spell types differently (GCC: "std::__cxx11::basic_string<char>", clang:
// "std::basic_string<char>"), so the text, and what is computed from it, agrees within one
// compiler (and standard library), not across them. Types without a name of their own are
// spelled by where they are: a lambda's closure type names its source file and line under clang,
// its enclosing function under GCC.

#include <string_view>

namespace flowkit::detail {

template <class T>
constexpr std::string_view constexpr_type_name() noexcept {
#if defined(__clang__) || defined(__GNUC__)
  // clang: "std::string_view flowkit::detail::constexpr_type_name() [T = int]"
  // GCC:   "constexpr std::string_view flowkit::detail::constexpr_type_name() [with T = int; ...]"
  constexpr std::string_view signature = __PRETTY_FUNCTION__;
  constexpr std::string_view marker = "T = ";
  constexpr std::size_t begin = signature.find(marker) + marker.size();
#if defined(__clang__)
  constexpr std::size_t end = signature.rfind(']');
#else
  constexpr std::size_t end = signature.find(';', begin) == std::string_view::npos
                                  ? signature.rfind(']')
                                  : signature.find(';', begin);
#endif
  return signature.substr(begin, end - begin);
#else
#error "flowkit: constexpr_type_name needs GCC or clang (__PRETTY_FUNCTION__)"
#endif
}

}  // namespace flowkit::detail
