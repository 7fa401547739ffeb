// Executors: a user's own, one pool shared by many engines and concurrent runs, engines nested
// in tasks, runs repeated, and the serial engine's fixed order.
#include "engine_testing.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using testing::capture;
using testing::where;

namespace {

// The whole adapter a Boost.Asio pool needs.
struct asio_executor {
  boost::asio::thread_pool& pool;
  std::atomic<int>* submitted;
  void submit(fk::work w) {
    ++*submitted;
    boost::asio::post(pool, w);
  }
};
static_assert(fk::executor<asio_executor>);

auto diamond() {
  return fk::graph_flow<"diamond">(
      fk::task<"a">(fk::inputs<"n">, fk::outputs<"x">, [](int n) { return n + 1; }),
      fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x * 2; }),
      fk::task<"c">(fk::inputs<"x">, fk::outputs<"z">, [](int x) { return x * 3; }),
      fk::task<"d">(fk::inputs<"y", "z">, fk::outputs<"sum">, [](int y, int z) { return y + z; }));
}

// Holds the work items it is given and runs none of them until told: all the atoms of a run are
// then run by the thread that called run().
struct holding_executor {
  std::vector<fk::work> held;
  std::size_t size() const noexcept { return 2; }
  void submit(fk::work w) { held.push_back(w); }
};
static_assert(fk::executor<holding_executor>);

// "w00", "w01", ...: a name per fan member.
template <std::size_t I>
constexpr fk::name<4> member_name() {
  fk::name<4> n{};
  n.chars[0] = 'w';
  n.chars[1] = static_cast<char>('0' + I / 10);
  n.chars[2] = static_cast<char>('0' + I % 10);
  return n;
}

// Independent tasks, all ready at once, each counting its runs.
template <std::size_t... Is>
auto fan_of(std::atomic<int>* runs, std::index_sequence<Is...>) {
  return fk::unordered_flow<"fan">(fk::task<member_name<Is>()>([runs] { ++*runs; })...);
}

}  // namespace

TEST_CASE("a burst of ready atoms costs at most size() work items on the executor", "[engine][executor]") {
  std::atomic<int> runs{0};
  holding_executor ex;
  {
    fk::engine eng{fan_of(&runs, std::make_index_sequence<40>{})};
    REQUIRE(eng.run(ex).succeeded());
    CHECK(runs.load() == 40);  // the calling thread ran every atom: the executor ran nothing
    CHECK(ex.held.size() >= 1);
    CHECK(ex.held.size() <= 2);  // not one per atom

    // Work items still out count against size(): a second run hands out none.
    eng.reset();
    REQUIRE(eng.run(ex).succeeded());
    CHECK(runs.load() == 80);
    CHECK(ex.held.size() <= 2);
  }
  // Late work items, after their engine is gone, find nothing to do (ASan checks they touch no
  // freed memory).
  for (const fk::work& w : ex.held) w();
  CHECK(runs.load() == 80);
}

TEST_CASE("a flow runs on a user-supplied executor", "[engine][executor]") {
  boost::asio::thread_pool asio_pool{2};
  std::atomic<int> submitted{0};
  asio_executor ex{asio_pool, &submitted};
  fk::engine eng{diamond(), fk::store<"n">(1)};
  auto r = eng.run(ex);
  CHECK(r.state() == fk::flow_state::success);
  CHECK(r.get<"sum">() == 2 * 2 + 2 * 3);
  CHECK(submitted.load() >= 1);  // work went through the adapter
  asio_pool.join();
}

TEST_CASE("one pool serves many engines running at once", "[engine][executor]") {
  fk::thread_pool& shared = testing::pool(2);
  constexpr int threads = 4, runs_each = 50;
  std::vector<int> wrong(threads, 0);
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      for (int i = 0; i < runs_each; ++i) {
        fk::engine eng{diamond(), fk::store<"n">(t * 1000 + i)};
        auto r = eng.run(shared);
        const int x = t * 1000 + i + 1;
        if (r.state() != fk::flow_state::success || r.get<"sum">() != 5 * x) ++wrong[t];
      }
    });
  for (auto& c : callers) c.join();
  CHECK(wrong == std::vector<int>(threads, 0));
}

