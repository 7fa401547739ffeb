// Retry controllers, ported from TaskFlow's retry tests, under every executor.
#include "engine_testing.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

using testing::capture;
using testing::where;

namespace {

std::vector<std::string> failed_atoms(const std::vector<fk::failure>& failures) {
  std::vector<std::string> names;
  for (const auto& f : failures) names.push_back(f.atom());
  return names;
}

}  // namespace

TEST_CASE("times(3) succeeds on the third attempt", "[engine][retry]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool2, where::pool4);
  INFO(testing::describe(w));
  std::atomic<int> calls{0};
  auto flaky = fk::task<"flaky">(fk::outputs<"v">, [&] {
                 if (++calls < 3) throw std::runtime_error("not yet");
                 return calls.load();
               }).on_revert([](const fk::outcome<int>&) {});
  fk::engine eng{fk::linear_flow<"pay">(flaky).retry(fk::times(3))};
  capture events;
  eng.listen(events);
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(r.get<"v">() == 3);
  CHECK(r.failures().empty());
  const auto& history = eng.history<"pay_retry">();
  REQUIRE(history.size() == 3);
  CHECK(history[0].value == 1);
  CHECK(failed_atoms(history[0].failures) == std::vector<std::string>{"flaky"});
  CHECK(history[1].value == 2);
  CHECK(failed_atoms(history[1].failures) == std::vector<std::string>{"flaky"});
  CHECK(history[2].value == 3);
  CHECK(history[2].failures.empty());
  CHECK(events.of("pay_retry") == std::vector<std::string>{"RUNNING", "SUCCESS", "RETRYING", "RUNNING", "SUCCESS",
                                                           "RETRYING", "RUNNING", "SUCCESS"});
  CHECK(events.of("flaky") == std::vector<std::string>{"RUNNING", "FAILURE", "REVERTING", "REVERTED", "PENDING",
                                                       "RUNNING", "FAILURE", "REVERTING", "REVERTED", "PENDING",
                                                       "RUNNING", "SUCCESS"});
  CHECK(events.illegal.empty());
}

TEST_CASE("retries exhausted: the scope and then the whole flow revert", "[engine][retry]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  int before_reverts = 0, attempts = 0;
  auto before = fk::task<"before">([] {}).on_revert([&](const fk::outcome<void>&) { ++before_reverts; });
  auto always = fk::task<"always">([&] {
    ++attempts;
    throw std::runtime_error("no");
  });
  fk::engine eng{fk::linear_flow<"lf">(before, fk::linear_flow<"sub">(always).retry(fk::times(2)))};
  auto r = testing::run_on(eng, w);
  CHECK(r.state() == fk::flow_state::reverted);
  CHECK(attempts == 2);
  CHECK(before_reverts == 1);
  CHECK(eng.state_of("sub_retry") == fk::atom_state::reverted);
  REQUIRE(r.failures().size() == 1);
  CHECK(r.failures()[0].atom() == "always");
  // What was tried stays readable after the flow ended REVERTED, from the result and the engine.
  const auto& history = r.history<"sub_retry">();
  CHECK(&history == &eng.history<"sub_retry">());
  REQUIRE(history.size() == 2);
  CHECK(history[0].value == 1);
  CHECK(failed_atoms(history[0].failures) == std::vector<std::string>{"always"});
  CHECK(history[1].value == 2);
  REQUIRE(failed_atoms(history[1].failures) == std::vector<std::string>{"always"});
  CHECK(history[1].failures[0].what() == "no");
  // Running again starts afresh: the same two attempts, not four.
  auto again = testing::run_on(eng, w);
  CHECK(again.state() == fk::flow_state::reverted);
  CHECK(attempts == 4);
  CHECK(again.history<"sub_retry">().size() == 2);
}

