// The backend concept's conformance suite: every backend must pass all of it.

#include "support.hpp"

#include <flowkit/persistence/backend.hpp>
#include <flowkit/persistence/lmdb_backend.hpp>
#include <flowkit/persistence/memory_backend.hpp>
#ifdef FLOWKIT_TEST_POSTGRES
#include <flowkit/postgres.hpp>

#include "../postgres/pg_test_server.hpp"
#endif

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fk = flowkit;
using fk::test::failed;
using fk::test::result_of;
using fk::test::spec_of;
using fk::test::succeeded;

namespace {

struct memory_store {
  fk::memory_backend backend;
};

struct lmdb_store {
  fk::test::temp_dir dir;
  fk::lmdb_backend backend{dir / "store"};
};

struct lmdb_fast_store {
  fk::test::temp_dir dir;
  fk::lmdb_backend backend{dir / "store.fkc",
                           {.durability = fk::durability::process_crash_safe, .single_file = true}};
};

static_assert(fk::backend<fk::memory_backend>);
static_assert(fk::backend<fk::lmdb_backend>);

#ifdef FLOWKIT_TEST_POSTGRES
// On the tests' server, a schema of its own per test.
struct pg_store {
  fk::test::pg_test_schema schema;
  fk::pg_backend backend{schema.url(), {.schema = schema.name()}};
};
static_assert(fk::backend<fk::pg_backend>);
#define FLOWKIT_PG_STORES , pg_store
#else
#define FLOWKIT_PG_STORES
#endif

struct guard_refused : std::runtime_error {
  guard_refused() : std::runtime_error("guard refused") {}
};

std::vector<std::string> ids_of(const std::vector<fk::flow_detail>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) out.push_back(f.id);
  return out;
}

std::vector<std::string> names_of(const fk::run_record& r) {
  std::vector<std::string> out;
  for (const auto& a : r.atoms) out.push_back(a.name);
  return out;
}

}  // namespace

#define BACKEND_TEST(title) \
  TEMPLATE_TEST_CASE(title, "[persistence]", memory_store, lmdb_store, lmdb_fast_store FLOWKIT_PG_STORES)

BACKEND_TEST("a new run is created and opening it again loads it with its own inputs") {
  TestType fx;
  auto& b = fx.backend;
  CHECK_FALSE(b.load_run("r1"));
  const fk::run_spec spec = spec_of("r1");
  const fk::run_record created = b.open_run(spec);
  CHECK(created.flow.id == "r1");
  CHECK(created.flow.logbook == "book");
  CHECK(created.flow.flow_name == "checkout");
  CHECK(created.flow.structure_hash == spec.structure_hash);
  CHECK(created.flow.store_bytes == spec.store_bytes);
  CHECK(created.flow.state == fk::flow_state::pending);
  CHECK(created.flow.created == created.flow.updated);
  CHECK(created.atoms.empty());
  CHECK(fk::deserialize_from<std::string>(created.flow.store_bytes) == "inputs of r1");

  fk::run_spec again = spec;
  fk::serialize_to(again.store_bytes, std::string{"other inputs"});
  const fk::run_record loaded = b.open_run(again);
  CHECK(loaded.flow == created.flow);  // a stored run keeps the inputs it was created with
  REQUIRE(b.load_run("r1"));
  CHECK(b.load_run("r1")->flow == created.flow);
}

BACKEND_TEST("a run recorded for another flow name or structure is refused naming both") {
  TestType fx;
  auto& b = fx.backend;
  b.open_run(spec_of("r1", "book", "checkout", 0x1111));
  try {
    b.open_run(spec_of("r1", "book", "checkout", 0x2222));
    FAIL("opened a run of another structure");
  } catch (const fk::flow_mismatch& e) {
    CHECK(e.run() == "r1");
    CHECK(e.stored_hash() == 0x1111);
    CHECK(e.given_hash() == 0x2222);
    CHECK_THAT(e.what(), Catch::Contains("0x0000000000001111") && Catch::Contains("0x0000000000002222"));
  }
  try {
    b.open_run(spec_of("r1", "book", "refund", 0x1111));
    FAIL("opened a run of another flow");
  } catch (const fk::flow_mismatch& e) {
    CHECK(e.stored_flow() == "checkout");
    CHECK(e.given_flow() == "refund");
    CHECK_THAT(e.what(),
               Catch::Contains("'checkout'") && Catch::Contains("'refund'") && Catch::Contains("'r1'"));
  }
  CHECK_THROWS_AS(b.open_run(spec_of("r1", "other book", "checkout", 0x1111)), fk::logbook_mismatch);
  // Nothing of the refused opens was recorded.
  CHECK(b.load_run("r1")->flow.structure_hash == 0x1111);
  CHECK(b.logbooks() == std::vector<std::string>{"book"});
}

