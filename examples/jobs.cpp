// Jobs between two processes: a producer posts jobs on an LMDB jobboard; a consumer, another
// process on the same board file, claims each job, runs its flow with the store it was posted with,
// and consumes it. The consumer sleeps in board.wait() until there is something to claim: it wakes
// when any process posts, it never polls. Here the producer posts a job each time the consumer says
// it is waiting, so the story is the same on every run.
//
//   flowkit-example-jobs                        (the producer: it starts the consumer itself)
//   flowkit-example-jobs consumer BOARD COUNT   (what the producer runs)
//
// The board lives in a new temporary directory, removed at the end.
#include <flowkit/flowkit.hpp>
#include <flowkit/lmdb.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace fk = flowkit;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// What every job runs, and the store a job carries: both known to the producer and the consumer.
auto thumbnail_flow() {
  return fk::linear_flow<"thumbnail">(
      fk::task<"shrink">(fk::inputs<"photo">, fk::outputs<"thumb">,
                         [](const std::string& photo) { return photo + ".small.jpg"; }));
}
using photo_store = decltype(fk::store<"photo">(std::string{}));

int consumer(const std::string& path, int count) {
  fk::lmdb_jobboard board{path, {.must_exist = true}};
  for (int done = 0; done < count;) {
    auto next = board.claim_next("consumer", 30s);  // a claim lasts 30 s unless extended
    if (!next) {
      std::cout << "[consumer] nothing to claim: waiting" << std::endl;
      if (!board.wait(30s)) return 1;  // 30 s with no job: the producer is gone
      continue;
    }
    fk::engine eng{thumbnail_flow(), next->job.store<photo_store>()};
    auto r = eng.run();
    board.consume(next->claim);  // done: the job leaves the board
    std::cout << "[consumer] " << next->job.name() << ": " << fk::to_string(r.state()) << ", "
              << r.get<"thumb">() << std::endl;
    ++done;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string{argv[1]} == "consumer") return consumer(argv[2], std::atoi(argv[3]));

  std::string dir = (fs::temp_directory_path() / "flowkit-jobs-XXXXXX").string();
  if (!::mkdtemp(dir.data())) return 1;
  const std::string path = dir + "/board";
  const std::vector<std::string> photos{"beach", "harbour", "market"};
  int status = -1;
  {
    fk::lmdb_jobboard board{path};  // created here, before the consumer opens it
    int out[2];
    if (::pipe(out) != 0) return 1;
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execl(self.c_str(), self.c_str(), "consumer", path.c_str(), std::to_string(photos.size()).c_str(),
              nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    std::cout << "[producer] started the consumer (pid " << pid << ") on " << path << std::endl;
    // The consumer's lines, passed on; each time it says it waits, the producer posts a job.
    std::size_t posted = 0;
    std::FILE* from_consumer = ::fdopen(out[0], "r");
    for (char line[256]; std::fgets(line, sizeof line, from_consumer);) {
      std::cout << line << std::flush;
      if (std::string{line}.find("waiting") != std::string::npos && posted < photos.size()) {
        const std::string& photo = photos[posted++];
        board.post("thumbnail of " + photo, thumbnail_flow(), fk::store<"photo">(photo));
        std::cout << "[producer] posted: thumbnail of " << photo << std::endl;
      }
    }
    std::fclose(from_consumer);
    ::waitpid(pid, &status, 0);
    const auto left = board.jobs().size();
    std::cout << "[producer] the consumer exited with " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1)
              << "; " << left << " job(s) left on the board\n";
    if (left != 0) status = -1;
  }
  fs::remove_all(dir);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
