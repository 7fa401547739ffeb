// What PostgreSQL adds to the conformance suites: claims judged by the server's clock, the
// versioned schema, clear errors for a wrong URL or an unreachable server, a checkpoint write
// fenced by the claim in its own transaction, LISTEN/NOTIFY across board objects, and operations
// that survive a server restart.

#include "postgres/pg_test_server.hpp"

#include <flowkit/postgres.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace fk = flowkit;
using namespace std::chrono_literals;

namespace {

struct checkout {
  static constexpr fk::name name = "checkout";
};

// The server's now, in the clock boards use.
fk::job_time server_now(const std::string& url) {
  pqxx::connection c{url};
  pqxx::nontransaction n{c};
  return fk::detail::from_ns(
      n.exec1("SELECT " + std::string{fk::detail::server_now_ns})[0].as<std::int64_t>());
}

std::string scalar(const std::string& url, const std::string& sql) {
  pqxx::connection c{url};
  pqxx::nontransaction n{c};
  const pqxx::result r = n.exec(sql);
  return r.empty() || r[0][0].is_null() ? std::string{} : r[0][0].c_str();
}

fk::run_spec spec_of(const std::string& id) {
  fk::run_spec s{id, "book", "checkout", 42, {}};
  fk::serialize_to(s.store_bytes, std::string{"inputs"});
  return s;
}

fk::atom_detail done(const std::string& name) {
  fk::atom_detail a;
  a.name = name;
  a.state = fk::atom_state::success;
  std::string bytes;
  fk::serialize_to(bytes, 7);
  a.result = bytes;
  return a;
}

}  // namespace

TEST_CASE("pg_jobboard judges claims by the server's clock and wait wakes when one expires",
          "[jobboard][postgres]") {
  fk::test::pg_test_schema schema;
  fk::pg_jobboard board{schema.url(), {.schema = schema.name()}};
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));

  const fk::job_time before = server_now(schema.url());
  const fk::claim c = board.claim(id, "a", 300ms);
  const fk::job_time after = server_now(schema.url());
  // The expiry is the server's now (within the claim's transaction) plus the ttl.
  CHECK(c.expires() >= before + 300ms);
  CHECK(c.expires() <= after + 300ms);
  CHECK(board.get(id).created() <= before);

  CHECK_THROWS_AS(board.claim(id, "b", 30s), fk::unclaimable_job);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(board.wait(60s));  // wakes at the expiry, by the server's clock, not at the timeout
  CHECK(std::chrono::steady_clock::now() - t0 < 30s);
  CHECK(server_now(schema.url()) >= c.expires());
  const fk::claim b = board.claim(id, "b", 30s);
  CHECK(b.token() == 2);
  CHECK_THROWS_AS(board.consume(c), fk::claim_lost);
  board.consume(b);
  CHECK_FALSE(board.find(id));
}

