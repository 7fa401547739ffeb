// fk::persist: an engine records its run in a backend, and a new engine with the same run id
// resumes it. Each case runs against the memory backend and LMDB in both durability modes, on
// the serial path and on a pool. The crash tests (crash.cpp) kill real processes; here a run is
// stopped by suspend(), by a forked child killed with SIGKILL, or by writing the records a crash
// leaves.

#include "support.hpp"

#include <flowkit/flowkit.hpp>
#include <flowkit/lmdb.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fk = flowkit;

namespace {

struct memory_store {
  fk::memory_backend backend;
};
struct lmdb_store {  // power_loss_safe: successors wait for their predecessor's record
  fk::test::temp_dir dir;
  fk::lmdb_backend backend{dir / "store"};
};
struct lmdb_fast_store {  // process_crash_safe: group commit
  fk::test::temp_dir dir;
  fk::lmdb_backend backend{dir / "store", {.durability = fk::durability::process_crash_safe}};
};

// How often each task ran and was reverted, across every engine of a test.
struct tally {
  std::mutex mu;
  std::map<std::string, int> runs, reverts;
  void ran(std::string_view atom) {
    std::lock_guard lk{mu};
    ++runs[std::string{atom}];
  }
  void reverted(std::string_view atom) {
    std::lock_guard lk{mu};
    ++reverts[std::string{atom}];
  }
};

// a -> (b, c) -> d: "total" = (seed + 1) * 2 + (seed + 1) * 3. d fails when told to.
auto order_flow(tally& t, const bool& d_fails) {
  auto a = fk::task<"a">(fk::inputs<"seed">, fk::outputs<"x">, [&t](int seed) {
             t.ran("a");
             return seed + 1;
           }).on_revert([&t](int, const fk::outcome<int>&) { t.reverted("a"); });
  auto b = fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [&t](int x) {
             t.ran("b");
             return std::to_string(x * 2);
           }).on_revert([&t](int, const fk::outcome<std::string>&) { t.reverted("b"); });
  auto c = fk::task<"c">(fk::inputs<"x">, fk::outputs<"w">, [&t](int x) {
             t.ran("c");
             return std::vector<int>{x, x * 3};
           }).on_revert([&t](int, const fk::outcome<std::vector<int>>&) { t.reverted("c"); });
  auto d = fk::task<"d">(fk::inputs<"y", "w">, fk::outputs<"total">,
                         [&t, &d_fails](const std::string& y, const std::vector<int>& w) {
                           t.ran("d");
                           if (d_fails) throw std::runtime_error("card declined");
                           return std::stoi(y) + w[1];
                         })
               .on_revert([&t](const std::string&, const std::vector<int>&, const fk::outcome<int>&) {
                 t.reverted("d");
               });
  return fk::graph_flow<"order">(a, b, c, d);
}

enum class where { serial, pool };

template <class Engine>
auto run_on(Engine& eng, where w) {
  if (w == where::serial) return eng.run();
  fk::thread_pool pool{2};
  return eng.run(pool);
}

// Suspends the engine when `atom` reaches `state` for the n-th time.
template <class Engine>
struct suspend_at {
  Engine* eng;
  std::string atom;
  fk::atom_state state;
  int n = 1;
  int seen = 0;
  void on_atom(const fk::atom_event& e) {
    if (e.atom == atom && e.to == state && ++seen == n) eng->suspend();
  }
};

// Runs the engine until `atom` reaches `state`, then suspends it.
template <class Engine>
auto run_until(Engine& eng, where w, std::string atom, fk::atom_state state) {
  eng.listen(suspend_at<Engine>{&eng, std::move(atom), state});
  return run_on(eng, w);
}

std::map<std::string, fk::atom_state> states_in(const fk::run_record& r) {
  std::map<std::string, fk::atom_state> out;
  for (const auto& a : r.atoms) out[a.name] = a.state;
  return out;
}

}  // namespace

#define RESUME_TEST(title) \
  TEMPLATE_TEST_CASE(title, "[persistence][resume]", memory_store, lmdb_store, lmdb_fast_store)

