// The code shown in docs/deployment.md, compiled against flowkit::postgres. It needs no server: the
// host it names does not exist here, and opening the board must say so at once, without the password.
#include <flowkit/postgres.hpp>

#include <chrono>
#include <iostream>
#include <string>

#include "scratch.hpp"

namespace fk = flowkit;

namespace {

void connection_settings() {
  // snippet: connect
  fk::pg_jobboard board{"postgresql://flowkit:secret@db.internal:5432/work?sslmode=require",
                        {.schema = "flowkit", .reconnect_timeout = std::chrono::seconds{30}}};
  fk::pg_backend store{"postgresql://flowkit:secret@db.internal:5432/work", {.schema = "flowkit"}};
  // end snippet
}

}  // namespace

int main() {
  try {
    connection_settings();
  } catch (const fk::pg_unreachable& e) {
    const std::string said = e.what();
    docs::check(said.find("***") != std::string::npos && said.find("secret") == std::string::npos,
                "the error names the URL with its password hidden");
    std::cout << "docs/deployment.md's code compiles; opening an unreachable server is refused: " << said
              << '\n';
    return 0;
  }
  docs::check(false, "a board on a host that does not exist is pg_unreachable");
}