BACKEND_TEST("resume_only opens a stored run and refuses an unknown id") {
  TestType fx;
  auto& b = fx.backend;
  try {
    b.open_run(spec_of("ghost"), fk::resume_only);
    FAIL("resumed a run that was never stored");
  } catch (const fk::run_not_found& e) {
    CHECK(e.run() == "ghost");
    CHECK_THAT(e.what(), Catch::Contains("'ghost'"));
  }
  CHECK_FALSE(b.load_run("ghost"));
  CHECK(b.runs().empty());
  b.open_run(spec_of("r1"));
  CHECK(b.open_run(spec_of("r1"), fk::resume_only).flow.id == "r1");
}

BACKEND_TEST("a batch commits atom details and the flow state together") {
  TestType fx;
  auto& b = fx.backend;
  const auto created = b.open_run(spec_of("r1"));
  fk::batch changes;
  changes.put(succeeded("fetch", 42, 3));
  changes.put(failed("charge"));
  fk::atom_detail& retry = changes.next();
  retry.name = "pay_retry";
  retry.state = fk::atom_state::retrying;
  retry.intention = fk::intention::retry;
  fk::serialize_to(retry.retry_history, std::vector<std::string>{"attempt 1", "attempt 2"});
  fk::atom_detail reverted = succeeded("ship", 7);
  reverted.state = fk::atom_state::reverted;
  reverted.intention = fk::intention::revert;
  fk::serialize_to(reverted.revert_result.emplace<std::string>(), std::string{"refunded"});
  changes.put(reverted);
  changes.set_flow_state(fk::flow_state::reverting);
  b.commit("r1", changes);

  const auto r = b.load_run("r1");
  REQUIRE(r);
  CHECK(r->flow.state == fk::flow_state::reverting);
  CHECK(r->flow.updated >= created.flow.updated);
  CHECK(r->flow.store_bytes == created.flow.store_bytes);
  REQUIRE(names_of(*r) == std::vector<std::string>{"charge", "fetch", "pay_retry", "ship"});  // name order
  CHECK(r->atoms[1] == succeeded("fetch", 42, 3));
  CHECK(result_of(r->atoms[1]) == 42);
  CHECK(r->atoms[1].version == 3);
  CHECK(r->atoms[0] == failed("charge"));
  REQUIRE(r->atoms[0].failure());
  CHECK(r->atoms[0].failure()->type_name == "std::runtime_error");
  CHECK(r->atoms[0].failure()->to_failure().what() == "card declined");
  REQUIRE(r->atoms[0].revert_failure());
  CHECK(r->atoms[0].revert_failure()->what == "bank offline");
  CHECK(r->atoms[2].state == fk::atom_state::retrying);
  CHECK(r->atoms[2].intention == fk::intention::retry);
  CHECK(fk::deserialize_from<std::vector<std::string>>(r->atoms[2].retry_history) ==
        std::vector<std::string>{"attempt 1", "attempt 2"});
  CHECK_FALSE(r->atoms[2].result_bytes());
  CHECK_FALSE(r->atoms[2].failure());
  REQUIRE(r->atoms[3].revert_bytes());
  CHECK(fk::deserialize_from<std::string>(*r->atoms[3].revert_bytes()) == "refunded");
  CHECK(r->find("ship") == &r->atoms[3]);
  CHECK(r->find("nobody") == nullptr);
}

