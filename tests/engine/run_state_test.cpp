// The engine's run state and its one transition funnel: a recorder policy sees every change of an
// atom's state or intention and of the flow's state, under every executor.
#include "engine_testing.hpp"

#include <array>
#include <cstddef>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using testing::capture;
using testing::suspend_on;
using testing::where;

namespace {

// What a recorder was told. The engine keeps its recorder by value: this one points at a log.
struct journal {
  struct entry {
    std::size_t atom;
    fk::atom_state state;
    fk::intention intent;
  };
  std::mutex mutex;
  std::vector<entry> atoms;
  std::vector<fk::flow_state> flows;

  // The states recorded for one atom, in order, each once (an entry that changes only the
  // intention repeats the state).
  std::vector<std::string> states_of(std::size_t atom) const {
    std::vector<std::string> seen;
    bool first = true;
    fk::atom_state last{};
    for (const entry& e : atoms) {
      if (e.atom != atom) continue;
      if (first || e.state != last) seen.emplace_back(fk::to_string(e.state));
      first = false;
      last = e.state;
    }
    return seen;
  }
  std::vector<std::string> intentions_of(std::size_t atom) const {
    std::vector<std::string> seen;
    for (const entry& e : atoms)
      if (e.atom == atom) seen.emplace_back(fk::to_string(e.intent));
    return seen;
  }
};

// A recorder that keeps what it is told (the hooks of detail/recorder.hpp; it makes nothing
// durable, so it holds no successor back).
struct journal_recorder {
  static constexpr bool records = true;
  journal* log;
  template <class State>
  void open(State&) {}
  template <class State>
  void begin_run(State&) {}
  template <class State>
  void end_run(State&, bool) {}
  template <class State>
  void on_atom(State&, std::size_t atom, fk::atom_state s, fk::intention i, const fk::failure*) {
    std::lock_guard lock{log->mutex};
    log->atoms.push_back({atom, s, i});
  }
  template <class State>
  void on_flow(State&, fk::flow_state s) {
    std::lock_guard lock{log->mutex};
    log->flows.push_back(s);
  }
  static bool holds_successors() noexcept { return false; }
  static void group_begin() noexcept {}
  static void group_end() noexcept {}
  static bool wait_durable() noexcept { return true; }
  static void after_durable(const fk::detail::deferred_release& r) noexcept { r.run(r, true); }
};

std::vector<std::string> flow_events(const capture& events, const std::string& flow) {
  std::vector<std::string> seen;
  for (const auto& e : events.events)
    if (e.rfind(flow + ".f ", 0) == 0) seen.push_back(e.substr(flow.size() + 3));
  return seen;
}

}  // namespace

TEST_CASE("the recorder sees every transition the listeners see, and the intentions", "[engine][run_state]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool2);
  INFO(testing::describe(w));
  auto a = fk::task<"a">(fk::outputs<"x">, [] { return 1; }).on_revert([](const fk::outcome<int>&) {});
  auto b = fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x + 1; });
  auto c = fk::task<"c">(fk::inputs<"y">, [](int) { throw std::runtime_error("c fails"); });
  auto d = fk::task<"d">(fk::inputs<"y">, [](int) {});
  journal log;
  fk::engine eng{fk::linear_flow<"lf">(a, b, c, d), fk::store<>(), journal_recorder{&log}};
  capture events;
  eng.listen(events);
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::reverted);
  const char* names[] = {"a", "b", "c"};
  for (std::size_t atom = 0; atom < 3; ++atom) {
    INFO(names[atom]);
    CHECK(log.states_of(atom) == events.of(names[atom]));
  }
  std::vector<std::string> flows;
  for (fk::flow_state s : log.flows) flows.emplace_back(fk::to_string(s));
  CHECK(flows == flow_events(events, "lf"));
  // Ran, then the failure set every intention to REVERT before any revert began.
  CHECK(log.intentions_of(0) == std::vector<std::string>{"EXECUTE", "EXECUTE", "REVERT", "REVERT", "REVERT"});
  CHECK(log.intentions_of(2) == std::vector<std::string>{"EXECUTE", "EXECUTE", "REVERT", "REVERT", "REVERT"});
  // d never ran: only its intention changed, and listeners saw nothing of it.
  CHECK(log.intentions_of(3) == std::vector<std::string>{"REVERT"});
  CHECK(log.states_of(3) == std::vector<std::string>{"PENDING"});
  CHECK(events.of("d").empty());
  CHECK(events.illegal.empty());
}

