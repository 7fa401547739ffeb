// A user's first program: two tasks in a linear flow, run by the engine, the result checked.
#include <flowkit/flowkit.hpp>

#ifdef CONSUMER_WITH_LMDB
#include <lmdb.h>
#if __has_include(<flowkit/lmdb.hpp>)
#include <flowkit/lmdb.hpp>
#endif
#endif

#include <cstdio>
#include <string>

namespace fk = flowkit;

int main() {
  auto fetch = fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
  auto charge = fk::task<"charge">(fk::inputs<"amount">, fk::outputs<"receipt">,
                                   [](double amount) { return "R" + std::to_string(static_cast<int>(amount)); });
  fk::engine eng{fk::linear_flow<"checkout">(fetch, charge), fk::store<"order_id">(42)};
  auto r = eng.run();
  if (!r.succeeded() || r.get<"receipt">() != "R105") {
    std::puts("consumer: the flow did not compute R105");
    return 1;
  }
#ifdef CONSUMER_WITH_LMDB
  // Linked, not only found: LMDB's own library answers.
  std::printf("consumer: %s, with %s\n", r.get<"receipt">().c_str(), mdb_version(nullptr, nullptr, nullptr));
#else
  std::printf("consumer: %s\n", r.get<"receipt">().c_str());
#endif
  return 0;
}
