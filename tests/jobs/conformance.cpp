// The jobboard concept's conformance suite: every board must pass all of it.

#include "support.hpp"

#include <flowkit/lmdb.hpp>
#ifdef FLOWKIT_TEST_POSTGRES
#include <flowkit/postgres.hpp>

#include "../postgres/pg_test_server.hpp"
#endif

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace fk = flowkit;
using namespace std::chrono_literals;

namespace {

struct checkout {
  static constexpr fk::name name = "checkout";
};

using order_store = decltype(fk::store<"order_id">(0));

// Each board reads a manual clock: the tests of expiry move it instead of waiting, so that they
// take microseconds and do not depend on the machine's load. ("on the system clock ..." below
// checks the default clock.)
struct memory_board {
  fk::manual_clock clock;
  fk::memory_jobboard board{{.clock = clock}};
  std::size_t waiting() const { return board.waiting(); }
};

struct lmdb_board {
  fk::manual_clock clock;
  fk::test::temp_dir dir;
  fk::lmdb_jobboard board{dir / "board", {.clock = clock}};
  std::size_t waiting() const { return board.environment()->notifier().waiting(); }
};

struct lmdb_fast_board {
  fk::manual_clock clock;
  fk::test::temp_dir dir;
  fk::lmdb_jobboard board{
      dir / "board.fkb",
      {.durability = fk::durability::process_crash_safe, .single_file = true, .clock = clock}};
  std::size_t waiting() const { return board.environment()->notifier().waiting(); }
};

static_assert(fk::jobboard<fk::memory_jobboard>);
static_assert(fk::jobboard<fk::lmdb_jobboard>);

#ifdef FLOWKIT_TEST_POSTGRES
// On the tests' server, a schema of its own per test. The manual clock replaces the server's for
// these tests only (test_clock); tests/postgres checks expiry by the server's clock.
struct pg_board {
  fk::manual_clock clock;
  fk::test::pg_test_schema schema;
  fk::pg_jobboard board{schema.url(), {.schema = schema.name(), .test_clock = &clock}};
  std::size_t waiting() const { return board.waiting(); }
};
// The same rules with the board's changes committed without waiting for the WAL flush.
struct pg_async_board {
  fk::manual_clock clock;
  fk::test::pg_test_schema schema;
  fk::pg_jobboard board{schema.url(),
                        {.schema = schema.name(), .test_clock = &clock, .synchronous_commit = false}};
  std::size_t waiting() const { return board.waiting(); }
};
static_assert(fk::jobboard<fk::pg_jobboard>);
#define FLOWKIT_PG_BOARDS , pg_board, pg_async_board
#else
#define FLOWKIT_PG_BOARDS
#endif

// What the listeners saw, as "kind:owner" strings.
struct recorder {
  std::vector<std::string> seen;
  template <class Board>
  explicit recorder(Board& b) {
    b.listen([this](const fk::job_event& e) {
      seen.push_back(std::string{fk::to_string(e.kind)} + ":" + e.owner);
    });
  }
};

std::vector<std::string> names_of(const std::vector<fk::job>& js) {
  std::vector<std::string> out;
  for (const auto& j : js) out.push_back(j.name());
  return out;
}

}  // namespace

#define BOARD_TEST(title) \
  TEMPLATE_TEST_CASE(title, "[jobboard]", memory_board, lmdb_board, lmdb_fast_board FLOWKIT_PG_BOARDS)

BOARD_TEST("a posted job keeps its name, flow, typed store and flow detail") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id id = board.post("order 42", checkout{}, fk::store<"order_id">(42));
  const fk::job j = board.get(id);
  CHECK(j.id() == id);
  CHECK(j.name() == "order 42");
  CHECK(j.flow() == "checkout");
  CHECK(j.flow_detail() == id.str());
  CHECK(j.priority() == fk::job_priority::normal);
  CHECK(j.state() == fk::job_state::unclaimed);
  CHECK_FALSE(j.owner());
  CHECK(j.token() == 0);
  CHECK(j.created() == fx.clock.now());  // the board's clock
  CHECK(j.store<order_store>().get<"order_id">() == 42);
  CHECK(board.template load_store<order_store>(j).template get<"order_id">() == 42);

  // A store read as another type is an error that names both types.
  using other = decltype(fk::store<"order_id">(std::string{}));
  CHECK_THROWS_AS(j.store<other>(), fk::store_type_mismatch);

  const auto multi = fk::store<"a", "b">(7, std::string{"seven"});
  const fk::job_id id2 =
      board.post("by name", "refund", multi, fk::post_options{fk::job_priority::low, "detail-9"});
  const fk::job j2 = board.get(id2);
  CHECK(j2.flow() == "refund");
  CHECK(j2.flow_detail() == "detail-9");
  CHECK(j2.priority() == fk::job_priority::low);
  const auto back = j2.store<decltype(multi)>();
  CHECK(back.get<"a">() == 7);
  CHECK(back.get<"b">() == "seven");

  CHECK_FALSE(board.find(fk::job_id::generate()));
  CHECK_THROWS_AS(board.get(fk::job_id::generate()), fk::job_not_found);
}

