// With a checkpoint backend, an output whose type Boost.Serialization cannot write does not
// compile: the error names the task and the slot (here the second of two outputs).
#include <flowkit/flowkit.hpp>
#include <flowkit/persistence/memory_backend.hpp>
#include <flowkit/persistence/persist.hpp>

#include <string>
#include <tuple>

namespace fk = flowkit;

// expect: flowkit: with a checkpoint backend, every output must be serialisable with Boost.Serialization
// expect: output_not_serialisable<"parse", "doc", document>
// fix: Give the type a serialize() member or free function, or specialise fk::enable_serialisable.

struct document {
  std::string body;
#ifndef FLOWKIT_NEGATIVE
  template <class Archive>
  void serialize(Archive& ar, const unsigned /*version*/) {
    ar& body;
  }
#endif
};

int main() {
  auto fetch = fk::task<"fetch">(fk::outputs<"text">, [] { return std::string{"# title"}; });
  auto parse =
      fk::task<"parse">(fk::inputs<"text">, fk::outputs<"title", "doc">, [](const std::string& text) {
        return std::tuple<std::string, document>{text, document{text}};
      });
  fk::memory_backend backend;
  fk::engine eng{fk::linear_flow<"ingest">(fetch, parse), fk::persist(backend, "run-1")};
  return eng.run().succeeded() ? 0 : 1;
}