TEST_CASE("the recorder sees an atom a decider ignored with the IGNORE intention", "[engine][run_state]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  auto a = fk::task<"a">(fk::outputs<"q">, [] { return 0; });
  auto b = fk::task<"b">([] {});
  journal log;
  fk::engine eng{fk::graph_flow<"g">(a, b, fk::link<"a", "b">([](int q) { return q > 0; })), fk::store<>(),
                 journal_recorder{&log}};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  REQUIRE(log.atoms.size() == 3);  // a RUNNING, a SUCCESS, b IGNORE
  CHECK(log.atoms[2].atom == 1);
  CHECK(log.atoms[2].state == fk::atom_state::ignore);
  CHECK(log.atoms[2].intent == fk::intention::ignore);
  // reset() records b back to PENDING, to be executed.
  eng.reset();
  CHECK(log.atoms.back().atom == 1);
  CHECK(log.atoms.back().state == fk::atom_state::pending);
  CHECK(log.atoms.back().intent == fk::intention::execute);
}

TEST_CASE("a retry that retries has the RETRY intention while its scope reverts", "[engine][run_state]") {
  int calls = 0;
  auto flaky = fk::task<"flaky">([&] {
    if (++calls < 2) throw std::runtime_error("not yet");
  });
  journal log;
  fk::engine eng{fk::linear_flow<"pay">(flaky).retry(fk::times(2)), fk::store<>(), journal_recorder{&log}};
  auto r = eng.run();
  REQUIRE(r.state() == fk::flow_state::success);
  // pay_retry is atom 0: ran, RETRY while flaky reverted, then RETRYING and ran again.
  CHECK(log.intentions_of(0) ==
        std::vector<std::string>{"EXECUTE", "EXECUTE", "RETRY", "EXECUTE", "EXECUTE", "EXECUTE"});
  CHECK(log.states_of(0) == std::vector<std::string>{"RUNNING", "SUCCESS", "RETRYING", "RUNNING", "SUCCESS"});
  CHECK(log.states_of(1) == std::vector<std::string>{"RUNNING", "FAILURE", "REVERTING", "REVERTED", "PENDING",
                                                     "RUNNING", "SUCCESS"});
}

// ----- the run state, read out and restored into a new engine -----

namespace {

auto chain(std::map<std::string, int>& runs) {
  return fk::linear_flow<"lf">(fk::task<"a">(fk::inputs<"n">, fk::outputs<"x">,
                                             [&](int n) {
                                               ++runs["a"];
                                               return n + 1;
                                             }),
                               fk::task<"b">(fk::inputs<"x">, fk::outputs<"y", "label">,
                                             [&](int x) {
                                               ++runs["b"];
                                               return std::tuple{x * 2, "b" + std::to_string(x)};
                                             }),
                               fk::task<"c">(fk::inputs<"y", "label">, fk::outputs<"z">,
                                             [&](int y, const std::string& l) {
                                               ++runs["c"];
                                               return l + ":" + std::to_string(y);
                                             }),
                               fk::task<"d">(fk::inputs<"z">, [&](const std::string&) { ++runs["d"]; }));
}

}  // namespace

TEST_CASE("a suspended run's state, restored into a new engine, finishes as an uninterrupted run",
          "[engine][run_state]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  std::map<std::string, int> whole_runs;
  fk::engine whole{chain(whole_runs), fk::store<"n">(20)};
  auto expected = testing::run_on(whole, w);
  REQUIRE(expected.state() == fk::flow_state::success);

  std::map<std::string, int> runs;
  fk::engine first{chain(runs), fk::store<"n">(20)};
  first.listen(suspend_on<decltype(first)>{&first, "b", fk::atom_state::success});
  REQUIRE(testing::run_on(first, w).state() == fk::flow_state::suspended);

  // Read out: every part of it is what the run left.
  using access = fk::detail::run_state_access;
  const auto saved = fk::detail::save_run_state(first);
  CHECK(saved.flow == fk::flow_state::suspended);
  CHECK(saved.states == std::array{fk::atom_state::success, fk::atom_state::success, fk::atom_state::pending,
                                   fk::atom_state::pending});
  CHECK(saved.intentions == std::array{fk::intention::execute, fk::intention::execute, fk::intention::execute,
                                       fk::intention::execute});
  REQUIRE(std::get<0>(saved.results).has_value());
  CHECK(*std::get<0>(saved.results) == 21);
  REQUIRE(std::get<1>(saved.results).has_value());
  CHECK(*std::get<1>(saved.results) == std::tuple{42, std::string{"b21"}});
  CHECK_FALSE(std::get<2>(saved.results).has_value());
  CHECK(access::result<2>(first) == nullptr);
  CHECK(saved.execute_failures.empty());

  // Restored into a new engine (the first one is gone), the run goes on from there.
  std::map<std::string, int> more_runs;
  fk::engine second{chain(more_runs), fk::store<"n">(20)};
  fk::detail::restore_run_state(second, saved);
  CHECK(second.state() == fk::flow_state::suspended);
  CHECK(second.state_of("b") == fk::atom_state::success);
  CHECK(second.get<"label">() == "b21");  // the outputs point into the restored results
  capture events;
  second.listen(events);
  auto r = testing::run_on(second, w);
  REQUIRE(r.state() == expected.state());
  CHECK(r.get<"z">() == expected.get<"z">());
  CHECK(r.get<"x">() == expected.get<"x">());
  CHECK(more_runs == std::map<std::string, int>{{"c", 1}, {"d", 1}});  // a and b did not run again
  CHECK(events.of("a").empty());
  CHECK(events.illegal.empty());
}