TEST_CASE("a retry reverted by its parent keeps its attempts until it runs again", "[engine][retry]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  auto work = fk::task<"work">(fk::inputs<"mode">,
                               [](const std::string& mode) { throw std::runtime_error("bad mode " + mode); });
  auto inner = fk::linear_flow<"inner">(work).retry(fk::times(2));
  auto outer =
      fk::linear_flow<"outer">(inner).retry(fk::for_each<"mode">(std::vector<std::string>{"x", "y"}));
  fk::engine eng{outer};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::reverted);
  // The outer retry tried both values; the inner one, started afresh for "y", tried twice.
  const auto& outer_history = r.history<"outer_retry">();
  REQUIRE(outer_history.size() == 2);
  CHECK(outer_history[0].value == "x");
  CHECK(outer_history[1].value == "y");
  const auto& inner_history = r.history<"inner_retry">();
  REQUIRE(inner_history.size() == 2);
  CHECK(inner_history[0].value == 1);
  CHECK(inner_history[1].value == 2);
  REQUIRE(inner_history[1].failures.size() == 1);
  CHECK(inner_history[1].failures[0].what() == "bad mode y");
}

TEST_CASE("for_each stops at the first value that works", "[engine][retry]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool4);
  INFO(testing::describe(w));
  std::vector<int> tried;
  auto use = fk::task<"use">(fk::inputs<"amount">, fk::outputs<"paid">, [&](int amount) {
    tried.push_back(amount);
    if (amount < 30) throw std::invalid_argument("too small: " + std::to_string(amount));
    return amount;
  });
  fk::engine eng{fk::linear_flow<"pay">(use).retry(fk::for_each<"amount">(std::vector<int>{10, 20, 30, 40}))};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(r.get<"paid">() == 30);
  CHECK(tried == std::vector<int>{10, 20, 30});
  const auto& history = eng.history<"pay_retry">();
  REQUIRE(history.size() == 3);
  CHECK(history[0].failures.at(0).what() == "too small: 10");
  CHECK(history[2].value == 30);
}

TEST_CASE("for_each with no value left reverts", "[engine][retry]") {
  auto use = fk::task<"use">(fk::inputs<"x">, [](int) { throw std::runtime_error("never"); });
  fk::engine eng{fk::linear_flow<"lf">(use).retry(fk::for_each<"x">(std::vector<int>{1, 2}))};
  auto r = eng.run();
  CHECK(r.state() == fk::flow_state::reverted);
  CHECK(eng.state_of("use") == fk::atom_state::reverted);
}

TEST_CASE("an empty for_each fails its own execute and the flow reverts", "[engine][retry]") {
  int ran = 0;
  auto use = fk::task<"use">(fk::inputs<"x">, [&](int) { ++ran; });
  fk::engine eng{fk::linear_flow<"lf">(use).retry(fk::for_each<"x">(std::vector<int>{}))};
  auto r = eng.run();
  CHECK(r.state() == fk::flow_state::reverted);
  CHECK(ran == 0);
  REQUIRE(r.failures().size() == 1);
  CHECK(r.failures()[0].atom() == "lf_retry");
  CHECK(r.failures()[0].type_name() == "flowkit::retries_exhausted");
}

TEST_CASE("parameterized_for_each reads its values from a slot", "[engine][retry]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  auto connect = fk::task<"connect">(fk::inputs<"host">, fk::outputs<"connected">, [](const std::string& host) {
    if (host != "c") throw std::runtime_error("down: " + host);
    return "connected to " + host;
  });
  auto flow = fk::linear_flow<"try_hosts">(connect).retry(
      fk::parameterized_for_each<"hosts", "host", std::vector<std::string>>());
  fk::engine eng{flow, fk::store<"hosts">(std::vector<std::string>{"a", "b", "c", "d"})};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(r.get<"connected">() == "connected to c");
  CHECK(eng.history<"try_hosts_retry">().size() == 3);
}

TEST_CASE("nested retries: the innermost decides first, then its parent", "[engine][retry]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool2);
  INFO(testing::describe(w));
  std::vector<std::string> runs;
  std::mutex runs_mutex;
  auto work = fk::task<"work">(fk::inputs<"mode">, fk::outputs<"done">, [&](const std::string& mode) {
    {
      std::lock_guard lock{runs_mutex};
      runs.push_back(mode);
    }
    if (mode == "bad") throw std::runtime_error("bad mode");
    return mode;
  });
  auto inner = fk::linear_flow<"inner">(work).retry(fk::times(2));
  auto outer = fk::linear_flow<"outer">(inner).retry(fk::for_each<"mode">(std::vector<std::string>{"bad", "good"}));
  fk::engine eng{outer};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(runs == std::vector<std::string>{"bad", "bad", "good"});
  const auto& outer_history = eng.history<"outer_retry">();
  REQUIRE(outer_history.size() == 2);
  CHECK(outer_history[0].value == "bad");
  CHECK(failed_atoms(outer_history[0].failures) == std::vector<std::string>{"work"});
  CHECK(outer_history[1].value == "good");
  // The inner retry was reverted with the outer scope and started afresh.
  REQUIRE(eng.history<"inner_retry">().size() == 1);
  CHECK(eng.history<"inner_retry">()[0].value == 1);
}

