#pragma once
// The listeners' helper threads (the trace file's writer, the progress display's redraws) and
// fork(): a child forked after such a thread started has no such thread.

#include <cstdint>
#include <thread>

#if defined(__unix__)
#include <unistd.h>
#endif

namespace flowkit::detail {

inline std::int64_t current_process() noexcept {
#if defined(__unix__)
  return static_cast<std::int64_t>(::getpid());
#else
  return 0;
#endif
}

// Joins a helper thread started by process `owner`. In a child forked since, the thread does not
// exist (fork copies only the thread that calls it) and joining it would wait forever.
inline void stop_thread(std::thread& thread, std::int64_t owner) {
  if (!thread.joinable()) return;
  if (current_process() == owner)
    thread.join();
  else
    thread.detach();
}

}  // namespace flowkit::detail
