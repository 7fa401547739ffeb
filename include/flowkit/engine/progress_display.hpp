#pragma once
// fk::progress_display: how far engines' runs are, for a person watching a terminal or reading a
// log. Per run: atoms done of the flow's atoms, the atoms running now, the time since the run
// began, and a last line with the state the run ended in.
//
//   fk::progress_display progress;           // on stderr; or progress{file}, a std::FILE*
//   progress.attach(eng);                     // or progress.attach(eng, "job-42"): the line's label
//
// On a terminal (isatty) each running engine has one line, redrawn in place every
// redraw_interval (100 ms) by a thread of the display, so that the elapsed time moves while an atom
// runs long; events only update what the lines show. When a run ends, its last line is written at
// once and stays above the lines of the runs still going. Anything else the program writes to the
// same terminal meanwhile breaks the picture: one display per terminal.
//
// Elsewhere (a pipe, a file: a log) lines are only ever added: one when a run starts, one per atom
// that finishes (its state, and the failure if it has one) — or, with line_interval set, at most
// one per interval — and the run's last line.
//
// "Done" counts atoms that succeeded or were ignored by a decider; a revert brings it down again.
// A display may serve any number of engines at once, from any threads (a conductor attaches one
// per job, labelled with the job's name).

#include <flowkit/core/failure.hpp>
#include <flowkit/core/states.hpp>
#include <flowkit/engine/detail/helper_thread.hpp>
#include <flowkit/engine/detail/run_state.hpp>
#include <flowkit/engine/listener.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#if defined(__unix__)
#include <sys/ioctl.h>
#include <unistd.h>
#endif

namespace flowkit {

/// How an fk::progress_display writes.
struct progress_options {
  /// On a terminal: the lines are redrawn this often while runs are under way (a run's last line is
  /// written at once); 0 redraws on every event as well.
  std::chrono::milliseconds redraw_interval{100};
  /// Not on a terminal: 0 writes a line for every atom that finishes; more writes at most one line
  /// per interval (a run's first and last lines are always written).
  std::chrono::milliseconds line_interval{0};
  /// Whether the output is a terminal; by default, whether its file descriptor is a tty.
  std::optional<bool> terminal;
  /// The width of a terminal line; by default the terminal's own (80 if it cannot be read).
  unsigned columns = 0;
};

namespace detail {

// One engine's run as the display shows it.
struct progress_run {
  struct running_atom {
    std::size_t index;
    std::string_view name;  // the flow's own label: it lives as long as the program
    float progress = -1;    // the last reported, or -1
  };

