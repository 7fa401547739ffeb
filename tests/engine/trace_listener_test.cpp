// fk::trace_listener: the file is Chrome trace-event JSON, one complete event per atom execution
// and revert with its flow, state and attempt, one track per thread; a file cut short still reads;
// many engines share one file; FLOWKIT_TRACE traces an engine that never mentions tracing (in a
// child process: the variable is read once per process).
#include "operator_testing.hpp"

#include <flowkit/engine/trace_listener.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

using nlohmann::json;
using testing::complete_events;
using testing::names_of;
using testing::parse_trace;
using testing::read_file;

namespace {

auto three_tasks() {
  return fk::linear_flow<"lf">(fk::task<"a">(fk::outputs<"x">, [] { return 1; }),
                               fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x + 1; }),
                               fk::task<"c">(fk::inputs<"y">, [](int) {}));
}

// The tracks named by "thread_name" metadata events.
std::set<int> named_tracks(const json& trace) {
  std::set<int> tracks;
  for (const auto& e : trace)
    if (e.value("ph", "") == "M" && e.value("name", "") == "thread_name")
      tracks.insert(e.at("tid").get<int>());
  return tracks;
}

}  // namespace

TEST_CASE("trace: one complete event per atom executed, with its flow, state and attempt",
          "[engine][trace]") {
  testing::temp_dir dir;
  const std::string path = dir / "trace.json";
  {
    fk::trace_listener trace{path};
    fk::engine eng{three_tasks()};
    trace.attach(eng);
    REQUIRE(eng.run().succeeded());
  }  // the engine and the trace_listener gone: the file is closed, with its "]"
  const std::string text = read_file(path);
  REQUIRE(text.front() == '[');
  const json trace = json::parse(text);  // strict: the closed file is valid JSON as it is
  REQUIRE(trace.is_array());

  const auto executed = complete_events(trace, "execute");
  CHECK(names_of(executed) == std::vector<std::string>{"a", "b", "c"});
  for (const auto& e : executed) {
    CHECK(e.at("args").at("flow") == "lf");
    CHECK(e.at("args").at("state") == "SUCCESS");
    CHECK(e.at("args").at("attempt") == 1);
    CHECK(e.at("pid") == static_cast<int>(::getpid()));
    CHECK(e.at("dur").get<double>() >= 0);
    CHECK_FALSE(e.at("args").contains("run"));  // the label is the flow's name
  }
  CHECK(complete_events(trace, "revert").empty());
  const auto runs = complete_events(trace, "flow");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].at("name") == "lf");
  CHECK(runs[0].at("args").at("state") == "SUCCESS");
  // Serial: everything on the caller's track, the atoms inside the run.
  const double run_start = runs[0].at("ts").get<double>(),
               run_end = run_start + runs[0].at("dur").get<double>();
  for (const auto& e : executed) {
    CHECK(e.at("tid") == runs[0].at("tid"));
    CHECK(e.at("ts").get<double>() >= run_start);
    CHECK(e.at("ts").get<double>() + e.at("dur").get<double>() <= run_end + 0.001);
  }
  CHECK(named_tracks(trace) == std::set<int>{runs[0].at("tid").get<int>()});
}