TEST_CASE("a run suspended during its revert, restored, finishes the revert with the same failure",
          "[engine][run_state]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  auto make = [](std::map<std::string, int>& reverts) {
    return fk::linear_flow<"lf">(
        fk::task<"a">(fk::outputs<"x">, [] { return 1; }).on_revert([&](const fk::outcome<int>&) {
          ++reverts["a"];
        }),
        fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x + 1; })
            .on_revert([&](int, const fk::outcome<int>&) { ++reverts["b"]; }),
        fk::task<"c">(fk::inputs<"y">, [](int) {
          throw std::invalid_argument("c: bad y");
        }).on_revert([&](int, const fk::outcome<void>&) { ++reverts["c"]; }));
  };
  std::map<std::string, int> reverts;
  fk::engine first{make(reverts), fk::store<>()};
  first.listen(suspend_on<decltype(first)>{&first, "c", fk::atom_state::reverted});
  REQUIRE(testing::run_on(first, w).state() == fk::flow_state::suspended);
  const auto saved = fk::detail::save_run_state(first);
  CHECK(saved.states ==
        std::array{fk::atom_state::success, fk::atom_state::success, fk::atom_state::reverted});
  CHECK(saved.intentions == std::array{fk::intention::revert, fk::intention::revert, fk::intention::revert});
  REQUIRE(saved.execute_failures.size() == 1);
  CHECK(saved.execute_failure_of[2] == 0);

  std::map<std::string, int> more_reverts;
  fk::engine second{make(more_reverts), fk::store<>()};
  fk::detail::restore_run_state(second, saved);
  auto r = testing::run_on(second, w);
  CHECK(r.state() == fk::flow_state::reverted);
  CHECK(more_reverts == std::map<std::string, int>{{"a", 1}, {"b", 1}});  // c's revert is not redone
  REQUIRE(r.failures().size() == 1);
  CHECK(r.failures()[0].atom() == "c");
  CHECK(r.failures()[0].type_name() == "std::invalid_argument");
  CHECK(r.failures()[0].what() == "c: bad y");
}

TEST_CASE("a retried run suspended between attempts, restored, keeps its retry history",
          "[engine][run_state]") {
  auto make = [](int& calls) {
    auto flaky = fk::task<"flaky">(fk::outputs<"v">, [&calls] {
                   if (++calls < 3) throw std::runtime_error("attempt " + std::to_string(calls));
                   return calls * 10;
                 }).on_revert([](const fk::outcome<int>&) {});
    return fk::linear_flow<"pay">(flaky).retry(fk::times(3));
  };
  int whole_calls = 0;
  fk::engine whole{make(whole_calls)};
  auto expected = whole.run();
  REQUIRE(expected.state() == fk::flow_state::success);

  int calls = 0;
  fk::engine first{make(calls)};
  first.listen(suspend_on<decltype(first)>{&first, "flaky", fk::atom_state::reverted});
  REQUIRE(first.run().state() == fk::flow_state::suspended);
  const auto saved = fk::detail::save_run_state(first);
  CHECK(saved.states == std::array{fk::atom_state::retrying, fk::atom_state::pending});
  REQUIRE(std::get<0>(saved.histories).size() == 1);
  CHECK(std::get<0>(saved.histories)[0].value == 1);
  CHECK(&fk::detail::run_state_access::history<0>(first) == &first.history<"pay_retry">());

  fk::engine second{make(calls)};  // the same task: its count of calls goes on
  fk::detail::restore_run_state(second, saved);
  auto r = second.run();
  REQUIRE(r.state() == expected.state());
  CHECK(r.get<"v">() == expected.get<"v">());
  const auto& history = r.history<"pay_retry">();
  const auto& expected_history = expected.history<"pay_retry">();
  REQUIRE(history.size() == expected_history.size());
  for (std::size_t i = 0; i < history.size(); ++i) {
    INFO(i);
    CHECK(history[i].value == expected_history[i].value);
    REQUIRE(history[i].failures.size() == expected_history[i].failures.size());
    for (std::size_t f = 0; f < history[i].failures.size(); ++f)
      CHECK(history[i].failures[f].what() == expected_history[i].failures[f].what());
  }
}