RESUME_TEST("a persisted run records every atom's state and result") {
  TestType s;
  const where w = GENERATE(where::serial, where::pool);
  tally t;
  const bool d_fails = false;
  fk::engine eng{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
  REQUIRE(run_on(eng, w).succeeded());
  CHECK(eng.template get<"total">() == 10 + 15);

  const auto stored = s.backend.load_run("run-1");
  REQUIRE(stored);
  CHECK(stored->flow.flow_name == "order");
  CHECK(stored->flow.logbook == "default");
  CHECK(stored->flow.state == fk::flow_state::success);
  CHECK(fk::deserialize_from<decltype(fk::store<"seed">(0))>(stored->flow.store_bytes).template value<0>() ==
        4);
  CHECK(states_in(*stored) == std::map<std::string, fk::atom_state>{{"a", fk::atom_state::success},
                                                                    {"b", fk::atom_state::success},
                                                                    {"c", fk::atom_state::success},
                                                                    {"d", fk::atom_state::success}});
  CHECK(fk::deserialize_from<int>(*stored->find("a")->result_bytes()) == 5);
  std::string archived;  // an arithmetic result is stored as Boost's binary archive writes it
  fk::serialize_to(archived, 5);
  CHECK(*stored->find("a")->result_bytes() == archived);
  CHECK(fk::deserialize_from<std::string>(*stored->find("b")->result_bytes()) == "10");
  CHECK(fk::deserialize_from<std::vector<int>>(*stored->find("c")->result_bytes()) ==
        std::vector<int>{5, 15});
  CHECK(stored->find("a")->version != stored->find("b")->version);  // each atom's own structure
}

RESUME_TEST("a suspended run resumes in a new engine: what succeeded is not run again") {
  TestType s;
  const where w = GENERATE(where::serial, where::pool);
  tally t;
  const bool d_fails = false;
  {
    fk::engine eng{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
    REQUIRE(run_until(eng, w, "a", fk::atom_state::success).state() == fk::flow_state::suspended);
  }
  REQUIRE(s.backend.load_run("run-1")->flow.state == fk::flow_state::suspended);
  // Another store given: a stored run keeps its own inputs.
  fk::engine again{order_flow(t, d_fails), fk::store<"seed">(1000), fk::persist(s.backend, "run-1")};
  CHECK(again.state() == fk::flow_state::suspended);
  CHECK(again.state_of("a") == fk::atom_state::success);
  CHECK(again.template get<"x">() == 5);  // the stored result
  CHECK(again.template get<"seed">() == 4);
  REQUIRE(run_on(again, w).succeeded());
  CHECK(again.template get<"total">() == 25);
  CHECK(t.runs == std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}});
  CHECK(s.backend.load_run("run-1")->flow.state == fk::flow_state::success);
}

RESUME_TEST("a finished run returns its stored outcome and runs nothing") {
  TestType s;
  const where w = GENERATE(where::serial, where::pool);
  tally t;
  bool d_fails = GENERATE(false, true);
  {
    fk::engine eng{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
    run_on(eng, w);
  }
  const auto before = s.backend.load_run("run-1");
  const auto runs = t.runs;
  const auto reverts = t.reverts;
  d_fails = false;  // would change the outcome, if anything ran
  fk::engine again{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
  const auto r = run_on(again, w);
  if (before->flow.state == fk::flow_state::success) {
    CHECK(r.succeeded());
    CHECK(r.template get<"total">() == 25);
  } else {
    REQUIRE(r.state() == fk::flow_state::reverted);
    REQUIRE(r.failures().size() == 1);
    CHECK(r.failures()[0].atom() == "d");
    CHECK(r.failures()[0].type_name() == "std::runtime_error");
    CHECK(r.failures()[0].what() == std::string{"card declined"});
    CHECK_FALSE(again.template has<"total">());
  }
  CHECK(t.runs == runs);
  CHECK(t.reverts == reverts);
  CHECK(s.backend.load_run("run-1")->flow.updated == before->flow.updated);  // nothing written
}

RESUME_TEST("a revert under way continues in a new engine, and nothing is reverted twice") {
  TestType s;
  const where w = GENERATE(where::serial, where::pool);
  tally t;
  const bool d_fails = true;
  {
    fk::engine eng{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
    REQUIRE(run_until(eng, w, "d", fk::atom_state::reverted).state() == fk::flow_state::suspended);
  }
  const auto stored = s.backend.load_run("run-1");
  CHECK(stored->find("d")->state == fk::atom_state::reverted);
  CHECK(stored->find("a")->intention == fk::intention::revert);
  fk::engine again{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
  const auto r = run_on(again, w);
  REQUIRE(r.state() == fk::flow_state::reverted);
  CHECK(t.runs == std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}});
  CHECK(t.reverts == std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}});
  REQUIRE(r.failures().size() == 1);
  CHECK(r.failures()[0].what() == std::string{"card declined"});
}

