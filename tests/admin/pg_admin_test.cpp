// flowkit-admin on a postgresql:// URL, as a process: the same commands as on an LMDB file, on a
// board and store made with the library in a schema of the tests' server; refusals that create
// nothing (a schema that is not there) and that name the server without its password.

#include "admin/run_admin.hpp"
#include "jobs/support.hpp"
#include "postgres/pg_test_server.hpp"

#include <flowkit/postgres.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace fk = flowkit;
namespace fs = std::filesystem;
using json = nlohmann::json;
using fk::test::admin;
using outcome = fk::test::admin_outcome;
using namespace std::chrono_literals;

namespace {

bool schema_exists(const std::string& url, const std::string& name) {
  pqxx::connection c{url};
  pqxx::nontransaction n{c};
  return n.exec_params1("SELECT count(*) FROM pg_namespace WHERE nspname = $1", name)[0].as<int>() == 1;
}

}  // namespace

TEST_CASE("flowkit-admin reads and repairs a board and store on a postgresql URL", "[admin][postgres]") {
  fk::test::pg_test_schema schema;
  const std::string& url = schema.url();
  fk::pg_jobboard board{url, {.schema = schema.name()}};
  fk::pg_backend store{url, {.schema = schema.name()}};
  const fk::job_id claimed =
      board.post("order 1", "checkout", fk::store<"order_id">(1), fk::job_priority::high);
  const fk::job_id second = board.post("order 2", "checkout", fk::store<"order_id">(2));
  board.claim(claimed, "worker-1", 1h);
  store.open_run({"run-1", "orders", "checkout", 7, {}});

  const outcome list = admin({"jobs", "list", url, "--schema", schema.name(), "--json"});
  INFO(list.err);
  REQUIRE(list.code == 0);
  const json jobs = list.doc().at("jobs");
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0].at("name") == "order 1");
  CHECK(jobs[0].at("state") == "CLAIMED");
  CHECK(jobs[0].at("owner") == "worker-1");
  CHECK(jobs[1].at("name") == "order 2");

  const outcome runs = admin({"runs", "list", url, "--schema", schema.name(), "--json"});
  REQUIRE(runs.code == 0);
  CHECK(runs.out.find("run-1") != std::string::npos);

  const outcome abandon =
      admin({"jobs", "abandon", url, claimed.str(), "--schema", schema.name(), "--by", "ops"});
  INFO(abandon.err);
  CHECK(abandon.code == 0);
  CHECK(board.get(claimed).state() == fk::job_state::unclaimed);  // the library sees the repair
  CHECK(board.get(claimed).attempts().back().how == fk::attempt_end::revoked);

  const outcome stats = admin({"board", "stats", url, "--schema", schema.name(), "--json"});
  REQUIRE(stats.code == 0);
  CHECK(stats.doc().at("board").at("jobs") == 2);
  CHECK(stats.doc().at("board").at("corrupt_records").empty());
  CHECK(stats.doc().at("store").at("runs") == 1);

  // A job record that does not decode is counted and named, as on an LMDB file.
  {
    pqxx::connection c{url};
    pqxx::work w{c};
    w.exec("UPDATE " + schema.name() +
           ".fk_jobs SET rec = '\\xdeadbeef'::bytea WHERE seq = (SELECT max(seq) FROM " + schema.name() +
           ".fk_jobs)");
    w.commit();
  }
  const outcome damaged = admin({"board", "stats", url, "--schema", schema.name(), "--json"});
  INFO(damaged.err);
  REQUIRE(damaged.code == 0);
  const json on_board = damaged.doc().at("board");
  CHECK(on_board.at("jobs") == 2);
  CHECK(on_board.at("corrupt") == 1);
  REQUIRE(on_board.at("corrupt_records").size() == 1);
  CHECK(on_board["corrupt_records"][0].at("id") == second.str());
  CHECK_THAT(on_board["corrupt_records"][0].at("error").get<std::string>(), Catch::Contains("corrupt"));
  const outcome table = admin({"board", "stats", url, "--schema", schema.name()});
  CHECK(table.out.find("corrupt: ") != std::string::npos);
}

TEST_CASE("flowkit-admin on a postgresql URL refuses what is not there and creates nothing",
          "[admin][postgres]") {
  const std::string url = fk::test::pg_test_server::get().url();
  const outcome none = admin({"jobs", "list", url, "--schema", "no_such_schema"});
  CHECK(none.code == 3);
  CHECK(none.err.find("no_such_schema") != std::string::npos);
  CHECK_FALSE(schema_exists(url, "no_such_schema"));

  const outcome away = admin({"jobs", "list", "postgresql://flowkit:secret@127.0.0.1:1/postgres"});
  CHECK(away.code == 7);
  CHECK(away.err.find("127.0.0.1:1") != std::string::npos);
  CHECK(away.err.find("secret") == std::string::npos);
}