TEST_CASE("trace: a pool run's atoms are on the tracks of the threads that ran them", "[engine][trace]") {
  testing::temp_dir dir;
  const std::string path = dir / "trace.json";
  testing::rendezvous both{2};  // a and b run at the same time, so on two threads
  auto flow = fk::unordered_flow<"uf">(fk::task<"a">([&] { both.arrive(); }),
                                       fk::task<"b">([&] { both.arrive(); }), fk::task<"c">([] {}));
  fk::trace_listener trace{path};
  fk::engine eng{flow};
  trace.attach(eng, "job-7");
  REQUIRE(eng.run(testing::pool(2)).succeeded());
  trace.flush();
  const json events = parse_trace(read_file(path));

  const auto executed = complete_events(events, "execute");
  std::map<std::string, int> track_of;
  for (const auto& e : executed) {
    track_of[e.at("name")] = e.at("tid").get<int>();
    CHECK(e.at("args").at("flow") == "uf");
    CHECK(e.at("args").at("run") == "job-7");
  }
  REQUIRE(track_of.size() == 3);
  CHECK(executed.size() == 3);
  CHECK(track_of["a"] != track_of["b"]);
  std::set<int> used;
  for (const auto& [name, track] : track_of) used.insert(track);
  const auto runs = complete_events(events, "flow");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].at("name") == "job-7");
  used.insert(runs[0].at("tid").get<int>());
  CHECK(named_tracks(events) == used);  // every track used is named, once
}

TEST_CASE("trace: a reverted flow has its reverts, and the failure in the failed atom's event",
          "[engine][trace]") {
  const testing::where w = GENERATE(testing::where::serial, testing::where::pool2);
  INFO(testing::describe(w));
  testing::temp_dir dir;
  const std::string path = dir / "trace.json";
  auto flow = fk::linear_flow<"lf">(fk::task<"a">([] {}).on_revert([](const fk::outcome<void>&) {}),
                                    fk::task<"b">([] {}).on_revert([](const fk::outcome<void>&) {}),
                                    fk::task<"boom">([] {
                                      throw std::runtime_error("bang \"quoted\"\n");
                                    }).on_revert([](const fk::outcome<void>&) {}));
  fk::trace_listener trace{path};
  fk::engine eng{flow};
  trace.attach(eng);
  REQUIRE(testing::run_on(eng, w).state() == fk::flow_state::reverted);
  trace.flush();
  const json events = parse_trace(read_file(path));

  const auto executed = complete_events(events, "execute");
  REQUIRE(names_of(executed) == std::vector<std::string>{"a", "b", "boom"});
  CHECK(executed[2].at("args").at("state") == "FAILURE");
  CHECK(executed[2].at("args").at("error") == "std::runtime_error: bang \"quoted\"\n");
  const auto reverted = complete_events(events, "revert");
  CHECK(names_of(reverted) == std::vector<std::string>{"boom", "b", "a"});
  for (const auto& e : reverted) CHECK(e.at("args").at("state") == "REVERTED");
  const auto runs = complete_events(events, "flow");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].at("args").at("state") == "REVERTED");
}

TEST_CASE("trace: a retried atom's executions carry their attempt", "[engine][trace]") {
  testing::temp_dir dir;
  const std::string path = dir / "trace.json";
  int calls = 0;
  auto flaky = fk::task<"flaky">([&] {
                 if (++calls < 3) throw std::runtime_error("not yet");
               }).on_revert([](const fk::outcome<void>&) {});
  fk::trace_listener trace{path};
  fk::engine eng{fk::linear_flow<"pay">(flaky).retry(fk::times(3))};
  trace.attach(eng);
  REQUIRE(eng.run().succeeded());
  trace.flush();
  std::vector<std::pair<int, std::string>> attempts;
  for (const auto& e : complete_events(parse_trace(read_file(path)), "execute"))
    if (e.at("name") == "flaky") attempts.emplace_back(e.at("args").at("attempt"), e.at("args").at("state"));
  CHECK(attempts == std::vector<std::pair<int, std::string>>{{1, "FAILURE"}, {2, "FAILURE"}, {3, "SUCCESS"}});

  // A new run counts from 1 again.
  eng.reset();
  calls = 2;
  REQUIRE(eng.run().succeeded());
  trace.flush();
  const auto executed = complete_events(parse_trace(read_file(path)), "execute");
  CHECK(executed.back().at("name") == "flaky");
  CHECK(executed.back().at("args").at("attempt") == 1);
}