RESUME_TEST("a retry's history survives: the attempts made before are counted") {
  TestType s;
  const where w = GENERATE(where::serial, where::pool);
  std::atomic<int> calls{0};
  auto make = [&] {
    auto pay = fk::task<"pay">(fk::inputs<"attempt">, fk::outputs<"paid">, [&](int attempt) {
                 ++calls;
                 if (attempt < 3) throw std::runtime_error("gateway busy");
                 return attempt * 100;
               }).on_revert([](int, const fk::outcome<int>&) {});
    return fk::linear_flow<"checkout">(
        fk::linear_flow<"paying">(pay).retry(fk::for_each<"attempt">(std::vector<int>{1, 2, 3})));
  };
  {
    fk::engine eng{make(), fk::persist(s.backend, "run-1")};
    REQUIRE(run_until(eng, w, "paying_retry", fk::atom_state::retrying).state() == fk::flow_state::suspended);
  }
  CHECK(calls == 1);
  fk::engine again{make(), fk::persist(s.backend, "run-1")};
  REQUIRE(again.template history<"paying_retry">().size() == 1);
  CHECK(again.template history<"paying_retry">()[0].value == 1);
  REQUIRE(again.template history<"paying_retry">()[0].failures.size() == 1);
  CHECK(again.template history<"paying_retry">()[0].failures[0].what() == std::string{"gateway busy"});
  REQUIRE(run_on(again, w).succeeded());
  CHECK(again.template get<"paid">() == 300);
  CHECK(calls == 3);  // attempts 2 and 3 here: the controller knew the first was tried
  CHECK(again.template history<"paying_retry">().size() == 3);
}

RESUME_TEST("a decider's outcome survives: an ignored atom stays ignored") {
  TestType s;
  const where w = GENERATE(where::serial, where::pool);
  std::atomic<int> gift_runs{0}, decider_calls{0};
  auto make = [&] {
    auto check = fk::task<"check">(fk::outputs<"vip">, [] { return false; });
    auto gift = fk::task<"gift">(fk::outputs<"wrapped">, [&] {
      ++gift_runs;
      return true;
    });
    auto ship = fk::task<"ship">([] {});
    return fk::graph_flow<"send">(check, gift, ship, fk::link<"check", "gift">([&](bool vip) {
                                    ++decider_calls;
                                    return vip;
                                  }),
                                  fk::link<"check", "ship">);
  };
  {
    fk::engine eng{make(), fk::persist(s.backend, "run-1")};
    run_until(eng, w, "gift", fk::atom_state::ignore);
  }
  REQUIRE(s.backend.load_run("run-1")->find("gift")->state == fk::atom_state::ignore);
  fk::engine again{make(), fk::persist(s.backend, "run-1")};
  CHECK(again.state_of("gift") == fk::atom_state::ignore);
  REQUIRE(run_on(again, w).succeeded());
  CHECK(gift_runs == 0);
  CHECK(decider_calls == 1);
}

RESUME_TEST("an atom caught RUNNING runs again and sees that it is a re-run") {
  TestType s;
  const where w = GENERATE(where::serial, where::pool);
  std::vector<std::string> reruns;
  std::mutex mu;
  auto make = [&] {
    auto a = fk::task<"a">(fk::outputs<"x">, [&](fk::execution e) {
      std::lock_guard lk{mu};
      if (e.rerun()) reruns.push_back("a");
      return 1;
    });
    auto b = fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [&](int x, fk::execution e) {
      std::lock_guard lk{mu};
      if (e.rerun()) reruns.push_back("b");
      return x + 1;
    });
    return fk::linear_flow<"lf">(a, b);
  };
  {
    fk::engine eng{make(), fk::persist(s.backend, "run-1")};
    REQUIRE(run_until(eng, w, "a", fk::atom_state::success).state() == fk::flow_state::suspended);
  }
  // What a process killed while b ran leaves: b RUNNING, the flow RUNNING.
  fk::batch crash;
  fk::atom_detail& b = crash.next();
  b.name = "b";
  b.state = fk::atom_state::running;
  crash.set_flow_state(fk::flow_state::running);
  s.backend.commit("run-1", crash);

  fk::engine again{make(), fk::persist(s.backend, "run-1")};
  CHECK(again.state() == fk::flow_state::suspended);
  CHECK(again.state_of("b") == fk::atom_state::pending);
  REQUIRE(run_on(again, w).succeeded());
  CHECK(again.template get<"y">() == 2);
  CHECK(reruns == std::vector<std::string>{"b"});
}

