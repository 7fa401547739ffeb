#pragma once
// What the jobboard's and the checkpoint store's refusals about a path share (jobs/errors.hpp,
// persistence/errors.hpp): the path kept as path() and named in what(), and for a file of another
// format, the format found and the one supported. Each public error class derives from one of
// these with its own base (fk::jobboard_error, fk::persistence_error) and its own words.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace flowkit::detail {

// "flowkit: <before><path><after><why>".
inline std::string path_message(std::string_view before, const std::string& path, std::string_view after,
                                std::string_view why) {
  std::string w{"flowkit: "};
  w += before;
  w += path;
  w += after;
  w += why;
  return w;
}

/// A refusal (Base: a store's error class) about a path, kept as path().
template <class Base>
class path_error : public Base {
 public:
  // what(): "flowkit: <before><path><after><why>".
  path_error(std::string_view before, std::string path, std::string_view after, std::string_view why)
      : Base(path_message(before, path, after, why)), path_(std::move(path)) {}
  /// The path the error is about.
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

/// A store (Base: its error class) at path whose format this flowkit does not read: found() and
/// supported().
template <class Base>
class format_error : public path_error<Base> {
 public:
  // what(): "flowkit: <before><path> has format <found>; this flowkit reads format <supported><tail>".
  format_error(std::string_view before, std::string path, std::uint32_t found, std::uint32_t supported,
               std::string_view tail)
      : path_error<Base>(before, std::move(path), words(found, supported), tail),
        found_(found),
        supported_(supported) {}
  /// The format the store at the path has.
  std::uint32_t found() const noexcept { return found_; }
  /// The format this flowkit reads.
  std::uint32_t supported() const noexcept { return supported_; }

 private:
  static std::string words(std::uint32_t found, std::uint32_t supported) {
    std::string w{" has format "};
    w += std::to_string(found);
    w += "; this flowkit reads format ";
    w += std::to_string(supported);
    return w;
  }

  std::uint32_t found_, supported_;
};

}  // namespace flowkit::detail