BOARD_TEST("jobs are listed higher priority first then oldest first") {
  TestType fx;
  auto& board = fx.board;
  board.post("n1", checkout{}, fk::store<"order_id">(1));
  board.post("l1", checkout{}, fk::store<"order_id">(2), fk::job_priority::low);
  board.post("vh1", checkout{}, fk::store<"order_id">(3), fk::job_priority::very_high);
  board.post("n2", checkout{}, fk::store<"order_id">(4));
  board.post("vl1", checkout{}, fk::store<"order_id">(5), fk::job_priority::very_low);
  board.post("h1", checkout{}, fk::store<"order_id">(6), fk::job_priority::high);
  board.post("vh2", checkout{}, fk::store<"order_id">(7), fk::job_priority::very_high);
  const std::vector<std::string> all{"vh1", "vh2", "h1", "n1", "n2", "l1", "vl1"};
  CHECK(names_of(board.jobs()) == all);

  // only_unclaimed leaves out live claims, keeps the order.
  const fk::job n1 = board.jobs()[3];
  board.claim(n1.id(), "w", 1h);
  CHECK(names_of(board.jobs(fk::only_unclaimed)) ==
        std::vector<std::string>{"vh1", "vh2", "h1", "n2", "l1", "vl1"});
  CHECK(names_of(board.jobs(fk::all_jobs)) == all);
  CHECK(board.jobs()[3].state() == fk::job_state::claimed);

  // claim_next takes the first claimable job in that order.
  auto next = board.claim_next("w", 1h);
  REQUIRE(next);
  CHECK(next->job.name() == "vh1");
  CHECK(next->job.state() == fk::job_state::claimed);
  CHECK(next->claim.job() == next->job.id());
  CHECK(board.claim_next("w", 1h)->job.name() == "vh2");
}

BOARD_TEST("a claim is exclusive and names its owner") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  const fk::claim c = board.claim(id, "worker-1", 30s);
  CHECK(c.job() == id);
  CHECK(c.owner() == "worker-1");
  CHECK(c.token() == 1);
  CHECK(c.expires() == fx.clock.now() + 30s);

  const fk::job j = board.get(id);
  CHECK(j.state() == fk::job_state::claimed);
  CHECK(j.owner() == "worker-1");
  CHECK(j.expires() == c.expires());

  try {
    board.claim(id, "worker-2", 30s);
    FAIL("claimed a job another owner holds");
  } catch (const fk::unclaimable_job& e) {
    CHECK(e.owner() == "worker-1");
    CHECK(e.job_id() == id.str());
    CHECK_THAT(e.what(), Catch::Contains("worker-1") && Catch::Contains(id.str()));
  }
  CHECK_THROWS_AS(board.claim(fk::job_id::generate(), "worker-2", 30s), fk::job_not_found);
  CHECK_FALSE(board.claim_next("worker-2", 30s));
}

BOARD_TEST("re-claiming one's own job renews the claim with the same token") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  fk::claim c1 = board.claim(id, "w", 10s);
  const fk::claim c2 = board.claim(id, "w", 60s);
  CHECK(c2.token() == c1.token());
  CHECK(c2.expires() > c1.expires());
  board.extend(c1, 30s);  // the first claim object is still the live claim
  board.consume(c1);
  CHECK_FALSE(board.find(id));
}

BOARD_TEST("the fencing token grows with every new claim") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  const fk::claim a = board.claim(id, "a", 30s);
  board.abandon(a);
  CHECK(board.get(id).state() == fk::job_state::unclaimed);
  CHECK(board.get(id).token() == 1);
  const fk::claim b = board.claim(id, "b", 30s);
  CHECK(b.token() == 2);
  board.abandon(b);
  const fk::claim a2 = board.claim(id, "a", 30s);
  CHECK(a2.token() == 3);
  // The old claims are dead although "a" owns the job again.
  CHECK_THROWS_AS(board.consume(a), fk::claim_lost);
  CHECK_THROWS_AS(board.abandon(b), fk::claim_lost);
  board.consume(a2);
}

BOARD_TEST("an expired claim can be taken and its old owner can do nothing with it") {
  TestType fx;
  auto& board = fx.board;
  recorder rec{board};
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  const fk::job_time start = fx.clock.now();
  fk::claim old = board.claim(id, "old", 30s);
  CHECK(old.expires() == start + 30s);

  fx.clock.advance(29s);  // live: nobody else may take it
  CHECK(board.get(id).state() == fk::job_state::claimed);
  CHECK(board.get(id).owner() == "old");
  CHECK(board.jobs(fk::only_unclaimed).empty());
  CHECK_FALSE(board.wait(0s));
  CHECK_THROWS_AS(board.claim(id, "new", 30s), fk::unclaimable_job);
  CHECK_FALSE(board.claim_next("new", 30s));

  // expires() is the first instant at which the claim is lost.
  fx.clock.set(start + 30s - 1ns);
  CHECK(board.get(id).state() == fk::job_state::claimed);
  fx.clock.set(start + 30s);
  CHECK(board.get(id).state() == fk::job_state::unclaimed);

  fx.clock.set(start + 31s);
  REQUIRE(board.wait(0s));  // the job is claimable again
  CHECK(board.get(id).state() == fk::job_state::unclaimed);
  CHECK_FALSE(board.get(id).owner());
  CHECK(board.jobs(fk::only_unclaimed).size() == 1);
  // Lost, even with no new owner.
  CHECK_THROWS_WITH(board.extend(old, 30s), Catch::Contains("expired at"));
  CHECK_THROWS_AS(board.consume(old), fk::claim_lost);
  CHECK(old.expires() == start + 30s);  // a refused extend leaves the claim as it was

  const fk::claim taken = board.claim(id, "new", 30s);
  CHECK(taken.token() == old.token() + 1);
  CHECK(taken.expires() == start + 61s);
  try {
    board.consume(old);
    FAIL("a lost claim consumed the job");
  } catch (const fk::claim_lost& e) {
    CHECK(e.token() == old.token());
    CHECK(e.who() == "old");
    CHECK_THAT(e.what(), Catch::Contains("claimed again by 'new'") && Catch::Contains(id.str()));
  }
  CHECK_THROWS_AS(board.abandon(old), fk::claim_lost);
  CHECK_THROWS_AS(board.trash(old, "no"), fk::not_owner);
  CHECK_THROWS_AS(board.extend(old, 30s), fk::claim_lost);
  CHECK(board.get(id).owner() == "new");
  board.consume(taken);

  CHECK(std::count(rec.seen.begin(), rec.seen.end(), "claim_lost:old") >= 2);
  CHECK(std::find(rec.seen.begin(), rec.seen.end(), "claimed:new") != rec.seen.end());
}