TEST_CASE("engines nested in tasks do not deadlock a shared pool", "[engine][executor]") {
  const where w = GENERATE(where::pool1, where::pool2);
  INFO(testing::describe(w));
  fk::thread_pool& shared = testing::pool(w == where::pool1 ? 1 : 2);
  // Every task of the outer flow runs a whole inner flow on the same, small pool.
  auto inner_run = [&shared](int n) {
    fk::engine inner{diamond(), fk::store<"n">(n)};
    return inner.run(shared).get<"sum">();
  };
  auto outer = fk::unordered_flow<"outer">(
      fk::task<"o1">(fk::outputs<"s1">, [&] { return inner_run(1); }),
      fk::task<"o2">(fk::outputs<"s2">, [&] { return inner_run(2); }),
      fk::task<"o3">(fk::outputs<"s3">, [&] { return inner_run(3); }),
      fk::task<"o4">(fk::outputs<"s4">, [&] { return inner_run(4); }));
  fk::engine eng{outer};
  auto r = eng.run(shared);
  REQUIRE(r.state() == fk::flow_state::success);
  CHECK(r.get<"s1">() == 10);
  CHECK(r.get<"s4">() == 25);
}

TEST_CASE("an engine runs again: a finished run does nothing, a reset runs afresh", "[engine][executor]") {
  const where w = GENERATE(where::serial, where::pool2);
  INFO(testing::describe(w));
  int runs = 0;
  fk::engine eng{fk::linear_flow<"lf">(fk::task<"count">(fk::outputs<"n">, [&] { return ++runs; }))};
  CHECK(testing::run_on(eng, w).get<"n">() == 1);
  CHECK(testing::run_on(eng, w).state() == fk::flow_state::success);
  CHECK(runs == 1);  // TaskFlow's rule: running a successful flow runs nothing
  eng.reset();
  CHECK(eng.state() == fk::flow_state::pending);
  CHECK_FALSE(eng.has<"n">());
  CHECK(testing::run_on(eng, w).get<"n">() == 2);
}

TEST_CASE("an engine runs one run at a time", "[engine][executor]") {
  std::function<void()> run_again;
  fk::engine eng{fk::linear_flow<"lf">(fk::task<"reenter">([&] { run_again(); }))};
  run_again = [&] { eng.run(); };
  auto r = eng.run();
  CHECK(r.state() == fk::flow_state::reverted);
  REQUIRE(r.failures().size() == 1);
  CHECK(r.failures()[0].type_name() == "std::logic_error");
  CHECK_THAT(r.failures()[0].what(), Catch::Contains("already running"));
}

TEST_CASE("the serial engine's events are the same on every run", "[engine][executor]") {
  auto flow = fk::linear_flow<"lf">(diamond(), fk::unordered_flow<"tail">(
                                                   fk::task<"t1">(fk::inputs<"sum">, [](int) {}),
                                                   fk::task<"t2">(fk::inputs<"sum">, [](int) {}),
                                                   fk::task<"t3">(fk::inputs<"sum">, [](int) {})));
  std::vector<std::vector<std::string>> sequences;
  for (int i = 0; i < 3; ++i) {
    fk::engine eng{flow, fk::store<"n">(i)};
    capture events;
    eng.listen(events);
    REQUIRE(eng.run().succeeded());
    sequences.push_back(events.events);
  }
  CHECK(sequences[0] == sequences[1]);
  CHECK(sequences[1] == sequences[2]);
  CHECK(sequences[0].size() == 2 + 2 * 7);
}

TEST_CASE("a pool runs the same flows to the same results as the serial engine", "[engine][executor]") {
  const where w = GENERATE(where::pool1, where::pool2, where::pool4);
  INFO(testing::describe(w));
  for (int n = 0; n < 100; ++n) {
    fk::engine serial_engine{diamond(), fk::store<"n">(n)};
    fk::engine pooled{diamond(), fk::store<"n">(n)};
    REQUIRE(testing::run_on(pooled, w).get<"sum">() == serial_engine.run().get<"sum">());
  }
}
