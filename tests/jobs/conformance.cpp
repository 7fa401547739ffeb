// The jobboard concept's conformance suite: every board must pass all of it.

#include "support.hpp"

#include <flowkit/lmdb.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
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

struct memory_board {
  fk::memory_jobboard board;
};

struct lmdb_board {
  fk::test::temp_dir dir;
  fk::lmdb_jobboard board{dir / "board"};
};

struct lmdb_fast_board {
  fk::test::temp_dir dir;
  fk::lmdb_jobboard board{dir / "board.fkb",
                          {.durability = fk::durability::process_crash_safe, .single_file = true}};
};

static_assert(fk::jobboard<fk::memory_jobboard>);
static_assert(fk::jobboard<fk::lmdb_jobboard>);

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

#define BOARD_TEST(title) TEMPLATE_TEST_CASE(title, "[jobboard]", memory_board, lmdb_board, lmdb_fast_board)

BOARD_TEST("a posted job keeps its name, flow, typed store and flow detail") {
  TestType fx;
  auto& board = fx.board;
  const fk::job_time before = fk::job_clock::now();
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
  CHECK(j.created() >= before);
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
  const fk::job_time before = fk::job_clock::now();
  const fk::claim c = board.claim(id, "worker-1", 30s);
  CHECK(c.job() == id);
  CHECK(c.owner() == "worker-1");
  CHECK(c.token() == 1);
  CHECK(c.expires() >= before + 30s);

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
  fk::claim old = board.claim(id, "old", 100ms);
  CHECK_THROWS_AS(board.claim(id, "new", 30s), fk::unclaimable_job);

  // wait() returns when the claim expires: the job is claimable again.
  REQUIRE(board.wait(30s));
  CHECK(board.get(id).state() == fk::job_state::unclaimed);
  CHECK_FALSE(board.get(id).owner());
  CHECK_THROWS_AS(board.extend(old, 30s), fk::claim_lost);  // expired, even with no new owner

  const fk::claim taken = board.claim(id, "new", 30s);
  CHECK(taken.token() == old.token() + 1);
  try {
    board.consume(old);
    FAIL("a lost claim consumed the job");
  } catch (const fk::claim_lost& e) {
    CHECK(e.token() == old.token());
    CHECK(e.who() == "old");
    CHECK_THAT(e.what(), Catch::Contains("new") && Catch::Contains(id.str()));
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
  fk::claim c = board.claim(id, "w", 200ms);
  const fk::job_time first = c.expires();
  board.extend(c, 1h);
  CHECK(c.expires() > first + 30min);
  CHECK(board.get(id).expires() == c.expires());
  CHECK_FALSE(board.wait(150ms));  // still claimed after the first ttl: nothing to claim
  CHECK(board.get(id).state() == fk::job_state::claimed);
  board.extend(c, 50ms);  // a heartbeat may also shorten it
  REQUIRE(board.wait(30s));
  CHECK_THROWS_AS(board.consume(c), fk::claim_lost);
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
  const fk::job_time now = fk::job_clock::now();

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
  CHECK(cb.expires() > now);
  CHECK(cb.expires() < fk::job_clock::now() + 31s);
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
  board.claim(b, "y", 100ms);  // last: it may expire at any time from here on

  REQUIRE(board.wait(30s));  // b's claim expired
  auto n = board.claim_next("z", 1h);
  REQUIRE(n);
  CHECK(n->claim.job() == b);
  CHECK(n->claim.token() == 2);
  CHECK_FALSE(board.claim_next("z", 1h));

  // An expired claim earlier in job order comes before an unclaimed job posted later.
  const fk::job_id e = board.post("e", checkout{}, fk::store<"order_id">(5));
  const fk::claim ce = board.claim(e, "x", 1h);
  board.extend(ca, 100ms);
  REQUIRE(board.wait(30s));  // a's claim expired; e is still held
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
