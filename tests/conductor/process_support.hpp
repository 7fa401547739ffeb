#pragma once
// A conductor in a process of its own (flowkit-conductor-child) as the process tests drive it:
// its standard input, its event lines, the side-effect log its tasks write. Shared by the LMDB
// tests (processes.cpp) and the PostgreSQL ones (tests/postgres/processes.cpp).

#include "jobs/support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FLOWKIT_CONDUCTOR_CHILD
#error "FLOWKIT_CONDUCTOR_CHILD: the path of flowkit-conductor-child"
#endif

namespace flowkit::test {

// A conductor process: its standard input (close it to stop the conductor) and its event lines.
class conductor_process {
 public:
  // file: the LMDB file, or a postgresql:// URL and then schema: the schema on that database.
  conductor_process(const std::string& file, const std::string& name, const std::filesystem::path& log,
                    int max_jobs, int ttl_ms, int heartbeat_ms, int block_at, const std::string& schema = {})
      : name_(name) {
    std::vector<std::string> args{FLOWKIT_CONDUCTOR_CHILD,
                                  file,
                                  name,
                                  log.string(),
                                  std::to_string(max_jobs),
                                  std::to_string(ttl_ms),
                                  std::to_string(heartbeat_ms),
                                  std::to_string(block_at)};
    if (!schema.empty()) args.push_back(schema);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe2");
    pid_ = ::fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
  }
  conductor_process(const conductor_process&) = delete;
  conductor_process& operator=(const conductor_process&) = delete;
  ~conductor_process() {
    close_input();
    if (out_ >= 0) ::close(out_);
    if (pid_ > 0 && !joined_) {
      ::kill(pid_, SIGKILL);
      flowkit::test::join(pid_);
    }
  }

  const std::string& name() const noexcept { return name_; }
  pid_t pid() const noexcept { return pid_; }
  int output() const noexcept { return out_; }
  bool open() const noexcept { return out_ >= 0; }

  void send(const std::string& line) {
    const std::string l = line + '\n';
    REQUIRE(::write(in_, l.data(), l.size()) == static_cast<ssize_t>(l.size()));
  }
  // Its standard input's end: the conductor stops, abandons what it runs, and exits.
  void close_input() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
  }
  void kill(int sig) { REQUIRE(::kill(pid_, sig) == 0); }
  // Stops it with SIGSTOP and returns once it is stopped: kill() returns before the signal has
  // taken effect, and until then the process runs on (and may, say, take a lock).
  void stop() {
    kill(SIGSTOP);
    int status = 0;
    pid_t got;
    while ((got = ::waitpid(pid_, &status, WUNTRACED)) < 0 && errno == EINTR) {
    }
    REQUIRE(got == pid_);
    REQUIRE(WIFSTOPPED(status));
  }
  int join() {
    joined_ = true;
    return flowkit::test::join(pid_);
  }

  // Reads what is there; returns the complete lines (false at the end of its output).
  bool read_lines(std::vector<std::string>& lines) {
    char buf[4096];
    const ssize_t n = ::read(out_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) {
      ::close(out_);
      out_ = -1;
      return false;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = pending_.find('\n')) != std::string::npos; pending_.erase(0, nl + 1)) {
      lines.push_back(pending_.substr(0, nl));
      all_.push_back(lines.back());
    }
    return true;
  }
  const std::vector<std::string>& all_lines() const noexcept { return all_; }

 private:
  std::string name_;
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  bool joined_ = false;
  std::string pending_;
  std::vector<std::string> all_;
};

// Waits (poll, no timeout but a minute's safety net) for the next lines of any of the processes;
// calls on_line(process, line) for each until it returns true.
template <class OnLine>
void read_until(std::vector<conductor_process*> ps, OnLine&& on_line) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{60};
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<conductor_process*> which;
    for (conductor_process* p : ps)
      if (p->open()) {
        fds.push_back({p->output(), POLLIN, 0});
        which.push_back(p);
      }
    REQUIRE_FALSE(fds.empty());
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      std::string said;
      for (const conductor_process* p : ps) {
        said += p->name() + ":\n";
        for (const auto& l : p->all_lines()) said += "  " + l + '\n';
      }
      FAIL("a minute without the awaited line: something hangs. The processes said:\n" << said);
    }
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    REQUIRE(ready >= 0);
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      std::vector<std::string> lines;
      which[i]->read_lines(lines);
      for (const auto& l : lines)
        if (on_line(*which[i], l)) return;
    }
  }
}

