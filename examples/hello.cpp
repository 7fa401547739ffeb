// Hello, flowkit: three tasks in a line, each reading what the one before it wrote, and a typed
// result at the end. The names ("name", "greeting", ...) wire the tasks together; a misspelt or
// mistyped one is a compile error, not a surprise at run time.
//
//   flowkit-example-hello
// snippet: hello
#include <flowkit/flowkit.hpp>

#include <iostream>
#include <string>

namespace fk = flowkit;

int main() {
  auto greet = fk::task<"greet">(fk::inputs<"name">, fk::outputs<"greeting">,
                                 [](const std::string& name) { return "Hello, " + name; });
  auto shout = fk::task<"shout">(fk::inputs<"greeting">, fk::outputs<"loud">,
                                 [](const std::string& greeting) { return greeting + "!"; });
  auto count = fk::task<"count">(fk::inputs<"loud">, fk::outputs<"length">,
                                 [](const std::string& loud) { return loud.size(); });
  auto hello = fk::linear_flow<"hello">(greet, shout, count);

  fk::engine eng{hello, fk::store<"name">(std::string{"world"})};
  auto r = eng.run();
  std::size_t length = r.get<"length">();  // the type count returns, checked at compile time
  // end snippet
  std::cout << r.get<"loud">() << "  (greet -> shout -> count)\n"
            << "the flow ended " << fk::to_string(r.state()) << "; count says " << length << " characters\n";
  return r.state() == fk::flow_state::success && r.get<"loud">() == "Hello, world!" && length == 13 ? 0 : 1;
}
