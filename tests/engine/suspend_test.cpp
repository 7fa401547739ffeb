// Suspend and resume: nothing new starts, running atoms finish, run() again continues; the
// results equal those of an uninterrupted run.
#include "engine_testing.hpp"

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <stop_token>
#include <string>

using testing::capture;
using testing::suspend_on;
using testing::where;

namespace {

auto chain(std::map<std::string, int>& runs) {
  return fk::linear_flow<"lf">(
      fk::task<"a">(fk::inputs<"n">, fk::outputs<"x">, [&](int n) { ++runs["a"]; return n + 1; }),
      fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [&](int x) { ++runs["b"]; return x * 2; }),
      fk::task<"c">(fk::inputs<"y">, fk::outputs<"z">, [&](int y) { ++runs["c"]; return "z=" + std::to_string(y); }));
}

}  // namespace

TEST_CASE("suspend in the middle of a linear flow, then resume", "[engine][suspend]") {
  const where w = GENERATE(where::serial, where::pool1, where::pool2, where::pool4);
  INFO(testing::describe(w));
  std::map<std::string, int> runs;
  fk::engine eng{chain(runs), fk::store<"n">(20)};
  capture events;
  eng.listen(events);
  eng.listen(suspend_on<decltype(eng)>{&eng, "b", fk::atom_state::success});

  auto r = testing::run_on(eng, w);
  CHECK(r.state() == fk::flow_state::suspended);
  CHECK(eng.state_of("a") == fk::atom_state::success);
  CHECK(eng.state_of("b") == fk::atom_state::success);
  CHECK(eng.state_of("c") == fk::atom_state::pending);
  CHECK(events.at("lf.f SUSPENDING") + 1 == events.at("lf.f SUSPENDED"));

  auto again = testing::run_on(eng, w);
  CHECK(again.state() == fk::flow_state::success);
  CHECK(again.get<"z">() == "z=42");
  CHECK(runs == std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}});  // nothing ran twice
  CHECK(events.illegal.empty());
}

TEST_CASE("suspending a parallel run loses no progress: queued atoms stay PENDING", "[engine][suspend]") {
  const where w = GENERATE(where::pool1, where::pool2, where::pool4);
  INFO(testing::describe(w));
  std::array<std::atomic<int>, 12> runs{};
  std::function<void()> suspend_engine;
  testing::signal suspended;
  // The first atom suspends the run; the others hold until it has, so at most one atom per
  // thread can have started: the rest must stay PENDING and run on resume.
  auto t = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
    constexpr char text[] = {'t', static_cast<char>('a' + I), '\0'};
    return fk::task<fk::name<3>{text}>([&runs, &suspend_engine, &suspended] {
      if (I == 0 && runs[0] == 0) {
        suspend_engine();
        suspended.raise();
      } else if (!suspended.wait()) {
        throw std::runtime_error("never suspended");
      }
      ++runs[I];
    });
  };
  auto flow = [&]<std::size_t... Is>(std::index_sequence<Is...>) {
    return fk::unordered_flow<"many">(t(std::integral_constant<std::size_t, Is>{})...);
  }(std::make_index_sequence<12>{});
  fk::engine eng{flow};
  suspend_engine = [&eng] { eng.suspend(); };
  capture events;
  eng.listen(events);
  auto r = testing::run_on(eng, w);
  CHECK(r.state() == fk::flow_state::suspended);
  int done = 0;
  for (int i = 0; i < 12; ++i) {
    const std::string atom{'t', static_cast<char>('a' + i)};
    const auto s = eng.state_of(atom);
    CHECK((s == fk::atom_state::success || s == fk::atom_state::pending));
    done += s == fk::atom_state::success;
  }
  CHECK(done >= 1);
  CHECK(done <= 5);  // the calling thread and at most four workers

  auto again = testing::run_on(eng, w);
  CHECK(again.state() == fk::flow_state::success);
  for (auto& count : runs) CHECK(count.load() == 1);
  CHECK(events.illegal.empty());
}

TEST_CASE("suspend during a revert, resuming finishes the revert", "[engine][suspend]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  int reverts = 0;
  auto a = fk::task<"a">([] {}).on_revert([&](const fk::outcome<void>&) { ++reverts; });
  auto b = fk::task<"b">([] {}).on_revert([&](const fk::outcome<void>&) { ++reverts; });
  auto c = fk::task<"c">([] { throw std::runtime_error("c"); });
  fk::engine eng{fk::linear_flow<"lf">(a, b, c)};
  capture events;
  eng.listen(events);
  eng.listen(suspend_on<decltype(eng)>{&eng, "c", fk::atom_state::reverted});
  auto r = testing::run_on(eng, w);
  CHECK(r.state() == fk::flow_state::suspended);
  CHECK(eng.state_of("b") == fk::atom_state::success);
  CHECK(reverts == 0);
  events.events.clear();
  auto again = testing::run_on(eng, w);
  CHECK(again.state() == fk::flow_state::reverted);
  CHECK(reverts == 2);
  CHECK(events.events == std::vector<std::string>{"lf.f RESUMING", "lf.f REVERTING", "b REVERTING", "b REVERTED",
                                                  "a REVERTING", "a REVERTED", "lf.f REVERTED"});
}

TEST_CASE("a task that takes a std::stop_token sees a suspend as a stop request", "[engine][suspend]") {
  const where w = GENERATE(where::serial, where::pool1);
  INFO(testing::describe(w));
  bool saw_stop = false;
  int later_runs = 0;
  // The task reports progress; a listener suspends on it; the task then finds the stop requested.
  auto slow = fk::task<"slow">([&](std::stop_token stop, fk::progress& p) {
    p.update(0.5f);
    saw_stop = stop.stop_requested();
  });
  auto later = fk::task<"later">([&] { ++later_runs; });
  fk::engine eng{fk::linear_flow<"lf">(slow, later)};
  struct suspend_on_progress {
    decltype(eng)* engine;
    void on_progress(const fk::progress_event&) { engine->suspend(); }
  };
  eng.listen(suspend_on_progress{&eng});
  CHECK(testing::run_on(eng, w).state() == fk::flow_state::suspended);
  CHECK(saw_stop);
  CHECK(later_runs == 0);
  CHECK(testing::run_on(eng, w).state() == fk::flow_state::success);  // a new run has a new stop token
  CHECK(later_runs == 1);
}

TEST_CASE("suspend outside a run is ignored", "[engine][suspend]") {
  std::map<std::string, int> runs;
  fk::engine eng{chain(runs), fk::store<"n">(1)};
  eng.suspend();
  CHECK(eng.run().state() == fk::flow_state::success);
}
