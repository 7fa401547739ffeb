// Many independent tasks on a thread pool: sixteen tasks each count the primes in their own block of
// numbers. They sit in an unordered flow (no task reads another's result), so the pool runs them
// side by side; fk::progress_display reports each one as it finishes (on stderr: on a terminal one
// line redrawn in place, in a pipe or a log one line per task).
//
//   flowkit-example-parallel [threads]        (default: the machine's hardware threads)
#include <flowkit/engine/progress_display.hpp>  // not in flowkit.hpp: it starts a thread of its own
#include <flowkit/flowkit.hpp>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <string>
#include <thread>
#include <utility>

namespace fk = flowkit;

constexpr int block_size = 50'000;
constexpr std::make_index_sequence<16> blocks{};

int primes_in(int from, int to) {
  int count = 0;
  for (int n = from < 2 ? 2 : from; n < to; ++n) {
    bool prime = true;
    for (int d = 2; d * d <= n && prime; ++d) prime = n % d != 0;
    count += prime;
  }
  return count;
}

// "block07", "primes07": names made at compile time, as every task and slot name is.
template <std::size_t N>
constexpr fk::name<N + 2> numbered(const char (&stem)[N], std::size_t i) {
  fk::name<N + 2> n{};
  for (std::size_t c = 0; c + 1 < N; ++c) n.chars[c] = stem[c];
  n.chars[N - 1] = static_cast<char>('0' + i / 10);
  n.chars[N] = static_cast<char>('0' + i % 10);
  return n;
}

template <std::size_t I>
auto block() {
  return fk::task<numbered("block", I)>(fk::outputs<numbered("primes", I)>, [] {
    return primes_in(static_cast<int>(I) * block_size, static_cast<int>(I + 1) * block_size);
  });
}

template <std::size_t... I>
auto all_blocks(std::index_sequence<I...>) {
  return fk::unordered_flow<"count_primes">(block<I>()...);
}

template <class Result, std::size_t... I>
int total(const Result& r, std::index_sequence<I...>) {
  return (r.template get<numbered("primes", I)>() + ...);
}

int main(int argc, char** argv) {
  const auto flow = all_blocks(blocks);
  const unsigned threads = std::max(
      1u, argc > 1 ? static_cast<unsigned>(std::stoi(argv[1])) : std::thread::hardware_concurrency());

  auto timed = [](auto&& run) {
    const auto start = std::chrono::steady_clock::now();
    auto r = run();
    return std::pair{
        total(r, blocks),
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count()};
  };
  fk::engine one_by_one{flow, fk::store<>()};
  const auto [serial_primes, serial_ms] = timed([&] { return one_by_one.run(); });

  fk::engine side_by_side{flow, fk::store<>()};
  fk::progress_display progress;  // stderr
  progress.attach(side_by_side, "primes");
  fk::thread_pool pool{threads};
  const auto [pool_primes, pool_ms] = timed([&] { return side_by_side.run(pool); });

  std::cout << std::fixed << std::setprecision(1) << "16 tasks, primes below " << 16 * block_size << ": "
            << pool_primes << '\n'
            << "  one after another, on this thread: " << serial_ms << " ms\n"
            << "  side by side, on a pool of " << threads << ": " << pool_ms << " ms\n";
  return pool_primes == serial_primes && side_by_side.state() == fk::flow_state::success ? 0 : 1;
}
