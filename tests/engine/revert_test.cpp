// Failure and revert, ported from TaskFlow's engine tests, under every executor.
#include "engine_testing.hpp"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

using testing::capture;
using testing::where;

namespace {

// Reverts of independent atoms run at once on a pool: the record is locked.
std::mutex reverted_mutex;

// A task that does nothing; its revert is recorded.
template <fk::name Name>
auto noop(std::vector<std::string>* reverted = nullptr) {
  return fk::task<Name>([] {}).on_revert([reverted](const fk::outcome<void>& r) {
    std::lock_guard lock{reverted_mutex};
    if (reverted) reverted->push_back(std::string(Name.view()) + (r.succeeded() ? "" : "(failed)"));
  });
}

template <fk::name Name>
auto failing() {
  return fk::task<Name>([] { throw std::runtime_error("Woot!"); }).on_revert([](const fk::outcome<void>&) {});
}

}  // namespace

TEST_CASE("linear flow: a failure reverts what ran, latest first, later atoms never run", "[engine][revert]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool2, where::pool4);
  INFO(testing::describe(w));
  fk::engine eng{fk::linear_flow<"lf">(noop<"a">(), noop<"b">(), failing<"c">(), noop<"d">())};
  capture events;
  eng.listen(events);
  auto r = testing::run_on(eng, w);
  CHECK(r.state() == fk::flow_state::reverted);
  CHECK(events.events == std::vector<std::string>{
                             "lf.f RUNNING", "a RUNNING", "a SUCCESS", "b RUNNING", "b SUCCESS", "c RUNNING",
                             "c FAILURE", "lf.f REVERTING", "c REVERTING", "c REVERTED", "b REVERTING",
                             "b REVERTED", "a REVERTING", "a REVERTED", "lf.f REVERTED"});
  CHECK(eng.state_of("d") == fk::atom_state::pending);
  REQUIRE(r.failures().size() == 1);
  CHECK(r.failures()[0].atom() == "c");
  CHECK(r.failures()[0].what() == "Woot!");
  CHECK(r.failures()[0].phase() == fk::failure_phase::execute);
  CHECK_THROWS_AS(r.failures()[0].rethrow(), std::runtime_error);
  CHECK(events.illegal.empty());
}

TEST_CASE("reverts get the inputs, the outcome and the flow's failures", "[engine][revert]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  std::vector<std::string> seen;
  auto a = fk::task<"a">(fk::inputs<"n">, fk::outputs<"x">, [](int n) { return n * 10; })
               .on_revert([&](int n, const fk::outcome<int>& r, fk::failures all) {
                 seen.push_back("a n=" + std::to_string(n) + " result=" + std::to_string(*r) + " failures=" +
                                std::to_string(all.size()) + " first=" + all[0].atom());
               });
  auto b = fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int) -> int { throw std::invalid_argument("bad x"); })
               .on_revert([&](int x, const fk::outcome<int>& r) {
                 seen.push_back("b x=" + std::to_string(x) + " failed=" + r.error().type_name() + ":" + r.error().what());
               });
  fk::engine eng{fk::linear_flow<"lf">(a, b), fk::store<"n">(4)};
  REQUIRE(testing::run_on(eng, w).state() == fk::flow_state::reverted);
  CHECK(seen == std::vector<std::string>{"b x=40 failed=std::invalid_argument:bad x",
                                         "a n=4 result=40 failures=1 first=b"});
}

TEST_CASE("serial unordered flow fails fast: after a failure no sibling starts", "[engine][revert]") {
  int c_ran = 0;
  auto c = fk::task<"c">([&] { ++c_ran; });
  fk::engine eng{fk::unordered_flow<"uf">(noop<"a">(), failing<"b">(), c)};
  capture events;
  eng.listen(events);
  REQUIRE(eng.run().state() == fk::flow_state::reverted);
  CHECK(c_ran == 0);
  CHECK(events.events == std::vector<std::string>{"uf.f RUNNING", "a RUNNING", "a SUCCESS", "b RUNNING", "b FAILURE",
                                                  "uf.f REVERTING", "b REVERTING", "b REVERTED", "a REVERTING",
                                                  "a REVERTED", "uf.f REVERTED"});
}

