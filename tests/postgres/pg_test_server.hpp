#pragma once
// The tests' PostgreSQL server, and a fresh schema for each test on it.
//
// Under CTest the fixture postgres.server.start has started one server for the whole run
// (tests/postgres/pg_server.sh) and FLOWKIT_TEST_PG_DIR names its directory, where its URLs are.
// A test binary run alone (the TSan stage runs them so) starts its own on first use, in a
// temporary directory, and stops it when the process that started it exits. Nothing assumes a
// server already running.

#include <pqxx/pqxx>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FLOWKIT_PG_SERVER_SCRIPT
#error "FLOWKIT_PG_SERVER_SCRIPT must name tests/postgres/pg_server.sh"
#endif
#ifndef FLOWKIT_PG_BINDIR
#define FLOWKIT_PG_BINDIR ""
#endif

namespace flowkit::test {

class pg_test_server {
 public:
  static pg_test_server& get() {
    static pg_test_server server{false};
    return server;
  }
  // A server of this test's own, stopped when it goes: for tests that restart it, which the
  // shared one's other users must not see.
  static std::unique_ptr<pg_test_server> start_private() {
    return std::unique_ptr<pg_test_server>{new pg_test_server{true}};
  }
  pg_test_server(const pg_test_server&) = delete;
  pg_test_server& operator=(const pg_test_server&) = delete;

  const std::string& url() const noexcept { return url_; }            // TCP, 127.0.0.1
  const std::string& socket_url() const noexcept { return socket_; }  // the Unix socket
  const std::string& dir() const noexcept { return dir_; }

  // pg_ctl restart (fast): every connection is ended, the server is back on the same port when
  // this returns.
  void restart() { script("restart"); }

  ~pg_test_server() {
    if (!owned_ || ::getpid() != owner_) return;  // never from a forked child
    try {
      script("stop");  // removes dir_
    } catch (...) {
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_.substr(0, dir_.rfind('/')), ec);
  }

 private:
  explicit pg_test_server(bool private_one) {
    if (const char* d = std::getenv("FLOWKIT_TEST_PG_DIR"); !private_one && d && *d) {
      dir_ = d;
    } else {
      const char* tmp = std::getenv("TMPDIR");
      const std::string base = tmp && *tmp ? tmp : "/tmp";
      stop_orphans(base);
      std::string templ = base + "/flowkit-pg-XXXXXX";
      if (!::mkdtemp(templ.data())) throw std::runtime_error("pg_test_server: mkdtemp failed");
      ::chmod(templ.c_str(), 0711);  // the server's user (nobody, when we are root) must reach it
      dir_ = templ + "/pg";
      owned_ = true;
      owner_ = ::getpid();
      std::ofstream{templ + "/owner"} << owner_ << '\n';
      script("start");
    }
    url_ = read(dir_ + "/url");
    socket_ = read(dir_ + "/socket-url");
  }

  // The servers of test processes that died without stopping theirs (a crash, a kill): a
  // directory whose owner file names a process that is gone.
  void stop_orphans(const std::string& base) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator{base, ec}) {
      const std::string name = entry.path().filename().string();
      if (!name.starts_with("flowkit-pg-")) continue;
      std::ifstream in{entry.path() / "owner"};
      pid_t pid = 0;
      if (!(in >> pid) || pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
      dir_ = (entry.path() / "pg").string();
      try {
        script("stop");
      } catch (...) {
        continue;
      }
      std::filesystem::remove_all(entry.path(), ec);
    }
    dir_.clear();
  }

  void script(const char* cmd) const {
    const std::string line = std::string{"sh '"} + FLOWKIT_PG_SERVER_SCRIPT + "' " + cmd + " '" + dir_ +
                             "' '" + FLOWKIT_PG_BINDIR + "'";
    if (std::system(line.c_str()) != 0) throw std::runtime_error("pg_test_server: failed: " + line);
  }
  static std::string read(const std::string& path) {
    std::ifstream in{path};
    std::string s;
    if (!std::getline(in, s) || s.empty())
      throw std::runtime_error("pg_test_server: no URL in " + path + " (did the server start?)");
    return s;
  }

  std::string dir_, url_, socket_;
  bool owned_ = false;
  pid_t owner_ = 0;
};

// A schema of its own for one test ("t_" + 16 random hex digits), dropped with everything in it
// when the test ends.
class pg_test_schema {
 public:
  explicit pg_test_schema(const pg_test_server& server = pg_test_server::get()) : url_(server.url()) {
    static std::mutex mu;
    static std::mt19937_64 gen{std::random_device{}()};
    std::lock_guard lk{mu};
    char buf[24];
    std::snprintf(buf, sizeof buf, "t_%016llx", static_cast<unsigned long long>(gen()));
    name_ = buf;
  }
  pg_test_schema(const pg_test_schema&) = delete;
  pg_test_schema& operator=(const pg_test_schema&) = delete;
  ~pg_test_schema() {
    try {
      pqxx::connection c{url_};
      pqxx::nontransaction n{c};
      n.exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    } catch (...) {
      // A schema left behind goes with the test server.
    }
  }
  const std::string& name() const noexcept { return name_; }
  const std::string& url() const noexcept { return url_; }

 private:
  std::string url_, name_;
};

}  // namespace flowkit::test
