#pragma once
// fk::trace_listener: writes what engines do as Chrome trace events, a JSON file that Perfetto
// (ui.perfetto.dev) and chrome://tracing open: one complete event ("ph":"X") per atom execution
// and per revert, with the atom's flow, its final state and its attempt; one per run of a flow;
// one track per thread.
//
//   fk::trace_listener trace{"run.json"};   // one file, shared by any number of engines
//   trace.attach(eng);                       // or trace.attach(eng, "job-42"): the run's label
//
// Or, with no code at all: FLOWKIT_TRACE=run.json makes every engine of the process attach itself
// to one process-wide trace_listener on that file when it is built (detail::process_trace()).
//
// The file is in the JSON Array Format: "[" and then one event a line, so that a file cut short by
// a crash still opens (both viewers accept a missing "]"); the "]" is written when the last engine
// and the trace_listener that use the file are gone. Events are buffered and written at the end of
// every run, when 64 KiB have gathered, and otherwise within 100 ms by a thread of the file, so that
// a process killed in the middle of a run leaves what it did until a moment before.

#include <flowkit/core/failure.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/engine/detail/helper_thread.hpp>
#include <flowkit/engine/listener.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#if defined(__unix__)
#include <pthread.h>
#include <unistd.h>
#endif

namespace flowkit {

namespace detail {

// Appends `text` as the inside of a JSON string.
inline void append_json_string(std::string& out, std::string_view text) {
  const bool plain = std::none_of(text.begin(), text.end(), [](char c) {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
  });
  if (plain) {  // names usually are: one copy
    out += text;
    return;
  }
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[(c >> 4) & 0xf];
          out += hex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
}

template <class Integer>
void append_integer(std::string& out, Integer value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

// Nanoseconds as microseconds with three decimals, the unit of "ts" and "dur".
inline void append_microseconds(std::string& out, std::int64_t ns) {
  if (ns < 0) ns = 0;
  append_integer(out, ns / 1000);
  const auto fraction = static_cast<int>(ns % 1000);
  out += '.';
  out += static_cast<char>('0' + fraction / 100);
  out += static_cast<char>('0' + fraction / 10 % 10);
  out += static_cast<char>('0' + fraction % 10);
}

// One trace file, shared by every engine attached to it; all of it thread-safe.
class trace_file {
 public:
  using clock = std::chrono::steady_clock;

  // Throws std::system_error when the file cannot be created.
  explicit trace_file(std::string path) : path_(std::move(path)), origin_(clock::now()) {
    file_ = std::fopen(path_.c_str(), "w");
    if (!file_)
      throw std::system_error(errno, std::generic_category(),
                              "flowkit: cannot open trace file '" + path_ + "'");
    pid_ = current_process();
    buffer_.reserve(flush_size + 1024);
    buffer_ += '[';
    std::string name = "flowkit";
#if defined(__linux__)
    process_name_ = read_process_name();
    if (!process_name_.empty()) name = process_name_;
#endif
#if defined(__GLIBC__)
    name = program_invocation_short_name;  // whole, where the kernel's name has 15 characters
#endif
    std::string event = "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":";
    append_integer(event, pid_);
    event += ",\"args\":{\"name\":\"";
    append_json_string(event, name);
    event += "\"}}";
    append_locked(event);
    flush_locked();  // the file starts with "[" at once
    flusher_ = std::thread([this] { flush_behind(); });
  }

  trace_file(const trace_file&) = delete;
  trace_file& operator=(const trace_file&) = delete;

  // Writes what is buffered, closes the array and the file.
  ~trace_file() {
    {
      std::lock_guard lock{mutex_};
      stopping_ = true;
    }
    wake_.notify_all();
    stop_thread(flusher_, owner_);
    std::lock_guard lock{mutex_};
    buffer_ += "\n]\n";
    write_buffer();
    std::fclose(file_);
  }

  const std::string& path() const noexcept { return path_; }
  std::int64_t pid() const noexcept { return pid_; }
  std::int64_t since_origin(clock::time_point t) const noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t - origin_).count();
  }