// Found by the crash test (crash/): a failure's resolution writes one intention record per atom,
// and a process killed while the committer had taken only some of them left a revert that looked
// under way. The resolution is now committed in one transaction (next test); a store that holds
// such a partial resolution all the same has its failure resolved again, and everything that ran
// is reverted.
RESUME_TEST("a failure whose resolution was recorded only in part is resolved again") {
  TestType s;
  const where w = GENERATE(where::serial, where::pool);
  tally t;
  const bool d_fails = true;
  {
    fk::engine eng{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
    REQUIRE(run_until(eng, w, "c", fk::atom_state::success).state() == fk::flow_state::suspended);
  }
  // d failed and its resolution began, REVERT for each atom in turn: the process died once the
  // first of those records (a's) was committed.
  fk::batch crash;
  fk::atom_detail& d = crash.next();
  d.name = "d";
  d.state = fk::atom_state::failure;
  d.result = fk::stored_failure{"d", "std::runtime_error", "card declined"};
  const auto stored = s.backend.load_run("run-1");
  REQUIRE(stored->find("a"));
  fk::atom_detail a = *stored->find("a");
  REQUIRE(a.state == fk::atom_state::success);
  a.intention = fk::intention::revert;
  crash.put(a);
  crash.set_flow_state(fk::flow_state::running);
  s.backend.commit("run-1", crash);

  std::vector<std::string> reverted;
  struct reverts {
    std::vector<std::string>* out;
    void on_atom(const fk::atom_event& e) {
      if (e.to == fk::atom_state::reverted) out->emplace_back(e.atom);
    }
  };
  fk::engine again{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
  again.listen(reverts{&reverted});
  const auto r = run_on(again, w);
  REQUIRE(r.state() == fk::flow_state::reverted);
  CHECK(t.reverts == std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}});
  REQUIRE(reverted.size() == 4);
  CHECK(reverted.front() == "d");
  CHECK(reverted.back() == "a");
  CHECK_FALSE(again.template has<"x">());
  CHECK_FALSE(again.template has<"y">());
}

namespace {
// A memory backend that keeps every batch committed to it, to see what was written together.
class observed_backend : public fk::memory_backend {
 public:
  template <class Guard = fk::no_guard>
  void commit(std::string_view id, const fk::batch& changes, Guard&& guard = Guard{}) {
    fk::memory_backend::commit(id, changes, std::forward<Guard>(guard));
    std::lock_guard lk{mu_};
    auto& kept = batches.emplace_back();
    for (const fk::atom_detail& a : changes) kept.emplace_back(a.name, a.intention);
  }
  std::mutex mu_;
  std::vector<std::vector<std::pair<std::string, fk::intention>>> batches;
};
static_assert(fk::backend<observed_backend>);
}  // namespace

TEST_CASE("a failure's resolution is committed in one transaction", "[persistence][resume]") {
  const where w = GENERATE(where::serial, where::pool);
  observed_backend backend;
  tally t;
  const bool d_fails = true;
  fk::engine eng{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(backend, "run-1")};
  REQUIRE(run_on(eng, w).state() == fk::flow_state::reverted);
  // The batch that holds the first REVERT intention holds all four.
  bool found = false;
  for (const auto& batch : backend.batches) {
    std::set<std::string> reverting;
    for (const auto& [atom, intention] : batch)
      if (intention == fk::intention::revert) reverting.insert(atom);
    if (reverting.empty()) continue;
    CHECK(reverting == std::set<std::string>{"a", "b", "c", "d"});
    found = true;
    break;
  }
  CHECK(found);
}

RESUME_TEST("a run of another flow structure is refused, naming the atom, and nothing is written") {
  TestType s;
  tally t;
  const bool d_fails = false;
  {
    fk::engine eng{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
    eng.run();
  }
  const auto before = s.backend.load_run("run-1");
  // b's output is now a long: its results could not be read back as they were written.
  auto b = fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return long{x}; });
  auto d = fk::task<"d">(fk::inputs<"y">, fk::outputs<"total">, [](long y) { return int(y); });
  auto changed = fk::graph_flow<"order">(
      fk::task<"a">(fk::inputs<"seed">, fk::outputs<"x">, [](int v) { return v; }), b, d);
  using engine_type =
      fk::engine<decltype(changed), decltype(fk::store<"seed">(4)), fk::persist_t<decltype(s.backend)>>;
  try {
    engine_type eng{changed, fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
    FAIL("a run of another structure was opened");
  } catch (const fk::flow_mismatch& e) {
    CHECK(e.run() == "run-1");
    CHECK_THAT(e.what(), Catch::Contains("atom 'b' differs") || Catch::Contains("atom 'c' is in the run"));
  }
  const auto after = s.backend.load_run("run-1");
  CHECK(after->flow == before->flow);
  CHECK(after->atoms == before->atoms);
}

