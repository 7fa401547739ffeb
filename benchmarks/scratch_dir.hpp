#pragma once
// A fresh directory for a benchmark's files, under $FLOWKIT_BENCH_DIR (default: the system temp
// directory), which decides what an fsync costs; removed with everything in it.

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace bench {

class scratch_dir {
 public:
  scratch_dir() {
    const char* base = std::getenv("FLOWKIT_BENCH_DIR");
    std::string tmpl = ((base ? std::filesystem::path{base} : std::filesystem::temp_directory_path()) /
                        "flowkit-bench-XXXXXX")
                           .string();
    if (!::mkdtemp(tmpl.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = tmpl;
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path board() const { return path_ / "board"; }
  std::filesystem::path file() const { return path_ / "work.lmdb"; }

 private:
  std::filesystem::path path_;
};

}  // namespace bench
