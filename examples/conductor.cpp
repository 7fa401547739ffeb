// Two conductors, one job, one crash: conductor A claims the job and runs it, checkpointing each
// step, and is killed (SIGKILL) in the middle of the third; conductor B, waiting on the same board,
// takes the job over once A's claim expires and resumes the run from A's checkpoint: the steps A
// finished are not run again, the one it was running is.
//
//   flowkit-example-conductor                           (starts the two conductor processes)
//   flowkit-example-conductor conductor FILE NAME       (one conductor: what it starts)
//
// The board and the checkpoint store share one LMDB file in a new temporary directory, removed at
// the end. A's claim lasts 1 s, so the takeover comes about a second after the kill.
#include <flowkit/conductor/conductor.hpp>
#include <flowkit/flowkit.hpp>
#include <flowkit/lmdb.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fk = flowkit;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string me;        // this conductor's name
std::string ran_here;  // the steps this process ran

void say(const std::string& line) {
  std::printf("[%s] %s\n", me.c_str(), line.c_str());
  std::fflush(stdout);  // before a SIGKILL can lose it
}

template <fk::name Step>
auto step() {
  return fk::task<Step>(fk::inputs<"order">, fk::outputs<Step>, [](const std::string& order) {
    const std::string name{Step.view()};
    say(name + ' ' + order);
    ran_here += ' ' + name;
    if (me == "A" && name == "pack") {
      say("** killed by SIGKILL in the middle of pack **");
      ::kill(::getpid(), SIGKILL);
    }
    return name + " done";
  });
}
auto checkout() {
  return fk::linear_flow<"checkout">(step<"reserve">(), step<"charge">(), step<"pack">(), step<"ship">());
}
using order_store = decltype(fk::store<"order">(std::string{}));

int conductor_main(const std::string& file, const std::string& name) {
  me = name;
  fk::lmdb_jobboard board{file, {.must_exist = true}};
  fk::lmdb_backend store{file, {.must_exist = true}};
  fk::conductor c{board,
                  store,
                  fk::flows<fk::job_flow<decltype(checkout()), order_store>>{checkout()},
                  {.name = name, .claim_ttl = 1s, .heartbeat = 250ms}};
  bool resumed = false, succeeded = false;
  c.listen([&](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::claimed) {
      resumed = e.detail == "resuming";
      say("claimed " + e.job_name + (resumed ? ", resuming its checkpoint" : ""));
    } else if (e.kind == fk::conductor_event_kind::consumed) {
      succeeded = e.outcome == fk::flow_state::success;
      say(e.job_name + ' ' + std::string{fk::to_string(e.outcome)} + ", job consumed; ran here:" + ran_here);
      c.stop();  // one job is the whole story
    }
  });
  c.run();
  return resumed && succeeded && ran_here == " pack ship" ? 0 : 2;
}

pid_t start(const std::string& file, const std::string& name, int out_fd) {
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (out_fd >= 0) ::dup2(out_fd, 1);
    ::execl(self.c_str(), self.c_str(), "conductor", file.c_str(), name.c_str(), nullptr);
    ::_exit(127);
  }
  return pid;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string{argv[1]} == "conductor") return conductor_main(argv[2], argv[3]);
  std::string dir = (fs::temp_directory_path() / "flowkit-conductor-XXXXXX").string();
  if (!::mkdtemp(dir.data())) return 1;
  const std::string file = dir + "/work.lmdb";
  {
    fk::lmdb_jobboard board{file};
    fk::lmdb_backend store{file};
    board.post("order-7", checkout(), fk::store<"order">(std::string{"order-7"}));
  }
  std::cout << "posted order-7: reserve -> charge -> pack -> ship" << std::endl;

  int a_out[2];
  if (::pipe2(a_out, O_CLOEXEC) != 0) return 1;
  const pid_t a = start(file, "A", a_out[1]);
  ::close(a_out[1]);
  pid_t b = -1;
  std::FILE* from_a = ::fdopen(a_out[0], "r");
  for (char line[256]; std::fgets(line, sizeof line, from_a);) {  // until A's end
    std::cout << line << std::flush;
    if (b < 0 && std::string{line}.find("claimed") != std::string::npos) {
      b = start(file, "B", -1);  // B starts once A holds the job, and waits on the board
      std::cout << "(conductor B started; it waits for a job to claim)" << std::endl;
    }
  }
  std::fclose(from_a);
  int a_status = 0, b_status = -1;
  ::waitpid(a, &a_status, 0);
  const bool a_killed = WIFSIGNALED(a_status) && WTERMSIG(a_status) == SIGKILL;
  std::cout << "(conductor A is gone" << (a_killed ? ", killed by SIGKILL" : "")
            << "; its claim expires within 1 s)" << std::endl;
  if (b > 0) ::waitpid(b, &b_status, 0);
  const bool b_ok = WIFEXITED(b_status) && WEXITSTATUS(b_status) == 0;
  if (b_ok)
    std::cout << "B resumed A's run: reserve and charge, checkpointed by A, were not run again; pack,\n"
                 "which A was running when it died, ran again (at least once); then ship.\n";
  else
    std::cout << "conductor B did not end as expected: it must resume the run, run pack and ship, succeed\n";
  fs::remove_all(dir);
  return a_killed && b_ok ? 0 : 1;
}
