// The LMDB board with real processes: racing claims, expiry take-over, kill -9, cross-process
// wake-ups. Children report through pipes and exit codes; only the parent asserts. Processes are
// forked before any thread exists; nothing here sleeps to synchronise.

#include "support.hpp"

#include <flowkit/lmdb.hpp>

#include <catch2/catch.hpp>

#include <lmdb.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace fk = flowkit;
using namespace std::chrono_literals;

namespace {

struct checkout {
  static constexpr fk::name name = "checkout";
};

// One pipe message: small enough (<= PIPE_BUF) that writes from many children never interleave.
struct message {
  std::uint8_t kind;  // 1 = claimed job, 2 = child done
  std::uint8_t child;
  std::array<std::uint8_t, fk::job_id::size> id;
};

message claimed(int child, const fk::job_id& id) { return {1, static_cast<std::uint8_t>(child), id.bytes()}; }
message done(int child) { return {2, static_cast<std::uint8_t>(child), {}}; }

std::string owner_of(int child) { return fk::test::numbered("worker-", child); }

}  // namespace

TEST_CASE("8 processes racing for 1000 jobs claim each exactly once", "[jobboard][multiprocess]") {
  constexpr int children = 8, jobs = 1000;
  fk::test::temp_dir dir;
  const auto path = dir / "board";
  std::set<fk::job_id> posted;
  {
    fk::lmdb_jobboard board{path, {.durability = fk::durability::process_crash_safe}};
    for (int i = 0; i < jobs; ++i) posted.insert(board.post("j", checkout{}, fk::store<"order_id">(i)));
  }
  // Each child claims one job, then waits at a barrier until every child has claimed one: so
  // every child provably takes part in the race, however the scheduler runs them.
  fk::test::channel go, arrived, proceed, results;
  std::vector<pid_t> pids;
  for (int i = 0; i < children; ++i)
    pids.push_back(fk::test::spawn([&, i] {
      fk::lmdb_jobboard board{path, {.durability = fk::durability::process_crash_safe}};
      char start = 0;
      go.receive(&start, 1);
      // Half take the next job, half pick from a listing and race on claim(id).
      auto claim_from_listing = [&](bool just_one) {
        for (auto js = board.jobs(fk::only_unclaimed); !js.empty(); js = board.jobs(fk::only_unclaimed))
          for (const fk::job& j : js) try {
              results.send_value(claimed(i, board.claim(j.id(), owner_of(i), 1h).job()));
              if (just_one) return;
            } catch (const fk::unclaimable_job&) {
            }
      };
      if (i % 2 == 0) {
        if (auto c = board.claim_next(owner_of(i), 1h)) results.send_value(claimed(i, c->claim.job()));
      } else {
        claim_from_listing(true);
      }
      arrived.send("a", 1);
      proceed.receive(&start, 1);
      if (i % 2 == 0) {
        while (auto c = board.claim_next(owner_of(i), 1h)) results.send_value(claimed(i, c->claim.job()));
      } else {
        claim_from_listing(false);
      }
      results.send_value(done(i));
      return 0;
    }));
  go.send(std::string(children, 'g').data(), children);
  for (int i = 0; i < children; ++i) {
    char a = 0;
    arrived.receive(&a, 1);
  }
  proceed.send(std::string(children, 'p').data(), children);

  std::map<fk::job_id, int> owner;  // job -> child
  int duplicates = 0, finished = 0;
  while (finished < children) {
    const auto m = results.receive_value<message>();
    if (m.kind == 2) {
      ++finished;
      continue;
    }
    if (!owner.emplace(fk::job_id{m.id}, m.child).second) ++duplicates;
  }
  for (pid_t p : pids) CHECK(fk::test::join(p) == 0);
  CHECK(duplicates == 0);
  CHECK(owner.size() == jobs);

  fk::lmdb_jobboard board{path, {.durability = fk::durability::process_crash_safe}};
  std::set<int> claimers;
  for (const fk::job& j : board.jobs()) {
    REQUIRE(owner.count(j.id()) == 1);
    CHECK(j.owner() == owner_of(owner[j.id()]));
    CHECK(j.token() == 1);
    claimers.insert(owner[j.id()]);
    posted.erase(j.id());
  }
  CHECK(posted.empty());
  CHECK(claimers.size() == children);  // every child claimed (one each before the barrier)
}

