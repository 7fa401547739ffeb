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
// fk::serial is not an executor of that kind: with it, run() executes every atom itself, in one
// fixed order, on the calling thread.

#include <concepts>

namespace flowkit {

// A unit of work: a function pointer and its argument. Trivially copyable, never allocates.
struct work {
  void (*function)(void*) noexcept = nullptr;
  void* argument = nullptr;
  void operator()() const noexcept { function(argument); }
};

template <class E>
concept executor = requires(E& e, work w) { e.submit(w); };

// Runs a flow on the calling thread, deterministically.
struct serial_t {
  explicit constexpr serial_t() = default;
};
inline constexpr serial_t serial{};

}  // namespace flowkit