BACKEND_TEST("a throwing guard commits nothing of its batch") {
  TestType fx;
  auto& b = fx.backend;
  b.open_run(spec_of("r1"));
  fk::batch first;
  first.put(succeeded("a", 1));
  b.commit("r1", first);
  const auto before = b.load_run("r1");

  fk::batch changes;
  changes.put(succeeded("a", 2));
  changes.put(succeeded("b", 3));
  changes.set_flow_state(fk::flow_state::running);
  int guard_calls = 0;
  CHECK_THROWS_AS(b.commit("r1", changes,
                           [&](auto& /*txn*/) {
                             ++guard_calls;
                             throw guard_refused{};
                           }),
                  guard_refused);
  CHECK(guard_calls >= 1);
  const auto after = b.load_run("r1");
  REQUIRE(after);
  CHECK(after->flow == before->flow);  // not even the update time moved
  REQUIRE(after->atoms.size() == 1);
  CHECK(result_of(after->atoms[0]) == 1);

  // The same batch with a guard that lets it through.
  b.commit("r1", changes, [&](auto& /*txn*/) { ++guard_calls; });
  const auto done = b.load_run("r1");
  CHECK(done->flow.state == fk::flow_state::running);
  REQUIRE(done->atoms.size() == 2);
  CHECK(result_of(done->atoms[0]) == 2);
  CHECK(result_of(done->atoms[1]) == 3);
}

BACKEND_TEST("changes apply in batch order and later commits replace earlier details") {
  TestType fx;
  auto& b = fx.backend;
  b.open_run(spec_of("r1"));
  fk::batch changes;
  fk::atom_detail running;
  running.name = "a";
  running.state = fk::atom_state::running;
  changes.put(running);
  changes.put(succeeded("a", 10));  // the same atom later in the batch: this one wins
  changes.put(succeeded("b", 20));
  b.commit("r1", changes);
  auto r = b.load_run("r1");
  REQUIRE(r->atoms.size() == 2);
  CHECK(r->atoms[0].state == fk::atom_state::success);
  CHECK(result_of(r->atoms[0]) == 10);

  // Reusing the batch: a later commit replaces the whole detail (the old result goes with it).
  changes.clear();
  CHECK(changes.empty());
  fk::atom_detail& a = changes.next();
  a.name = "a";
  a.state = fk::atom_state::reverting;
  a.intention = fk::intention::revert;
  a.result = std::monostate{};
  a.revert_result = std::monostate{};
  a.retry_history.clear();
  b.commit("r1", changes);
  r = b.load_run("r1");
  CHECK(r->atoms[0].state == fk::atom_state::reverting);
  CHECK(r->atoms[0].intention == fk::intention::revert);
  CHECK_FALSE(r->atoms[0].result_bytes());
  CHECK(result_of(r->atoms[1]) == 20);

  // A batch with only a flow state.
  changes.clear();
  changes.set_flow_state(fk::flow_state::suspended);
  CHECK_FALSE(changes.empty());
  CHECK(changes.size() == 0);
  b.commit("r1", changes);
  CHECK(b.load_run("r1")->flow.state == fk::flow_state::suspended);
  CHECK(b.load_run("r1")->atoms.size() == 2);
}

BACKEND_TEST("a commit to an unknown run is refused and writes nothing") {
  TestType fx;
  auto& b = fx.backend;
  fk::batch changes;
  changes.put(succeeded("a", 1));
  CHECK_THROWS_AS(b.commit("ghost", changes), fk::run_not_found);
  CHECK_FALSE(b.load_run("ghost"));
  CHECK(b.runs().empty());
  CHECK(b.logbooks().empty());
}

BACKEND_TEST("ids and names outside the limits are refused") {
  TestType fx;
  auto& b = fx.backend;
  CHECK_THROWS_AS(b.open_run(spec_of("")), std::invalid_argument);
  CHECK_THROWS_AS(b.open_run(spec_of(std::string(fk::max_run_id_size + 1, 'r'))), std::invalid_argument);
  CHECK_THROWS_AS(b.open_run(spec_of("r1", "")), std::invalid_argument);
  CHECK(b.runs().empty());
  const std::string longest(fk::max_run_id_size, 'r');
  b.open_run(spec_of(longest, std::string(fk::max_logbook_size, 'b')));
  fk::batch changes;
  changes.put(succeeded(std::string(fk::max_atom_name_size, 'a'), 1));
  b.commit(longest, changes);
  CHECK(b.load_run(longest)->atoms.size() == 1);
  changes.put(succeeded(std::string(fk::max_atom_name_size + 1, 'a'), 2));
  CHECK_THROWS_AS(b.commit(longest, changes), std::invalid_argument);
  changes.clear();
  changes.put(succeeded("", 2));
  CHECK_THROWS_AS(b.commit(longest, changes), std::invalid_argument);
  CHECK(b.load_run(longest)->atoms.size() == 1);
}