TEST_CASE("revert-all escalation skips the parent retry", "[engine][retry]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  int attempts = 0;
  auto work = fk::task<"work">([&] {
    ++attempts;
    throw std::runtime_error("fatal");
  });
  auto inner = fk::linear_flow<"inner">(work).retry(fk::times(2, fk::revert_all_when_exhausted));
  fk::engine eng{fk::linear_flow<"outer">(inner).retry(fk::times(5))};
  auto r = testing::run_on(eng, w);
  CHECK(r.state() == fk::flow_state::reverted);
  CHECK(attempts == 2);  // the outer retry was not asked
  CHECK(eng.state_of("outer_retry") == fk::atom_state::reverted);
}

TEST_CASE("always_revert leaves the failure to the enclosing scope, always_revert_all reverts all", "[engine][retry]") {
  int outer_attempts = 0;
  auto count = fk::task<"count">([&] { ++outer_attempts; });
  auto fail = fk::task<"fail">([] { throw std::runtime_error("x"); });
  fk::engine reverting{fk::linear_flow<"outer">(count, fk::linear_flow<"inner">(fail).retry(fk::always_revert))
                           .retry(fk::times(3))};
  CHECK(reverting.run().state() == fk::flow_state::reverted);
  CHECK(outer_attempts == 3);  // the outer retry retried the whole outer flow

  outer_attempts = 0;
  fk::engine all{fk::linear_flow<"outer">(count, fk::linear_flow<"inner">(fail).retry(fk::always_revert_all))
                     .retry(fk::times(3))};
  CHECK(all.run().state() == fk::flow_state::reverted);
  CHECK(outer_attempts == 1);
}

TEST_CASE("a retried scope re-runs alone: what is outside it runs once", "[engine][retry]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool4);
  INFO(testing::describe(w));
  std::atomic<int> a_runs{0}, flaky_runs{0}, c_runs{0}, side_runs{0};
  auto a = fk::task<"a">(fk::outputs<"x">, [&] { return ++a_runs; });
  auto flaky = fk::task<"flaky">(fk::inputs<"x">, fk::outputs<"y">, [&](int x) {
    if (++flaky_runs < 2) throw std::runtime_error("once");
    return x + 10;
  });
  auto side = fk::task<"side">(fk::inputs<"x">, [&](int) { ++side_runs; });
  auto c = fk::task<"c">(fk::inputs<"y">, fk::outputs<"z">, [&](int y) {
    ++c_runs;
    return y * 2;
  });
  auto flow = fk::linear_flow<"lf">(
      a, fk::unordered_flow<"parallel">(fk::linear_flow<"retried">(flaky).retry(fk::times(3)), side), c);
  fk::engine eng{flow};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(r.get<"z">() == 22);
  CHECK(a_runs == 1);
  CHECK(side_runs == 1);
  CHECK(flaky_runs == 2);
  CHECK(c_runs == 1);
}

TEST_CASE("a retry scope's revert failure ends the flow FAILURE, running again resumes", "[engine][retry]") {
  bool nasty = true;
  int attempts = 0;
  auto undo = fk::task<"undo">([] {}).on_revert([&](const fk::outcome<void>&) {
    if (nasty) throw std::runtime_error("cannot undo");
  });
  auto fail_once = fk::task<"fail_once">([&] {
    if (++attempts == 1) throw std::runtime_error("first");
  });
  fk::engine eng{fk::linear_flow<"lf">(undo, fail_once).retry(fk::times(2))};
  auto r = eng.run();
  CHECK(r.state() == fk::flow_state::failure);
  CHECK(eng.state_of("undo") == fk::atom_state::revert_failure);
  nasty = false;
  auto again = eng.run();
  CHECK(again.state() == fk::flow_state::success);  // the revert finished, then the retry ran
  CHECK(attempts == 2);
}