TEST_CASE("trace: a file cut short still opens: the array begins, its complete events parse",
          "[engine][trace]") {
  testing::temp_dir dir;
  const std::string path = dir / "trace.json";
  fk::trace_listener trace{path};
  fk::engine eng{three_tasks()};
  trace.attach(eng);
  for (int run = 0; run < 20; ++run) {
    eng.reset();
    REQUIRE(eng.run().succeeded());
  }
  // The process goes on: the file has every run (flushed at each run's end) and no "]" yet.
  const std::string whole = read_file(path);
  REQUIRE(whole.front() == '[');
  CHECK(whole.find(']', whole.rfind('}')) == std::string::npos);
  CHECK(complete_events(parse_trace(whole), "execute").size() == 60);

  // Cut in the middle of an event, as a crash could leave it: every line before the cut one is an
  // event, and the viewers' repair (drop the cut event, add "]") gives valid JSON.
  const std::string cut = whole.substr(0, whole.find("\"ph\"", whole.size() / 2) + 3);
  REQUIRE(cut.front() == '[');
  std::istringstream text{cut.substr(1)};
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  REQUIRE(lines.size() > 10);
  std::size_t events_before_cut = 0;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    std::string line = lines[i];
    if (line.empty()) continue;
    if (line.back() == ',') line.pop_back();
    INFO(line);
    CHECK(json::parse(line).contains("ph"));
    ++events_before_cut;
  }
  CHECK_THROWS(json::parse(lines.back()));
  std::string repaired = cut.substr(0, cut.rfind('\n'));
  if (repaired.back() == ',') repaired.pop_back();
  CHECK(parse_trace(repaired).size() == events_before_cut);
}

TEST_CASE("trace: engines on several threads share one file", "[engine][trace]") {
  testing::temp_dir dir;
  const std::string path = dir / "trace.json";
  constexpr int jobs = 4, runs = 5;
  {
    fk::trace_listener trace{path};
    std::vector<std::thread> conductors;
    for (int j = 0; j < jobs; ++j)
      conductors.emplace_back([&trace, j] {
        auto flow = fk::graph_flow<"g">(fk::task<"a">(fk::outputs<"x">, [] { return 1; }),
                                        fk::task<"b">(fk::inputs<"x">, [](int) {}),
                                        fk::task<"c">(fk::inputs<"x">, [](int) {}));
        fk::engine eng{flow};
        trace.attach(eng, "job-" + std::to_string(j));
        for (int r = 0; r < runs; ++r) {
          eng.reset();
          if (!eng.run(testing::pool(4)).succeeded()) throw std::logic_error("a run failed");
        }
      });
    for (auto& t : conductors) t.join();
  }
  const json events = json::parse(read_file(path));
  std::map<std::string, int> per_job, runs_per_job;
  for (const auto& e : complete_events(events, "execute")) ++per_job[e.at("args").at("run")];
  for (const auto& e : complete_events(events, "flow")) ++runs_per_job[e.at("name")];
  for (int j = 0; j < jobs; ++j) {
    const std::string job = "job-" + std::to_string(j);
    CHECK(per_job[job] == 3 * runs);
    CHECK(runs_per_job[job] == runs);
  }
}

TEST_CASE("trace: a file that cannot be created is an error that names it", "[engine][trace]") {
  testing::temp_dir dir;
  const std::string path = dir / "no-such-dir/trace.json";
  try {
    fk::trace_listener trace{path};
    FAIL("no error");
  } catch (const std::system_error& e) {
    CHECK_THAT(e.what(), Catch::Contains(path) && Catch::Contains("No such file or directory"));
  }
}

// ----- FLOWKIT_TRACE, in a child process: the variable is read once per process -----