BOARD_TEST("a claim expires unless extended") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  const fk::job_time start = fx.clock.now();
  fk::claim c = board.claim(id, "w", 30s);
  fx.clock.advance(20s);
  board.extend(c, 30s);  // the expiry moves to now + 30s
  CHECK(c.expires() == start + 50s);
  CHECK(board.get(id).expires() == c.expires());

  fx.clock.advance(29s);  // past the first ttl, 1s before the new expiry: still claimed
  CHECK_FALSE(board.wait(0s));
  CHECK(board.get(id).state() == fk::job_state::claimed);
  CHECK_THROWS_AS(board.claim(id, "other", 30s), fk::unclaimable_job);
  CHECK_FALSE(board.claim_next("other", 30s));

  board.extend(c, 1h);
  board.extend(c, 5s);  // a heartbeat may also shorten it
  CHECK(c.expires() == start + 54s);
  fx.clock.advance(6s);
  REQUIRE(board.wait(0s));
  CHECK(board.get(id).state() == fk::job_state::unclaimed);
  CHECK_THROWS_AS(board.consume(c), fk::claim_lost);
  CHECK_THROWS_AS(board.extend(c, 30s), fk::claim_lost);
  CHECK(board.claim(id, "other", 30s).token() == 2);
}

BOARD_TEST("abandon consume and trash need the live claim") {
  TestType fx;
  auto& board = fx.board;
  recorder rec{board};
  const fk::job_id a = board.post("a", checkout{}, fk::store<"order_id">(1));
  const fk::job_id b = board.post("b", checkout{}, fk::store<"order_id">(2));
  const fk::job_id c = board.post("c", checkout{}, fk::store<"order_id">(3));

  const fk::claim ca = board.claim(a, "w", 30s);
  board.abandon(ca);
  CHECK(board.get(a).state() == fk::job_state::unclaimed);
  CHECK_THROWS_AS(board.abandon(ca), fk::claim_lost);  // abandoned already
  CHECK_THROWS_AS(board.consume(ca), fk::claim_lost);

  const fk::claim cb = board.claim(b, "w", 30s);
  board.consume(cb);
  CHECK_FALSE(board.find(b));
  CHECK_THROWS_AS(board.consume(cb), fk::claim_lost);  // consumed already
  CHECK_THROWS_AS(board.claim(b, "w", 30s), fk::job_not_found);

  const fk::claim cc = board.claim(c, "w", 30s);
  board.trash(cc, "poison: 3 failed attempts");
  CHECK_FALSE(board.find(c));
  const auto trash = board.trashed();
  REQUIRE(trash.size() == 1);
  CHECK(trash[0].job.id() == c);
  CHECK(trash[0].job.state() == fk::job_state::complete);
  CHECK(trash[0].job.template store<order_store>().template get<"order_id">() == 3);
  CHECK(trash[0].reason == "poison: 3 failed attempts");
  CHECK(trash[0].by == "w");
  CHECK(names_of(board.jobs()) == std::vector<std::string>{"a"});

  CHECK(rec.seen == std::vector<std::string>{"posted:", "posted:", "posted:", "claimed:w", "abandoned:w",
                                             "claim_lost:w", "claim_lost:w", "claimed:w", "consumed:w",
                                             "claim_lost:w", "claimed:w", "trashed:w"});
}

BOARD_TEST("bad arguments are refused") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  CHECK_THROWS_AS(board.claim(id, "", 30s), std::invalid_argument);
  CHECK_THROWS_AS(board.claim(id, "w", 0s), std::invalid_argument);
  CHECK_THROWS_AS(board.claim(id, "w", -1s), std::invalid_argument);
  CHECK_THROWS_AS(board.claim_next("w", 0s), std::invalid_argument);
  fk::claim c = board.claim(id, "w", 30s);
  CHECK_THROWS_AS(board.extend(c, 0s), std::invalid_argument);
  CHECK(board.get(id).state() == fk::job_state::claimed);
}

