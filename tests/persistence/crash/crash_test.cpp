// The crash test: a 20-task flow persisted to LMDB runs in a child process (flowkit-crash-child,
// see protocol.hpp) that is killed with SIGKILL, after each atom and at random moments; new
// processes resume the run until one finishes it. The outcome must be the uninterrupted run's, and
// the side-effect log, written outside the store, must show that no atom whose SUCCESS was
// checkpointed ran again and no atom whose REVERTED was checkpointed was reverted again. What ran
// twice must have been RUNNING at a kill, or not yet in the store (at-least-once).
//
// "Checkpointed" is what load_run shows once the child is dead: this process reads the store and
// the log's length after waitpid, before it starts the next child. Only this process asserts.
// Nothing sleeps to synchronise: the child says "started" on a pipe; the random delays before a
// kill are the test's input, not a wait for something to happen.
//
// FLOWKIT_CRASH_SEED fixes the random kills' seed (it is printed); FLOWKIT_CRASH_RANDOM sets how
// many random scenarios run per variant, executor and durability (default 10; 3 under a sanitizer).

#include "persistence/support.hpp"
#include "protocol.hpp"

#include <flowkit/lmdb.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FLOWKIT_CRASH_CHILD
#error "FLOWKIT_CRASH_CHILD: the path of flowkit-crash-child"
#endif

namespace fk = flowkit;
namespace crash = flowkit::crash;
using fk::test::cat;

