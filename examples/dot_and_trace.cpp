// Seeing a flow: its shape as Graphviz DOT (fk::to_dot), and what a run did as a Chrome trace file
// (fk::trace_listener): one bar per task on the thread that ran it, a retried upload twice.
//
//   flowkit-example-dot_and_trace [dir]        (default: the current directory)
//
// It writes DIR/flow.dot and DIR/trace.json. Draw the flow with `dot -Tsvg flow.dot -o flow.svg`
// (Graphviz). Open the trace at https://ui.perfetto.dev (drop the file on the page) or in Chrome
// at chrome://tracing (Load). FLOWKIT_TRACE=trace.json traces every engine of a program, no code.
#include <flowkit/engine/trace_listener.hpp>  // not in flowkit.hpp: it writes files
#include <flowkit/flowkit.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

namespace fk = flowkit;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  const fs::path dir = argc > 1 ? argv[1] : ".";
  fs::create_directories(dir);

  int uploads = 0;
  auto fetch = fk::task<"fetch">(fk::inputs<"url">, fk::outputs<"photo">,
                                 [](const std::string& url) { return "photo from " + url; });
  auto resize = fk::task<"resize">(fk::inputs<"photo">, fk::outputs<"large">,
                                   [](const std::string& photo) { return "large " + photo; });
  auto thumbnail = fk::task<"thumbnail">(fk::inputs<"photo">, fk::outputs<"small">,
                                         [](const std::string& photo) { return "small " + photo; });
  auto upload = fk::task<"upload">(fk::inputs<"large", "small">, fk::outputs<"link">,
                                   [&uploads](const std::string&, const std::string&) {
                                     if (++uploads == 1) throw std::runtime_error("connection reset");
                                     return std::string{"https://photos.example.org/42"};
                                   });
  auto publish = fk::linear_flow<"publish">(fetch, fk::unordered_flow<"sizes">(resize, thumbnail),
                                            fk::linear_flow<"send">(upload).retry(fk::times(2)));

  std::ofstream{dir / "flow.dot"} << fk::to_dot(publish);
  std::cout << fk::to_dot(publish) << '\n';

  bool ok = false;
  {
    fk::trace_listener trace{(dir / "trace.json").string()};
    fk::engine eng{publish, fk::store<"url">(std::string{"camera.local/img/42"})};
    trace.attach(eng, "photo-42");
    fk::thread_pool pool{2};
    auto r = eng.run(pool);
    std::cout << "run: " << fk::to_string(r.state()) << ", " << r.get<"link">() << " (upload tried "
              << uploads << " times)\n";
    ok = r.state() == fk::flow_state::success;
  }  // the trace file is complete (its closing ']' written) once the engine and the listener are gone

  std::ifstream in{dir / "trace.json"};
  int executions = 0, lines = 0;
  for (std::string line; std::getline(in, line); ++lines)
    if (line.find("\"cat\":\"execute\"") != std::string::npos) ++executions;
  std::cout << "wrote " << (dir / "flow.dot").string() << " (Graphviz) and " << (dir / "trace.json").string()
            << ": " << lines << " lines, " << executions << " executions (send_retry and upload twice)\n"
            << "open the trace at https://ui.perfetto.dev or chrome://tracing\n";
  return ok && executions == 7 ? 0 : 1;
}