BACKEND_TEST("logbooks and runs are listed sorted") {
  TestType fx;
  auto& b = fx.backend;
  CHECK(b.logbooks().empty());
  b.open_run(spec_of("r3", "orders"));
  b.open_run(spec_of("r1", "orders"));
  b.open_run(spec_of("r2", "refunds"));
  b.open_run(spec_of("r10", "a-long-logbook-name"));
  CHECK(b.logbooks() == std::vector<std::string>{"a-long-logbook-name", "orders", "refunds"});
  CHECK(ids_of(b.runs()) == std::vector<std::string>{"r1", "r10", "r2", "r3"});
  CHECK(ids_of(b.runs("orders")) == std::vector<std::string>{"r1", "r3"});
  CHECK(ids_of(b.runs("refunds")) == std::vector<std::string>{"r2"});
  CHECK(b.runs("order").empty());  // a prefix of a logbook's name is another logbook
  CHECK(b.runs("nobody").empty());
  const auto listed = b.runs("orders");
  CHECK(listed[0] == b.load_run("r1")->flow);
}

BACKEND_TEST("erasing a run removes it and its atoms and nothing else") {
  TestType fx;
  auto& b = fx.backend;
  b.open_run(spec_of("r1", "orders"));
  b.open_run(spec_of("r11", "orders"));  // its atoms' keys share a prefix with r1's in no backend
  b.open_run(spec_of("r2", "refunds"));
  fk::batch changes;
  changes.put(succeeded("a", 1));
  changes.put(succeeded("b", 2));
  b.commit("r1", changes);
  b.commit("r11", changes);
  b.commit("r2", changes);

  CHECK(b.erase_run("r1"));
  CHECK_FALSE(b.erase_run("r1"));
  CHECK_FALSE(b.load_run("r1"));
  CHECK(b.load_run("r11")->atoms.size() == 2);
  CHECK(b.load_run("r2")->atoms.size() == 2);
  CHECK(ids_of(b.runs("orders")) == std::vector<std::string>{"r11"});
  CHECK(b.erase_run("r2"));
  CHECK(b.logbooks() == std::vector<std::string>{"orders"});

  // The id is free again: a new run starts with no atoms.
  const auto fresh = b.open_run(spec_of("r1", "orders", "refund", 0x99));
  CHECK(fresh.atoms.empty());
  CHECK(fresh.flow.flow_name == "refund");
}

BACKEND_TEST("concurrent committers from threads lose nothing and readers never see half a batch") {
  TestType fx;
  auto& b = fx.backend;
  constexpr int threads = 4, commits = 40;
  b.open_run(spec_of("shared"));
  for (int t = 0; t < threads; ++t) b.open_run(spec_of("own-" + std::to_string(t)));

  std::atomic<bool> writing{true};
  std::atomic<int> torn{0}, loads{0};
  std::thread reader{[&] {
    // Every batch writes "t-i-a" and "t-i-b": a reader sees both or neither.
    do {
      const auto r = b.load_run("shared");
      loads.fetch_add(1);
      int as = 0, bs = 0;
      for (const auto& a : r->atoms) (a.name.back() == 'a' ? as : bs)++;
      if (as != bs) torn.fetch_add(1);
    } while (writing.load());
  }};
  std::vector<std::thread> writers;
  std::atomic<int> errors{0};
  for (int t = 0; t < threads; ++t)
    writers.emplace_back([&, t] {
      try {
        fk::batch changes;
        for (int i = 0; i < commits; ++i) {
          changes.clear();
          const std::string base = std::to_string(t) + "-" + std::to_string(i);
          changes.put(succeeded(base + "-a", i));
          changes.put(succeeded(base + "-b", i));
          b.commit("shared", changes);
          changes.clear();
          changes.put(succeeded("counter", i));
          b.commit("own-" + std::to_string(t), changes);
        }
      } catch (...) {
        errors.fetch_add(1);
      }
    });
  for (auto& w : writers) w.join();
  writing = false;
  reader.join();

  CHECK(errors == 0);
  CHECK(torn == 0);
  CHECK(loads > 0);
  const auto shared = b.load_run("shared");
  CHECK(shared->atoms.size() == std::size_t{threads * commits * 2});
  for (int t = 0; t < threads; ++t) {
    const auto own = b.load_run("own-" + std::to_string(t));
    REQUIRE(own->atoms.size() == 1);
    CHECK(result_of(own->atoms[0]) == commits - 1);  // each thread's commits landed in its order
  }
}
