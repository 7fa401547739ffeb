#pragma once
// The flow the conductor tests run, in the test process and in flowkit-conductor-child: ten tasks
// t0..t9 in a line, each reading the job's name and its predecessor's step and returning the next
// step, stamped with the process that computed it (so that a test can see whose result a
// checkpoint holds). Each task appends "x JOB TASK PID" to a side-effect log, outside the store,
// with one write(2) on an O_APPEND descriptor: whole or absent, whenever SIGKILL lands.

#include <flowkit/conductor/flows.hpp>
#include <flowkit/flowkit.hpp>

#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

#include <unistd.h>

namespace flowkit::test {

struct step {
  int value = 0;
  int pid = 0;
  template <class Archive>
  void serialize(Archive& a, unsigned) {
    a& value& pid;
  }
  friend bool operator==(const step&, const step&) = default;
};

using work_store = decltype(flowkit::store<"job", "v0">(std::string{}, step{}));
inline constexpr std::size_t work_tasks = 10;

// What every task of the flow does before it returns: set by the program that runs the flow.
struct work_hooks {
  int log_fd = -1;
  // Called with the job's name and the task's index, after the log line, before the result.
  std::function<void(const std::string&, int)> on_task;
};

inline work_hooks& hooks() {
  static work_hooks h;
  return h;
}

inline void log_task(const std::string& job, int task) {
  if (hooks().log_fd >= 0) {
    std::string line = "x ";
    line += job;
    line += " t";
    line += std::to_string(task);
    line += ' ';
    line += std::to_string(::getpid());
    line += '\n';
    if (::write(hooks().log_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::abort();
  }
  if (hooks().on_task) hooks().on_task(job, task);
}

template <name Task, name In, name Out, int Index>
auto work_task() {
  return flowkit::task<Task>(flowkit::inputs<"job", In>, flowkit::outputs<Out>,
                             [](const std::string& job, const step& s) {
                               log_task(job, Index);
                               return step{s.value + 1, static_cast<int>(::getpid())};
                             });
}

inline auto work_flow() {
  return flowkit::linear_flow<"work">(work_task<"t0", "v0", "v1", 0>(), work_task<"t1", "v1", "v2", 1>(),
                                      work_task<"t2", "v2", "v3", 2>(), work_task<"t3", "v3", "v4", 3>(),
                                      work_task<"t4", "v4", "v5", 4>(), work_task<"t5", "v5", "v6", 5>(),
                                      work_task<"t6", "v6", "v7", 6>(), work_task<"t7", "v7", "v8", 7>(),
                                      work_task<"t8", "v8", "v9", 8>(), work_task<"t9", "v9", "v10", 9>());
}

using work_job = flowkit::job_flow<decltype(work_flow()), work_store>;

}  // namespace flowkit::test