BOARD_TEST("wait returns at once when there is work and times out when there is none") {
  TestType fx;
  auto& board = fx.board;
  CHECK_FALSE(board.wait(20ms));
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  CHECK(board.wait(0ms));
  const fk::claim c = board.claim(id, "w", 1h);
  CHECK_FALSE(board.wait(20ms));
  board.abandon(c);
  CHECK(board.wait(0ms));
}

BOARD_TEST("wait wakes for a post from another thread and for a stop request") {
  TestType fx;
  auto& board = fx.board;
  std::atomic<int> woke{-1};
  std::thread waiter{[&] { woke = board.wait(60s) ? 1 : 0; }};
  board.post("j", checkout{}, fk::store<"order_id">(1));
  waiter.join();
  CHECK(woke == 1);

  board.claim_next("w", 1h);
  std::stop_source stop;
  std::atomic<int> stopped{-1};
  std::thread stoppable{[&] { stopped = board.wait(60s, stop.get_token()) ? 1 : 0; }};
  stop.request_stop();
  stoppable.join();
  CHECK(stopped == 0);
}

BOARD_TEST("threads racing claim_next each get different jobs") {
  TestType fx;
  auto& board = fx.board;
  constexpr int jobs = 200, threads = 4;
  for (int i = 0; i < jobs; ++i) board.post(fk::test::numbered("j", i), checkout{}, fk::store<"order_id">(i));
  std::vector<std::vector<fk::job_id>> got(threads);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      const std::string me = fk::test::numbered("t", t);
      while (auto c = board.claim_next(me, 1h)) got[t].push_back(c->claim.job());
    });
  for (auto& t : ts) t.join();
  std::set<fk::job_id> all;
  std::size_t total = 0;
  for (const auto& g : got) {
    total += g.size();
    all.insert(g.begin(), g.end());
  }
  CHECK(total == jobs);
  CHECK(all.size() == jobs);
  CHECK(board.jobs(fk::only_unclaimed).empty());
}

BOARD_TEST("a huge ttl saturates at the clock's end instead of wrapping into the past") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id a = board.post("a", checkout{}, fk::store<"order_id">(1));
  const fk::job_id b = board.post("b", checkout{}, fk::store<"order_id">(2));
  const fk::job_id c = board.post("c", checkout{}, fk::store<"order_id">(3));
  const fk::job_time now = fx.clock.now();

  const fk::claim ca = board.claim(a, "w", std::chrono::nanoseconds::max());
  CHECK(ca.expires() == fk::job_time::max());
  CHECK(board.get(a).state() == fk::job_state::claimed);
  CHECK(board.get(a).expires() == fk::job_time::max());  // stored and read back unchanged
  CHECK_THROWS_AS(board.claim(a, "v", 1h), fk::unclaimable_job);

  fk::claim cb = board.claim(b, "w", std::chrono::hours::max());  // used to be "must be positive"
  CHECK(cb.expires() == fk::job_time::max());
  const auto next = board.claim_next("w", std::chrono::duration<double>{1e300});
  REQUIRE(next);
  CHECK(next->claim.job() == c);
  CHECK(next->claim.expires() == fk::job_time::max());

  board.extend(cb, 30s);
  CHECK(cb.expires() == now + 30s);
  board.extend(cb, std::chrono::hours::max());
  CHECK(cb.expires() == fk::job_time::max());
  board.extend(cb, std::chrono::nanoseconds::max());
  CHECK(cb.expires() == fk::job_time::max());
  CHECK(board.get(b).expires() == fk::job_time::max());

  CHECK_THROWS_WITH(board.claim(c, "w", -std::chrono::hours::max()), Catch::Contains("must be positive"));
  CHECK_THROWS_AS(board.claim(c, "w", std::chrono::duration<double>{std::nan("")}), std::invalid_argument);
  CHECK_THROWS_AS(board.extend(cb, std::chrono::hours::min()), std::invalid_argument);
  board.consume(ca);
  board.consume(cb);
}

BOARD_TEST("claim_next skips held claims and takes expired ones in job order") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id a = board.post("a", checkout{}, fk::store<"order_id">(1));
  const fk::job_id b = board.post("b", checkout{}, fk::store<"order_id">(2));
  const fk::job_id c = board.post("c", checkout{}, fk::store<"order_id">(3));
  fk::claim ca = board.claim(a, "x", 1h);
  board.claim(c, "x", 1h);
  board.claim(b, "y", 30s);

  fx.clock.advance(29s);  // b's claim is live: nothing to take
  CHECK_FALSE(board.claim_next("z", 1h));
  fx.clock.advance(2s);  // b's claim expired
  REQUIRE(board.wait(0s));
  auto n = board.claim_next("z", 1h);
  REQUIRE(n);
  CHECK(n->claim.job() == b);
  CHECK(n->claim.token() == 2);
  CHECK_FALSE(board.claim_next("z", 1h));

  // An expired claim earlier in job order comes before an unclaimed job posted later.
  const fk::job_id e = board.post("e", checkout{}, fk::store<"order_id">(5));
  const fk::claim ce = board.claim(e, "x", 1h);
  board.extend(ca, 30s);
  fx.clock.advance(31s);  // a's claim expired; e is still held
  REQUIRE(board.wait(0s));
  board.abandon(ce);
  n = board.claim_next("z", 1h);
  REQUIRE(n);
  CHECK(n->claim.job() == a);
  n = board.claim_next("z", 1h);
  REQUIRE(n);
  CHECK(n->claim.job() == e);
  CHECK_FALSE(board.claim_next("z", 1h));

  // Priority first, whatever is held.
  board.post("g", checkout{}, fk::store<"order_id">(7));
  const fk::job_id f = board.post("f", checkout{}, fk::store<"order_id">(6), fk::job_priority::high);
  n = board.claim_next("z", 1h);
  REQUIRE(n);
  CHECK(n->claim.job() == f);
}

