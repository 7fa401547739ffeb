// The demo: jobs on a board, two conductor processes running them with checkpoints, one killed
// with SIGKILL in the middle of a job, the other taking the job over and resuming it where the
// checkpoint says, then flowkit-admin's table of the runs and a trace file.
//
//   flowkit-demo [--admin PATH-OF-flowkit-admin] [--dir DIR]
//
// It runs itself as the conductors (flowkit-demo conductor FILE NAME), so one program tells the
// whole story. Under a minute on 2 cores.

#include <flowkit/conductor/conductor.hpp>
#include <flowkit/flowkit.hpp>
#include <flowkit/lmdb.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fk = flowkit;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// ----- the flow: what every order goes through -----

std::mutex say_mu;
void say(const std::string& line) {
  std::lock_guard lk{say_mu};
  std::fputs((line + '\n').c_str(), stdout);
  std::fflush(stdout);
}

// Each step takes a moment (the work), then says it is done: "done ORDER STEP".
template <fk::name Step, fk::name In, fk::name Out>
auto step() {
  return fk::task<Step>(fk::inputs<"order", In>, fk::outputs<Out>,
                        [](const std::string& order, const std::string& so_far) {
                          std::this_thread::sleep_for(300ms);  // the step's work
                          say("done " + order + ' ' + std::string{Step.view()});
                          return so_far + ' ' + std::string{Step.view()};
                        });
}

auto checkout() {
  return fk::linear_flow<"checkout">(step<"reserve", "placed", "reserved">(),
                                     step<"charge", "reserved", "charged">(),
                                     step<"pack", "charged", "packed">(), step<"ship", "packed", "shipped">(),
                                     step<"notify", "shipped", "notified">());
}
using order_store = decltype(fk::store<"order", "placed">(std::string{}, std::string{}));
using checkout_job = fk::job_flow<decltype(checkout()), order_store>;

// ----- a conductor process: flowkit-demo conductor FILE NAME -----

int conductor_main(const std::string& file, const std::string& name) {
  fk::lmdb_jobboard board{file, {.must_exist = true}};
  fk::lmdb_backend store{file, {.must_exist = true}};
  fk::conductor c{board,
                  store,
                  fk::flows<checkout_job>{checkout()},
                  {.name = name, .max_jobs = 2, .claim_ttl = 3s, .heartbeat = 1s}};
  c.show_progress(fk::progress_display{stdout});  // a pipe: plain lines, "[order-1] 2/5 done, ..."
  c.listen([](const fk::conductor_event& e) {
    if (e.kind == fk::conductor_event_kind::extended) return;
    std::string line{fk::to_string(e.kind)};
    line += ' ' + e.job_name;
    if (!e.detail.empty()) line += ' ' + e.detail;
    say(line);
  });
  std::thread input{[&c] {  // the end of standard input stops the conductor
    char buf[64];
    while (::read(0, buf, sizeof buf) > 0) {
    }
    c.stop();
  }};
  c.run();
  input.join();
  return 0;
}

// ----- the story -----

struct child {
  std::string name;
  pid_t pid = -1;
  int in = -1, out = -1;
  std::string pending;
};