  std::string label;
  std::size_t total = 0;
  std::size_t done = 0;
  std::vector<running_atom> running;
  std::chrono::steady_clock::time_point started{};
  std::string first_failure;  // "atom: type: what"
};

inline std::string format_elapsed(std::chrono::steady_clock::duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  char text[32];
  if (ms < 10'000)
    std::snprintf(text, sizeof text, "%lld.%02llds", static_cast<long long>(ms / 1000),
                  static_cast<long long>(ms % 1000 / 10));
  else if (ms < 60'000)
    std::snprintf(text, sizeof text, "%lld.%llds", static_cast<long long>(ms / 1000),
                  static_cast<long long>(ms % 1000 / 100));
  else if (ms < 3'600'000)
    std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms % 60'000 / 1000));
  else
    std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(ms / 3'600'000),
                  static_cast<long long>(ms % 3'600'000 / 60'000));
  return text;
}

// The shared part of a display: the output, the runs under way, and (on a terminal) the thread
// that redraws them while nothing happens. Every change and every write is made under one lock.
class progress_board {
 public:
  using clock = std::chrono::steady_clock;

  progress_board(std::FILE* out, progress_options options) : out_(out), options_(options) {
#if defined(__unix__)
    terminal_ = options.terminal.value_or(::isatty(::fileno(out)) == 1);
#else
    terminal_ = options.terminal.value_or(false);
#endif
    if (terminal_) ticker_ = std::thread([this] { tick(); });
  }
  progress_board(const progress_board&) = delete;
  progress_board& operator=(const progress_board&) = delete;
  ~progress_board() {
    {
      std::lock_guard lock{mutex_};
      stopping_ = true;
    }
    wake_.notify_all();
    stop_thread(ticker_, owner_);
  }

  void run_started(progress_run& run, std::size_t done, flow_state to) {
    std::lock_guard lock{mutex_};
    run.started = clock::now();
    run.done = done;
    run.running.clear();
    run.first_failure.clear();
    if (std::find(active_.begin(), active_.end(), &run) == active_.end()) active_.push_back(&run);
    if (terminal_) {
      if (ticker_parked_) wake_.notify_all();
      redraw_on_event(run.started);
    } else {
      std::string line = prefix(run);
      line += to_string(to);
      line += ": ";
      append_count(line, run);
      emit_line(line, run.started);
    }
  }

  void run_ended(progress_run& run, flow_state to) {
    std::lock_guard lock{mutex_};
    const auto now = clock::now();
    std::erase(active_, &run);
    std::string line = prefix(run);
    line += to_string(to);
    line += ": ";
    append_count(line, run);
    line += " in ";
    line += format_elapsed(now - run.started);
    if (!run.first_failure.empty()) {
      line += "; first failure: ";
      line += run.first_failure;
    }
    if (terminal_)
      draw(&line, now);
    else
      emit_line(line, now);
  }

  void atom_changed(progress_run& run, const atom_event& e) {
    std::lock_guard lock{mutex_};
    if (counts_as_done(e.from) && run.done > 0)
      --run.done;  // a reset between runs counts down from an old count
    if (counts_as_done(e.to)) ++run.done;
    if (e.to == atom_state::running || e.to == atom_state::reverting) {
      run.running.push_back({e.index, e.atom});
    } else if (e.from == atom_state::running || e.from == atom_state::reverting) {
      std::erase_if(run.running, [&](const progress_run::running_atom& a) { return a.index == e.index; });
    }
    if (e.error && run.first_failure.empty()) {
      run.first_failure = std::string(e.atom) + ": " + e.error->type_name() + ": " + e.error->what();
    }
    if (terminal_) {
      if (options_.redraw_interval.count() == 0) draw(nullptr, clock::now());
      return;
    }
    const auto now = clock::now();
    if (finishes(e.to) &&
        (options_.line_interval.count() == 0 || now - last_output_ >= options_.line_interval)) {
      std::string line = prefix(run);
      append_count(line, run);
      line += ", ";
      line += format_elapsed(now - run.started);
      if (options_.line_interval.count() == 0) {
        line += ": ";
        line += e.atom;
        line += ' ';
        line += to_string(e.to);
        if (e.error) {
          line += " (";
          line += e.error->type_name();
          line += ": ";
          line += e.error->what();
          line += ')';
        }
      } else {
        append_running(line, run, std::string::npos);
      }
      emit_line(line, now);
    }
  }

  void progress_reported(progress_run& run, const progress_event& e) {
    std::lock_guard lock{mutex_};
    for (auto& a : run.running)
      if (a.name == e.atom) a.progress = e.value;
    if (terminal_ && options_.redraw_interval.count() == 0) draw(nullptr, clock::now());
  }

  // An engine going away: its run, if it never ended (its run() threw), leaves the display.
  void forget(progress_run& run) {
    std::lock_guard lock{mutex_};
    if (std::find(active_.begin(), active_.end(), &run) == active_.end()) return;
    std::erase(active_, &run);
    if (terminal_) draw(nullptr, clock::now());
  }

 private:
  static constexpr std::size_t most_lines = 10;  // a taller block would scroll away from the cursor

  static bool counts_as_done(atom_state s) noexcept {
    return s == atom_state::success || s == atom_state::ignore;
  }
  static bool finishes(atom_state s) noexcept {
    return s == atom_state::success || s == atom_state::failure || s == atom_state::reverted ||
           s == atom_state::revert_failure || s == atom_state::ignore;
  }

  static std::string prefix(const progress_run& run) { return "[" + run.label + "] "; }
  static void append_count(std::string& line, const progress_run& run) {
    line += std::to_string(run.done);
    line += '/';
    line += std::to_string(run.total);
    line += " done";
  }

  // ", running: a, b 40%, c +2", within `room` bytes (npos: no limit). Names that do not fit are
  // counted; a first name too long for the room is cut.
  static void append_running(std::string& line, const progress_run& run, std::size_t room) {
    if (run.running.empty()) return;
    const std::size_t start = line.size();
    line += ", running: ";
    for (std::size_t i = 0; i < run.running.size(); ++i) {
      std::string item(run.running[i].name);
      if (run.running[i].progress >= 0)
        item += " " + std::to_string(static_cast<int>(run.running[i].progress * 100)) + "%";
      const std::size_t left = run.running.size() - i - 1;
      const std::size_t tail = left ? 2 + std::to_string(left).size() : 0;  // " +N"
      const std::size_t used = line.size() - start + (i ? 2 : 0);
      if (room != std::string::npos && used + item.size() + tail > room) {
        if (i == 0 && room > used + tail + 4) {
          item.resize(room - used - tail - 3);
          line += item + "...";
          ++i;
        }
        if (i < run.running.size()) line += " +" + std::to_string(run.running.size() - i);
        return;
      }
      if (i) line += ", ";
      line += item;
    }
  }

  std::string live_line(const progress_run& run, clock::time_point now, std::size_t width) const {
    std::string line = prefix(run);
    append_count(line, run);
    line += ", ";
    line += format_elapsed(now - run.started);
    append_running(line, run, line.size() < width ? width - line.size() : 0);
    if (line.size() > width) line.resize(width);
    return line;
  }

  std::size_t width() const {
    unsigned columns = options_.columns;
#if defined(__unix__) && defined(TIOCGWINSZ)
    if (columns == 0) {
      winsize size{};
      if (::ioctl(::fileno(out_), TIOCGWINSZ, &size) == 0) columns = size.ws_col;
    }
#endif
    if (columns == 0) columns = 80;
    return columns > 1 ? columns - 1 : 1;  // writing the last column makes some terminals wrap
  }

  // On a terminal, events redraw only with redraw_interval 0; otherwise the ticker redraws, so that
  // an event costs no clock read and no write.
  void redraw_on_event(clock::time_point now) {
    if (options_.redraw_interval.count() == 0) draw(nullptr, now);
  }

  // Terminal: back to the first line of the block, the ended run's last line (it stays), then a
  // line per run under way, each cleared to its end, and whatever was below cleared.
  void draw(const std::string* ended, clock::time_point now) {
    const std::size_t columns = width();
    std::string text;
    if (lines_drawn_ > 0) {
      text += '\r';
      if (lines_drawn_ > 1) text += "\x1b[" + std::to_string(lines_drawn_ - 1) + "A";
    }
    if (ended) {
      text += *ended;
      text += "\x1b[K\n";
    }
    const std::size_t shown = active_.size() > most_lines ? most_lines - 1 : active_.size();
    for (std::size_t i = 0; i < shown; ++i) {
      if (i > 0) text += '\n';
      text += live_line(*active_[i], now, columns);
      text += "\x1b[K";
    }
    std::size_t lines = shown;
    if (shown < active_.size()) {
      text += "\n... and " + std::to_string(active_.size() - shown) + " more runs\x1b[K";
      ++lines;
    }
    text += "\x1b[J";
    lines_drawn_ = lines;
    write(text, now);
  }

  void emit_line(std::string& line, clock::time_point now) {
    line += '\n';
    write(line, now);
  }

  void write(const std::string& text, clock::time_point now) {
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
    last_output_ = now;
  }

  // Redraws every interval while runs are under way, so that the elapsed time moves and a long atom
  // shows. Idle for a second, it sleeps until a run starts (rather than each time no run is under
  // way: a waking thread would contend for the lock once per run).
  void tick() {
    using namespace std::chrono_literals;
    const auto interval = options_.redraw_interval.count() == 0 ? 100ms : options_.redraw_interval;
    std::size_t idle_ticks = 0;
    std::unique_lock lock{mutex_};
    while (!stopping_) {
      if (active_.empty() && interval * idle_ticks >= 1s) {
        ticker_parked_ = true;
        wake_.wait(lock, [&] { return stopping_ || !active_.empty(); });
        ticker_parked_ = false;
        idle_ticks = 0;
        continue;
      }
      wake_.wait_for(lock, interval, [&] { return stopping_; });
      if (stopping_) break;
      if (active_.empty()) {
        ++idle_ticks;
      } else {
        idle_ticks = 0;
        draw(nullptr, clock::now());
      }
    }
  }

  std::FILE* const out_;
  const progress_options options_;
  bool terminal_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool ticker_parked_ = false;
  std::int64_t owner_ = current_process();
  std::vector<progress_run*> active_;
  std::size_t lines_drawn_ = 0;  // terminal: lines of the block under way on screen now
  clock::time_point last_output_{};
  std::thread ticker_;
};

// What one engine registers. The engine calls it one event at a time; the board's lock guards the
// run's state, which other engines' events redraw.
class progress_engine_listener {
 public:
  progress_engine_listener(std::shared_ptr<progress_board> board, std::string label, std::size_t total,
                           const void* engine, std::size_t (*count_done)(const void*))
      : board_(std::move(board)), engine_(engine), count_done_(count_done) {
    run_.label = std::move(label);
    run_.total = total;
  }
  progress_engine_listener(progress_engine_listener&& other) noexcept
      : board_(std::move(other.board_)),
        engine_(other.engine_),
        count_done_(other.count_done_),
        run_(std::move(other.run_)) {}
  progress_engine_listener& operator=(progress_engine_listener&&) = delete;
  ~progress_engine_listener() {
    if (board_) board_->forget(run_);
  }

  void on_flow(const flow_event& e) {
    if (!under_way(e.from) && under_way(e.to))
      board_->run_started(run_, count_done_(engine_), e.to);  // a resumed run has atoms done already
    else if (under_way(e.from) && !under_way(e.to))
      board_->run_ended(run_, e.to);
  }
  void on_atom(const atom_event& e) { board_->atom_changed(run_, e); }
  void on_progress(const progress_event& e) { board_->progress_reported(run_, e); }

 private:
  static constexpr bool under_way(flow_state s) noexcept {
    return s == flow_state::running || s == flow_state::reverting || s == flow_state::suspending ||
           s == flow_state::resuming;
  }

  std::shared_ptr<progress_board> board_;
  const void* engine_;
  std::size_t (*count_done_)(const void*);
  progress_run run_;
};

}  // namespace detail

/// Shows how engines' runs are going on a terminal or in a log (see above). Copies share one output;
/// safe to use from any thread.
class progress_display {
 public:
  /// Writes to `out` (stderr by default), which must stay open while attached engines live.
  explicit progress_display(std::FILE* out = stderr, progress_options options = {})
      : board_(std::make_shared<detail::progress_board>(out, options)) {}

  /// Registers a listener on `eng` (between runs, as eng.listen()) that shows its runs under
  /// `label`, by default the flow's name. The output stays in use as long as an engine attached to
  /// it lives.
  template <class Engine>
  void attach(Engine& eng, std::string label = {}) const {
    if (label.empty()) label = std::string(Engine::flow_type::name.view());
    eng.listen(detail::progress_engine_listener{
        board_, std::move(label), Engine::atom_count, &eng, [](const void* engine) {
          const auto& e = *static_cast<const Engine*>(engine);
          std::size_t done = 0;
          for (std::size_t a = 0; a < Engine::atom_count; ++a) {
            const atom_state s = detail::run_state_access::state(e, a);
            done += s == atom_state::success || s == atom_state::ignore;
          }
          return done;
        }});
  }

 private:
  std::shared_ptr<detail::progress_board> board_;
};

}  // namespace flowkit