BOARD_TEST("with hundreds of claims held claim_next takes abandoned jobs in job order") {
  TestType fx;
  auto& board = fx.board;
  std::vector<fk::job_id> ids;
  for (int i = 0; i < 500; ++i)
    ids.push_back(board.post(fk::test::numbered("j", i), checkout{}, fk::store<"order_id">(i)));
  std::vector<fk::claim> held;
  for (int i = 0; i < 400; ++i) {
    auto n = board.claim_next("w", 1h);
    REQUIRE(n);
    CHECK(n->claim.job() == ids[static_cast<std::size_t>(i)]);
    held.push_back(n->claim);
  }
  board.abandon(held[300]);
  board.abandon(held[100]);
  board.consume(held[0]);
  board.trash(held[1], "no");
  for (std::size_t want : {std::size_t{100}, std::size_t{300}, std::size_t{400}, std::size_t{401}}) {
    auto n = board.claim_next("v", 1h);
    REQUIRE(n);
    CHECK(n->claim.job() == ids[want]);
  }
  CHECK(board.jobs(fk::only_unclaimed).size() == 98);
  CHECK(board.jobs().size() == 498);
}

BOARD_TEST("a claim is live again when the clock steps back before its expiry") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id a = board.post("a", checkout{}, fk::store<"order_id">(1));
  const fk::job_id high = board.post("high", checkout{}, fk::store<"order_id">(2), fk::job_priority::high);
  const fk::job_time start = fx.clock.now();
  fk::claim ca = board.claim(a, "x", 30s);

  fx.clock.advance(31s);
  auto n = board.claim_next("z", 1h);  // a's claim is seen to have expired, high comes first
  REQUIRE(n);
  CHECK(n->claim.job() == high);

  fx.clock.set(start + 10s);  // the wall clock steps back: a's claim is live again
  CHECK(board.get(a).state() == fk::job_state::claimed);
  CHECK(board.jobs(fk::only_unclaimed).empty());
  CHECK_FALSE(board.wait(0s));
  CHECK_FALSE(board.claim_next("z", 1h));
  CHECK_THROWS_AS(board.claim(a, "z", 1h), fk::unclaimable_job);

  fx.clock.set(start + 31s);
  n = board.claim_next("z", 1h);
  REQUIRE(n);
  CHECK(n->claim.job() == a);
  CHECK(n->claim.token() == ca.token() + 1);
  CHECK_THROWS_AS(board.extend(ca, 30s), fk::claim_lost);
}

