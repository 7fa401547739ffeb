#pragma once
// What checkpoints cost: the chain of chain.hpp run by an engine that records every transition
// (fk::persist) against the same chain run in memory, in the same binary and the same run; and
// how long a stored run takes to resume. Include from one translation unit per N.
//
// Every iteration is one fresh run, as a user pays for it: building the engine (for a recorded
// run: the backend's open_run, which writes the new run), run(), and destroying the engine (for
// a recorded run: joining the journal's committer thread). The run is then erased from the
// backend, outside the timed part. Counters per run: open_us (construction), run_us, close_us
// (destruction), and ns_per_task for the three together (means over the iterations);
// median_us and min_us, the median and the least of the iterations' times (on a busy machine a
// few runs that wait for a CPU pull the mean up); allocs_per_run counts the timed part.
//
// The LMDB files live in a fresh directory under $FLOWKIT_BENCH_DIR (default: the temp
// directory): what an fsync costs is the disk's. The directory and its filesystem are printed in
// the benchmark's context (checkpoint_dir, checkpoint_fs).

#include "chain.hpp"

#include <flowkit/lmdb.hpp>

#include <sys/vfs.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace bench {

// A directory for LMDB files, removed with everything in it.
class scratch_dir {
 public:
  scratch_dir() {
    std::string tmpl = (base() / "flowkit-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = tmpl;
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path store() const { return path_ / "store"; }

  static std::filesystem::path base() {
    const char* dir = std::getenv("FLOWKIT_BENCH_DIR");
    return dir ? std::filesystem::path{dir} : std::filesystem::temp_directory_path();
  }
  // The filesystem base() is on, for the benchmark's context.
  static std::string filesystem_name() {
    struct statfs s {};
    if (::statfs(base().c_str(), &s) != 0) return "unknown";
    switch (static_cast<unsigned long>(s.f_type)) {
      case 0xEF53UL:
        return "ext2/3/4";
      case 0x01021994UL:
        return "tmpfs";
      case 0x58465342UL:
        return "xfs";
      case 0x9123683EUL:
        return "btrfs";
      case 0x794C7630UL:
        return "overlayfs";
      default:
        return "f_type 0x" + [&] {
          char hex[17];
          std::snprintf(hex, sizeof hex, "%lx", static_cast<unsigned long>(s.f_type));
          return std::string{hex};
        }();
    }
  }

 private:
  std::filesystem::path path_;
};

// Where the run is recorded: nowhere (the in-memory engine), fk::memory_backend, or LMDB with
// group commit (process_crash_safe: MDB_NOSYNC) or an fsync per commit (power_loss_safe).
enum class sink { in_memory, memory_backend, lmdb_group, lmdb_fsync };

inline const char* sink_name(sink s) {
  switch (s) {
    case sink::in_memory:
      return "in_memory";
    case sink::memory_backend:
      return "memory_backend";
    case sink::lmdb_group:
      return "lmdb_group_commit";
    case sink::lmdb_fsync:
      return "lmdb_fsync";
  }
  return "?";
}

// A backend of the sink's kind, with what it needs (a directory for LMDB).
struct lmdb_sink {
  scratch_dir dir;
  fk::lmdb_backend backend;
  explicit lmdb_sink(fk::durability d) : backend{dir.store(), {.durability = d}} {}
};

// Times the parts of each iteration and sets the per-run counters.
class run_meter {
 public:
  run_meter(benchmark::State& state, std::size_t tasks) : state_(state), tasks_(tasks) {}
  run_meter(const run_meter&) = delete;
  run_meter& operator=(const run_meter&) = delete;
  ~run_meter() {
    const auto runs = static_cast<double>(state_.iterations());
    if (runs == 0) return;
    const double total = open_ + run_ + close_;
    state_.counters["ns_per_task"] = total / (runs * static_cast<double>(tasks_));
    state_.counters["tasks"] = static_cast<double>(tasks_);
    state_.counters["open_us"] = open_ / runs * 1e-3;
    state_.counters["run_us"] = run_ / runs * 1e-3;
    state_.counters["close_us"] = close_ / runs * 1e-3;
    state_.counters["allocs_per_run"] = static_cast<double>(allocs_) / runs;
    if (!times_.empty()) {
      std::sort(times_.begin(), times_.end());
      state_.counters["median_us"] = times_[times_.size() / 2] * 1e-3;
      state_.counters["min_us"] = times_.front() * 1e-3;
    }
  }

  // One iteration: open() builds and returns the engine (or its holder), run(engine) runs it,
  // and the engine is destroyed; each part timed.
  template <class Open, class Run>
  void iteration(Open open, Run run) {
    using clock = std::chrono::steady_clock;
    const std::uint64_t a0 = allocations();
    const auto t0 = clock::now();
    clock::time_point t1, t2;
    {
      auto eng = open();
      t1 = clock::now();
      run(**eng);
      t2 = clock::now();
    }
    const auto t3 = clock::now();
    allocs_ += allocations() - a0;
    using ns = std::chrono::duration<double, std::nano>;
    open_ += ns(t1 - t0).count();
    run_ += ns(t2 - t1).count();
    close_ += ns(t3 - t2).count();
    times_.push_back(ns(t3 - t0).count());
    state_.SetIterationTime(times_.back() * 1e-9);
  }

 private:
  benchmark::State& state_;
  std::size_t tasks_;
  double open_ = 0, run_ = 0, close_ = 0;
  std::uint64_t allocs_ = 0;
  std::vector<double> times_;
};

// The engine on the heap: std::optional cannot hold it (it is neither copyable nor movable), and
// the timed part must include its destruction.
template <class Engine>
struct engine_box {
  Engine eng;
  Engine& operator*() noexcept { return eng; }
};

template <std::size_t N, class Eng>
bool chain_result_ok(const Eng& eng, int input) {
  return eng.state() == fk::flow_state::success &&
         eng.template get<name_v<'v', N>>() == input + static_cast<int>(N);
}

// One benchmark: fresh runs of the chain of N on `where` (0: serial; else a pool of that many
// threads), recorded to `s`.
template <std::size_t N>
void register_checkpoint_run(sink s, int threads) {
  const std::string where = threads == 0 ? "serial" : "pool:" + std::to_string(threads);
  const std::string title = "checkpoint/" + where + "/" + sink_name(s) + "/" + std::to_string(N);
  benchmark::RegisterBenchmark(title.c_str(), [s, threads](benchmark::State& state) {
    const auto flow = make_chain(std::make_index_sequence<N>{});
    int input = 1;
    benchmark::DoNotOptimize(input);
    std::optional<fk::thread_pool> pool;
    if (threads > 0) pool.emplace(static_cast<std::size_t>(threads));
    auto run = [&](auto& eng) {
      if (pool) {
        auto r = eng.run(*pool);
        benchmark::DoNotOptimize(r);
      } else {
        auto r = eng.run();
        benchmark::DoNotOptimize(r);
      }
      if (!chain_result_ok<N>(eng, input)) state.SkipWithError("wrong result");
    };
    // One run of each kind first, untimed: the journal's buffers and LMDB's pages warm up.
    auto recorded = [&](auto& backend) {
      std::uint64_t k = 0;
      auto one = [&](bool timed, run_meter* meter) {
        const std::string id = "run-" + std::to_string(k++);
        auto open = [&] {
          using engine_type = decltype(fk::engine{flow, fk::store<"v0">(input), fk::persist(backend, id)});
          return std::unique_ptr<engine_box<engine_type>>(new engine_box<engine_type>{
              engine_type{flow, fk::store<"v0">(input), fk::persist(backend, id)}});
        };
        if (timed)
          meter->iteration(open, run);
        else
          run(**open());
        backend.erase_run(id);
      };
      one(false, nullptr);
      run_meter meter{state, N};
      for (auto _ : state) one(true, &meter);
    };
    switch (s) {
      case sink::in_memory: {
        auto open = [&] {
          using engine_type = decltype(fk::engine{flow, fk::store<"v0">(input)});
          return std::unique_ptr<engine_box<engine_type>>(
              new engine_box<engine_type>{engine_type{flow, fk::store<"v0">(input)}});
        };
        run(**open());
        run_meter meter{state, N};
        for (auto _ : state) meter.iteration(open, run);
        break;
      }
      case sink::memory_backend: {
        fk::memory_backend backend;
        recorded(backend);
        break;
      }
      case sink::lmdb_group:
      case sink::lmdb_fsync: {
        lmdb_sink store{s == sink::lmdb_group ? fk::durability::process_crash_safe
                                              : fk::durability::power_loss_safe};
        recorded(store.backend);
        break;
      }
    }
  })->UseManualTime();
}

// Resuming a stored run of the chain of N whose atoms all succeeded but the last: building the
// engine loads the run and restores N - 1 results (open_us); run() runs the last atom and
// records it (run_us). Before each iteration, untimed, the stored run is put back: the last
// atom's detail PENDING without a result, the flow SUSPENDED. make_flow() gives a chain of N
// (the chain of chain.hpp, or another flow whose atoms pass v0 on to vN, t<N-1> last). Without
// MemoryBackend, the engine is instantiated for LMDB only (a large flow's compile cost).
template <std::size_t N, bool MemoryBackend = true, class MakeFlow>
void register_resume(sink s, MakeFlow make_flow) {
  const std::string title = std::string{"resume/"} + sink_name(s) + "/" + std::to_string(N);
  benchmark::RegisterBenchmark(title.c_str(), [s, make_flow](benchmark::State& state) {
    const auto flow = make_flow();
    int input = 1;
    benchmark::DoNotOptimize(input);
    auto resume = [&](auto& backend) {
      const std::string id = "resume";
      auto open = [&] {
        using engine_type = decltype(fk::engine{flow, fk::store<"v0">(input), fk::persist(backend, id)});
        return std::unique_ptr<engine_box<engine_type>>(new engine_box<engine_type>{
            engine_type{flow, fk::store<"v0">(input), fk::persist(backend, id, fk::resume_only)}});
      };
      // The stored run: the whole chain, then its last atom made PENDING again.
      {
        fk::engine eng{flow, fk::store<"v0">(input), fk::persist(backend, id)};
        eng.run();
      }
      fk::batch rewind;
      {
        const auto stored = backend.load_run(id);
        const std::string last{name_v<'t', N - 1>.view()};
        const fk::atom_detail* d = stored ? stored->find(last) : nullptr;
        if (!d || stored->atoms.size() != N) {
          state.SkipWithError("the stored run is not the chain's");
          return;
        }
        fk::atom_detail& pending = rewind.put(*d);
        pending.state = fk::atom_state::pending;
        pending.result = std::monostate{};
        rewind.set_flow_state(fk::flow_state::suspended);
      }
      auto run = [&](auto& eng) {
        auto r = eng.run();
        benchmark::DoNotOptimize(r);
        if (!chain_result_ok<N>(eng, input)) state.SkipWithError("wrong result");
      };
      run_meter meter{state, N};
      backend.commit(id, rewind);
      run(**open());  // once untimed
      for (auto _ : state) {
        backend.commit(id, rewind);
        meter.iteration(open, run);
      }
    };
    switch (s) {
      case sink::in_memory:
        break;
      case sink::memory_backend: {
        if constexpr (MemoryBackend) {
          fk::memory_backend backend;
          resume(backend);
        }
        break;
      }
      case sink::lmdb_group:
      case sink::lmdb_fsync: {
        lmdb_sink store{s == sink::lmdb_group ? fk::durability::process_crash_safe
                                              : fk::durability::power_loss_safe};
        resume(store.backend);
        break;
      }
    }
  })->UseManualTime();
}

template <std::size_t N>
void register_checkpoint_benchmarks() {
  for (int threads : {0, 2})
    for (sink s : {sink::in_memory, sink::memory_backend, sink::lmdb_group, sink::lmdb_fsync})
      register_checkpoint_run<N>(s, threads);
  for (sink s : {sink::memory_backend, sink::lmdb_group, sink::lmdb_fsync})
    register_resume<N>(s, [] { return make_chain(std::make_index_sequence<N>{}); });
}

}  // namespace bench
