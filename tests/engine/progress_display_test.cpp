// fk::progress_display: plain lines on a pipe or a file (a log), a line redrawn in place on a
// terminal (a pseudo-terminal here), several engines at once from several threads.
#include "operator_testing.hpp"

#include <flowkit/engine/progress_display.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

auto three_tasks() {
  return fk::linear_flow<"lf">(fk::task<"a">(fk::outputs<"x">, [] { return 1; }),
                               fk::task<"b">(fk::inputs<"x">, fk::outputs<"y">, [](int x) { return x + 1; }),
                               fk::task<"c">(fk::inputs<"y">, [](int) {}));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// A temporary file: written through its FILE*, read back whole.
struct temp_file {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{std::tmpfile(), &std::fclose};
  std::string text() {
    std::fflush(file.get());
    std::rewind(file.get());
    std::string all;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0;) all.append(buffer, n);
    return all;
  }
};

// Reads the terminal's other side until a line with `last` has come whole (the kernel passes what
// was written on to it asynchronously), or fails after 20 s.
std::string read_line_with(int fd, const std::string& last) {
  std::string all;
  char buffer[4096];
  const auto complete = [&] {
    const std::size_t at = all.find(last);
    return at != std::string::npos && all.find('\n', at) != std::string::npos;
  };
  while (!complete()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20'000) <= 0)
      throw std::runtime_error("the terminal's output stopped before '" + last + "'");
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EAGAIN) continue;
    if (n <= 0) throw std::system_error(errno, std::generic_category(), "read");
    all.append(buffer, static_cast<std::size_t>(n));
  }
  return all;
}

}  // namespace

TEST_CASE("progress on a pipe: plain lines, one per finished atom, counts up to the total",
          "[engine][progress]") {
  int ends[2];
  REQUIRE(::pipe(ends) == 0);
  std::FILE* writer = ::fdopen(ends[1], "w");
  REQUIRE(writer);
  {
    fk::progress_display progress{writer};
    fk::engine eng{three_tasks()};
    progress.attach(eng);
    REQUIRE(eng.run().succeeded());
  }
  std::fclose(writer);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(ends[0], buffer, sizeof buffer)) > 0;)
    text.append(buffer, static_cast<std::size_t>(n));
  ::close(ends[0]);

  INFO(text);
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find('\x1b') == std::string::npos);
  const auto lines = lines_of(text);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "[lf] RUNNING: 0/3 done");
  CHECK(starts_with(lines[1], "[lf] 1/3 done, "));
  CHECK_THAT(lines[1], Catch::EndsWith(": a SUCCESS"));
  CHECK(starts_with(lines[2], "[lf] 2/3 done, "));
  CHECK_THAT(lines[2], Catch::EndsWith(": b SUCCESS"));
  CHECK(starts_with(lines[3], "[lf] 3/3 done, "));
  CHECK(starts_with(lines[4], "[lf] SUCCESS: 3/3 done in "));
}

TEST_CASE("progress in a file: a reverted run's lines and its failure", "[engine][progress]") {
  temp_file out;
  fk::progress_display progress{out.file.get()};
  auto flow =
      fk::linear_flow<"lf">(fk::task<"a">([] {}), fk::task<"boom">([] { throw std::runtime_error("bang"); }));
  fk::engine eng{flow};
  progress.attach(eng, "job-9");
  REQUIRE(eng.run().state() == fk::flow_state::reverted);
  const std::string text = out.text();
  INFO(text);
  const auto lines = lines_of(text);
  REQUIRE(lines.size() >= 4);
  CHECK(lines[0] == "[job-9] RUNNING: 0/2 done");
  CHECK_THAT(text, Catch::Contains(": boom FAILURE (std::runtime_error: bang)"));
  CHECK_THAT(text, Catch::Contains("0/2 done, ") && Catch::Contains(": a REVERTED"));
  CHECK(starts_with(lines.back(), "[job-9] REVERTED: 0/2 done in "));
  CHECK_THAT(lines.back(), Catch::EndsWith("; first failure: boom: std::runtime_error: bang"));
}

TEST_CASE("progress: a resumed run counts the atoms done before it", "[engine][progress]") {
  temp_file out;
  fk::progress_display progress{out.file.get()};
  auto flow = fk::linear_flow<"lf">(fk::task<"a">([] {}), fk::task<"b">([] {}), fk::task<"c">([] {}),
                                    fk::task<"d">([] {}));
  fk::engine eng{flow};
  eng.listen(testing::suspend_on<decltype(eng)>{&eng, "b", fk::atom_state::success});
  progress.attach(eng);
  REQUIRE(eng.run().state() == fk::flow_state::suspended);
  REQUIRE(eng.run().succeeded());
  const auto lines = lines_of(out.text());
  std::vector<std::string> firsts_and_lasts;
  for (const auto& line : lines)
    if (line.find(" in ") != std::string::npos || line.find("done, ") == std::string::npos)
      firsts_and_lasts.push_back(line.substr(0, line.find(" in ")));
  CHECK(firsts_and_lasts == std::vector<std::string>{"[lf] RUNNING: 0/4 done", "[lf] SUSPENDED: 2/4 done",
                                                     "[lf] RESUMING: 2/4 done", "[lf] SUCCESS: 4/4 done"});
}