TEST_CASE("graph diamond: the failing sink reverts first, the source last", "[engine][revert]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool2, where::pool4);
  INFO(testing::describe(w));
  auto a = fk::task<"a">(fk::outputs<"x">, [] { return 1; }).on_revert([](const fk::outcome<int>&) {});
  auto b = fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x; });
  auto c = fk::task<"c">(fk::inputs<"x">, fk::outputs<"z">, [](int x) { return x; });
  auto d = fk::task<"d">(fk::inputs<"y", "z">, [](int, int) { throw std::runtime_error("sink"); });
  fk::engine eng{fk::graph_flow<"g">(d, c, b, a)};
  capture events;
  eng.listen(events);
  REQUIRE(testing::run_on(eng, w).state() == fk::flow_state::reverted);
  for (const char* atom : {"a", "b", "c", "d"}) {
    INFO(atom);
    CHECK(eng.state_of(atom) == fk::atom_state::reverted);
  }
  CHECK(events.at("d REVERTED") < events.at("b REVERTING"));
  CHECK(events.at("d REVERTED") < events.at("c REVERTING"));
  CHECK(events.at("b REVERTED") < events.at("a REVERTING"));
  CHECK(events.at("c REVERTED") < events.at("a REVERTING"));
  CHECK(events.illegal.empty());
}

TEST_CASE("nested flows revert across levels in reverse order", "[engine][revert]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  std::vector<std::string> reverted;
  auto flow = fk::linear_flow<"outer">(
      noop<"first">(&reverted),
      fk::unordered_flow<"middle">(noop<"m1">(&reverted), fk::linear_flow<"inner">(noop<"i1">(&reverted), noop<"i2">(&reverted))),
      fk::task<"last">([] { throw std::runtime_error("last"); }));
  fk::engine eng{flow};
  REQUIRE(testing::run_on(eng, w).state() == fk::flow_state::reverted);
  REQUIRE(reverted.size() == 4);
  CHECK(reverted.back() == "first");
  const auto pos = [&](const std::string& n) { return std::find(reverted.begin(), reverted.end(), n) - reverted.begin(); };
  CHECK(pos("i2") < pos("i1"));
  CHECK(eng.state_of("last") == fk::atom_state::reverted);  // reverted, but it has no revert function
}

TEST_CASE("a failure in a parallel branch: the running sibling finishes, then is reverted", "[engine][revert]") {
  const where w = GENERATE(where::pool1, where::pool2, where::pool4);
  INFO(testing::describe(w));
  testing::signal c_started, b_failing;
  bool c_saw_failure = false;
  auto a = fk::task<"a">(fk::outputs<"x">, [] { return 1; });
  auto b = fk::task<"b">(fk::inputs<"x">, [&](int) {
    if (!c_started.wait()) throw std::runtime_error("c never started");
    b_failing.raise();
    throw std::runtime_error("b");
  });
  auto c = fk::task<"c">(fk::inputs<"x">, fk::outputs<"z">, [&](int x) {
    c_started.raise();
    c_saw_failure = b_failing.wait();
    return x;
  });
  fk::engine eng{fk::linear_flow<"lf">(a, fk::unordered_flow<"uf">(b, c))};
  capture events;
  eng.listen(events);
  auto r = testing::run_on(eng, w);
  CHECK(c_saw_failure);
  CHECK(r.state() == fk::flow_state::reverted);
  CHECK(events.of("c") == std::vector<std::string>{"RUNNING", "SUCCESS", "REVERTING", "REVERTED"});
  CHECK(events.of("b") == std::vector<std::string>{"RUNNING", "FAILURE", "REVERTING", "REVERTED"});
  CHECK(events.at("c REVERTED") < events.at("a REVERTING"));
  CHECK(events.at("b REVERTED") < events.at("a REVERTING"));
  CHECK(events.at("c SUCCESS") < events.at("b REVERTING"));  // reverts start when running atoms are done
}