child start_conductor(const std::string& self, const fs::path& file, const std::string& name,
                      const fs::path& trace) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) std::exit(1);
  child c;
  c.name = name;
  c.pid = ::fork();
  if (c.pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::setenv("FLOWKIT_TRACE", trace.c_str(), 1);
    ::execl(self.c_str(), self.c_str(), "conductor", file.c_str(), name.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  c.in = in[1];
  c.out = out[0];
  return c;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in{line};
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string{argv[1]} == "conductor") return conductor_main(argv[2], argv[3]);
  std::string admin;
  fs::path dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string{argv[i]} == "--admin") admin = argv[i + 1];
    if (std::string{argv[i]} == "--dir") dir = argv[i + 1];
  }
  if (dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "flowkit-demo-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return 1;
    dir = tmpl;
  }
  fs::create_directories(dir);
  const fs::path file = dir / "work.lmdb";
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const auto start = std::chrono::steady_clock::now();
  auto at = [&] {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%5.1fs",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return std::string{buf};
  };

  std::cout << "flowkit demo: jobs, two conductors, a kill -9, a takeover and a resumed run.\n\n"
            << "1. A jobboard and a checkpoint store in one LMDB file: " << file.string() << "\n";
  constexpr int orders = 6;
  {
    fk::lmdb_jobboard board{file};
    fk::lmdb_backend store{file};
    for (int i = 1; i <= orders; ++i) {
      const std::string order = "order-" + std::to_string(i);
      board.post(order, checkout(), fk::store<"order", "placed">(order, std::string{"placed"}));
    }
  }
  std::cout << "2. Posted " << orders
            << " jobs of flow 'checkout': reserve -> charge -> pack -> ship -> notify\n"
            << "3. Two conductor processes, A and B, each running 2 jobs at once (claims last 3 s, renewed "
               "every 1 s):\n\n";

  std::vector<child> cs{start_conductor(self, file, "A", dir / "trace-A.json"),
                        start_conductor(self, file, "B", dir / "trace-B.json")};
  std::map<std::string, std::vector<std::string>> steps_by;  // "order step" -> conductors that did it
  std::map<std::string, std::string> owner;                  // order -> conductor running it
  std::set<std::string> consumed, taken_over;
  bool killed = false;
  std::string victim_orders;
  while (static_cast<int>(consumed.size()) < orders) {
    std::vector<pollfd> fds;
    for (const child& c : cs)
      if (c.out >= 0) fds.push_back({c.out, POLLIN, 0});
    if (fds.empty() || ::poll(fds.data(), fds.size(), 60'000) <= 0) {
      std::cerr << "the conductors stopped talking\n";
      return 1;
    }
    for (child& c : cs) {
      if (c.out < 0) continue;
      pollfd p{c.out, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(c.out, buf, sizeof buf);
      if (n <= 0) {
        ::close(c.out);
        c.out = -1;
        continue;
      }
      c.pending.append(buf, static_cast<std::size_t>(n));
      for (std::size_t nl; (nl = c.pending.find('\n')) != std::string::npos; c.pending.erase(0, nl + 1)) {
        const std::string line = c.pending.substr(0, nl);
        const auto w = words(line);
        if (w.size() < 2) continue;
        if (w[0] == "done" && w.size() == 3) {  // the step's own word: for the table at the end
          steps_by[w[1] + ' ' + w[2]].push_back(c.name);
        } else if (w[0] == "claimed") {
          owner[w[1]] = c.name;
          const bool resuming = line.find("resuming") != std::string::npos;
          if (resuming) taken_over.insert(w[1]);
          std::cout << at() << "  [" << c.name << "] claimed " << w[1]
                    << (resuming ? "  <- taking over: resuming its checkpoint" : "") << '\n';
        } else if (w[0] == "consumed") {
          consumed.insert(w[1]);
          std::cout << at() << "  [" << c.name << "] " << w[1] << " complete, job consumed\n";
        } else {
          std::cout << at() << "  [" << c.name << "] " << line << '\n';
        }
        // The kill: once A has finished two steps of a job, in the middle of the next one.
        if (!killed && c.name == "A" && w[0] == "done" && w[2] == "charge") {
          ::kill(c.pid, SIGKILL);
          ::waitpid(c.pid, nullptr, 0);
          killed = true;
          for (const auto& [order, by] : owner)
            if (by == "A" && !consumed.count(order)) victim_orders += ' ' + order;
          std::cout << "\n"
                    << at() << "  *** kill -9 conductor A (pid " << c.pid << ") while it runs"
                    << victim_orders << " ***\n"
                    << at() << "  *** its claims expire within 3 s; B takes its jobs over ***\n\n";
          ::close(c.out);
          c.out = -1;
          break;
        }
      }
    }
  }
  for (child& c : cs)
    if (c.in >= 0 && c.name == "B") {
      ::close(c.in);  // B stops
      ::waitpid(c.pid, nullptr, 0);
    }

  std::cout << "\n4. Every job completed. Which conductor ran each step of the jobs A held:\n";
  for (const std::string& order : taken_over) {
    std::cout << "   " << order << ":";
    for (const char* s : {"reserve", "charge", "pack", "ship", "notify"}) {
      const auto& by = steps_by[order + ' ' + s];
      std::cout << ' ' << s << '(';
      for (std::size_t i = 0; i < by.size(); ++i) std::cout << (i ? "," : "") << by[i];
      std::cout << ')';
    }
    std::cout << '\n';
  }
  std::cout
      << "   A step whose result A had checkpointed was not run again. A step A was running when it\n"
      << "   died (or had just finished, its checkpoint not yet written) ran again in B: at least once\n"
      << "   for what was running, exactly once for what was checkpointed.\n\n";

  if (!admin.empty() && ::access(admin.c_str(), X_OK) == 0) {
    std::cout << "5. flowkit-admin runs list " << file.string() << "\n\n";
    std::cout.flush();
    const std::string cmd = admin + " runs list '" + file.string() + "'";
    if (std::system(cmd.c_str()) != 0) std::cout << "   (flowkit-admin failed)\n";
  } else {
    std::cout << "5. (flowkit-admin was not given: --admin PATH shows the runs' table here)\n";
  }
  std::cout << "\n6. Traces of each conductor's runs (Chrome trace events; open them in Perfetto):\n   "
            << (dir / "trace-A.json").string() << "\n   " << (dir / "trace-B.json").string() << "\n\n"
            << "Where to go next:\n"
            << "   examples/README.md       small programs, one idea each (start with hello.cpp)\n"
            << "   docs/tour.md             flowkit in five snippets\n"
            << "   docs/conductor.md        how this takeover works; docs/guarantees.md: what survives what\n"
            << "   docs/coming-from-taskflow.md, docs/coming-from-tbb.md   if you know those\n";
  return 0;
}
