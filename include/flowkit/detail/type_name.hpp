#pragma once
// A type's name as people read it: demangled where the C++ ABI offers it (abi::__cxa_demangle, on
// GCC and Clang), with the standard library's long spellings shortened (std::string rather than
// std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >).

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define FLOWKIT_HAS_CXXABI 1
#else
#define FLOWKIT_HAS_CXXABI 0
#endif

namespace flowkit::detail {

// The demangled form of a name from std::type_info::name(), or the name itself if it cannot be
// demangled (or already reads well, as MSVC's names do).
inline std::string demangle(const char* mangled) {
#if FLOWKIT_HAS_CXXABI
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> text{abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free};
  return status == 0 && text ? std::string{text.get()} : std::string{mangled};
#else
  return std::string{mangled};
#endif
}

// A demangled name with the standard library's aliases put back.
inline std::string readable_type_name(std::string name) {
  constexpr std::pair<std::string_view, std::string_view> aliases[] = {
      {"std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string"},
      {"std::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string"},
      {"std::basic_string_view<char, std::char_traits<char> >", "std::string_view"},
  };
  for (const auto& [from, to] : aliases)
    for (std::size_t at = name.find(from); at != std::string::npos; at = name.find(from, at)) {
      // The space that kept "> >" apart is not needed after the alias: "std::string>".
      const bool spaced = name.compare(at + from.size(), 2, " >") == 0;
      name.replace(at, from.size() + (spaced ? 1 : 0), to);
    }
  return name;
}

inline std::string type_name(const std::type_info& type) { return readable_type_name(demangle(type.name())); }

// The exception in flight's type, in a catch (...) block; nullptr where the ABI cannot tell.
inline const std::type_info* current_exception_type() noexcept {
#if FLOWKIT_HAS_CXXABI
  return abi::__cxa_current_exception_type();
#else
  return nullptr;
#endif
}

}  // namespace flowkit::detail