TEST_CASE("progress: line_interval writes at most one line per interval between the first and last",
          "[engine][progress]") {
  temp_file out;
  fk::progress_options options;
  options.line_interval = std::chrono::hours{1};
  fk::progress_display progress{out.file.get(), options};
  fk::engine eng{three_tasks()};
  progress.attach(eng);
  REQUIRE(eng.run().succeeded());
  const auto lines = lines_of(out.text());
  // The first line of the run counts as output within the hour: no atom line follows.
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "[lf] RUNNING: 0/3 done");
  CHECK(starts_with(lines[1], "[lf] SUCCESS: 3/3 done in "));
}

TEST_CASE("progress on a terminal: one line redrawn in place, names cut to its width", "[engine][progress]") {
  int master = -1, slave = -1;
  winsize size{};
  size.ws_row = 24;
  size.ws_col = 60;
  if (::openpty(&master, &slave, nullptr, nullptr, &size) != 0) {
    // A container without /dev/pts has no terminal to give: the plain-lines tests above still run.
    WARN("skipped: no pseudo-terminal here (openpty: " << std::strerror(errno) << ")");
    return;
  }
  REQUIRE(::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK) == 0);
  std::FILE* terminal = ::fdopen(slave, "w");
  REQUIRE(terminal);
  std::string text;
  {
    fk::progress_options options;
    options.redraw_interval = std::chrono::milliseconds{0};  // every event: the test sees each line
    fk::progress_display progress{terminal, options};
    auto flow =
        fk::linear_flow<"lf">(fk::task<"a">([] {}),
                              fk::task<"a_task_whose_name_is_far_too_long_for_a_line_of_sixty_columns">(
                                  [](fk::progress& p) { p.update(0.5f); }),
                              fk::task<"c">([] {}));
    fk::engine eng{flow};
    progress.attach(eng);
    REQUIRE(eng.run().succeeded());
    text = read_line_with(master, " done in ");
  }
  std::fclose(terminal);
  ::close(master);

  INFO(text);
  // Each redraw goes back to the line's start and clears what the line had beyond its new end.
  CHECK(text.find("\r[lf] ") != std::string::npos);
  CHECK(text.find("\x1b[K") != std::string::npos);
  CHECK(text.find("running: a_task_whose") != std::string::npos);
  CHECK(text.find("...") != std::string::npos);
  CHECK(text.find("[lf] SUCCESS: 3/3 done in ") != std::string::npos);
  // What is visible of each live line fits in 59 columns (the last column is left free).
  std::string visible;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b') {  // CSI: ESC [ parameters final-byte
      i += 2;
      while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) ++i;
      visible += '\n';
    } else if (text[i] == '\r') {
      visible += '\n';
    } else {
      visible += text[i];
    }
  }
  for (const auto& line : lines_of(visible))
    if (line.find(" done in ") == std::string::npos) CHECK(line.size() <= 59);
}

TEST_CASE("progress: several engines on one display, from several threads", "[engine][progress]") {
  const bool terminal = GENERATE(false, true);
  INFO((terminal ? "terminal" : "plain"));
  temp_file out;
  fk::progress_options options;
  options.terminal = terminal;
  options.columns = 200;
  options.redraw_interval = std::chrono::milliseconds{0};
  fk::progress_display progress{out.file.get(), options};
  // The jobs' first atoms meet, so both runs are under way at once: a terminal shows two lines.
  testing::rendezvous both{2};
  std::vector<std::thread> conductors;
  std::vector<int> succeeded(2, 0);
  for (int j = 0; j < 2; ++j)
    conductors.emplace_back([&, j] {
      auto flow = fk::graph_flow<"g">(fk::task<"a">(fk::outputs<"x">,
                                                    [&] {
                                                      both.arrive();
                                                      return 1;
                                                    }),
                                      fk::task<"b">(fk::inputs<"x">, [](int) {}),
                                      fk::task<"c">(fk::inputs<"x">, [](int) {}));
      fk::engine eng{flow};
      progress.attach(eng, "job-" + std::to_string(j));
      succeeded[j] = eng.run(testing::pool(2)).succeeded();
    });
  for (auto& t : conductors) t.join();
  CHECK(succeeded == std::vector<int>{1, 1});
  const std::string text = out.text();
  INFO(text);
  CHECK(text.find("[job-0] SUCCESS: 3/3 done in ") != std::string::npos);
  CHECK(text.find("[job-1] SUCCESS: 3/3 done in ") != std::string::npos);
  if (terminal)
    CHECK(text.find("\x1b[1A") != std::string::npos);  // back up over the first of two lines
  else
    CHECK(text.find('\x1b') == std::string::npos);
}
