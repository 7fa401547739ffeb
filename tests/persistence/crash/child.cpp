// flowkit-crash-child: the program crash_test.cpp kills. It runs one of the crash test's flows
// persisted to an LMDB store, logging each execute and revert to a file outside the store, and
// may kill itself with SIGKILL when an atom reaches a state. protocol.hpp has its command line.

#include "protocol.hpp"

#include <flowkit/flowkit.hpp>
#include <flowkit/lmdb.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

namespace fk = flowkit;
namespace crash = flowkit::crash;
using namespace std::chrono_literals;

namespace {

int log_fd = -1;

// One write(2) on an O_APPEND descriptor: the line is whole in the log or not there at all.
void log_line(char kind, std::string_view atom, bool rerun) {
  std::string line{kind};
  line += ' ';
  line += atom;
  if (rerun) line += " rerun";
  line += '\n';
  if (::write(log_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::abort();
}

// Tasks take a little time, so that a kill at a random moment often lands inside one.
void work(std::chrono::microseconds d) { std::this_thread::sleep_for(d); }

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::uint64_t salt(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

template <auto>
using u64 = std::uint64_t;

// Task Name: Out = mix(salt(Name) + sum of the inputs); logs its executes and reverts.
template <fk::name Name, fk::name Out, fk::name... Ins>
auto step() {
  return fk::task<Name>(fk::inputs<Ins...>, fk::outputs<Out>,
                        [](fk::execution exec, u64<Ins>... in) {
                          log_line('x', Name.view(), exec.rerun());
                          work(200us);
                          return mix(salt(Name.view()) + (in + ... + 0));
                        })
      .on_revert([](u64<Ins>..., const fk::outcome<std::uint64_t>&) {
        log_line('r', Name.view(), false);
        work(100us);
      });
}

// a19 of the revert variant: always fails.
auto failing_a19() {
  return fk::task<"a19">(fk::inputs<"v18">, fk::outputs<"v19">,
                         [](fk::execution exec, std::uint64_t) -> std::uint64_t {
                           log_line('x', "a19", exec.rerun());
                           work(200us);
                           throw std::runtime_error("a19 always fails");
                         })
      .on_revert([](std::uint64_t, const fk::outcome<std::uint64_t>&) {
        log_line('r', "a19", false);
        work(100us);
      });
}

// a07 of the retry variant: fails on the retry's attempts 1 and 2. The attempt number is an
// input, so a resumed run fails and succeeds exactly where an uninterrupted one does.
auto flaky_a07() {
  return fk::task<"a07">(fk::inputs<"v06", "attempt">, fk::outputs<"v07">,
                         [](fk::execution exec, std::uint64_t in, int attempt) {
                           log_line('x', "a07", exec.rerun());
                           work(200us);
                           if (attempt < 3)
                             throw std::runtime_error("a07 fails on attempt " + std::to_string(attempt));
                           return mix(salt("a07") + in + static_cast<std::uint64_t>(attempt));
                         })
      .on_revert([](std::uint64_t, int, const fk::outcome<std::uint64_t>&) {
        log_line('r', "a07", false);
        work(100us);
      });
}

// times(3) that also provides its attempt number in the slot "attempt" (fk::times provides none).
constexpr fk::retry_spec<fk::times_controller, "attempt"> three_attempts{{3}};

// The flows of protocol.hpp's shape(): first the atoms before a06, then those after a07.
auto head() {
  return std::tuple{step<"a00", "v00", "seed">(), step<"a01", "v01", "v00">(),
                    step<"a02", "v02", "v00">(),  step<"a03", "v03", "v00">(),
                    step<"a04", "v04", "v00">(),  step<"a05", "v05", "v01", "v02", "v03", "v04">()};
}
auto middle() {
  return std::tuple{step<"a08", "v08", "v07">(),
                    step<"a09", "v09", "v08">(),
                    step<"a10", "v10", "v09">(),
                    step<"a11", "v11", "v09">(),
                    step<"a12", "v12", "v09">(),
                    step<"a13", "v13", "v09">(),
                    step<"a14", "v14", "v10", "v11", "v12", "v13">(),
                    step<"a15", "v15", "v14">(),
                    step<"a16", "v16", "v14">(),
                    step<"a17", "v17", "v15", "v16">(),
                    step<"a18", "v18", "v17">()};
}

template <fk::name Name, class... Parts>
auto graph(Parts... parts) {
  return std::apply([](auto... children) { return fk::graph_flow<Name>(children...); },
                    std::tuple_cat(std::move(parts)...));
}

auto plain_flow() {
  return graph<"crash_plain">(head(), std::tuple{step<"a06", "v06", "v05">(), step<"a07", "v07", "v06">()},
                              middle(), std::tuple{step<"a19", "v19", "v18">()});
}
auto revert_flow() {
  return graph<"crash_revert">(head(), std::tuple{step<"a06", "v06", "v05">(), step<"a07", "v07", "v06">()},
                               middle(), std::tuple{failing_a19()});
}
auto retry_flow() {
  auto sub = fk::linear_flow<"sub">(step<"a06", "v06", "v05">(), flaky_a07()).retry(three_attempts);
  return graph<"crash_retry">(head(), std::tuple{sub}, middle(), std::tuple{step<"a19", "v19", "v18">()});
}

// Records every atom transition, and kills the process at the N-th time ATOM reaches STATE. The
// engine calls listeners one at a time, after the transition's checkpoint is recorded.
struct watcher {
  std::vector<std::string>* events;
  std::string atom;
  fk::atom_state state{};
  int nth = 0;
  int seen = 0;

  void on_atom(const fk::atom_event& e) {
    std::string line = "event ";
    line += e.atom;
    line += ' ';
    line += fk::to_string(e.to);
    events->push_back(std::move(line));
    if (nth > 0 && e.atom == atom && e.to == state && ++seen == nth) ::kill(::getpid(), SIGKILL);
  }
};

fk::atom_state parse_state(std::string_view s) {
  for (unsigned i = 0; i < fk::atom_state_count; ++i)
    if (fk::to_string(static_cast<fk::atom_state>(i)) == s) return static_cast<fk::atom_state>(i);
  throw std::invalid_argument("unknown atom state " + std::string(s));
}

void put(const std::string& text) {
  for (std::size_t at = 0; at < text.size();) {
    const ssize_t w = ::write(1, text.data() + at, text.size() - at);
    if (w <= 0) std::abort();
    at += static_cast<std::size_t>(w);
  }
}

template <fk::name... Slots>
struct slots {};

using all_values = slots<"v00", "v01", "v02", "v03", "v04", "v05", "v06", "v07", "v08", "v09", "v10", "v11",
                         "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19">;

template <class Result, fk::name... Slots>
void put_results(const Result& r, std::string& out, slots<Slots...>) {
  ((out += "result ", out += Slots.view(), out += ' ',
    out += r.template has<Slots>() ? std::to_string(r.template get<Slots>()) : std::string("none"),
    out += '\n'),
   ...);
}

template <class History>
void put_history(const History& history, std::string& out) {
  for (const auto& attempt : history) {
    out += "history " + std::to_string(attempt.value);
    for (const fk::failure& f : attempt.failures) out += ' ' + f.atom();
    out += '\n';
  }
}

struct options {
  crash::variant variant{};
  bool pool = false;
  fk::durability durability{};
  std::string store, log;
  watcher kill{};
};

// Retried: the flow has the retry "sub_retry", whose attempts are printed.
template <bool Retried, class Flow>
int run(Flow flow, const options& o) {
  fk::lmdb_backend backend{o.store, {.durability = o.durability}};
  fk::engine eng{std::move(flow), fk::store<"seed">(std::uint64_t{7}),
                 fk::persist(backend, std::string(crash::run_id))};
  std::vector<std::string> events;
  events.reserve(256);
  watcher w = o.kill;
  w.events = &events;
  eng.listen(w);
  std::optional<fk::thread_pool> pool;
  if (o.pool) pool.emplace(4);

  put("started\n");
  const auto t0 = std::chrono::steady_clock::now();
  auto r = pool ? eng.run(*pool) : eng.run();
  const auto elapsed = std::chrono::steady_clock::now() - t0;

  std::string out;
  for (const auto& e : events) out += e + '\n';
  out += "state ";
  out += fk::to_string(r.state());
  out += '\n';
  put_results(r, out, all_values{});
  for (const fk::failure& f : r.failures())
    out += "failure " + f.atom() + ' ' + f.type_name() + ": " + f.what() + '\n';
  if constexpr (Retried) {
    put_results(r, out, slots<"attempt">{});
    put_history(r.template history<"sub_retry">(), out);
  }
  out += "elapsed_us " +
         std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()) + '\n';
  put(out);
  return 0;
}

options parse(int argc, char** argv) {
  if (argc != 6 && argc != 9)
    throw std::invalid_argument(
        "usage: flowkit-crash-child VARIANT EXECUTOR DURABILITY STORE LOG [ATOM STATE N]");
  options o;
  const std::string_view v = argv[1], ex = argv[2], d = argv[3];
  bool known = false;
  for (crash::variant each : crash::all_variants)
    if (crash::to_string(each) == v) o.variant = each, known = true;
  if (!known) throw std::invalid_argument("unknown variant " + std::string(v));
  if (ex != "serial" && ex != "pool") throw std::invalid_argument("unknown executor " + std::string(ex));
  o.pool = ex == "pool";
  if (d != "process" && d != "power") throw std::invalid_argument("unknown durability " + std::string(d));
  o.durability = d == "power" ? fk::durability::power_loss_safe : fk::durability::process_crash_safe;
  o.store = argv[4];
  o.log = argv[5];
  if (argc == 9) {
    o.kill.atom = argv[6];
    o.kill.state = parse_state(argv[7]);
    o.kill.nth = std::stoi(argv[8]);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const options o = parse(argc, argv);
    log_fd = ::open(o.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error("cannot open the log " + o.log);
    switch (o.variant) {
      case crash::variant::plain:
        return run<false>(plain_flow(), o);
      case crash::variant::revert:
        return run<false>(revert_flow(), o);
      case crash::variant::retry:
        return run<true>(retry_flow(), o);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flowkit-crash-child: %s\n", e.what());
  }
  return 3;
}
