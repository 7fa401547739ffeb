// Deciders on graph-flow links, ported from TaskFlow's decider tests, at each depth and in
// nested flows, under every executor.
#include "engine_testing.hpp"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using testing::capture;
using testing::where;

namespace {

struct quote {
  int amount;
  std::string currency;
};

auto source(bool go) {
  return fk::task<"a">(fk::outputs<"q">, [go] { return quote{go ? 100 : 0, "EUR"}; });
}
auto accept_positive = [](const quote& q) { return q.amount > 0; };

}  // namespace

TEST_CASE("a decider that says yes lets its target run, its input is the source's typed result", "[engine][decider]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  std::string seen;
  auto b = fk::task<"b">(fk::outputs<"b_done">, [] { return 1; });
  fk::engine eng{fk::graph_flow<"g">(source(true), b, fk::link<"a", "b">([&](const quote& q) {
    seen = std::to_string(q.amount) + q.currency;
    return true;
  }))};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(seen == "100EUR");
  CHECK(r.get<"b_done">() == 1);
}

TEST_CASE("depth all: the target and everything after it are IGNORE, the flow succeeds", "[engine][decider]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool2, where::pool4);
  INFO(testing::describe(w));
  std::atomic<int> ran{0};
  auto b = fk::task<"b">(fk::outputs<"y">, [&] { return ++ran; });
  auto c = fk::task<"c">(fk::inputs<"y">, fk::outputs<"z">, [&](int y) { ++ran; return y; });
  auto d = fk::task<"d">(fk::inputs<"z">, [&](int) { ++ran; });
  auto other = fk::task<"other">(fk::inputs<"q">, fk::outputs<"o">, [&](const quote& q) { return q.amount; });
  fk::engine eng{fk::graph_flow<"g">(source(false), b, c, d, other, fk::link<"a", "b">(accept_positive))};
  capture events;
  eng.listen(events);
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(ran == 0);
  for (const char* atom : {"b", "c", "d"}) {
    INFO(atom);
    CHECK(eng.state_of(atom) == fk::atom_state::ignore);
    CHECK(events.of(atom) == std::vector<std::string>{"IGNORE"});
  }
  CHECK(eng.state_of("other") == fk::atom_state::success);
  CHECK(r.get<"o">() == 0);
  CHECK_FALSE(r.has<"y">());
  CHECK_THROWS_AS(r.get<"y">(), fk::no_result);  // absence, never garbage
  CHECK(events.illegal.empty());
}

TEST_CASE("depth atom: only the target, a consumer of its optional output gets its default", "[engine][decider]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  auto b = fk::task<"b">(fk::outputs<"y">, [] { return 7; });
  auto c = fk::task<"c">(fk::inputs<"y">, fk::outputs<"z">, [](int y) { return y * 10; }).with_default<"y">(-1);
  fk::engine eng{
      fk::graph_flow<"g">(source(false), b, c, fk::link<"a", "b", fk::depth::atom>(accept_positive))};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(eng.state_of("b") == fk::atom_state::ignore);
  CHECK(r.get<"z">() == -10);
}

TEST_CASE("depth atom: a store value stands in for the output of an ignored atom", "[engine][decider]") {
  // Without the store value this flow does not compile (compile_fail/decider_ignores_input.cpp).
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  bool go = false;
  auto gate = fk::task<"a">(fk::outputs<"go">, [&] { return go; });
  auto b = fk::task<"b">(fk::outputs<"y">, [] { return 7; });
  auto c = fk::task<"c">(fk::inputs<"y">, fk::outputs<"z">, [](int y) { return y * 10; });
  fk::engine eng{
      fk::graph_flow<"g">(gate, b, c, fk::link<"a", "b", fk::depth::atom>([](bool g) { return g; })),
      fk::store<"y">(5)};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(eng.state_of("b") == fk::atom_state::ignore);
  CHECK(r.get<"z">() == 50);
  eng.reset();
  go = true;
  auto again = testing::run_on(eng, w);
  REQUIRE(again.state() == fk::flow_state::success);
  CHECK(again.get<"z">() == 70);  // the producer's output, when there is one
}

TEST_CASE("depth neighbors: the target and the atoms right after it", "[engine][decider]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  auto b = fk::task<"b">(fk::outputs<"y">, [] { return 1; });
  auto c = fk::task<"c">(fk::inputs<"y">, fk::outputs<"z">, [](int y) { return y; });
  auto d = fk::task<"d">(fk::inputs<"z">, [](int) {});
  auto d2 = fk::task<"d">([] {});
  fk::engine eng{fk::graph_flow<"g">(source(false), b, c, d2, fk::link<"c", "d">,
                                     fk::link<"a", "b", fk::depth::neighbors>(accept_positive))};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(eng.state_of("b") == fk::atom_state::ignore);
  CHECK(eng.state_of("c") == fk::atom_state::ignore);
  CHECK(eng.state_of("d") == fk::atom_state::success);  // two steps away: runs
  (void)d;
}

