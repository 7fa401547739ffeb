#!/usr/bin/env python3
"""summarize.py RUN.json [RUN2.json ...]: the engine benchmarks' results as markdown tables.

Reads Google Benchmark JSON written with --benchmark_repetitions=N
--benchmark_report_aggregates_only=true, and prints per benchmark the median ns per task (wall
clock, from the ns_per_task counter), the coefficient of variation of the repetitions, the CPU
time per task of the calling thread, and allocations per run; then the differences and ratios
against the peers measured in the same run (hand calls of one function and of N distinct ones). For serial/engine_run (manual time: run() only), the CPU column
covers the whole iteration, reset() included; for checkpoint/ and resume/ it includes the
untimed erase or rewind of the stored run. Checkpoint benchmarks are compared with the in-memory
engine of the same run; resume benchmarks are listed with their parts.
"""
import json
import sys


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = {}
    for b in data["benchmarks"]:
        name = b["run_name"]
        agg = b.get("aggregate_name")
        r = rows.setdefault(name, {})
        if agg in ("median", "cv", "mean"):
            r[agg] = b
    return data["context"], rows


def per_task(r, agg="median"):
    return r[agg]["ns_per_task"]


def cpu_per_task(r):
    b = r["median"]
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
    return b["cpu_time"] * scale / b["tasks"]


def main():
    for path in sys.argv[1:]:
        context, rows = load(path)
        print(f"### {path}: {context.get('date')}, load average {context.get('load_avg')}")
        print()
        print("| benchmark | ns/task (median) | CV | CPU ns/task of caller | allocs/run |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, r in rows.items():
            if "median" not in r:
                continue
            cv = r["cv"]["real_time"] * 100 if "cv" in r else float("nan")
            print(f"| {name} | {per_task(r):.2f} | {cv:.1f}% | {cpu_per_task(r):.2f} "
                  f"| {r['median'].get('allocs_per_run', float('nan')):.3g} |")
        print()
        med = {n: per_task(r) for n, r in rows.items() if "median" in r}
        cpu = {n: cpu_per_task(r) for n, r in rows.items() if "median" in r}
        print("| comparison | wall ns/task | CPU ns/task |")
        print("| --- | ---: | ---: |")
        for n in (100, 1000):
            for peer in ("hand_calls", "hand_calls_distinct"):
                hand = f"serial/{peer}/{n}"
                for v in ("engine_run", "engine_reset_run", "engine_construct_run"):
                    key = next((k for k in med if k.startswith(f"serial/{v}/{n}")), None)
                    if key and hand in med:
                        print(f"| {v}/{n} minus {peer} | {med[key] - med[hand]:+.2f} | "
                              f"{cpu[key] - cpu[hand]:+.2f} |")
        # Checkpoints: recorded runs against the in-memory engine of the same run (ns per atom,
        # from the means; and from the medians of the iterations' times, median_us).
        for n in (100, 1000):
            for where in ("serial", "pool:2"):
                base = rows.get(f"checkpoint/{where}/in_memory/{n}/manual_time")
                if not base or "median" not in base:
                    continue
                for sink in ("memory_backend", "lmdb_group_commit", "lmdb_fsync"):
                    r = rows.get(f"checkpoint/{where}/{sink}/{n}/manual_time")
                    if not r or "median" not in r:
                        continue
                    d_mean = per_task(r) - per_task(base)
                    d_median = (r["median"]["median_us"] - base["median"]["median_us"]) * 1e3 / n
                    print(f"| {where} {sink}/{n} minus in_memory | {d_mean:+.0f} (median run: {d_median:+.0f}) | |")
        for shape in ("fan", "dag"):
            for w in (1, 2):
                f = next((k for k in med if k.startswith(f"pool/flowkit/{shape}/workers:{w}")), None)
                t = next((k for k in med if k.startswith(f"pool/onetbb/{shape}/workers:{w}")), None)
                if f and t:
                    print(f"| {shape}, {w} worker(s): flowkit / oneTBB | {med[f] / med[t]:.2f}x | |")
        print()
        resumes = [(n, r) for n, r in rows.items() if n.startswith("resume") and "median" in r]
        if resumes:
            print("| resume | open (load + restore) µs | run µs | close µs | median run µs |")
            print("| --- | ---: | ---: | ---: | ---: |")
            for name, r in resumes:
                m = r["median"]
                if "open_us" in m:
                    print(f"| {name} | {m['open_us']:.1f} | {m['run_us']:.1f} | {m['close_us']:.1f} "
                          f"| {m['median_us']:.1f} |")
                else:
                    print(f"| {name} | load_run {m['load_us']:.1f} | decode: archive "
                          f"{m['decode_archive_us']:.1f}, bytes {m['decode_bytes_us']:.1f} | | |")
            print()


if __name__ == "__main__":
    main()
