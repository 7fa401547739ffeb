// Your own thread pool as the engine's executor: here Boost.Asio's boost::asio::thread_pool. An
// executor is any type with submit(fk::work): the engine hands it work items (a function pointer
// and its argument) and the executor calls each one once, on any thread. size(), if the type has
// it, tells the engine how many work items to keep on the pool at once.
//
//   flowkit-example-asio_executor
#include <flowkit/flowkit.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace fk = flowkit;

// The whole adapter.
struct asio_executor {
  boost::asio::thread_pool& pool;
  std::size_t threads;
  void submit(fk::work w) { boost::asio::post(pool, w); }
  std::size_t size() const { return threads; }
};
static_assert(fk::executor<asio_executor>);

int main() {
  const auto main_thread = std::this_thread::get_id();
  std::mutex mu;
  std::map<std::string, std::string> where;  // task -> the thread it ran on
  auto ran = [&](const std::string& task) {
    std::this_thread::sleep_for(std::chrono::milliseconds{20});  // the task's work: a request, say
    std::lock_guard lock{mu};
    where[task] =
        std::this_thread::get_id() == main_thread ? "the thread that called run()" : "an Asio pool thread";
  };

  auto weather = fk::task<"weather">(fk::inputs<"city">, fk::outputs<"sky">, [&](const std::string& city) {
    ran("weather");
    return "sunny in " + city;
  });
  auto news = fk::task<"news">(fk::inputs<"city">, fk::outputs<"headline">, [&](const std::string& city) {
    ran("news");
    return city + " opens a new bridge";
  });
  auto traffic = fk::task<"traffic">(fk::inputs<"city">, fk::outputs<"jams">, [&](const std::string&) {
    ran("traffic");
    return 3;
  });
  auto digest =
      fk::task<"digest">(fk::inputs<"sky", "headline", "jams">, fk::outputs<"morning">,
                         [&](const std::string& sky, const std::string& headline, int jams) {
                           ran("digest");
                           return sky + "; " + headline + "; " + std::to_string(jams) + " traffic jams";
                         });
  auto morning = fk::linear_flow<"morning">(fk::unordered_flow<"gather">(weather, news, traffic), digest);

  boost::asio::thread_pool pool{2};
  asio_executor executor{pool, 2};
  fk::engine eng{morning, fk::store<"city">(std::string{"Porto"})};
  auto r = eng.run(executor);  // returns when the run has ended; the pool keeps its threads
  pool.join();

  std::cout << fk::to_string(r.state()) << ": " << r.get<"morning">() << '\n';
  for (const auto& [task, thread] : where) std::cout << "  " << task << " ran on " << thread << '\n';
  std::cout << "(the pool's threads and the thread that called run() share the work; the split varies)\n";
  return r.state() == fk::flow_state::success && where.size() == 4 ? 0 : 1;
}