TEST_CASE("4 processes claiming and consuming concurrently consume each job once",
          "[jobboard][multiprocess]") {
  constexpr int children = 4, jobs = 400;
  fk::test::temp_dir dir;
  const auto path = dir / "board";
  {
    fk::lmdb_jobboard board{path, {.durability = fk::durability::process_crash_safe}};
    for (int i = 0; i < jobs; ++i) board.post("j", checkout{}, fk::store<"order_id">(i));
  }
  fk::test::channel go, results;
  std::vector<pid_t> pids;
  for (int i = 0; i < children; ++i)
    pids.push_back(fk::test::spawn([&, i] {
      fk::lmdb_jobboard board{path, {.durability = fk::durability::process_crash_safe}};
      char start = 0;
      go.receive(&start, 1);
      while (auto c = board.claim_next(owner_of(i), 1h)) {
        board.consume(c->claim);
        results.send_value(claimed(i, c->claim.job()));
      }
      results.send_value(done(i));
      return 0;
    }));
  go.send(std::string(children, 'g').data(), children);
  std::set<fk::job_id> consumed;
  int duplicates = 0, finished = 0;
  while (finished < children) {
    const auto m = results.receive_value<message>();
    if (m.kind == 2)
      ++finished;
    else if (!consumed.insert(fk::job_id{m.id}).second)
      ++duplicates;
  }
  for (pid_t p : pids) CHECK(fk::test::join(p) == 0);
  CHECK(duplicates == 0);
  CHECK(consumed.size() == jobs);
  CHECK(fk::lmdb_jobboard{path, {.durability = fk::durability::process_crash_safe}}.size() == 0);
}

TEST_CASE("another process takes an expired claim and the old owner can no longer act",
          "[jobboard][multiprocess]") {
  fk::test::temp_dir dir;
  const auto path = dir / "board";
  fk::job_id id;
  {
    fk::lmdb_jobboard board{path};
    id = board.post("j", checkout{}, fk::store<"order_id">(1));
  }
  fk::test::channel to_old, from_old;
  const pid_t old_owner = fk::test::spawn([&] {
    fk::lmdb_jobboard board{path};
    fk::claim c = board.claim(id, "old", 300ms);
    from_old.send_value(c.token());
    char go = 0;
    to_old.receive(&go, 1);  // the job has been taken meanwhile
    int lost = 0;
    try {
      board.extend(c, 1h);
    } catch (const fk::claim_lost&) {
      lost |= 1;
    }
    try {
      board.consume(c);
    } catch (const fk::claim_lost&) {
      lost |= 2;
    }
    try {
      board.abandon(c);
    } catch (const fk::claim_lost&) {
      lost |= 4;
    }
    try {
      board.trash(c, "mine");
    } catch (const fk::claim_lost&) {
      lost |= 8;
    }
    from_old.send_value(lost);
    return 0;
  });
  const auto old_token = from_old.receive_value<std::uint64_t>();
  fk::lmdb_jobboard board{path};
  CHECK_THROWS_AS(board.claim(id, "new", 1h), fk::unclaimable_job);
  REQUIRE(board.wait(60s));  // wakes when the other process's claim expires
  const fk::claim c = board.claim(id, "new", 1h);
  CHECK(c.token() == old_token + 1);
  to_old.send("g", 1);
  CHECK(from_old.receive_value<int>() == 15);
  CHECK(fk::test::join(old_owner) == 0);
  const fk::job j = board.get(id);
  CHECK(j.owner() == "new");
  CHECK(j.token() == c.token());
  board.consume(c);
}

TEST_CASE("claims of a process killed with SIGKILL expire and other processes take the jobs",
          "[jobboard][multiprocess]") {
  constexpr int jobs = 20, takers = 2;
  fk::test::temp_dir dir;
  const auto path = dir / "board";
  fk::lmdb_jobboard board{path};  // open across the forks: children must get their own environment
  for (int i = 0; i < jobs; ++i) board.post("j", checkout{}, fk::store<"order_id">(i));

  fk::test::channel ready;
  const pid_t victim = fk::test::spawn([&] {
    fk::lmdb_jobboard mine{path};
    std::vector<fk::claim> claims;
    // Claimed for an hour, then cut to 1 s: with 1 s from the start, a slow machine could see the
    // first claims expire before the last are made, and this loop claim them again without end.
    while (auto c = mine.claim_next("victim", 1h)) claims.push_back(c->claim);
    for (auto& c : claims) mine.extend(c, 1s);
    // A reader slot the kill will strand.
    MDB_txn* reader = nullptr;
    if (mdb_txn_begin(mine.environment()->handle(), nullptr, MDB_RDONLY, &reader) != 0) return 3;
    ready.send_value(static_cast<int>(claims.size()));
    for (;;)  // heartbeat until killed: the kill may land inside a write transaction
      for (auto& c : claims) try {
          mine.extend(c, 1s);
        } catch (const fk::claim_lost&) {  // expired while the others were extended: stays so
        }
  });
  REQUIRE(ready.receive_value<int>() == jobs);
  ::kill(victim, SIGKILL);
  CHECK(fk::test::join(victim) == 128 + SIGKILL);

  CHECK(board.reader_check() >= 1);  // the dead process's reader slot, cleared
  CHECK(board.reader_check() == 0);
  for (const fk::job& j : board.jobs()) CHECK(j.token() == 1);

  fk::test::channel results;
  std::vector<pid_t> pids;
  for (int i = 0; i < takers; ++i)
    pids.push_back(fk::test::spawn([&, i] {
      fk::lmdb_jobboard mine{path};
      for (;;) {
        if (auto c = mine.claim_next(owner_of(i), 1h)) {
          results.send_value(claimed(i, c->claim.job()));
          continue;
        }
        const auto js = mine.jobs();
        const bool all_taken = std::all_of(js.begin(), js.end(), [](const fk::job& j) {
          return j.owner() && j.owner()->starts_with("worker-");
        });
        if (all_taken) break;
        if (!mine.wait(60s)) return 4;  // wakes when the dead process's claims expire
      }
      results.send_value(done(i));
      return 0;
    }));
  std::set<fk::job_id> taken;
  int duplicates = 0, finished = 0;
  while (finished < takers) {
    const auto m = results.receive_value<message>();
    if (m.kind == 2)
      ++finished;
    else if (!taken.insert(fk::job_id{m.id}).second)
      ++duplicates;
  }
  for (pid_t p : pids) CHECK(fk::test::join(p) == 0);
  CHECK(duplicates == 0);
  CHECK(taken.size() == jobs);

  // The file is sound: every record decodes, every job is held by a taker with a new token.
  CHECK(board.check().empty());
  const auto js = board.jobs();
  CHECK(js.size() == jobs);
  for (const fk::job& j : js) {
    CHECK(j.token() == 2);
    CHECK(j.owner()->starts_with("worker-"));
  }
  CHECK(board.reader_check() == 0);
}