BOARD_TEST("a waiter wakes when an advance of the clock expires a claim") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  board.claim(id, "w", 30s);
  std::atomic<int> woke{-1};
  std::atomic<std::int64_t> took_ms{-1};
  std::thread waiter{[&] {
    const auto t0 = std::chrono::steady_clock::now();
    woke = board.wait(60s) ? 1 : 0;
    took_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  }};
  // Advance once the waiter is asleep, so that the advance is what wakes it.
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (fx.waiting() == 0 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  CHECK(fx.waiting() >= 1);
  fx.clock.advance(31s);
  waiter.join();
  CHECK(woke == 1);
  CHECK(took_ms < 30'000);  // woken by the advance, not at wait()'s 60 s timeout
  CHECK(board.get(id).state() == fk::job_state::unclaimed);
}

namespace {

// On the system clock, wait() sleeps until the earliest claim expires: the real-time path that
// the manual clock skips.
template <class Board>
void wakes_at_real_expiry(Board& board) {
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  const fk::job_time before = fk::job_clock::now();
  const fk::claim c = board.claim(id, "w", 20ms);
  CHECK(c.expires() >= before + 20ms);
  CHECK(c.expires() <= fk::job_clock::now() + 20ms);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(board.wait(60s));
  CHECK(std::chrono::steady_clock::now() - t0 < 30s);  // at the expiry, not at the timeout
  CHECK(fk::job_clock::now() >= c.expires());
  CHECK(board.get(id).state() == fk::job_state::unclaimed);

  // And when a back-off ends.
  const fk::claim again = board.claim(id, "w", 1h);
  const fk::job_time abandoned = fk::job_clock::now();
  board.abandon(again, "retry soon", 20ms);
  const auto t1 = std::chrono::steady_clock::now();
  REQUIRE(board.wait(60s));
  CHECK(std::chrono::steady_clock::now() - t1 < 30s);  // at the back-off's end, not at the timeout
  CHECK(fk::job_clock::now() >= abandoned + 20ms);
  CHECK(board.claim_next("w", 1h));
}

}  // namespace

TEST_CASE("on the system clock wait wakes when a claim expires", "[jobboard]") {
  SECTION("memory") {
    fk::memory_jobboard board;
    wakes_at_real_expiry(board);
  }
  SECTION("lmdb") {
    fk::test::temp_dir dir;
    fk::lmdb_jobboard board{dir / "board"};
    wakes_at_real_expiry(board);
  }
}

BOARD_TEST("an operator revokes a claim and its holder can do nothing more with it") {
  TestType fx;
  auto& board = fx.board;
  std::vector<fk::job_event> seen;
  board.listen([&](const fk::job_event& e) { seen.push_back(e); });
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  fk::claim c = board.claim(id, "w", 1h);
  CHECK_FALSE(board.wait(0s));
  seen.clear();

  board.revoke(id, "admin", "stuck on a dead host");
  const fk::job j = board.get(id);
  CHECK(j.state() == fk::job_state::unclaimed);
  CHECK_FALSE(j.owner());
  CHECK(j.token() == c.token() + 1);  // the holder's claim is fenced off
  CHECK(board.jobs(fk::only_unclaimed).size() == 1);
  CHECK(board.wait(0s));
  CHECK_THROWS_AS(board.consume(c), fk::claim_lost);
  CHECK_THROWS_AS(board.extend(c, 1h), fk::claim_lost);
  CHECK_THROWS_AS(board.abandon(c), fk::claim_lost);
  CHECK_THROWS_AS(board.trash(c, "no"), fk::claim_lost);
  CHECK(board.get(id).token() == c.token() + 1);

  REQUIRE(seen.size() >= 2);
  CHECK(seen[0].kind == fk::job_event_kind::revoked);
  CHECK(seen[0].owner == "admin");
  CHECK(seen[0].token == c.token());
  CHECK(seen[0].detail == "stuck on a dead host");
  CHECK(seen[1].kind == fk::job_event_kind::claim_lost);
  CHECK(seen[1].owner == "w");
  CHECK_THAT(seen[1].detail, Catch::Contains("revoked by 'admin'"));

  // The same owner claims again: a new claim, and the revoked one stays dead.
  const fk::claim again = board.claim(id, "w", 1h);
  CHECK(again.token() == c.token() + 2);
  CHECK_THROWS_AS(board.consume(c), fk::claim_lost);

  // Revoking a job nobody holds changes nothing but is no error; unknown ids and nameless
  // operators are refused.
  board.abandon(again);
  board.revoke(id, "admin", "again");
  CHECK(board.get(id).token() == again.token());
  CHECK_THROWS_AS(board.revoke(fk::job_id::generate(), "admin", "?"), fk::job_not_found);
  CHECK_THROWS_AS(board.revoke(id, "", "?"), std::invalid_argument);
  board.consume(board.claim(id, "v", 1h));
}

BOARD_TEST("an operator trashes a job whatever its claim and purges the trash") {
  TestType fx;
  auto& board = fx.board;
  recorder rec{board};
  const fk::job_id idle = board.post("idle", checkout{}, fk::store<"order_id">(1));
  const fk::job_id held = board.post("held", checkout{}, fk::store<"order_id">(2));
  const fk::job_id lapsed = board.post("lapsed", checkout{}, fk::store<"order_id">(3));
  const fk::job_id kept = board.post("kept", checkout{}, fk::store<"order_id">(4));
  const fk::claim ch = board.claim(held, "w", 1h);
  const fk::claim cl = board.claim(lapsed, "w", 30s);
  fx.clock.advance(31s);  // lapsed's claim expired, nobody took it

  board.trash(idle, "admin", "never runs");
  board.trash(held, "admin", "poison");
  board.trash(lapsed, "admin", "poison too");
  CHECK(names_of(board.jobs()) == std::vector<std::string>{"kept"});
  CHECK_THROWS_AS(board.consume(ch), fk::claim_lost);
  CHECK_THROWS_AS(board.abandon(cl), fk::claim_lost);
  CHECK_THROWS_AS(board.trash(kept, "", "?"), std::invalid_argument);
  CHECK_THROWS_AS(board.trash(fk::job_id::generate(), "admin", "?"), fk::job_not_found);
  CHECK_THROWS_AS(board.trash(held, "admin", "twice"), fk::job_not_found);

  auto trash = board.trashed();
  REQUIRE(trash.size() == 3);
  std::sort(trash.begin(), trash.end(),
            [](const fk::trashed_job& a, const fk::trashed_job& b) { return a.job.name() < b.job.name(); });
  CHECK(trash[0].job.id() == held);  // by name: held, idle, lapsed
  CHECK(trash[0].by == "admin");
  CHECK(trash[0].reason == "poison");
  CHECK(trash[0].job.token() == ch.token() + 1);
  CHECK(trash[0].job.state() == fk::job_state::complete);
  CHECK(trash[0].job.template store<order_store>().template get<"order_id">() == 2);
  CHECK(trash[0].when == fx.clock.now());
  CHECK(trash[1].job.id() == idle);
  CHECK(trash[1].reason == "never runs");
  CHECK(trash[1].job.token() == 0);
  CHECK(trash[2].job.id() == lapsed);
  CHECK(trash[2].by == "admin");
  CHECK(trash[2].job.token() == cl.token() + 1);

  // A claim_lost only for the live claim: the lapsed one was lost already.
  CHECK(std::count(rec.seen.begin(), rec.seen.end(), "trashed:admin") == 3);
  CHECK(std::count(rec.seen.begin(), rec.seen.end(), "claim_lost:w") == 3);  // 1 + the two refused calls

  rec.seen.clear();
  CHECK(board.purge_trash() == 3);
  CHECK(board.trashed().empty());
  CHECK(rec.seen == std::vector<std::string>{"purged:", "purged:", "purged:"});
  CHECK(board.purge_trash() == 0);
  CHECK(names_of(board.jobs()) == std::vector<std::string>{"kept"});
  const fk::claim ck = board.claim(kept, "w", 1h);
  board.trash(ck, "by its owner");
  CHECK(board.trashed().at(0).by == "w");
  CHECK(board.purge_trash() == 1);
}

BOARD_TEST("a job remembers the claims that ended without completing it") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  const fk::job_time t0 = fx.clock.now();
  CHECK(board.get(id).attempts().empty());

  const fk::claim a = board.claim(id, "a", 30s);
  CHECK(board.get(id).claimed() == t0);
  fx.clock.advance(5s);
  board.abandon(a, "flaky network");
  {
    const fk::job j = board.get(id);
    CHECK_FALSE(j.claimed());
    REQUIRE(j.attempts().size() == 1);
    const fk::job_attempt& at = j.attempts()[0];
    CHECK(at.token == a.token());
    CHECK(at.owner == "a");
    CHECK(at.identity == a.identity());
    CHECK(at.claimed == t0);
    CHECK(at.ended == t0 + 5s);
    CHECK(at.how == fk::attempt_end::abandoned);
    CHECK(at.reason == "flaky network");
    CHECK_FALSE(j.not_before());  // no retry_after: claimable at once
  }
  CHECK_THROWS_WITH(board.consume(a), Catch::Contains("abandoned: flaky network"));

  // A renewal and an extend add nothing; the claim keeps the time it was made.
  fk::claim b = board.claim(id, "b", 30s);
  fx.clock.advance(10s);
  board.claim(id, "b", 30s);
  board.extend(b, 20s);
  CHECK(board.get(id).attempts().size() == 1);
  CHECK(board.get(id).claimed() == t0 + 5s);
  CHECK(b.expires() == t0 + 35s);

  // b's claim expires and c takes the job: b's attempt is recorded, ended at its expiry.
  fx.clock.advance(40s);
  CHECK(board.get(id).attempts().size() == 1);  // an expiry writes nothing until then
  const fk::claim c = board.claim(id, "c", 30s);
  {
    const fk::job j = board.get(id);
    REQUIRE(j.attempts().size() == 2);
    const fk::job_attempt& at = j.attempts()[1];
    CHECK(at.token == b.token());
    CHECK(at.owner == "b");
    CHECK(at.claimed == t0 + 5s);
    CHECK(at.ended == t0 + 35s);
    CHECK(at.how == fk::attempt_end::expired);
    CHECK(at.reason.empty());
    CHECK(j.claimed() == t0 + 55s);
  }
  CHECK_THROWS_WITH(board.consume(b),
                    Catch::Contains("expired at") && Catch::Contains("claimed again by 'c' (claim #3)"));

  // An operator revokes c's claim.
  fx.clock.advance(1s);
  board.revoke(id, "ops", "host gone");
  {
    const fk::job j = board.get(id);
    REQUIRE(j.attempts().size() == 3);
    const fk::job_attempt& at = j.attempts()[2];
    CHECK(at.token == c.token());
    CHECK(at.owner == "c");
    CHECK(at.ended == t0 + 56s);
    CHECK(at.how == fk::attempt_end::revoked);
    CHECK(at.reason == "ops: host gone");
  }
  CHECK_THROWS_WITH(board.consume(c), Catch::Contains("revoked by ops: host gone"));

  // The same owner's claim that expired is an attempt too; the trash keeps the history.
  const fk::claim d = board.claim(id, "d", 30s);
  fx.clock.advance(31s);
  const fk::claim d2 = board.claim(id, "d", 30s);
  CHECK(d2.token() == d.token() + 1);
  REQUIRE(board.get(id).attempts().size() == 4);
  CHECK(board.get(id).attempts()[3].how == fk::attempt_end::expired);
  CHECK(board.get(id).attempts()[3].token == d.token());
  board.trash(d2, "poison");
  const auto trash = board.trashed();
  REQUIRE(trash.size() == 1);
  const auto& kept = trash[0].job.attempts();
  REQUIRE(kept.size() == 4);
  CHECK(kept[0].owner == "a");
  CHECK(kept[1].owner == "b");
  CHECK(kept[2].owner == "c");
  CHECK(kept[3].owner == "d");
}