TEST_CASE("a waiter on one board object wakes for a post through another", "[jobboard][postgres]") {
  fk::test::pg_test_schema schema;
  fk::pg_jobboard waiter{schema.url(), {.schema = schema.name()}};
  fk::pg_jobboard poster{schema.url(), {.schema = schema.name()}};
  auto woke = std::async(std::launch::async, [&] {
    const auto t0 = std::chrono::steady_clock::now();
    const bool got = waiter.wait(60s);
    return std::pair{got, std::chrono::steady_clock::now() - t0};
  });
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (waiter.waiting() == 0 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  REQUIRE(waiter.waiting() == 1);
  poster.post("j", checkout{}, fk::store<"order_id">(1));
  const auto [got, took] = woke.get();
  CHECK(got);
  CHECK(took < 30s);
}

TEST_CASE("the schema is created on first use with its version and a newer one is refused, untouched",
          "[jobboard][persistence][postgres]") {
  fk::test::pg_test_schema schema;
  const std::string meta = "SELECT value FROM " + schema.name() + ".fk_meta WHERE key = 'schema_version'";
  {
    fk::pg_jobboard board{schema.url(), {.schema = schema.name()}};
    board.post("j", checkout{}, fk::store<"order_id">(1));
  }
  CHECK(scalar(schema.url(), meta) == "1");
  fk::pg_backend again{schema.url(), {.schema = schema.name()}};  // the same version: opened as it is

  scalar(schema.url(), "UPDATE " + schema.name() + ".fk_meta SET value = '2' WHERE key = 'schema_version'");
  const std::string tables =
      "SELECT count(*) FROM information_schema.tables WHERE table_schema = '" + schema.name() + "'";
  const std::string count_before = scalar(schema.url(), tables);
  try {
    fk::pg_jobboard board{schema.url(), {.schema = schema.name()}};
    FAIL("opened a schema of a newer version");
  } catch (const fk::pg_schema_too_new& e) {
    CHECK(e.schema() == schema.name());
    CHECK(e.found() == 2);
    CHECK(e.supported() == 1);
    CHECK_THAT(e.what(), Catch::Contains(schema.name()) && Catch::Contains("version 2") &&
                             Catch::Contains("nothing written"));
  }
  CHECK_THROWS_AS((fk::pg_backend{schema.url(), {.schema = schema.name()}}), fk::pg_schema_too_new);
  CHECK(scalar(schema.url(), meta) == "2");
  CHECK(scalar(schema.url(), tables) == count_before);
  CHECK(scalar(schema.url(), "SELECT count(*) FROM " + schema.name() + ".fk_jobs") == "1");
}

TEST_CASE("a wrong URL, an unreachable server and a bad schema name are clear errors",
          "[jobboard][persistence][postgres]") {
  // Port 1 on the loopback: nothing listens there.
  try {
    fk::pg_jobboard board{"postgresql://flowkit:secret@127.0.0.1:1/postgres"};
    FAIL("connected to nothing");
  } catch (const fk::pg_unreachable& e) {
    CHECK_THAT(e.what(), Catch::Contains("127.0.0.1:1") && Catch::Contains("cannot connect"));
    CHECK_THAT(e.what(), !Catch::Contains("secret"));  // the password is never shown
    CHECK(e.url() == "postgresql://flowkit:***@127.0.0.1:1/postgres");
  }
  CHECK_THROWS_AS((fk::pg_backend{"postgresql://flowkit@127.0.0.1:1/postgres"}), fk::pg_unreachable);
  CHECK_THROWS_AS((fk::pg_backend{"postgresql://[nonsense"}), fk::pg_unreachable);
  CHECK_THROWS_WITH((fk::pg_jobboard{fk::test::pg_test_server::get().url(), {.schema = "Bad-Name"}}),
                    Catch::Contains("Bad-Name") && Catch::Contains("schema name"));
  fk::test::pg_test_schema schema;
  // A database that does not exist on a server that does.
  std::string url = schema.url();
  url.replace(url.rfind('/'), std::string::npos, "/no_such_db");
  CHECK_THROWS_WITH((fk::pg_backend{url, {.schema = schema.name()}}), Catch::Contains("no_such_db"));
}

TEST_CASE("a checkpoint write checks the claim in its own transaction", "[persistence][jobboard][postgres]") {
  fk::test::pg_test_schema schema;
  fk::pg_jobboard board{schema.url(), {.schema = schema.name()}};
  fk::pg_backend store{schema.url(), {.schema = schema.name()}};
  const fk::job_id id = board.post("j", checkout{}, fk::store<"order_id">(1));
  const fk::claim c = board.claim(id, "worker", 1h);
  store.open_run(spec_of("run"));
  auto fenced = [&](fk::pg_backend::transaction& t) { board.verify(c, t); };

  fk::batch b;
  b.put(done("t0"));
  store.commit("run", b, fenced);
  CHECK(store.load_run("run")->find("t0"));

  board.revoke(id, "operator", "moved elsewhere");
  b.clear();
  b.put(done("t1"));
  b.set_flow_state(fk::flow_state::success);
  CHECK_THROWS_AS(store.commit("run", b, fenced), fk::claim_lost);
  const auto run = store.load_run("run");
  CHECK_FALSE(run->find("t1"));
  CHECK(run->flow.state == fk::flow_state::pending);

  // A board in another schema of the same database fences as well: the check names its table.
  fk::test::pg_test_schema other;
  fk::pg_backend elsewhere{other.url(), {.schema = other.name()}};
  elsewhere.open_run(spec_of("run"));
  const fk::claim c2 = board.claim(id, "worker", 1h);
  b.clear();
  b.put(done("t1"));
  elsewhere.commit("run", b, [&](fk::pg_backend::transaction& t) { board.verify(c2, t); });
  CHECK(elsewhere.load_run("run")->find("t1"));
}

TEST_CASE("boards and stores reconnect after a server restart and lose nothing", "[jobboard][postgres]") {
  const auto server = fk::test::pg_test_server::start_private();
  fk::test::pg_test_schema schema{*server};
  fk::pg_jobboard board{schema.url(), {.schema = schema.name()}};
  fk::pg_backend store{schema.url(), {.schema = schema.name()}};
  const fk::job_id a = board.post("a", checkout{}, fk::store<"order_id">(1));
  const fk::job_id b = board.post("b", checkout{}, fk::store<"order_id">(2));
  const fk::claim ca = board.claim(a, "w", 1h);
  store.open_run(spec_of("run"));

  server->restart();  // every connection in the pools is gone

  CHECK(board.jobs().size() == 2);  // a read: retried on a new connection
  const auto next = board.claim_next("w", 1h);
  REQUIRE(next);
  CHECK(next->job.id() == b);
  board.consume(ca);
  fk::batch batch;
  batch.put(done("t0"));
  store.commit("run", batch);
  CHECK(store.load_run("run")->find("t0"));

  server->restart();
  board.consume(next->claim);
  CHECK(board.jobs().empty());
}

TEST_CASE("a change's writes go with COMMIT, and never outside its transaction when the session is gone",
          "[jobboard][postgres]") {
  fk::test::pg_test_schema schema;
  const std::string table = schema.name() + ".t";
  scalar(schema.url(), "CREATE SCHEMA " + schema.name() + "; CREATE TABLE " + table + " (v int)");
  pqxx::connection c{schema.url()};

  SECTION("queued writes are not sent before commit, and commit sends them") {
    fk::detail::pg_batched_transaction t{c};
    t.exec("SELECT 1");
    t.later("INSERT INTO " + table + " VALUES (1)");
    CHECK(scalar(schema.url(), "SELECT count(*) FROM " + table) == "0");
    t.commit();
    CHECK(scalar(schema.url(), "SELECT count(*) FROM " + table) == "1");
  }
  SECTION("an uncommitted transaction is rolled back and leaves the connection usable") {
    {
      fk::detail::pg_batched_transaction t{c};
      t.exec("INSERT INTO " + table + " VALUES (2) RETURNING v");
    }
    pqxx::nontransaction n{c};
    CHECK(n.exec1("SELECT count(*) FROM " + table)[0].as<int>() == 0);
  }
  SECTION("a session ended mid-transaction: the writes are not run on a new one") {
    fk::detail::pg_batched_transaction t{c};
    const int pid = t.exec("SELECT pg_backend_pid()")[0][0].as<int>();
    CHECK(scalar(schema.url(), "SELECT pg_terminate_backend(" + std::to_string(pid) + ", 10000)") == "t");
    CHECK_THROWS(t.exec("SELECT 1"));  // the session is gone
    t.later("INSERT INTO " + table + " VALUES (3)");
    CHECK_THROWS_AS(t.commit(), pqxx::in_doubt_error);
    CHECK(scalar(schema.url(), "SELECT count(*) FROM " + table) == "0");
  }
}
