#pragma once
// flowkit-admin run as a process, as an operator or a script runs it (the test target defines
// FLOWKIT_ADMIN, the tool's path): its exit code, its output and its errors.

#include "jobs/support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

extern char** environ;

namespace flowkit::test {

struct admin_outcome {
  int code = -1;
  std::string out, err;

  nlohmann::json doc() const { return nlohmann::json::parse(out); }
};

// Runs flowkit-admin with args; its output and errors go to files, read back when it has ended.
inline admin_outcome admin(const std::vector<std::string>& args) {
  temp_dir scratch;
  const std::filesystem::path out = scratch / "out", err = scratch / "err";
  std::vector<std::string> words{FLOWKIT_ADMIN};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  REQUIRE(::posix_spawn_file_actions_init(&actions) == 0);
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, FLOWKIT_ADMIN, &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  admin_outcome r;
  r.code = join(pid);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace flowkit::test
