// The engine's run state and its one transition funnel: a recorder policy sees every change of an
// atom's state or intention and of the flow's state, under every executor.
#include "engine_testing.hpp"

#include <cstddef>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using testing::capture;
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

struct journal_recorder {
  journal* log;
  void on_atom(std::size_t atom, fk::atom_state s, fk::intention i) {
    std::lock_guard lock{log->mutex};
    log->atoms.push_back({atom, s, i});
  }
  void on_flow(fk::flow_state s) {
    std::lock_guard lock{log->mutex};
    log->flows.push_back(s);
  }
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
