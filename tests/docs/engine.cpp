// The code shown in docs/engine.md, run in a fresh directory.
#include <flowkit/engine/progress_display.hpp>
#include <flowkit/flowkit.hpp>
#include <flowkit/lmdb.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <filesystem>
#include <iostream>
#include <string>

#include "scratch.hpp"

namespace fk = flowkit;

namespace {

auto fetch =
    fk::task<"fetch">(fk::inputs<"order_id">, fk::outputs<"amount">, [](int id) { return id * 2.5; });
auto charge = fk::task<"charge">(fk::inputs<"amount">, fk::outputs<"receipt">,
                                 [](double amount) { return "R" + std::to_string(amount); });

void recorder() {
  auto flow = fk::linear_flow<"checkout">(fetch, charge);
  auto store = fk::store<"order_id">(42);
  fk::lmdb_backend backend{"checkpoints"};
  // snippet: persist
  fk::engine eng{flow, store, fk::persist(backend, "order-42")};
  // end snippet
  docs::check(eng.run().succeeded(), "the recorded run succeeds");
  const auto stored = backend.load_run("order-42");
  docs::check(stored && stored->flow.state == fk::flow_state::success, "the backend holds the run, ended");
}

// snippet: asio_executor
struct asio_executor {  // the whole adapter for a Boost.Asio pool
  boost::asio::thread_pool& pool;
  void submit(fk::work w) { boost::asio::post(pool, w); }
};
// end snippet
static_assert(fk::executor<asio_executor>);

void on_asio() {
  boost::asio::thread_pool threads{2};
  asio_executor on_asio_pool{threads};
  fk::engine eng{fk::linear_flow<"checkout">(fetch, charge), fk::store<"order_id">(42)};
  docs::check(eng.run(on_asio_pool).get<"receipt">() == "R105.000000", "a run on Boost.Asio's pool");
  threads.join();
}

void watched() {
  fk::engine eng{fk::linear_flow<"checkout">(fetch, charge), fk::store<"order_id">(42)};
  fk::thread_pool pool{2};
  {
    // snippet: watch
    // #include <flowkit/engine/progress_display.hpp>: fk::progress_display (flowkit.hpp has the rest)
    fk::progress_display progress;  // stderr; or progress{file} (a std::FILE*), options
    progress.attach(eng, "order-42");
    fk::trace_listener trace{"run.json"};  // throws std::system_error if it cannot create it
    trace.attach(eng, "order-42");
    eng.run(pool);
    // end snippet
  }
  docs::check(std::filesystem::file_size("run.json") > 0, "the trace is written");
}

}  // namespace

int main() {
  docs::scratch_directory scratch;
  recorder();
  on_asio();
  watched();
  std::cout << "docs/engine.md's code runs as documented\n";
}
