// What loading a stored run costs without a flow: backend.load_run() of a run of N atoms
// committed directly through the backend API, each SUCCESS with an int result (4 bytes, as
// fk::persist stores it), then the N results decoded two ways: through a Boost binary archive
// (fk::deserialize_from, what a result of class type costs at least) and as bytes (what
// fk::persist does for an arithmetic result). For runs larger than the flows this binary
// instantiates (10,000 atoms): the backend's and the decoder's part of a resume, without the
// engine's own (checkpoint.hpp's resume/ benchmarks time the whole).
#include "checkpoint.hpp"

#include <cstddef>
#include <cstring>
#include <string>

namespace bench {
namespace {

void register_load(std::size_t atoms) {
  const std::string title = "resume_load/lmdb/" + std::to_string(atoms);
  benchmark::RegisterBenchmark(title.c_str(), [atoms](benchmark::State& state) {
    lmdb_sink store{fk::durability::process_crash_safe};
    fk::lmdb_backend& backend = store.backend;
    const std::string id = "load";
    std::string inputs;
    fk::serialize_to(inputs, fk::store<"v0">(1));
    backend.open_run(fk::run_spec{id, "default", "chain", 0x5eed, inputs});
    fk::batch changes;
    for (std::size_t i = 0; i < atoms; ++i) {
      fk::atom_detail& d = changes.next();
      d.name = "t" + std::to_string(i);
      d.state = fk::atom_state::success;
      d.version = static_cast<std::uint32_t>(i);
      std::string bytes;
      fk::serialize_to(bytes, static_cast<int>(i) + 2);
      d.result = std::move(bytes);
    }
    changes.set_flow_state(fk::flow_state::suspended);
    backend.commit(id, changes);

    // The iteration's time is load_run's; the decodes are counters.
    double load_ns = 0, archive_ns = 0, bytes_ns = 0;
    long long sum = 0;
    for (auto _ : state) {
      std::optional<fk::run_record> run;
      const double load = time_ns([&] { run = backend.load_run(id); });
      state.SetIterationTime(load * 1e-9);
      load_ns += load;
      archive_ns += time_ns([&] {
        for (const fk::atom_detail& d : run->atoms) {
          int v = 0;
          fk::deserialize_from(*d.result_bytes(), v);
          sum += v;
        }
      });
      bytes_ns += time_ns([&] {
        for (const fk::atom_detail& d : run->atoms) {
          const std::string& b = *d.result_bytes();
          int v = 0;
          if (b.size() >= sizeof v) std::memcpy(&v, b.data(), sizeof v);
          sum += v;
        }
      });
      if (run->atoms.size() != atoms) state.SkipWithError("wrong atom count");
    }
    benchmark::DoNotOptimize(sum);
    const auto runs = static_cast<double>(state.iterations());
    if (runs == 0) return;
    state.counters["load_us"] = load_ns / runs * 1e-3;
    state.counters["decode_archive_us"] = archive_ns / runs * 1e-3;
    state.counters["decode_bytes_us"] = bytes_ns / runs * 1e-3;
    state.counters["ns_per_task"] = load_ns / (runs * static_cast<double>(atoms));
    state.counters["tasks"] = static_cast<double>(atoms);
  })->UseManualTime();
}

}  // namespace

void register_checkpoint_load() {
  benchmark::AddCustomContext("checkpoint_dir", scratch_dir::base().string());
  benchmark::AddCustomContext("checkpoint_fs", scratch_dir::filesystem_name());
  for (std::size_t atoms : {100, 1000, 10000}) register_load(atoms);
}

}  // namespace bench