TEST_CASE("a post from another process wakes a waiter", "[jobboard][multiprocess]") {
  fk::test::temp_dir dir;
  const auto path = dir / "board";
  fk::lmdb_jobboard board{path};
  fk::test::channel ready, result;
  const pid_t waiter = fk::test::spawn([&] {
    fk::lmdb_jobboard mine{path};
    ready.send("r", 1);
    const auto t0 = std::chrono::steady_clock::now();
    const bool woke = mine.wait(120s);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    result.send_value(woke);
    result.send_value(static_cast<std::int64_t>(ms.count()));
    return 0;
  });
  char r = 0;
  ready.receive(&r, 1);
  // Post once the waiter is asleep on the board's futex, so the post is what wakes it.
  const auto& notifier = board.environment()->notifier();
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (notifier.waiting() == 0 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  CHECK(notifier.waiting() >= 1);
  board.post("wake up", checkout{}, fk::store<"order_id">(1));
  CHECK(result.receive_value<bool>());
  CHECK(result.receive_value<std::int64_t>() < 60'000);  // well before the 120 s timeout
  CHECK(fk::test::join(waiter) == 0);
}

TEST_CASE("two processes that give the same owner name are two owners", "[jobboard][multiprocess]") {
  fk::test::temp_dir dir;
  const auto path = dir / "board";
  fk::job_id id;
  {
    fk::lmdb_jobboard board{path};
    id = board.post("j", checkout{}, fk::store<"order_id">(1));
  }
  fk::test::channel to_a, from_a, to_b, from_b;
  const pid_t a = fk::test::spawn([&] {
    fk::lmdb_jobboard board{path};
    fk::claim c = board.claim(id, "worker-1", 1h);
    from_a.send_value(c.token());
    from_a.send_text(c.identity());
    char go = 0;
    to_a.receive(&go, 1);                                     // b has tried
    const fk::claim again = board.claim(id, "worker-1", 1h);  // its own re-claim: a renewal
    from_a.send_value(again.token());
    board.extend(c, 1h);
    board.consume(c);
    from_a.send_value(std::uint8_t{1});
    return 0;
  });
  const auto token = from_a.receive_value<std::uint64_t>();
  const std::string a_identity = from_a.receive_text();

  const pid_t b = fk::test::spawn([&] {
    fk::lmdb_jobboard board{path};
    char go = 0;
    to_b.receive(&go, 1);
    std::string outcome = "claimed";
    try {
      board.claim(id, "worker-1", 1h);
    } catch (const fk::unclaimable_job& e) {
      outcome = e.what();
    }
    from_b.send_text(outcome);
    from_b.send_value(std::uint8_t{board.claim_next("worker-1", 1h) ? std::uint8_t{1} : std::uint8_t{0}});
    from_b.send_text(fk::detail::process_identity());
    return 0;
  });
  to_b.send("g", 1);
  const std::string b_outcome = from_b.receive_text();
  const auto b_next = from_b.receive_value<std::uint8_t>();
  const std::string b_identity = from_b.receive_text();
  CHECK(fk::test::join(b) == 0);

  CHECK(token == 1);
  CHECK_THAT(b_outcome, Catch::Contains("claimed by 'worker-1'") && Catch::Contains(a_identity));
  CHECK(b_next == 0);
  CHECK(a_identity != b_identity);
  CHECK_THAT(a_identity, Catch::Contains(fk::test::numbered("/", a) + "/"));
  {
    fk::lmdb_jobboard board{path};
    const fk::job j = board.get(id);
    CHECK(j.owner() == "worker-1");
    CHECK(j.owner_identity() == a_identity);
  }

  to_a.send("g", 1);
  CHECK(from_a.receive_value<std::uint64_t>() == token);  // renewed, same token
  CHECK(from_a.receive_value<std::uint8_t>() == 1);       // extended and consumed
  CHECK(fk::test::join(a) == 0);
  CHECK(fk::lmdb_jobboard{path}.size() == 0);
  CHECK(fk::detail::process_identity() != a_identity);
}
