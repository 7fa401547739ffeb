// A program that never mentions tracing: FLOWKIT_TRACE alone decides whether its engines are
// traced (trace_listener_test.cpp runs it). Exits 0 when every run succeeded.
//
// With the argument "killed", it runs a flow whose second task waits until the trace file holds
// the first task's event, then kills the process with SIGKILL: no run's end ever flushes the file.
#include <flowkit/flowkit.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>

namespace fk = flowkit;

namespace {

// Waits (up to 20 s) for the file's writer thread to have written the event of the atom "one".
bool file_has_first_atom(const char* path) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (std::chrono::steady_clock::now() < give_up) {
    std::ifstream in{path};
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (text.find("\"name\":\"one\"") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});  // polling a file, not a timing
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  auto one = fk::task<"one">(fk::outputs<"x">, [] { return 1; });
  auto two = fk::task<"two">(fk::inputs<"x">, [](int x) { return x + 1; });
  if (argc > 1 && std::string_view(argv[1]) == "killed") {
    const char* path = std::getenv("FLOWKIT_TRACE");
    fk::engine eng{fk::linear_flow<"killed">(one, fk::task<"die">(fk::inputs<"x">, [path](int) {
                                               if (path && file_has_first_atom(path)) std::raise(SIGKILL);
                                             }))};
    eng.run();
    return 3;  // the trace never had the first atom
  }
  fk::engine first{fk::linear_flow<"first">(one, two)};
  fk::engine second{fk::linear_flow<"second">(one, two)};
  fk::thread_pool pool{2};
  bool ok = first.run().succeeded();
  ok = second.run(pool).succeeded() && ok;
  second.reset();
  ok = second.run(pool).succeeded() && ok;
  return ok ? 0 : 1;
}