TEST_CASE("several tasks failing at once are all execute failures, and every revert sees them all", "[engine][revert]") {
  const where w = GENERATE(where::pool1, where::pool2, where::pool4);
  INFO(testing::describe(w));
  testing::signal x_started, y_started;
  std::vector<std::size_t> failures_seen;
  std::mutex seen_mutex;
  auto record = [&](fk::failures all) {
    std::lock_guard lock{seen_mutex};
    failures_seen.push_back(all.size());
  };
  auto x = fk::task<"x">([&] {
             x_started.raise();
             if (!y_started.wait()) throw std::runtime_error("y never started");
             throw std::runtime_error("x");
           }).on_revert([&](const fk::outcome<void>&, fk::failures all) { record(all); });
  auto y = fk::task<"y">([&] {
             y_started.raise();
             if (!x_started.wait()) throw std::runtime_error("x never started");
             throw std::logic_error("y");
           }).on_revert([&](const fk::outcome<void>&, fk::failures all) { record(all); });
  fk::engine eng{fk::unordered_flow<"uf">(x, y)};
  auto r = testing::run_on(eng, w);
  CHECK(r.state() == fk::flow_state::reverted);
  REQUIRE(r.failures().size() == 2);
  for (const auto& f : r.failures()) CHECK(f.phase() == fk::failure_phase::execute);
  CHECK(failures_seen == std::vector<std::size_t>{2, 2});
}

TEST_CASE("a revert that throws stops further reverts, running again resumes them", "[engine][revert]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool2);
  INFO(testing::describe(w));
  bool nasty = true;
  int a_reverts = 0;
  auto a = fk::task<"a">([] {}).on_revert([&](const fk::outcome<void>&) { ++a_reverts; });
  auto b = fk::task<"b">([] {}).on_revert([&](const fk::outcome<void>&) {
    if (nasty) throw std::runtime_error("Gotcha!");
  });
  auto c = fk::task<"c">([] { throw std::runtime_error("Woot!"); });
  fk::engine eng{fk::linear_flow<"lf">(a, b, c)};
  capture events;
  eng.listen(events);
  auto r = testing::run_on(eng, w);
  CHECK(r.state() == fk::flow_state::failure);
  CHECK(eng.state_of("a") == fk::atom_state::success);
  CHECK(eng.state_of("b") == fk::atom_state::revert_failure);
  CHECK(eng.state_of("c") == fk::atom_state::reverted);
  CHECK(a_reverts == 0);
  REQUIRE(r.failures().size() == 2);
  CHECK(r.failures()[0].atom() == "c");
  CHECK(r.failures()[1].atom() == "b");
  CHECK(r.failures()[1].phase() == fk::failure_phase::revert);
  CHECK(r.failures()[1].what() == "Gotcha!");
  CHECK(r.unreverted() == std::vector<std::string_view>{"a", "b"});

  nasty = false;
  events.events.clear();
  auto again = testing::run_on(eng, w);
  CHECK(again.state() == fk::flow_state::reverted);
  CHECK(a_reverts == 1);
  CHECK(events.events == std::vector<std::string>{"lf.f RESUMING", "lf.f REVERTING", "b REVERTING", "b REVERTED",
                                                  "a REVERTING", "a REVERTED", "lf.f REVERTED"});
  CHECK(again.unreverted().empty());
  CHECK(events.illegal.empty());
}

TEST_CASE("running a reverted flow again starts afresh", "[engine][revert]") {
  int attempts = 0;
  auto flaky = fk::task<"flaky">(fk::outputs<"v">, [&] {
    if (++attempts == 1) throw std::runtime_error("first time");
    return attempts;
  });
  fk::engine eng{fk::linear_flow<"lf">(flaky)};
  REQUIRE(eng.run().state() == fk::flow_state::reverted);
  auto r = eng.run();
  CHECK(r.state() == fk::flow_state::success);
  CHECK(r.failures().empty());  // no stale failure from the first run
  CHECK(r.get<"v">() == 2);
}
