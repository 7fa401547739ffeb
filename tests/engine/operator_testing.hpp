#pragma once
// What the tests of the operators' listeners (trace_listener, progress_display) share: a fresh
// directory, reading a file, parsing a trace, and a rendezvous that makes tasks overlap in time.
#include "engine_testing.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace testing {

// A fresh directory (mkdtemp), removed by the process that made it.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "flowkit-trace-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    if (::getpid() == owner_) std::filesystem::remove_all(path_, ignored);
  }
  std::string operator/(const char* name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
  pid_t owner_ = ::getpid();
};

inline std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The events of a whole trace file (closed with "]"), or of one the process still writes to:
// then the "]" is missing and is added, as the viewers do.
inline nlohmann::json parse_trace(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty() || text.back() != ']') text += "\n]";
  return nlohmann::json::parse(text);
}

// The complete events ("ph":"X") of a category: "execute", "revert" or "flow".
inline std::vector<nlohmann::json> complete_events(const nlohmann::json& trace, const std::string& category) {
  std::vector<nlohmann::json> found;
  for (const auto& e : trace)
    if (e.value("ph", "") == "X" && e.value("cat", "") == category) found.push_back(e);
  return found;
}

inline std::vector<std::string> names_of(const std::vector<nlohmann::json>& events) {
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(e.at("name").get<std::string>());
  return names;
}

// Tasks call arrive(): each returns once `expected` have arrived, so that they run at the same
// time (on distinct threads). Fails instead of hanging if they never all come.
class rendezvous {
 public:
  explicit rendezvous(int expected) : expected_(expected) {}
  void arrive() {
    std::unique_lock lock{mutex_};
    ++arrived_;
    changed_.notify_all();
    if (!changed_.wait_for(lock, std::chrono::seconds{20}, [&] { return arrived_ >= expected_; }))
      throw std::runtime_error("rendezvous: the others never came");
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int expected_, arrived_ = 0;
};

}  // namespace testing
