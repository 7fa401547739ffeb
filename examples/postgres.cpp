// The PostgreSQL jobboard and checkpoint store: the same conductor as on LMDB, but the board and
// the store are a database that conductors on any number of machines can share. Two jobs are
// posted; a conductor claims them, runs them with checkpoints in the database, and consumes them.
//
//   flowkit-example-postgres [URL]        (or FLOWKIT_PG_URL=URL; a libpq URL or key=value string)
//
// Without a URL it says how to get a server and exits. Its tables go into a schema of its own,
// flowkit_example_<pid>, dropped at the end.
#include <flowkit/conductor/conductor.hpp>
#include <flowkit/flowkit.hpp>
#include <flowkit/postgres.hpp>

#include <pqxx/pqxx>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>

#include <unistd.h>

namespace fk = flowkit;
using namespace std::chrono_literals;

auto welcome() {
  return fk::linear_flow<"welcome">(
      fk::task<"account">(fk::inputs<"user">, fk::outputs<"account">,
                          [](const std::string& user) { return "account of " + user; }),
      fk::task<"mail">(fk::inputs<"account">, fk::outputs<"mail">,
                       [](const std::string& account) { return "welcome mail for the " + account; }));
}
using user_store = decltype(fk::store<"user">(std::string{}));

int main(int argc, char** argv) {
  const char* env = std::getenv("FLOWKIT_PG_URL");
  const std::string url = argc > 1 ? argv[1] : env ? env : "";
  if (url.empty()) {
    std::cout
        << "flowkit-example-postgres needs a PostgreSQL server (15 is tested): give its URL,\n"
           "  flowkit-example-postgres postgresql://user:password@host:5432/database\n"
           "or set FLOWKIT_PG_URL. docs/deployment.md says what the role needs (\"Setting up the\n"
           "database\"). A throwaway server of your own, in a new directory DIR (PostgreSQL's programs\n"
           "installed; Debian: postgresql), as the tests start theirs:\n"
           "  sh tests/postgres/pg_server.sh start DIR     # the server's URL is then in DIR/url\n"
           "  flowkit-example-postgres \"$(cat DIR/url)\"\n"
           "  sh tests/postgres/pg_server.sh stop DIR      # stops it and removes DIR\n";
    return 0;
  }

  const std::string schema = "flowkit_example_" + std::to_string(::getpid());
  int status = 1;
  try {
    fk::pg_jobboard board{url, {.schema = schema}};  // creates the schema and its tables
    fk::pg_backend store{url, {.schema = schema}};   // the same schema: the fence needs one database
    for (const char* user : {"ada", "grace"})
      board.post(std::string{"welcome "} + user, welcome(), fk::store<"user">(std::string{user}));
    std::cout << "posted 2 jobs on " << schema << ".*\n";

    fk::conductor c{board,
                    store,
                    fk::flows<fk::job_flow<decltype(welcome()), user_store>>{welcome()},
                    {.name = "example", .claim_ttl = 30s, .heartbeat = 10s}};
    std::atomic<int> consumed = 0;
    c.listen([&](const fk::conductor_event& e) {
      if (e.kind != fk::conductor_event_kind::consumed) return;
      std::cout << "  " << e.job_name << ": " << fk::to_string(e.outcome) << ", job consumed\n";
      if (++consumed == 2) c.stop();
    });
    c.run();

    for (const fk::flow_detail& run : store.runs())
      std::cout << "  checkpointed run " << run.id << " (logbook " << run.logbook << "): " << run.flow_name
                << ' ' << fk::to_string(run.state) << '\n';
    status = consumed == 2 && board.jobs().empty() ? 0 : 1;
  } catch (const fk::storage_error& e) {  // every error of a board or store; pg_unreachable, say
    std::cerr << e.what() << '\n';
    return 1;
  }
  pqxx::connection conn{url};
  pqxx::work drop{conn};
  drop.exec("DROP SCHEMA " + schema + " CASCADE");
  drop.commit();
  std::cout << "dropped schema " << schema << '\n';
  return status;
}
