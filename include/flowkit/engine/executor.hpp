#pragma once
// Where atoms run. An executor is anything with `submit(fk::work)`: it must call the work item
// exactly once, on any thread, eventually. Work items never block waiting for other work (the
// thread that called run() does the waiting and works meanwhile), so engines nested inside tasks
// cannot deadlock a shared pool, and a user's own pool plugs in through a two-line adapter:
//
//   struct asio_executor {
//     boost::asio::thread_pool& pool;
//     void submit(fk::work w) { boost::asio::post(pool, w); }
//   };
//
// An executor may also have `size()`, the number of threads it runs work on: an engine then keeps
// at most that many work items on it at once (each one runs ready atoms until none is left).
//
// fk::serial is not an executor of that kind: with it, run() executes every atom itself, in one
// fixed order, on the calling thread.

#include <concepts>
#include <cstddef>
#include <thread>

namespace flowkit {

/// A unit of work: a function pointer and its argument. Trivially copyable, never allocates.
struct work {
  /// The function to call, with `argument`; must not throw.
  void (*function)(void*) noexcept = nullptr;
  /// What the function is called with.
  void* argument = nullptr;
  /// Runs the work item.
  void operator()() const noexcept { function(argument); }
};

/// Anything with `submit(fk::work)` that calls each work item exactly once, on any thread (see above).
template <class E>
concept executor = requires(E& e, work w) { e.submit(w); };

namespace detail {

// How many work items of one run an executor should hold at once: its size() when it tells
// (fk::thread_pool does), else the machine's hardware threads. An engine never needs more, as
// each work item runs ready atoms until none is left.
template <executor E>
std::size_t concurrency_of(const E& ex) noexcept {
  std::size_t n;
  if constexpr (requires { { ex.size() } -> std::convertible_to<std::size_t>; })
    n = static_cast<std::size_t>(ex.size());
  else
    n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

}  // namespace detail

/// Runs a flow on the calling thread, deterministically.
struct serial_t {
  explicit constexpr serial_t() = default;
};
/// Pass to engine::run to run on the calling thread: `eng.run(fk::serial)`, the same as `eng.run()`.
inline constexpr serial_t serial{};

}  // namespace flowkit