namespace {

// Under a sanitizer a child is several times slower to start and to run: a third of the kill
// points are aimed at under each executor and durability (each point under one or two of them),
// and 3 random scenarios run for each.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

struct config {
  crash::variant variant;
  bool pool;
  fk::durability durability;
};

std::string describe(const config& c) {
  std::string s{crash::to_string(c.variant)};
  s += c.pool ? " pool" : " serial";
  s += c.durability == fk::durability::power_loss_safe ? " power" : " process";
  return s;
}

std::vector<config> configs_of(crash::variant v) {
  std::vector<config> out;
  for (bool pool : {false, true})
    for (fk::durability d : {fk::durability::process_crash_safe, fk::durability::power_loss_safe})
      out.push_back({v, pool, d});
  return out;
}

// Where one scenario keeps its store and its log.
struct paths {
  fk::test::temp_dir dir;
  std::filesystem::path store = dir / "store";
  std::filesystem::path log = dir / "effects.log";
};

// How a child run ended: its exit code (128 + signal if it died) and what it printed.
struct child_run {
  int code = -1;
  bool started = false;
  bool hung = false;  // killed after a minute
  std::vector<std::string> lines;
};

// Runs the child to its end. kill_at: "ATOM STATE N", the child kills itself there. delay: this
// process kills the child that long after it said "started" (if it is still running then).
child_run run_child(const config& c, const paths& p, const std::vector<std::string>& kill_at = {},
                    std::optional<std::chrono::microseconds> delay = {}) {
  std::vector<std::string> args{
      FLOWKIT_CRASH_CHILD,        std::string(crash::to_string(c.variant)),
      c.pool ? "pool" : "serial", c.durability == fk::durability::power_loss_safe ? "power" : "process",
      p.store.string(),           p.log.string()};
  args.insert(args.end(), kill_at.begin(), kill_at.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  // Reads the child's output until it closes it. With a delay, the kill comes that long after
  // "started" (the random moment under test, not a wait for something); a child still running
  // after a minute has hung and is killed too.
  using clock = std::chrono::steady_clock;
  const clock::time_point give_up = clock::now() + std::chrono::minutes{1};
  std::optional<clock::time_point> kill_at_time;
  bool killed = false;
  child_run r;
  std::string pending;
  char buf[4096];
  for (;;) {
    const clock::time_point now = clock::now();
    if (!killed && ((kill_at_time && now >= *kill_at_time) || now >= give_up)) {
      ::kill(pid, SIGKILL);  // a child that has exited already is a zombie: no effect
      killed = true;
      r.hung = now >= give_up;
    }
    const clock::time_point wake = killed         ? give_up + std::chrono::minutes{1}
                                   : kill_at_time ? std::min(*kill_at_time, give_up)
                                                  : give_up;
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::max(wake - now, clock::duration{}));
    const timespec timeout{static_cast<time_t>(ns.count() / 1'000'000'000),
                           static_cast<long>(ns.count() % 1'000'000'000)};
    pollfd fd{out[0], POLLIN, 0};
    const int ready = ::ppoll(&fd, 1, &timeout, nullptr);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw std::system_error(errno, std::generic_category(), "ppoll");
    if (ready == 0) continue;
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
      r.lines.push_back(pending.substr(0, nl));
      if (r.lines.back() == "started") {
        r.started = true;
        if (delay) kill_at_time = clock::now() + *delay;
      }
    }
  }
  ::close(out[0]);
  r.code = fk::test::join(pid);
  return r;
}

// The outcome lines of a run: state, results, failures, retry history.
std::vector<std::string> outcome_of(const child_run& r) {
  std::vector<std::string> out;
  for (const auto& l : r.lines)
    if (!l.starts_with("event ") && !l.starts_with("elapsed_us ") && l != "started") out.push_back(l);
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + '\n';
  return s;
}

// The run's record as another process sees it now, or nothing if the store has no such run.
std::optional<fk::run_record> load(const config& c, const paths& p) {
  fk::lmdb_backend store{p.store, {.durability = c.durability, .must_exist = true}};
  return store.load_run(std::string(crash::run_id));
}

fk::atom_state state_in(const std::optional<fk::run_record>& r, const std::string& atom) {
  if (!r) return fk::atom_state::pending;
  const fk::atom_detail* a = r->find(atom);
  return a ? a->state : fk::atom_state::pending;
}

std::string summary_of(const std::optional<fk::run_record>& r) {
  if (!r) return "no run";
  std::string s = "flow ";
  s += fk::to_string(r->flow.state);
  for (const auto& a : r->atoms) {
    s += ", " + a.name + ' ';
    s += fk::to_string(a.state);
    s += '/';
    s += fk::to_string(a.intention);
  }
  return s;
}

std::map<std::string, int> count(const std::vector<crash::log_event>& events, char kind) {
  std::map<std::string, int> n;
  for (const auto& e : events)
    if (e.kind == kind) ++n[e.atom];
  return n;
}

// An uninterrupted run of a config: what every interrupted one must end with.
struct reference {
  std::vector<std::string> outcome;
  std::vector<std::string> events;  // "event ATOM STATE"
  std::map<std::string, int> executes, reverts;
  std::map<std::string, std::string> lines;  // per atom, the kinds of its log lines in order: "xrxrx"
  std::chrono::microseconds elapsed{};
  fk::flow_state final_state{};
};

reference reference_of(const config& c) {
  INFO("the uninterrupted run of " << describe(c));
  paths p;
  const child_run r = run_child(c, p);
  REQUIRE_FALSE(r.hung);
  REQUIRE(r.code == 0);
  reference ref;
  ref.outcome = outcome_of(r);
  for (const auto& l : r.lines) {
    if (l.starts_with("event ")) ref.events.push_back(l);
    if (l.starts_with("elapsed_us ")) ref.elapsed = std::chrono::microseconds{std::stoll(l.substr(11))};
  }
  const auto log = crash::parse_log(fk::test::slurp(p.log));
  ref.executes = count(log, 'x');
  ref.reverts = count(log, 'r');
  for (const auto& e : log) ref.lines[e.atom] += e.kind;
  const auto stored = load(c, p);
  REQUIRE(stored);
  ref.final_state = stored->flow.state;
  // The flows do what they are meant to, so that the kills land in executes, reverts and retries.
  for (const auto& e : log) CHECK_FALSE(e.rerun);
  const auto& o = ref.outcome;
  switch (c.variant) {
    case crash::variant::plain:
      CHECK(o.front() == "state SUCCESS");
      CHECK(ref.executes.size() == crash::task_count);
      CHECK(ref.reverts.empty());
      break;
    case crash::variant::revert:
      CHECK(o.front() == "state REVERTED");
      CHECK(ref.reverts.size() == crash::task_count);
      CHECK(std::count(o.begin(), o.end(), "failure a19 std::runtime_error: a19 always fails") == 1);
      break;
    case crash::variant::retry:
      CHECK(o.front() == "state SUCCESS");
      CHECK(ref.executes.at("a07") == 3);
      CHECK(ref.reverts.at("a06") == 2);
      CHECK(std::count(o.begin(), o.end(), "history 3") == 1);
      break;
  }
  CHECK(fk::to_string(ref.final_state) == o.front().substr(6));
  return ref;
}

// What one scenario did: the store and the log's length at each kill, the run that finished.
struct kill_snapshot {
  std::optional<fk::run_record> record;
  std::size_t log_size = 0;
};

struct scenario {
  std::string name;
  std::vector<kill_snapshot> kills;
  child_run finished;                          // the run that finished the flow
  std::string log;                             // the log then
  std::optional<fk::run_record> final_record;  // the store then
  child_run again;                             // the finished run resumed once more
  std::size_t log_size_after_again = 0;
};

// What the scenarios of a test case add up to, printed at its end.
struct tally {
  int scenarios = 0, runs = 0, kills = 0, finished_before_kill = 0;
  int protected_success = 0, protected_reverted = 0;  // atoms SUCCESS / REVERTED at a kill
  int reran_running = 0;              // executed again, RUNNING in the store at the kill (rerun() true)
  int reran_unrecorded = 0;           // executed again, not yet RUNNING in the store at the kill
  int rerun_after_no_effect = 0;      // RUNNING at the kill, killed before its execute logged anything
  int reverted_again = 0;             // reverted again, REVERTING in the store at the kill
  int reverted_again_unrecorded = 0;  // reverted again, not yet REVERTING in the store at the kill

  void print(const std::string& what, std::chrono::steady_clock::duration took) const {
    std::cout << "crash: " << what << ": " << scenarios << " scenarios, " << runs << " child runs, " << kills
              << " kills (" << finished_before_kill << " random ones came after the child had finished); "
              << protected_success << " SUCCESS and " << protected_reverted
              << " REVERTED atoms in the store at a kill, none ran again; at-least-once: " << reran_running
              << " executed again that were RUNNING (rerun() true), " << reran_unrecorded
              << " executed again that were not yet RUNNING in the store, " << rerun_after_no_effect
              << " RUNNING ones rerun before they had logged anything, " << reverted_again
              << " reverted again that were REVERTING, " << reverted_again_unrecorded
              << " reverted again that were not yet REVERTING in the store; "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  }
};

std::string context_of(const config& c, const scenario& s) {
  std::ostringstream out;
  out << describe(c) << ", " << s.name << '\n';
  for (std::size_t i = 0; i < s.kills.size(); ++i)
    out << "kill " << i << " at log offset " << s.kills[i].log_size << ": " << summary_of(s.kills[i].record)
        << '\n';
  out << "log:\n" << s.log << "finished run:\n" << joined(s.finished.lines);
  return out.str();
}

// The kinds of an atom's lines ('x', 'r') in [from, to) of the log.
std::string lines_of(const std::vector<crash::log_event>& log, const std::string& atom, std::size_t from,
                     std::size_t to) {
  std::string kinds;
  for (const auto& e : log)
    if (e.atom == atom && e.offset >= from && e.offset < to) kinds += e.kind;
  return kinds;
}

// Where in `whole` (an atom's lines in the uninterrupted run) each child started, given the lines
// each child logged: child 0 at 0; each child's lines are `whole`'s from its start; the next child
// starts neither before this one's start (the store only moves forward) nor after its last line
// (nothing is skipped); the last child's lines end `whole`. Of the possible answers, the one that
// does the least again; none if the children's lines are not a resumed uninterrupted run.
std::optional<std::vector<std::size_t>> resumption(const std::string& whole,
                                                   const std::vector<std::string>& segs) {
  std::vector<std::size_t> starts(segs.size());
  auto from = [&](auto& self, std::size_t j, std::size_t q) -> bool {
    if (q + segs[j].size() > whole.size() || whole.compare(q, segs[j].size(), segs[j]) != 0) return false;
    starts[j] = q;
    if (j + 1 == segs.size()) return q + segs[j].size() == whole.size();
    for (std::size_t next = q + segs[j].size() + 1; next-- > q;)
      if (self(self, j + 1, next)) return true;
    return false;
  };
  if (!from(from, 0, 0)) return std::nullopt;
  return starts;
}

// Every check of one scenario against the uninterrupted run.
void check(const config& c, const reference& ref, const scenario& s, tally& t) {
  INFO(context_of(c, s));
  ++t.scenarios;
  CHECK_FALSE(s.finished.hung);
  CHECK(s.finished.code == 0);
  CHECK(joined(outcome_of(s.finished)) == joined(ref.outcome));

  const auto log = crash::parse_log(s.log);
  const auto shape = crash::shape(c.variant);

  for (std::size_t i = 0; i < s.kills.size(); ++i) {
    const kill_snapshot& k = s.kills[i];
    INFO("kill " << i);
    // The next child loaded this checkpoint and wrote the log from k.log_size to `until`.
    const std::size_t until = i + 1 < s.kills.size() ? s.kills[i + 1].log_size : s.log.size();
    auto state = [&](const std::string& atom) { return state_in(k.record, atom); };

    if (k.record && (k.record->flow.state == fk::flow_state::success ||
                     k.record->flow.state == fk::flow_state::reverted)) {
      INFO("a finished run resumes without running anything");
      CHECK(s.log.size() == k.log_size);
    }
    // Records become durable in order: an atom that started is in the store only after each of
    // its predecessors' SUCCESS (retry controllers' states are the retry's business, not checked).
    for (const auto& a : shape) {
      const fk::atom_state st = state(a.name);
      if (st != fk::atom_state::running && st != fk::atom_state::success && st != fk::atom_state::failure)
        continue;
      for (const auto& p : a.preds) {
        if (p == "sub_retry") continue;
        INFO(a.name << " is " << fk::to_string(st) << " in the store after predecessor " << p);
        CHECK(state(p) == fk::atom_state::success);
      }
    }
    // power_loss_safe: an atom starts only once its predecessors' records are durable, so the
    // predecessors of an atom whose execute the killed child logged are past RUNNING in the store.
    const std::size_t since = i > 0 ? s.kills[i - 1].log_size : 0;
    if (c.durability == fk::durability::power_loss_safe)
      for (const auto& a : shape) {
        const crash::log_event* last = nullptr;
        for (const auto& e : log)
          if (e.atom == a.name && e.offset < k.log_size) last = &e;
        if (!last || last->kind != 'x' || last->offset < since) continue;
        for (const auto& p : a.preds) {
          INFO(a.name << " started, its predecessor " << p << " is " << fk::to_string(state(p))
                      << " in the store");
          CHECK((state(p) != fk::atom_state::pending && state(p) != fk::atom_state::running));
        }
      }
    for (const auto& a : shape) {
      if (!a.task) continue;
      const crash::log_event* before = nullptr;
      const crash::log_event* after = nullptr;
      const crash::log_event* first_execute = nullptr;  // of the next child
      for (const auto& e : log) {
        if (e.atom != a.name) continue;
        if (e.offset < k.log_size) before = &e;
        if (e.offset >= k.log_size && !after) after = &e;
        if (e.offset >= k.log_size && e.offset < until && e.kind == 'x' && !first_execute) first_execute = &e;
      }
      const fk::atom_state st = state(a.name);
      INFO(a.name << " was " << fk::to_string(st) << " in the store at the kill; its last line before: "
                  << (before ? before->kind : '-') << ", its first after: " << (after ? after->kind : '-'));
      if (st == fk::atom_state::success) {
        ++t.protected_success;
        CHECK_FALSE((after && after->kind == 'x'));
      }
      if (st == fk::atom_state::reverted) {
        ++t.protected_reverted;
        CHECK_FALSE((after && after->kind == 'r'));
      }
      // exec.rerun() is true exactly for the first execute of an atom RUNNING in the checkpoint.
      for (const auto& e : log)
        if (e.atom == a.name && e.kind == 'x' && e.offset >= k.log_size && e.offset < until) {
          INFO("execute at log offset " << e.offset);
          CHECK(e.rerun == (&e == first_execute && st == fk::atom_state::running));
        }
      if (st == fk::atom_state::running && first_execute && !(before && before->kind == 'x'))
        ++t.rerun_after_no_effect;
    }
  }
  // Before the first kill, nothing is a rerun.
  for (const auto& e : log)
    if (s.kills.empty() || e.offset < s.kills.front().log_size) CHECK_FALSE(e.rerun);
  // Each child went on from where the checkpoint it loaded stood: an atom's lines, child by child,
  // are the uninterrupted run's, each child starting at or before where the one it resumed
  // stopped. What a child did that the next one did again was not in the store at the kill.
  for (const auto& a : shape) {
    if (!a.task) continue;
    std::vector<std::string> segments;
    std::size_t from = 0;
    for (const auto& k : s.kills) {
      segments.push_back(lines_of(log, a.name, from, k.log_size));
      from = k.log_size;
    }
    segments.push_back(lines_of(log, a.name, from, s.log.size()));
    const std::string& whole = ref.lines.count(a.name) ? ref.lines.at(a.name) : std::string{};
    std::string seen;
    for (const auto& seg : segments) seen += seg + '|';
    INFO(a.name << ": the uninterrupted run's lines " << whole << ", each child's: " << seen);
    const auto starts = resumption(whole, segments);
    REQUIRE(starts);
    for (std::size_t j = 0; j + 1 < segments.size(); ++j) {
      const std::size_t stopped = (*starts)[j] + segments[j].size(), next = (*starts)[j + 1];
      const fk::atom_state st = state_in(s.kills[j].record, a.name);
      for (std::size_t e = next; e < stopped; ++e) {
        const bool first = e == next;
        if (whole[e] == 'x')
          ++(first && st == fk::atom_state::running ? t.reran_running : t.reran_unrecorded);
        if (whole[e] == 'r')
          ++(first && st == fk::atom_state::reverting ? t.reverted_again : t.reverted_again_unrecorded);
      }
    }
  }
  // The store says how the run ended, and a finished run resumed again runs nothing and returns
  // its stored outcome.
  REQUIRE(s.final_record);
  CHECK(s.final_record->flow.state == ref.final_state);
  CHECK_FALSE(s.again.hung);
  CHECK(s.again.code == 0);
  CHECK(joined(outcome_of(s.again)) == joined(ref.outcome));
  CHECK(s.log_size_after_again == s.log.size());
}

std::size_t size_of(const std::filesystem::path& p) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : static_cast<std::size_t>(n);
}

// How one child run of a scenario ends: killed by itself at a point ("ATOM STATE N"), or by this
// process after a delay.
struct kill_plan {
  std::vector<std::string> at;
  std::optional<std::chrono::microseconds> delay;
};

// Runs one child per plan, each resuming the run (a random kill may come after the child has
// finished: then the scenario has ended), then one without a kill if the run has not finished, then
// one more on the finished run.
scenario play(const config& c, std::string name, const std::vector<kill_plan>& plans, tally& t) {
  paths p;
  scenario s;
  s.name = std::move(name);
  bool finished = false;
  for (const kill_plan& plan : plans) {
    child_run r = run_child(c, p, plan.at, plan.delay);
    ++t.runs;
    if (r.code == 0 && plan.delay) {
      ++t.finished_before_kill;
      s.finished = std::move(r);
      finished = true;
      break;
    }
    INFO(context_of(c, s) << "the child of kill " << s.kills.size() << " printed:\n" << joined(r.lines));
    REQUIRE_FALSE(r.hung);
    REQUIRE(r.code == 128 + SIGKILL);
    ++t.kills;
    s.kills.push_back({load(c, p), size_of(p.log)});
  }
  if (!finished) {
    s.finished = run_child(c, p);
    ++t.runs;
  }
  s.log = fk::test::slurp(p.log);
  s.final_record = load(c, p);
  s.again = run_child(c, p);
  ++t.runs;
  s.log_size_after_again = size_of(p.log);
  return s;
}

// The points a kill is aimed at: the N-th time an atom reached SUCCESS, FAILURE or REVERTED in
// the uninterrupted run. Each variant adds the points the plain flow does not have: every atom's
// SUCCESS in the plain flow, every FAILURE and REVERTED in the one that reverts, every step of
// the retried subflow in the one with a retry.
std::vector<std::vector<std::string>> kill_points(crash::variant v, const reference& ref) {
  std::vector<std::vector<std::string>> out;
  std::map<std::string, int> seen;
  for (const auto& e : ref.events) {
    const std::string atom_state = e.substr(6);
    const std::size_t space = atom_state.find(' ');
    const std::string atom = atom_state.substr(0, space), state = atom_state.substr(space + 1);
    if (state != "SUCCESS" && state != "FAILURE" && state != "REVERTED") continue;
    const int nth = ++seen[atom_state];
    const bool wanted = v == crash::variant::plain    ? true
                        : v == crash::variant::revert ? state != "SUCCESS"
                                                      : atom == "sub_retry" || atom == "a06" || atom == "a07";
    if (wanted) out.push_back({atom, state, std::to_string(nth)});
  }
  return out;
}

// Checkpoints must make progress: some kill of a config found atoms SUCCESS in the store (an
// engine that wrote nothing until the end would pass every other check). Promised only where an
// atom starts after its predecessors' records are durable (power_loss_safe); with group commit a
// slow committer (under a sanitizer, say) may legitimately lag behind every kill.
void check_progress(const config& c, const tally& t) {
  INFO(describe(c));
  if (c.durability == fk::durability::power_loss_safe)
    CHECK(t.protected_success > 0);
  else if (t.protected_success == 0)
    WARN("group commit had committed no SUCCESS before any kill of " << describe(c));
}

void kill_at_every_point(crash::variant v) {
  const auto configs = configs_of(v);
  for (std::size_t ci = 0; ci < configs.size(); ++ci) {
    const config& c = configs[ci];
    const auto t0 = std::chrono::steady_clock::now();
    const reference ref = reference_of(c);
    tally t;
    const auto points = kill_points(v, ref);
    for (std::size_t pi = 0; pi < points.size(); ++pi) {
      if (sanitized && (pi + ci) % 3 != 0) continue;
      const auto& at = points[pi];
      std::string name = "killed by itself at";
      for (const auto& a : at) name += ' ' + a;
      check(c, ref, play(c, name, {{at, {}}}, t), t);
    }
    check_progress(c, t);
    t.print(describe(c) + " killed at every point", std::chrono::steady_clock::now() - t0);
  }
}

std::uint64_t seed_from_environment() {
  if (const char* s = std::getenv("FLOWKIT_CRASH_SEED")) return std::stoull(s);
  return (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
}

int random_scenarios() {
  const char* s = std::getenv("FLOWKIT_CRASH_RANDOM");
  return s ? std::stoi(s) : sanitized ? 3 : 10;
}

// Random scenarios: 1 to 3 kills, each after a random delay from 0 to 1.2 times the uninterrupted
// run's duration, counted from the moment the child says it starts its run.
void kill_at_random_moments(crash::variant v) {
  const std::uint64_t seed = seed_from_environment();
  std::cout << "crash: random kills of the " << crash::to_string(v) << " flow with seed " << seed
            << " (FLOWKIT_CRASH_SEED=" << seed << " repeats them)\n";
  INFO("seed " << seed << " (FLOWKIT_CRASH_SEED=" << seed << " repeats this)");
  std::mt19937_64 rng{seed};
  for (const config& c : configs_of(v)) {
    const auto t0 = std::chrono::steady_clock::now();
    const reference ref = reference_of(c);
    std::uniform_int_distribution<long long> delay{0, ref.elapsed.count() * 6 / 5};
    std::uniform_int_distribution<int> kills{1, 3};
    tally t;
    for (int i = random_scenarios(); i > 0; --i) {
      std::vector<kill_plan> plans;
      std::string name = "killed after";
      for (int k = kills(rng); k > 0; --k) {
        const std::chrono::microseconds d{delay(rng)};
        plans.push_back({{}, d});
        name += ' ' + std::to_string(d.count()) + " us";
      }
      check(c, ref, play(c, name, plans, t), t);
    }
    if (t.kills >= 10) check_progress(c, t);
    t.print(describe(c) + " killed at random moments", std::chrono::steady_clock::now() - t0);
  }
}

}  // namespace

TEST_CASE("crash: a flow killed after each atom resumes to the uninterrupted run's results",
          "[persistence][crash]") {
  kill_at_every_point(crash::variant::plain);
}

TEST_CASE("crash: a flow that reverts and is killed at each failure and revert ends as an uninterrupted run",
          "[persistence][crash]") {
  kill_at_every_point(crash::variant::revert);
}

TEST_CASE("crash: a flow with a retry killed at each step of every attempt ends as an uninterrupted run",
          "[persistence][crash]") {
  kill_at_every_point(crash::variant::retry);
}

TEST_CASE("crash: a flow killed at random moments resumes to the uninterrupted run's results",
          "[persistence][crash]") {
  kill_at_random_moments(crash::variant::plain);
}

TEST_CASE("crash: a flow that reverts and is killed at random moments ends as an uninterrupted run",
          "[persistence][crash]") {
  kill_at_random_moments(crash::variant::revert);
}

TEST_CASE("crash: a flow with a retry killed at random moments ends as an uninterrupted run",
          "[persistence][crash]") {
  kill_at_random_moments(crash::variant::retry);
}
