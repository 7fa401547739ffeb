// What the documentation programs share: a fresh directory to run in, so that the paths the
// snippets name ("./board", "orders.lmdb") are this run's own files and go when it ends.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace docs {

class scratch_directory {
 public:
  scratch_directory() : previous_(std::filesystem::current_path()) {
    std::string name = (std::filesystem::temp_directory_path() / "flowkit-docs-XXXXXX").string();
    if (::mkdtemp(name.data()) == nullptr) throw std::runtime_error("cannot create a directory in " + name);
    path_ = name;
    std::filesystem::current_path(path_);
  }
  scratch_directory(const scratch_directory&) = delete;
  scratch_directory& operator=(const scratch_directory&) = delete;
  ~scratch_directory() {
    std::error_code ignored;
    std::filesystem::current_path(previous_, ignored);
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path previous_;
  std::filesystem::path path_;
};

// A check that stays in release builds (assert would not): the program fails, saying what.
inline void check(bool ok, const char* what) {
  if (!ok) throw std::logic_error(std::string{"docs: not as documented: "} + what);
}

}  // namespace docs
