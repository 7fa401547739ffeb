// Listeners: flow and atom transitions in order, progress reports, the logging and timing
// listeners, and several listeners at once.
#include "engine_testing.hpp"

#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using testing::capture;
using testing::where;

TEST_CASE("listeners see every transition, in order for each atom", "[engine][listener]") {
  const where w = GENERATE(where::serial, where::pool2, where::pool4);
  INFO(testing::describe(w));
  auto flow = fk::graph_flow<"g">(fk::task<"a">(fk::outputs<"x">, [] { return 1; }),
                                  fk::task<"b">(fk::inputs<"x">, [](int) {}),
                                  fk::task<"c">(fk::inputs<"x">, [](int) {}));
  fk::engine eng{flow};
  capture first, second;
  eng.listen(first);
  eng.listen(second);
  REQUIRE(testing::run_on(eng, w).succeeded());
  for (const char* atom : {"a", "b", "c"}) CHECK(first.of(atom) == std::vector<std::string>{"RUNNING", "SUCCESS"});
  CHECK(first.events.front() == "g.f RUNNING");
  CHECK(first.events.back() == "g.f SUCCESS");
  CHECK(first.at("a SUCCESS") < first.at("b RUNNING"));
  CHECK(first.at("a SUCCESS") < first.at("c RUNNING"));
  CHECK(first.events == second.events);
  CHECK(first.illegal.empty());
}

TEST_CASE("a listener registered during a run is refused, one registered between runs sees the next", "[engine][listener]") {
  std::function<void()> inside_task = [] {};
  auto flow = fk::linear_flow<"lf">(fk::task<"t">([&inside_task] { inside_task(); }));
  fk::engine eng{flow};
  capture late;
  std::string refusal;
  inside_task = [&] {
    try {
      eng.listen(late);
    } catch (const std::logic_error& e) {
      refusal = e.what();
    }
  };
  REQUIRE(eng.run().succeeded());
  CHECK_THAT(refusal, Catch::Contains("'lf'") && Catch::Contains("between runs"));
  CHECK(late.events.empty());

  inside_task = [] {};
  eng.listen(late);
  eng.reset();
  REQUIRE(eng.run().succeeded());
  CHECK(late.of("t") == std::vector<std::string>{"PENDING", "RUNNING", "SUCCESS"});  // reset, then the run
}

TEST_CASE("progress reports reach listeners, clamped to [0, 1]", "[engine][listener]") {
  auto flow = fk::linear_flow<"lf">(fk::task<"p">([](fk::progress& p) {
    p.update(0.25f);
    p.update(1.7f);
  }));
  fk::engine eng{flow};
  struct progress_log {
    std::vector<std::string> seen;
    void on_progress(const fk::progress_event& e) { seen.push_back(std::string(e.atom) + "=" + std::to_string(e.value)); }
  } log;
  eng.listen(log);
  REQUIRE(eng.run().succeeded());
  CHECK(log.seen == std::vector<std::string>{"p=0.250000", "p=1.000000"});
}

TEST_CASE("the logging listener writes transitions and failures", "[engine][listener]") {
  std::ostringstream out;
  fk::engine eng{fk::linear_flow<"lf">(fk::task<"boom">([] { throw std::runtime_error("bang"); }))};
  eng.listen(fk::logging_listener{out});  // an rvalue listener is kept by the engine
  eng.run();
  const std::string text = out.str();
  CHECK_THAT(text, Catch::Contains("flow lf: PENDING -> RUNNING"));
  CHECK_THAT(text, Catch::Contains("atom boom: RUNNING -> FAILURE (std::runtime_error: bang)"));
  CHECK_THAT(text, Catch::Contains("flow lf: REVERTING -> REVERTED"));
}

TEST_CASE("the timing listener measures each atom's execute", "[engine][listener]") {
  fk::timing_listener timing;
  volatile long sink = 0;
  fk::engine eng{fk::linear_flow<"lf">(fk::task<"work">([&] {
    for (long i = 0; i < 200000; ++i) sink = sink + i;
  }), fk::task<"idle">([] {}))};
  eng.listen(timing);
  REQUIRE(eng.run().succeeded());
  CHECK(timing.execute_time("work") > fk::timing_listener::clock::duration::zero());
  CHECK(timing.execute_times().size() == 2);
  CHECK(timing.execute_time("never") == fk::timing_listener::clock::duration::zero());
}