TEST_CASE("depth neighbors: a nested flow right after the target is not a task, its atoms run",
          "[engine][decider]") {
  // As TaskFlow 5.0 does (checked with python3-taskflow): b and c IGNORE, n1, n2 and d SUCCESS.
  const where w = GENERATE(where::serial, where::pool1, where::pool2);
  INFO(testing::describe(w));
  auto b = fk::task<"b">([] {});
  auto c = fk::task<"c">([] {});
  auto nested = fk::linear_flow<"nested">(fk::task<"n1">([] {}), fk::task<"n2">([] {}));
  auto d = fk::task<"d">([] {});
  fk::engine eng{fk::graph_flow<"g">(source(false), b, c, nested, d, fk::link<"b", "c">,
                                     fk::link<"b", "nested">, fk::link<"nested", "d">,
                                     fk::link<"a", "b", fk::depth::neighbors>(accept_positive))};
  capture events;
  eng.listen(events);
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(eng.state_of("b") == fk::atom_state::ignore);
  CHECK(eng.state_of("c") == fk::atom_state::ignore);
  for (const char* atom : {"n1", "n2", "d"}) {
    INFO(atom);
    CHECK(eng.state_of(atom) == fk::atom_state::success);
  }
  CHECK(events.illegal.empty());
}

TEST_CASE("depth neighbors: what follows the graph flow itself runs", "[engine][decider]") {
  // TaskFlow: the target's successor there is the graph flow's end, not a task.
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  auto b = fk::task<"b">([] {});
  auto t = fk::task<"t">([] {});
  fk::engine eng{fk::linear_flow<"outer">(
      fk::graph_flow<"g">(source(false), b, fk::link<"a", "b", fk::depth::neighbors>(accept_positive)), t)};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(eng.state_of("b") == fk::atom_state::ignore);
  CHECK(eng.state_of("t") == fk::atom_state::success);
}

TEST_CASE("depth neighbors aimed at a flow: all of it, and the tasks linked right after it",
          "[engine][decider]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  auto ship = fk::linear_flow<"ship">(fk::task<"s1">([] {}), fk::task<"s2">([] {}));
  auto after = fk::task<"after">([] {});
  auto later = fk::task<"later">([] {});
  fk::engine eng{fk::graph_flow<"g">(source(false), ship, after, later, fk::link<"ship", "after">,
                                     fk::link<"after", "later">,
                                     fk::link<"a", "ship", fk::depth::neighbors>(accept_positive))};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  for (const char* atom : {"s1", "s2", "after"}) {
    INFO(atom);
    CHECK(eng.state_of(atom) == fk::atom_state::ignore);
  }
  CHECK(eng.state_of("later") == fk::atom_state::success);
}

TEST_CASE("depth flow: what follows among the graph's own atoms, not inside nested flows", "[engine][decider]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  auto b = fk::task<"b">([] {});
  auto c = fk::task<"c">([] {});
  auto nested = fk::linear_flow<"nested">(fk::task<"n1">([] {}), fk::task<"n2">([] {}));
  fk::engine eng{fk::graph_flow<"g">(source(false), b, c, nested, fk::link<"b", "c">, fk::link<"c", "nested">,
                                     fk::link<"a", "b", fk::depth::flow>(accept_positive))};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(eng.state_of("b") == fk::atom_state::ignore);
  CHECK(eng.state_of("c") == fk::atom_state::ignore);
  CHECK(eng.state_of("n1") == fk::atom_state::success);
  CHECK(eng.state_of("n2") == fk::atom_state::success);
}

TEST_CASE("a decider aimed at a nested flow ignores all of it, and what follows", "[engine][decider]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool4);
  INFO(testing::describe(w));
  auto nested = fk::unordered_flow<"ship">(fk::task<"s1">([] {}), fk::task<"s2">([] {}));
  auto after = fk::task<"after">([] {});
  auto unrelated = fk::task<"unrelated">(fk::outputs<"u">, [] { return 5; });
  fk::engine eng{fk::graph_flow<"g">(source(false), nested, after, unrelated, fk::link<"ship", "after">,
                                     fk::link<"a", "ship">(accept_positive))};
  auto r = testing::run_on(eng, w);
  REQUIRE(r.state() == fk::flow_state::success);
  for (const char* atom : {"s1", "s2", "after"}) {
    INFO(atom);
    CHECK(eng.state_of(atom) == fk::atom_state::ignore);
  }
  CHECK(r.get<"u">() == 5);
}