inline std::vector<std::string> words(const std::string& line) {
  std::istringstream in{line};
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

// Stops conductors through their standard input and waits for them: each must exit 0.
inline void finish(std::vector<conductor_process*> ps) {
  for (conductor_process* p : ps) p->close_input();
  for (conductor_process* p : ps) {
    std::vector<std::string> rest;
    while (p->open()) p->read_lines(rest);
    CHECK(p->join() == 0);
  }
}

// The high-availability scenario of every store: a victim conductor that blocks in task 5 of
// each job it runs, two more conductors, and the victim killed with SIGKILL once it is blocked
// inside a job. start(name, block_at) makes a conductor_process (-1: never blocks). Returns once
// all `jobs` jobs are consumed and the two survivors have stopped.
struct takeover {
  std::map<std::string, std::vector<std::string>> consumed_by;  // job -> conductors
  std::set<std::string> victim_jobs;                            // claimed by the victim
  pid_t victim_pid = -1;
};

template <class Start>
takeover kill_one_of_three(int jobs, Start start) {
  takeover t;
  conductor_process victim = start("victim", 5);
  t.victim_pid = victim.pid();
  read_until({&victim}, [&](conductor_process&, const std::string& l) {
    const auto w = words(l);
    if (w.size() >= 2 && w[0] == "claimed") t.victim_jobs.insert(w[1]);
    return !t.victim_jobs.empty();
  });
  conductor_process c1 = start("c1", -1);
  conductor_process c2 = start("c2", -1);
  bool killed = false;
  read_until({&victim, &c1, &c2}, [&](conductor_process& p, const std::string& l) {
    const auto w = words(l);
    if (w.size() >= 2 && w[0] == "claimed" && &p == &victim) t.victim_jobs.insert(w[1]);
    if (w.size() >= 2 && w[0] == "consumed") t.consumed_by[w[1]].push_back(p.name());
    if (!killed && w.size() >= 2 && w[0] == "blocked") {
      victim.kill(SIGKILL);
      killed = true;
    }
    return killed && t.consumed_by.size() == static_cast<std::size_t>(jobs);
  });
  CHECK(victim.join() == 128 + SIGKILL);
  {  // what the victim said before it died and the loop above had not read yet
    std::vector<std::string> rest;
    while (victim.open()) victim.read_lines(rest);
    for (const auto& l : rest)
      if (const auto w = words(l); w.size() >= 2 && w[0] == "claimed") t.victim_jobs.insert(w[1]);
  }
  finish({&c1, &c2});
  // Every job consumed once, by a survivor where the victim had it.
  for (const auto& [job, by] : t.consumed_by) {
    INFO(job);
    CHECK(by.size() == 1);
    if (t.victim_jobs.count(job)) CHECK(by[0] != "victim");
  }
  return t;
}

// The side-effect log: how many times each (job, task) ran, and by which processes.
struct side_effects {
  std::map<std::pair<std::string, int>, std::vector<int>> runs;  // (job, task) -> pids, in order
  static side_effects read(const std::filesystem::path& log) {
    side_effects s;
    std::ifstream in{log};
    for (std::string line; std::getline(in, line);) {
      const auto w = words(line);
      REQUIRE(w.size() == 4);
      s.runs[{w[1], std::stoi(w[2].substr(1))}].push_back(std::stoi(w[3]));
    }
    return s;
  }
  // The last task the process started in a job, or -1.
  int last_task_of(const std::string& job, int pid) const {
    int last = -1;
    for (const auto& [key, pids] : runs)
      if (key.first == job && std::find(pids.begin(), pids.end(), pid) != pids.end())
        last = std::max(last, key.second);
    return last;
  }

  // After `victim` was killed: each of the 10 tasks of jobs job-0 … job-(jobs-1) ran once, except
  // the task each job was running in the victim (it started it, its result was not durable): at
  // most twice. Read from the log, not the victim's lines: a task it began is there even if its
  // words were lost. Returns how many ran again.
  std::size_t check_once_but_running_at_kill(int jobs, int victim) const {
    std::size_t reruns = 0;
    for (int i = 0; i < jobs; ++i) {
      const std::string job = numbered("job-", i);
      const int running_at_kill = last_task_of(job, victim);
      for (int t = 0; t < 10; ++t) {
        INFO(job << " t" << t);
        const auto it = runs.find({job, t});
        REQUIRE(it != runs.end());
        if (t == running_at_kill) {
          CHECK(it->second.size() <= 2);
          reruns += it->second.size() - 1;
        } else {
          CHECK(it->second.size() == 1);
        }
      }
    }
    return reruns;
  }
};

}  // namespace flowkit::test
