#pragma once
// fk::name: a compile-time string usable as a template argument. Every slot, task and flow is
// named by one, so wiring is checked by the compiler and costs nothing at run time.

#include <array>
#include <concepts>
#include <cstddef>
#include <string_view>

namespace flowkit {

/// A compile-time string usable as a template argument: `fk::name n = "charge";`. Slots, tasks and
/// flows are named by one.
template <std::size_t N>
struct name {
  /// The characters and a terminating NUL; public, so that a name can be a template argument.
  char chars[N]{};

  constexpr name() = default;
  /// From a string literal; implicit so that `"charge"` can be a template argument.
  constexpr name(const char (&text)[N]) noexcept {
    for (std::size_t i = 0; i < N; ++i) chars[i] = text[i];
  }

  /// The length, without the terminating NUL.
  static constexpr std::size_t size() noexcept { return N - 1; }
  /// The characters, without the terminating NUL.
  constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
  /// A name converts to the std::string_view of its characters.
  constexpr operator std::string_view() const noexcept { return view(); }

  /// Names compare by their characters, whatever their lengths.
  template <std::size_t M>
  constexpr bool operator==(const name<M>& other) const noexcept {
    return view() == other.view();
  }
};

/// A name made from a string whose length is known at compile time: how the analysis turns a
/// slot it found in its tables back into a template argument for a diagnostic.
template <std::size_t Length>
constexpr name<Length + 1> name_from(std::string_view text) noexcept {
  name<Length + 1> result{};
  for (std::size_t i = 0; i < Length && i < text.size(); ++i) result.chars[i] = text[i];
  return result;
}

/// A list of names, e.g. a class task's `using inputs = fk::names<"order", "receipt">;`.
template <name... Names>
struct names {
  /// The number of names.
  static constexpr std::size_t size = sizeof...(Names);
  /// The names, in order.
  static constexpr std::array<std::string_view, size> views{Names.view()...};
};

/// Spelling for lambda tasks: fk::task<"charge">(fk::inputs<"order">, fk::outputs<"receipt">, fn).
template <name... Names>
struct input_names : names<Names...> {};
template <name... Names>
struct output_names : names<Names...> {};

/// `fk::inputs<"a", "b">`: the input names of a lambda task, given to fk::task.
template <name... Names>
inline constexpr input_names<Names...> inputs{};
/// `fk::outputs<"x">`: the output names of a lambda task, given to fk::task.
template <name... Names>
inline constexpr output_names<Names...> outputs{};

/// Anything that carries its own compile-time name: tasks and flows.
template <class T>
concept named = requires { { T::name.view() } -> std::convertible_to<std::string_view>; };

}  // namespace flowkit