TEST_CASE("deciders inside nested flows, and ignored atoms are never reverted", "[engine][decider]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  std::vector<std::string> reverted;
  std::mutex reverted_mutex;
  auto undo = [&](const char* name) {
    return [&, name](const fk::outcome<void>&) {
      std::lock_guard lock{reverted_mutex};
      reverted.push_back(name);
    };
  };
  auto flow = fk::linear_flow<"outer">(
      fk::graph_flow<"inner">(fk::task<"check">(fk::outputs<"ok">, [] { return false; }),
                              fk::task<"skipped">([] {}).on_revert(undo("skipped")),
                              fk::task<"kept">([] {}).on_revert(undo("kept")),
                              fk::link<"check", "skipped", fk::depth::atom>([](bool ok) { return ok; })),
      fk::task<"boom">([] { throw std::runtime_error("boom"); }));
  fk::engine eng{flow};
  auto r = testing::run_on(eng, w);
  CHECK(r.state() == fk::flow_state::reverted);
  CHECK(reverted == std::vector<std::string>{"kept"});
  CHECK(eng.state_of("skipped") == fk::atom_state::ignore);
}

TEST_CASE("a reset or a retry returns ignored atoms to PENDING, and the decider decides again", "[engine][decider]") {
  bool go = false;
  int b_runs = 0;
  auto a = fk::task<"a">(fk::outputs<"flag">, [&] { return go; });
  auto b = fk::task<"b">([&] { ++b_runs; });
  fk::engine eng{fk::graph_flow<"g">(a, b, fk::link<"a", "b">([](bool flag) { return flag; }))};
  REQUIRE(eng.run().succeeded());
  CHECK(b_runs == 0);
  eng.reset();
  go = true;
  REQUIRE(eng.run().succeeded());
  CHECK(b_runs == 1);
}

// A consumer whose producer a decider ignored, in a flow let through the compile-time check
// (compile_fail/decider_ignores_input.cpp) to reach the engine's guard: the consumer fails
// before it runs, so it has nothing to revert.
namespace {

struct consumer_log {
  std::mutex mutex;
  std::vector<std::string> reverted;
  int c_calls = 0;
};

auto consumer_of_ignored(consumer_log& log) {
  auto a = fk::task<"a">(fk::outputs<"go">, [] { return false; }).on_revert([&log](const fk::outcome<bool>&) {
    std::lock_guard lock{log.mutex};
    log.reverted.push_back("a");
  });
  auto b = fk::task<"b">(fk::outputs<"y">, [] { return 7; });
  auto c = fk::task<"c">(fk::inputs<"y">, [&log](int) {
             ++log.c_calls;
           }).on_revert([&log](int, const fk::outcome<void>&) {
    std::lock_guard lock{log.mutex};
    log.reverted.push_back("c");
  });
  return fk::graph_flow<"g">(a, b, c, fk::link<"a", "b", fk::depth::atom>([](bool go) { return go; }));
}
using consumer_of_ignored_t = decltype(consumer_of_ignored(std::declval<consumer_log&>()));

}  // namespace

template <>
inline constexpr bool fk::detail::unchecked_decider_inputs<consumer_of_ignored_t> = true;

TEST_CASE("a consumer that failed for want of an ignored input is not reverted, the flow ends REVERTED",
          "[engine][decider]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool2);
  INFO(testing::describe(w));
  consumer_log log;
  fk::engine eng{consumer_of_ignored(log)};
  capture events;
  eng.listen(events);
  for (int run = 1; run <= 2; ++run) {  // running again starts afresh, and ends the same way
    INFO("run " << run);
    auto r = testing::run_on(eng, w);
    CHECK(r.state() == fk::flow_state::reverted);
    REQUIRE(r.failures().size() == 1);
    CHECK(r.failures()[0].atom() == "c");
    CHECK(r.failures()[0].phase() == fk::failure_phase::execute);
    CHECK(r.failures()[0].type_name() == "flowkit::no_result");
    CHECK_THAT(r.failures()[0].what(),
               Catch::Contains("'y'") && Catch::Contains("'b'") && Catch::Contains("IGNORE"));
    CHECK(eng.state_of("a") == fk::atom_state::reverted);
    CHECK(eng.state_of("b") == fk::atom_state::ignore);
    CHECK(eng.state_of("c") == fk::atom_state::reverted);
    CHECK(r.unreverted().empty());
  }
  CHECK(log.reverted == std::vector<std::string>{"a", "a"});  // c's revert is never called
  CHECK(log.c_calls == 0);
  CHECK(events.of("c") == std::vector<std::string>{"RUNNING", "FAILURE", "REVERTING", "REVERTED", "PENDING",
                                                   "RUNNING", "FAILURE", "REVERTING", "REVERTED"});
  CHECK(events.illegal.empty());
}