BOARD_TEST("the history keeps the last attempts and a bounded reason") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  const int attempts = static_cast<int>(fk::job_attempts_kept) + 8;
  for (int i = 0; i < attempts; ++i)
    board.abandon(board.claim(id, "w", 30s), fk::test::numbered("attempt ", i));
  const fk::job j = board.get(id);
  REQUIRE(j.attempts().size() == fk::job_attempts_kept);
  CHECK(j.attempts().front().reason == "attempt 8");  // the oldest were dropped
  CHECK(j.attempts().back().reason == fk::test::numbered("attempt ", attempts - 1));
  CHECK(j.attempts().front().token == 9);
  CHECK(j.token() == static_cast<std::uint64_t>(attempts));

  // "x" and then two-byte characters: cut at the limit, but not inside a character.
  std::string reason{"x"};
  for (int i = 0; i < 3000; ++i) reason += "\xc3\xa9";  // U+00E9
  board.abandon(board.claim(id, "w", 30s), reason);
  const std::string kept = board.get(id).attempts().back().reason;
  CHECK(kept.size() == fk::attempt_reason_max - 1);
  CHECK(reason.compare(0, kept.size(), kept) == 0);
  CHECK(board.get(id).attempts().size() == fk::job_attempts_kept);
}

BOARD_TEST("a job abandoned with a back-off is not claimable before it ends") {
  TestType fx;
  auto& board = fx.board;
  recorder rec{board};
  const fk::job_id a = board.post("a", checkout{}, fk::store<"order_id">(1));
  const fk::job_id b = board.post("b", checkout{}, fk::store<"order_id">(2));
  const fk::job_time t0 = fx.clock.now();
  fk::claim ca = board.claim(a, "w", 30s);
  CHECK_THROWS_AS(board.abandon(ca, "no", -1s), std::invalid_argument);
  CHECK(board.get(a).state() == fk::job_state::claimed);  // a refused abandon changes nothing
  board.abandon(ca, "dependency down", 10s);

  fk::job ja = board.get(a);
  CHECK(ja.state() == fk::job_state::unclaimed);
  CHECK_FALSE(ja.owner());
  CHECK(ja.not_before() == t0 + 10s);
  CHECK(ja.attempts().back().reason == "dependency down");
  CHECK(names_of(board.jobs(fk::only_unclaimed)) == std::vector<std::string>{"b"});
  CHECK(names_of(board.jobs()) == std::vector<std::string>{"a", "b"});

  // claim_next passes it by, claim refuses it and says until when.
  auto n = board.claim_next("v", 1h);
  REQUIRE(n);
  CHECK(n->claim.job() == b);
  CHECK_FALSE(board.claim_next("v", 1h));
  CHECK_FALSE(board.wait(0s));
  try {
    board.claim(a, "v", 1h);
    FAIL("claimed a job that backs off");
  } catch (const fk::unclaimable_job& e) {
    CHECK(e.job_id() == a.str());
    CHECK(e.owner().empty());
    CHECK_THAT(e.what(),
               Catch::Contains(fk::test::cat("backs off until ", fk::detail::format_time(t0 + 10s))));
  }
  CHECK(board.jobs(fk::only_unclaimed).empty());

  fx.clock.set(t0 + 10s - 1ns);  // not_before is the first instant at which it may be claimed
  CHECK_FALSE(board.claim_next("v", 1h));
  CHECK_THROWS_AS(board.claim(a, "v", 1h), fk::unclaimable_job);
  fx.clock.set(t0 + 10s);
  CHECK(board.wait(0s));
  CHECK_FALSE(board.get(a).not_before());  // passed: none, as of this read
  CHECK(names_of(board.jobs(fk::only_unclaimed)) == std::vector<std::string>{"a"});
  n = board.claim_next("v", 1h);
  REQUIRE(n);
  CHECK(n->claim.job() == a);
  CHECK(n->claim.token() == 2);
  CHECK_FALSE(n->job.not_before());

  // No retry_after (or zero): claimable at once. Events name the reason.
  board.abandon(n->claim, "zero", 0s);
  CHECK_FALSE(board.get(a).not_before());
  board.abandon(board.claim(a, "v", 1h));
  CHECK(board.claim_next("v", 1h)->claim.job() == a);
  CHECK(std::count(rec.seen.begin(), rec.seen.end(), "abandoned:w") == 1);

  // A back-off that ends later than a claim's expiry: each becomes claimable at its own time.
  board.abandon(board.claim(a, "v", 1h), "later", 1min);
  fk::claim cb = board.claim(b, "v", 1h);
  board.extend(cb, 30s);
  fx.clock.advance(31s);
  CHECK(board.claim_next("x", 1h)->claim.job() == b);
  CHECK_FALSE(board.claim_next("x", 1h));
  fx.clock.advance(30s);
  CHECK(board.claim_next("x", 1h)->claim.job() == a);

  // An operator's revoke ends a back-off: the job is claimable now.
  const fk::job_id c = board.post("c", checkout{}, fk::store<"order_id">(3));
  board.abandon(board.claim(c, "v", 1h), "wait an hour", 1h);
  CHECK_FALSE(board.claim_next("x", 1h));
  board.revoke(c, "ops", "retry now");
  CHECK(board.get(c).attempts().size() == 1);  // nothing held: nothing revoked
  CHECK(board.claim_next("x", 1h)->claim.job() == c);
}

BOARD_TEST("a waiter wakes when an advance of the clock ends a back-off") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  board.abandon(board.claim(id, "w", 30s), "retry later", 10s);
  REQUIRE_FALSE(board.wait(0s));
  std::atomic<int> woke{-1};
  std::atomic<std::int64_t> took_ms{-1};
  std::thread waiter{[&] {
    const auto t0 = std::chrono::steady_clock::now();
    woke = board.wait(60s) ? 1 : 0;
    took_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  }};
  // Advance once the waiter is asleep, so that the advance is what wakes it.
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (fx.waiting() == 0 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  CHECK(fx.waiting() >= 1);
  fx.clock.advance(11s);
  waiter.join();
  CHECK(woke == 1);
  CHECK(took_ms < 30'000);  // woken by the advance, not at wait()'s 60 s timeout
  CHECK(board.claim_next("w", 1h)->claim.job() == id);
}