namespace {

struct child_result {
  int status = -1;
  std::string errors;  // its stderr
};

// Runs the child (trace_env_child.cpp: engines and their runs, no mention of tracing) with
// FLOWKIT_TRACE set to `trace`, or unset; its stderr goes to `errors_file`. Mode "killed": it kills
// itself in the middle of a run.
child_result run_child(const std::string& trace, const std::string& errors_file,
                       const std::string& mode = {}) {
  std::vector<std::string> environment;
  for (char** v = environ; *v; ++v)
    if (std::string_view(*v).rfind("FLOWKIT_TRACE=", 0) != 0) environment.emplace_back(*v);
  if (!trace.empty()) environment.push_back("FLOWKIT_TRACE=" + trace);
  std::vector<char*> envp;
  for (auto& v : environment) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::string program = FLOWKIT_TRACE_CHILD, argument = mode;
  char* argv[] = {program.data(), mode.empty() ? nullptr : argument.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, errors_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int error = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw std::system_error(error, std::generic_category(), "posix_spawn " + program);
  child_result r;
  if (::waitpid(pid, &r.status, 0) != pid) throw std::system_error(errno, std::generic_category(), "waitpid");
  r.errors = read_file(errors_file);
  return r;
}

}  // namespace

TEST_CASE("FLOWKIT_TRACE: every engine of the process writes to one file, no code needed",
          "[engine][trace]") {
  testing::temp_dir dir;
  const std::string path = dir / "env.json";
  const child_result child = run_child(path, dir / "stderr");
  REQUIRE(WIFEXITED(child.status));
  CHECK(WEXITSTATUS(child.status) == 0);
  CHECK(child.errors.empty());
  const json events = json::parse(read_file(path));  // the child exited normally: "]" is there
  std::map<std::string, int> runs;
  for (const auto& e : complete_events(events, "flow")) ++runs[e.at("name")];
  CHECK(runs == std::map<std::string, int>{{"first", 1}, {"second", 2}});
  std::multiset<std::string> atoms;
  for (const auto& e : complete_events(events, "execute"))
    atoms.insert(e.at("args").at("flow").get<std::string>() + "." + e.at("name").get<std::string>());
  CHECK(atoms == std::multiset<std::string>{"first.one", "first.two", "second.one", "second.one",
                                            "second.two", "second.two"});
}

TEST_CASE("FLOWKIT_TRACE: a file that cannot be created is said once, and the engines run",
          "[engine][trace]") {
  testing::temp_dir dir;
  const std::string path = dir / "missing/env.json";
  const child_result child = run_child(path, dir / "stderr");
  REQUIRE(WIFEXITED(child.status));
  CHECK(WEXITSTATUS(child.status) == 0);  // its runs succeeded
  INFO(child.errors);
  CHECK(std::count(child.errors.begin(), child.errors.end(), '\n') == 1);
  CHECK_THAT(child.errors, Catch::Contains(path) && Catch::Contains("No such file or directory") &&
                               Catch::Contains("FLOWKIT_TRACE"));
}

TEST_CASE("FLOWKIT_TRACE unset: nothing is written", "[engine][trace]") {
  testing::temp_dir dir;
  const child_result child = run_child("", dir / "stderr");
  REQUIRE(WIFEXITED(child.status));
  CHECK(WEXITSTATUS(child.status) == 0);
  CHECK(child.errors.empty());
}

TEST_CASE("FLOWKIT_TRACE: a process killed in the middle of a run leaves a trace that opens",
          "[engine][trace]") {
  testing::temp_dir dir;
  const std::string path = dir / "killed.json";
  // The child's second task waits until the trace file holds the first task's event (written by the
  // file's thread: no run ended), then the child kills itself.
  const child_result child = run_child(path, dir / "stderr", "killed");
  INFO(child.errors);
  REQUIRE(WIFSIGNALED(child.status));
  CHECK(WTERMSIG(child.status) == SIGKILL);
  const std::string text = read_file(path);
  REQUIRE(text.front() == '[');
  const json events = parse_trace(text);
  CHECK(names_of(complete_events(events, "execute")) == std::vector<std::string>{"one"});
  CHECK(complete_events(events, "flow").empty());  // the run never ended
}