RESUME_TEST("resume_only refuses a run that is not stored") {
  TestType s;
  tally t;
  const bool d_fails = false;
  using engine_type =
      decltype(fk::engine{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "x")});
  CHECK_THROWS_AS((engine_type{order_flow(t, d_fails), fk::store<"seed">(4),
                               fk::persist(s.backend, "nobody", fk::resume_only)}),
                  fk::run_not_found);
  CHECK_FALSE(s.backend.load_run("nobody"));
}

RESUME_TEST("a stored result that does not decode is refused, naming the run, the atom and the type") {
  TestType s;
  tally t;
  const bool d_fails = false;
  {
    fk::engine eng{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
    eng.run();
  }
  // c's vector, or a's int cut short (an arithmetic result is read without an archive).
  const bool damage_int = GENERATE(false, true);
  fk::batch damage;
  fk::atom_detail& c = damage.next();
  c.name = damage_int ? "a" : "c";
  c.state = fk::atom_state::success;
  c.result = damage_int ? std::string{"\x05\x00", 2} : std::string{"\x05\x00\x00"};
  s.backend.commit("run-1", damage);
  try {
    fk::engine eng{order_flow(t, d_fails), fk::store<"seed">(4), fk::persist(s.backend, "run-1")};
    FAIL("a damaged result was loaded");
  } catch (const fk::corrupt_record& e) {
    CHECK(e.run() == "run-1");
    CHECK(e.atom() == (damage_int ? "a" : "c"));
    CHECK_THAT(e.what(), Catch::Contains(damage_int ? "as int:" : "std::vector<int>"));
  }
}

TEST_CASE("a run killed with SIGKILL resumes in another process", "[persistence][resume]") {
  fk::test::temp_dir dir;
  const auto path = dir / "store";
  // In power_loss_safe mode an atom starts only once its predecessors' records are durable:
  // a and b, done before c killed its process, are not run again.
  const pid_t child = fk::test::spawn([&] {
    fk::lmdb_backend backend{path};
    tally t;
    auto flow =
        fk::linear_flow<"lf">(fk::task<"a">(fk::outputs<"x">, [] { return 20; }),
                              fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x + 1; }),
                              fk::task<"c">(fk::inputs<"y">, fk::outputs<"z">, [](int) -> int {
                                ::raise(SIGKILL);
                                return 0;
                              }));
    fk::engine eng{flow, fk::persist(backend, "run-1")};
    eng.run();
    return 0;
  });
  REQUIRE(fk::test::join(child) == 128 + SIGKILL);

  fk::lmdb_backend backend{path};
  const auto stored = backend.load_run("run-1");
  REQUIRE(stored);
  CHECK(stored->flow.state == fk::flow_state::running);
  CHECK(stored->find("b")->state == fk::atom_state::success);
  int a_runs = 0, b_runs = 0;
  bool c_rerun = false;
  auto flow = fk::linear_flow<"lf">(
      fk::task<"a">(fk::outputs<"x">, [&] { return ++a_runs, 20; }),
      fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [&](int x) { return ++b_runs, x + 1; }),
      fk::task<"c">(fk::inputs<"y">, fk::outputs<"z">, [&](int y, fk::execution e) {
        c_rerun = e.rerun();
        return y * 2;
      }));
  fk::engine eng{flow, fk::persist(backend, "run-1")};
  REQUIRE(eng.run().succeeded());
  CHECK(eng.template get<"z">() == 42);
  CHECK(a_runs == 0);
  CHECK(b_runs == 0);
  // c's RUNNING record is not waited for: it is there when the commit beat the kill.
  CHECK(c_rerun == (stored->find("c") && stored->find("c")->state == fk::atom_state::running));
}

namespace {
// A value whose serialize() throws, as a user's may.
struct unwritable {
  int value = 0;
  template <class Archive>
  void serialize(Archive&, const unsigned) {
    throw std::runtime_error("unwritable cannot be written");
  }
};
}  // namespace

RESUME_TEST("a result that cannot be written stops the run, and run() says why") {
  TestType s;
  const where w = GENERATE(where::serial, where::pool);
  std::atomic<int> after_runs{0};
  auto make = [&] {
    auto first = fk::task<"first">(fk::outputs<"u">, [] { return unwritable{1}; });
    auto second = fk::task<"second">(fk::inputs<"u">, fk::outputs<"n">, [&](const unwritable& u) {
      ++after_runs;
      return u.value;
    });
    return fk::linear_flow<"lf">(first, second);
  };
  fk::engine eng{make(), fk::persist(s.backend, "run-1")};
  CHECK_THROWS_WITH(run_on(eng, w), "unwritable cannot be written");
  CHECK(eng.state() != fk::flow_state::success);
  CHECK(after_runs <= 1);  // the run stopped: at most the atom already released ran
}
