// Conductors in real processes (flowkit-conductor-child) on one LMDB board and store:
//
// (a) Claim loss: a conductor is stopped with SIGSTOP inside a task; its claim expires, another
//     conductor claims the job and finishes it; the first, continued, cannot write into the run
//     (its checkpoint writes are fenced), says claim_lost, and the job completed once.
// (b) High availability: 3 conductors, 20 jobs of a 10-task flow; one conductor is killed with
//     SIGKILL inside a job; every job completes, and every task ran exactly once except the ones
//     that were running in the killed conductor (at most one more run each, reported).
//
// Nothing sleeps to synchronise: the test reads the children's event lines; the only waits on
// time are the claims' own expiry, which the surviving conductors' board.wait() wakes for.

#include "conductor/work_flow.hpp"
#include "jobs/support.hpp"

#include <flowkit/conductor/conductor.hpp>
#include <flowkit/lmdb.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FLOWKIT_CONDUCTOR_CHILD
#error "FLOWKIT_CONDUCTOR_CHILD: the path of flowkit-conductor-child"
#endif

namespace fk = flowkit;
using fk::test::numbered;
using namespace std::chrono_literals;

namespace {

// A conductor process: its standard input (close it to stop the conductor) and its event lines.
class conductor_process {
 public:
  conductor_process(const std::filesystem::path& file, const std::string& name,
                    const std::filesystem::path& log, int max_jobs, int ttl_ms, int heartbeat_ms,
                    int block_at)
      : name_(name) {
    std::vector<std::string> args{FLOWKIT_CONDUCTOR_CHILD,
                                  file.string(),
                                  name,
                                  log.string(),
                                  std::to_string(max_jobs),
                                  std::to_string(ttl_ms),
                                  std::to_string(heartbeat_ms),
                                  std::to_string(block_at)};
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
      fk::test::join(pid_);
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
  int join() {
    joined_ = true;
    return fk::test::join(pid_);
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
  const auto give_up = std::chrono::steady_clock::now() + 60s;
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
    REQUIRE(left.count() > 0);  // a minute without the awaited line: something hangs
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

std::vector<std::string> words(const std::string& line) {
  std::istringstream in{line};
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
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
};

// Stops the process with SIGSTOP outside an LMDB write transaction. LMDB has one writer at a time:
// a process stopped inside its write transaction (a checkpoint's commit, a heartbeat) stalls every
// writer on the file until it continues, whatever its claims say (docs/conductor.md). A probe
// write from this process tells: if it does not get through at once, the process is continued,
// finishes its transaction, and is stopped again.
void stop_outside_write(conductor_process& p, const std::filesystem::path& file) {
  fk::lmdb_jobboard board{file, {.must_exist = true}};
  for (int attempt = 0; attempt < 100; ++attempt) {
    p.kill(SIGSTOP);
    auto probe = std::async(std::launch::async, [&] { board.environment()->write([](auto&) {}); });
    if (probe.wait_for(500ms) == std::future_status::ready) {
      probe.get();
      return;
    }
    p.kill(SIGCONT);
    probe.get();
  }
  FAIL("the process was inside a write transaction at every one of 100 stops");
}

struct board_file {
  fk::test::temp_dir dir;
  std::filesystem::path file = dir / "work.lmdb";
  std::filesystem::path log = dir / "effects.log";
  board_file() {
    fk::lmdb_jobboard board{file};
    fk::lmdb_backend store{file};
  }
};

}  // namespace

TEST_CASE("a conductor stopped past its claim's expiry cannot write into the run its successor finished",
          "[conductor][processes]") {
  board_file f;
  {
    fk::lmdb_jobboard board{f.file};
    board.post("job-a", "work", fk::store<"job", "v0">(std::string{"job-a"}, fk::test::step{}));
  }
  // A blocks inside t4 of the job; its claim lasts 1 s, extended every 200 ms while it runs.
  conductor_process a{f.file, "conductor-a", f.log, 1, 1000, 200, 4};
  read_until({&a},
             [](conductor_process&, const std::string& l) { return l.starts_with("blocked job-a t4"); });
  stop_outside_write(a, f.file);  // no more heartbeats: the claim expires

  conductor_process b{f.file, "conductor-b", f.log, 1, 1000, 200, -1};
  std::string b_claim;
  read_until({&b}, [&](conductor_process&, const std::string& l) {
    if (l.starts_with("claimed job-a")) b_claim = l;
    return l.starts_with("consumed job-a");
  });
  CHECK(b_claim == "claimed job-a 2 resuming");  // the second claim, resuming A's checkpoint

  // A goes on: its task returns, and its write of t4's result is refused.
  a.kill(SIGCONT);
  a.send("go");
  std::string a_lost;
  read_until({&a}, [&](conductor_process&, const std::string& l) {
    if (l.starts_with("claim_lost job-a")) a_lost = l;
    return !a_lost.empty();
  });
  a.close_input();
  b.close_input();
  for (conductor_process* p : {&a, &b}) {  // their output, to its end
    std::vector<std::string> rest;
    while (p->open()) p->read_lines(rest);
  }
  CHECK(a.join() == 0);
  CHECK(b.join() == 0);
  INFO("A's lines:\n"
       << [&] {
            std::string s;
            for (const auto& l : a.all_lines()) s += l + '\n';
            return s;
          }());
  for (const auto& l : a.all_lines()) {
    CHECK_FALSE(l.starts_with("consumed"));
    CHECK_FALSE(l.starts_with("abandoned"));
  }

  // The job completed once, and the run holds B's results from t4 on, A's before: A wrote
  // nothing after it lost the claim.
  fk::lmdb_jobboard board{f.file, {.must_exist = true}};
  fk::lmdb_backend store{f.file, {.must_exist = true}};
  CHECK(board.jobs().empty());
  CHECK(board.trashed().empty());
  const std::string run_id = [&] {
    const auto runs = store.runs();
    REQUIRE(runs.size() == 1);
    return runs[0].id;
  }();
  const auto run = store.load_run(run_id);
  REQUIRE(run);
  CHECK(run->flow.state == fk::flow_state::success);
  for (int t = 0; t < 10; ++t) {
    const fk::atom_detail* d = run->find(numbered("t", t));
    REQUIRE(d);
    REQUIRE(d->result_bytes());
    const auto s = fk::deserialize_from<fk::test::step>(*d->result_bytes());
    CHECK(s.value == t + 1);
    CHECK(s.pid == (t < 4 ? a.pid() : b.pid()));
  }
  const auto effects = side_effects::read(f.log);
  for (int t = 0; t < 10; ++t) {
    const auto& pids = effects.runs.at({"job-a", t});
    if (t == 4)
      CHECK(pids == std::vector<int>{a.pid(), b.pid()});  // running in A when it stalled: at least once
    else
      CHECK(pids.size() == 1);
  }
}

TEST_CASE(
    "three conductors, one killed with SIGKILL mid-job: every job completes, finished tasks never run again",
    "[conductor][processes]") {
  board_file f;
  constexpr int jobs = 20;
  {
    fk::lmdb_jobboard board{f.file};
    for (int i = 0; i < jobs; ++i) {
      const std::string name = numbered("job-", i);
      board.post(name, "work", fk::store<"job", "v0">(name, fk::test::step{}));
    }
  }
  // The victim blocks in t5 of every job it runs, so it is killed inside one.
  std::map<std::string, std::vector<std::string>> consumed_by;  // job -> conductors
  std::set<std::string> victim_jobs;                            // claimed by the victim
  conductor_process victim{f.file, "victim", f.log, 2, 1000, 200, 5};
  read_until({&victim}, [&](conductor_process&, const std::string& l) {
    const auto w = words(l);
    if (w.size() >= 2 && w[0] == "claimed") victim_jobs.insert(w[1]);
    return !victim_jobs.empty();
  });
  conductor_process c1{f.file, "c1", f.log, 2, 1000, 200, -1};
  conductor_process c2{f.file, "c2", f.log, 2, 1000, 200, -1};
  bool killed = false;
  read_until({&victim, &c1, &c2}, [&](conductor_process& p, const std::string& l) {
    const auto w = words(l);
    if (w.size() >= 2 && w[0] == "claimed" && &p == &victim) victim_jobs.insert(w[1]);
    if (w.size() >= 2 && w[0] == "consumed") consumed_by[w[1]].push_back(p.name());
    if (!killed && w.size() >= 2 && w[0] == "blocked") {
      victim.kill(SIGKILL);
      killed = true;
    }
    return killed && consumed_by.size() == static_cast<std::size_t>(jobs);
  });
  CHECK(victim.join() == 128 + SIGKILL);
  {  // what the victim said before it died and the loop above had not read yet
    std::vector<std::string> rest;
    while (victim.open()) victim.read_lines(rest);
    for (const auto& l : rest)
      if (const auto w = words(l); w.size() >= 2 && w[0] == "claimed") victim_jobs.insert(w[1]);
  }
  c1.close_input();
  c2.close_input();
  for (conductor_process* p : {&c1, &c2}) {
    std::vector<std::string> rest;
    while (p->open()) p->read_lines(rest);
    CHECK(p->join() == 0);
  }

  // Every job consumed once, by a survivor where the victim had it.
  for (const auto& [job, by] : consumed_by) {
    INFO(job);
    CHECK(by.size() == 1);
    if (victim_jobs.count(job)) CHECK(by[0] != "victim");
  }
  fk::lmdb_jobboard board{f.file, {.must_exist = true}};
  fk::lmdb_backend store{f.file, {.must_exist = true}};
  CHECK(board.jobs().empty());
  CHECK(board.trashed().empty());
  for (const auto& run : store.runs()) {
    INFO(run.id);
    CHECK(run.state == fk::flow_state::success);
  }
  CHECK(store.runs().size() == static_cast<std::size_t>(jobs));

  // Side effects: each task once, except the task each of the victim's jobs was running when it
  // died (it started it; its result was not durable): at most twice.
  const auto effects = side_effects::read(f.log);
  std::size_t reruns = 0;
  for (int i = 0; i < jobs; ++i) {
    const std::string job = numbered("job-", i);
    // From the log, not the victim's lines: a task it began is there even if its words were lost.
    const int running_at_kill = effects.last_task_of(job, victim.pid());
    for (int t = 0; t < 10; ++t) {
      INFO(job << " t" << t);
      const auto it = effects.runs.find({job, t});
      REQUIRE(it != effects.runs.end());
      if (t == running_at_kill) {
        CHECK(it->second.size() <= 2);
        reruns += it->second.size() - 1;
      } else {
        CHECK(it->second.size() == 1);
      }
    }
  }
  WARN("tasks run again after the kill (at-least-once, running at the kill): "
       << reruns << " (victim held " << victim_jobs.size() << " job(s))");
  CHECK(!victim_jobs.empty());
}
