#pragma once
// What the crash test (crash_test.cpp) and the program it kills (child.cpp) share: the flows'
// shapes as data, the child's command line and output, and the lines of the side-effect log.
//
// The child runs one of three 20-task flows persisted to an LMDB store, serially or on a pool of 4,
// and appends one line to the log per execute ("x a05", or "x a05 rerun" when exec.rerun()) and per
// revert ("r a05"), each with a single write(2) on an O_APPEND descriptor: a line is either whole
// in the file or absent, whenever SIGKILL lands.
//
//   flowkit-crash-child VARIANT EXECUTOR DURABILITY STORE LOG [ATOM STATE N]
//
// VARIANT plain | revert | retry, EXECUTOR serial | pool, DURABILITY process | power. With ATOM
// STATE N, the child kills itself with SIGKILL from a listener when ATOM reaches STATE (e.g.
// SUCCESS) for the N-th time. It prints "started" just before the run starts and, when the run
// returns, "event ATOM STATE" for each atom transition it saw, then the outcome: "state S",
// "result SLOT VALUE|none", "failure ATOM TYPE: WHAT", "history VALUE FAILED-ATOMS", and last
// "elapsed_us N" (the run's duration).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace flowkit::crash {

enum class variant { plain, revert, retry };

inline constexpr variant all_variants[] = {variant::plain, variant::revert, variant::retry};

constexpr std::string_view to_string(variant v) {
  switch (v) {
    case variant::plain:
      return "plain";
    case variant::revert:
      return "revert";
    case variant::retry:
      return "retry";
  }
  return "?";
}

inline constexpr std::string_view run_id = "crash-run";
inline constexpr std::size_t task_count = 20;

// One atom of a flow: its name, whether it is a task (a retry controller is not, and logs
// nothing), and the atoms whose results it reads.
struct atom_shape {
  std::string name;
  bool task = true;
  std::vector<std::string> preds;
};

// The flows, as child.cpp builds them: tasks a00..a19, each providing v00..v19 from its
// predecessors' values. A chain with two fan-outs of four (a01-a04, a10-a13) and one of two
// (a15, a16), so that a pool has parallel work. In `revert`, a19 always fails; in `retry`, a06
// and a07 form the subflow "sub" retried with times(3), its attempt number in the slot "attempt",
// and a07 fails while that number is below 3.
inline std::vector<atom_shape> shape(variant v) {
  auto a = [](int i) {
    std::string s = "a0";
    if (i >= 10) s = "a";
    s += std::to_string(i);
    return s;
  };
  std::vector<atom_shape> atoms;
  auto add = [&](int i, std::vector<int> preds) {
    atom_shape s{a(i), true, {}};
    for (int p : preds) s.preds.push_back(a(p));
    atoms.push_back(std::move(s));
  };
  add(0, {});
  for (int i = 1; i <= 4; ++i) add(i, {0});
  add(5, {1, 2, 3, 4});
  if (v == variant::retry) atoms.push_back({"sub_retry", false, {"a05"}});
  add(6, {5});
  if (v == variant::retry) atoms.back().preds.push_back("sub_retry");
  add(7, {6});
  if (v == variant::retry) atoms.back().preds.push_back("sub_retry");  // a07 reads "attempt"
  add(8, {7});
  add(9, {8});
  for (int i = 10; i <= 13; ++i) add(i, {9});
  add(14, {10, 11, 12, 13});
  add(15, {14});
  add(16, {14});
  add(17, {15, 16});
  add(18, {17});
  add(19, {18});
  return atoms;
}

// One line of the side-effect log.
struct log_event {
  char kind = '?';  // 'x' execute, 'r' revert
  std::string atom;
  bool rerun = false;
  std::size_t offset = 0;  // where the line starts in the log
};

inline std::vector<log_event> parse_log(std::string_view log) {
  std::vector<log_event> out;
  std::size_t at = 0;
  while (at < log.size()) {
    const std::size_t end = log.find('\n', at);
    if (end == std::string_view::npos) break;  // never happens: each line is one write
    const std::string_view line = log.substr(at, end - at);
    log_event e;
    e.offset = at;
    e.kind = line.empty() ? '?' : line[0];
    const std::string_view rest = line.size() > 2 ? line.substr(2) : std::string_view{};
    const std::size_t space = rest.find(' ');
    e.atom = std::string(rest.substr(0, space));
    e.rerun = space != std::string_view::npos && rest.substr(space + 1) == "rerun";
    out.push_back(std::move(e));
    at = end + 1;
  }
  return out;
}

}  // namespace flowkit::crash