  // The calling thread's track: a small number, given on the thread's first event in this file
  // with its "thread_name" metadata. A thread remembers the last file it wrote to, so the usual
  // case takes no lock.
  std::uint32_t track() {
    struct last_file {
      std::uint64_t file = 0;
      std::uint32_t track = 0;
    };
    thread_local last_file cached;
    if (cached.file == serial_) return cached.track;
    const std::thread::id me = std::this_thread::get_id();
    std::lock_guard lock{mutex_};
    std::uint32_t track = 0;
    for (const auto& [thread, number] : tracks_)
      if (thread == me) track = number;
    if (track == 0) {
      track = static_cast<std::uint32_t>(tracks_.size() + 1);
      tracks_.emplace_back(me, track);
      name_track(track);
    }
    cached = {serial_, track};
    return track;
  }

  // Appends one event (a JSON object). The buffer is written when it is large, and otherwise by
  // the file's thread within flush_delay.
  void write(std::string_view event) {
    std::lock_guard lock{mutex_};
    append_locked(event);
    if (buffer_.size() >= flush_size)
      flush_locked();
    else if (flusher_idle_)  // not only when the buffer was empty: a new track's names may be in it
      wake_.notify_one();
  }

  // Writes what is buffered and flushes the file, so that it survives a crash of the process.
  void flush() {
    std::lock_guard lock{mutex_};
    flush_locked();
  }

 private:
  static constexpr std::size_t flush_size = 64 * 1024;
  static constexpr auto flush_delay = std::chrono::milliseconds{100};

  // The file's thread: what was buffered is in the file within flush_delay, so that a process
  // killed in the middle of a run (when no run's end flushes) leaves all but its last moments.
  // It waits flush_delay after the first event it is woken for, so that a burst of events costs
  // one write, and it is woken only from its idle wait: at most once per flush_delay.
  void flush_behind() {
    std::unique_lock lock{mutex_};
    while (!stopping_) {
      flusher_idle_ = true;
      wake_.wait(lock, [&] { return stopping_ || !buffer_.empty(); });
      flusher_idle_ = false;
      wake_.wait_for(lock, flush_delay, [&] { return stopping_; });
      if (!buffer_.empty()) flush_locked();
    }
  }

  void append_locked(std::string_view event) {
    if (failed_) return;
    buffer_ += first_ ? "\n" : ",\n";  // separators before events: a cut file ends with an event
    first_ = false;
    buffer_ += event;
  }

  void flush_locked() {
    write_buffer();
    if (!failed_ && std::fflush(file_) != 0) fail(errno);
  }

  void write_buffer() {
    if (!failed_ && !buffer_.empty() &&
        std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
      fail(errno);
    buffer_.clear();
  }

  // A write that fails (a full disk) is said once; the trace stops, the engines run on.
  void fail(int error) {
    failed_ = true;
    std::fprintf(stderr, "flowkit: writing trace file '%s' failed: %s; tracing to it stops\n", path_.c_str(),
                 std::strerror(error));
  }

  void name_track(std::uint32_t track) {
    std::string name;
#if defined(__linux__)
    if (::gettid() == ::getpid()) {
      name = "main";
    } else {
      // A thread named by its program (pthread_setname_np) keeps its name; others inherit the
      // process's, which says nothing.
      char own[32] = {};
      if (::pthread_getname_np(::pthread_self(), own, sizeof own) == 0 && own[0] != '\0' &&
          own != process_name_)
        name = own;
    }
#endif
    if (name.empty()) name = "thread " + std::to_string(track);
    std::string event = "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":";
    append_integer(event, pid_);
    event += ",\"tid\":";
    append_integer(event, track);
    event += ",\"args\":{\"name\":\"";
    append_json_string(event, name);
    event += "\"}}";
    append_locked(event);
    // Tracks in the order the threads first appeared, the caller of run() usually first.
    event = "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":";
    append_integer(event, pid_);
    event += ",\"tid\":";
    append_integer(event, track);
    event += ",\"args\":{\"sort_index\":";
    append_integer(event, track);
    event += "}}";
    append_locked(event);
  }

#if defined(__linux__)
  static std::string read_process_name() {
    std::string name;
    if (std::FILE* comm = std::fopen("/proc/self/comm", "r")) {
      char text[64] = {};
      if (std::fgets(text, sizeof text, comm)) name = text;
      std::fclose(comm);
    }
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
    return name;
  }
#endif

  static std::uint64_t next_serial() noexcept {
    static std::atomic<std::uint64_t> files{0};
    return files.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  const std::string path_;
  const clock::time_point origin_;
  const std::uint64_t serial_ = next_serial();  // tells files apart in the threads' caches
  std::int64_t pid_ = 0;
  std::string process_name_;
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  bool first_ = true;
  bool failed_ = false;
  std::vector<std::pair<std::thread::id, std::uint32_t>> tracks_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool flusher_idle_ = false;
  std::int64_t owner_ = current_process();
  std::thread flusher_;
};

// What one engine registers: its runs' and atoms' timings, written to the shared file. The engine
// calls it one event at a time, so its own state needs no lock.
class trace_engine_listener {
 public:
  using clock = trace_file::clock;

  trace_engine_listener(std::shared_ptr<trace_file> file, std::string_view flow, std::string label,
                        std::size_t atom_count)
      : file_(std::move(file)),
        label_(label.empty() ? std::string(flow) : std::move(label)),
        started_(atom_count),
        attempts_(atom_count, 0) {
    // What every event of this engine repeats, formatted once.
    pid_ = ",\"pid\":";
    append_integer(pid_, file_->pid());
    pid_ += ",\"tid\":";
    args_ = ",\"args\":{\"flow\":\"";
    append_json_string(args_, flow);
    args_ += '"';
    if (label_ != flow) {
      args_ += ",\"run\":\"";
      append_json_string(args_, label_);
      args_ += '"';
    }
  }

  void on_atom(const atom_event& e) {
    switch (e.to) {
      case atom_state::running:
        ++attempts_[e.index];
        started_[e.index] = clock::now();
        return;
      case atom_state::reverting:
        started_[e.index] = clock::now();
        return;
      case atom_state::success:
      case atom_state::failure:
      case atom_state::reverted:
      case atom_state::revert_failure:
        if (e.from == atom_state::running || e.from == atom_state::reverting)
          write_atom(e, e.from == atom_state::running ? "execute" : "revert");
        return;
      default:
        return;
    }
  }

  void on_flow(const flow_event& e) {
    if (!under_way(e.from) && under_way(e.to)) {
      run_started_ = clock::now();
      if (e.from == flow_state::pending) std::fill(attempts_.begin(), attempts_.end(), 0);  // a new run
    } else if (under_way(e.from) && !under_way(e.to)) {
      write_run(e.to);
      file_->flush();
    }
  }

 private:
  static constexpr bool under_way(flow_state s) noexcept {
    return s == flow_state::running || s == flow_state::reverting || s == flow_state::suspending ||
           s == flow_state::resuming;
  }

  // {"name":…,"cat":…,"ph":"X","ts":…,"dur":…,"pid":…,"tid":…,"args":{"flow":…[,"run":…]
  void begin_complete_event(std::string_view name, std::string_view category, clock::time_point start,
                            clock::time_point end) {
    using namespace std::string_view_literals;
    const std::uint32_t track = file_->track();
    event_.clear();
    event_ += "{\"name\":\""sv;
    append_json_string(event_, name);
    event_ += "\",\"cat\":\""sv;
    event_ += category;
    event_ += "\",\"ph\":\"X\",\"ts\":"sv;
    append_microseconds(event_, file_->since_origin(start));
    event_ += ",\"dur\":"sv;
    append_microseconds(event_, std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    event_ += pid_;
    append_integer(event_, track);
    event_ += args_;
  }

  void write_atom(const atom_event& e, std::string_view category) {
    using namespace std::string_view_literals;
    const clock::time_point end = clock::now();
    begin_complete_event(e.atom, category, started_[e.index], end);
    event_ += ",\"state\":\""sv;
    event_ += to_string(e.to);
    event_ += "\",\"attempt\":"sv;
    append_integer(event_, attempts_[e.index]);
    if (e.error) {
      event_ += ",\"error\":\""sv;
      append_json_string(event_, e.error->type_name());
      event_ += ": "sv;
      append_json_string(event_, e.error->what());
      event_ += '"';
    }
    event_ += "}}"sv;
    file_->write(event_);
  }

  void write_run(flow_state final_state) {
    using namespace std::string_view_literals;
    const clock::time_point end = clock::now();
    begin_complete_event(label_, "flow", run_started_, end);
    event_ += ",\"state\":\""sv;
    event_ += to_string(final_state);
    event_ += "\"}}"sv;
    file_->write(event_);
  }

  std::shared_ptr<trace_file> file_;
  std::string label_;
  std::string pid_;                         // ,"pid":P,"tid":
  std::string args_;                        // ,"args":{"flow":"…"[,"run":"…"]
  std::vector<clock::time_point> started_;  // per atom: when its execute or revert began
  std::vector<std::uint32_t> attempts_;     // per atom: its executions in this run
  clock::time_point run_started_{};
  std::string event_;  // reused: an event is formatted here, outside the file's lock
};

}  // namespace detail

/// Writes what engines attached to it do to one Chrome trace (JSON) file (see above).
class trace_listener {
 public:
  /// Creates (or truncates) the file; throws std::system_error if it cannot.
  explicit trace_listener(std::string path) : file_(std::make_shared<detail::trace_file>(std::move(path))) {}
  /// Copies share the file (a conductor keeps one to attach it to each job's engine).
  trace_listener(const trace_listener&) = default;
  trace_listener& operator=(const trace_listener&) = default;
  trace_listener(trace_listener&&) noexcept = default;
  trace_listener& operator=(trace_listener&&) noexcept = default;
  /// Writes what is buffered.
  ~trace_listener() {
    if (file_) file_->flush();
  }

  /// Registers a listener on `eng` (between runs, as eng.listen()) that writes its runs and atoms to
  /// this file. `label` names the engine's runs (a job's name, say); by default the flow's name.
  /// The file stays open as long as an engine attached to it lives.
  template <class Engine>
  void attach(Engine& eng, std::string label = {}) const {
    eng.listen(detail::trace_engine_listener{file_, Engine::flow_type::name.view(), std::move(label),
                                             Engine::atom_count});
  }

  /// Writes what is buffered (runs write theirs when they end).
  void flush() const { file_->flush(); }
  /// The file's path.
  const std::string& path() const noexcept { return file_->path(); }

 private:
  std::shared_ptr<detail::trace_file> file_;
};

namespace detail {

// The process's trace: set by FLOWKIT_TRACE=<file>, read once, when the first engine is built; null
// when the variable is unset or empty, or when the file cannot be created (said once on stderr).
inline trace_listener* open_process_trace() noexcept {
  const char* path = std::getenv("FLOWKIT_TRACE");
  if (!path || *path == '\0') return nullptr;
  try {
    static trace_listener process_wide{path};
    return &process_wide;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s; FLOWKIT_TRACE is ignored: the engines run untraced\n", e.what());
  } catch (...) {
  }
  return nullptr;
}

inline trace_listener* process_trace() noexcept {
  static trace_listener* const trace = open_process_trace();
  return trace;
}

// Called by every engine's constructor: with FLOWKIT_TRACE unset, a test of a static's guard and
// of a null pointer, once per engine built, and nothing per run or per atom.
template <class Engine>
void trace_if_asked(Engine& eng) {
  if (trace_listener* trace = process_trace()) [[unlikely]]
    trace->attach(eng);
}

}  // namespace detail
}  // namespace flowkit
