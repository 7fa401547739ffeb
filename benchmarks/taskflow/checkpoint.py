#!/usr/bin/python3
"""checkpoint.py: what OpenStack TaskFlow's persistence costs, the peer of flowkit's checkpoint benchmarks.

Run by hand with Debian's Python and Debian's TaskFlow (not a virtualenv or pyenv Python):

    apt-get install -y python3-taskflow              # TaskFlow 5.0 on Debian 12
    apt-get install -y python3-sqlalchemy-utils      # optional: enables the sqlite rows
    /usr/bin/python3 benchmarks/taskflow/checkpoint.py [--quick] [--reps 5] \
        [--sizes 100,1000] [--resume-sizes 1000,2000] [--backends none,memory,dir,sqlite]

It prints markdown tables and, last, one line starting with `JSON ` holding every sample. All
backends store in one temporary directory (tempfile), removed at exit. The full run takes about
half an hour on 2 vCPUs; `--quick` (N=100, resume at 200/400, 2 repetitions) one to two minutes.

The flow is a chain like flowkit's chain benchmarks: N tasks in a linear_flow, task i
(`t<i>`) takes `v<i>` and returns `v<i+1>` = `v<i>` + 1, `v0` = 0 is injected; serial engine.
Backends: `none` = `engines.load` without a backend (TaskFlow's in-memory storage, no copies),
`memory` = `{'connection': 'memory'}` (deep copies on every read and write), `dir` = the
directory backend (one JSON file per logbook, flow detail and atom detail, rewritten in place
under a file lock), `sqlite` = the SQLAlchemy backend on an sqlite file (only when
sqlalchemy_utils is importable).

1. Per-atom cost of a run. Per repetition and backend: a fresh backend location, a fresh flow
   and flow detail, then `engines.load` (creates and saves the flow detail), `compile()`,
   `prepare()` (writes one atom detail per atom), `run()`. Timed from the start of load to the
   end of run (flow construction excluded), wall clock and process CPU time. Reported per atom,
   median and min-max over the repetitions; backends are interleaved within each repetition.
   The checkpoint cost per atom is the backend's time minus the `none` time of the same
   repetition (median and min-max of those paired differences).

2. Resume. A chain of N atoms checkpointed with all atoms but the last one done and the flow
   SUSPENDED, i.e. the state a run leaves when `engine.suspend()` is called from an atom
   listener on the SUCCESS of atom N-1. The state is written straight through the persistence
   API (models + `save_logbook`), because running the chain to get there costs O(N^2); a self
   check at the start compares it, atom by atom, with the state a real suspended run persists.
   At the first resume size the `dir` backend is also measured from a really suspended run.
   Then, on a fresh backend object (a new process would do the same; the `memory` backend can
   only be reused, `none` reuses the flow detail object) and a freshly built flow, timed:
   fetch (`get_logbook`, which reads every atom detail), `engines.load(flow, flow_detail=...,
   book=..., backend=...)`, `compile()`, `prepare()`, `run()` (validates, then runs the last
   atom only; the script checks that exactly one atom ran). The time from the start of run()
   to the flow's RUNNING notification (argument validation, then the flow-state write) and the
   time spent in the garbage collector are reported too. A 10,000-atom resume takes about ten
   minutes here (compile and validation are superlinear in N), so by default the sizes are
   1,000 and 2,000 and 10,000 is extrapolated from 2,000, labelled as such, as a range: growth
   exponent 2 and the exponent fitted on the `none` medians at 1,000 and 2,000.
   `--sizes '' --resume-sizes 10000 --resume-reps 1 --no-real-suspend` measures it directly.

`--report OUTPUT` prints the tables again from a saved output (its JSON line).

Noise: the VM is shared; the CPU-time columns are less sensitive to other processes than the
wall-clock ones. The machine, the load average at start and end, and versions are printed.
"""
import argparse
import contextlib
import gc
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid

from taskflow import engines, states, task
from taskflow import storage as tf_storage
from taskflow import version as tf_version
from taskflow.patterns import linear_flow
from taskflow.persistence import backends, models
from taskflow.persistence.backends import impl_dir


class Inc(task.Task):
    def execute(self, x):
        return x + 1


def chain(n):
    flow = linear_flow.Flow("chain-%d" % n)
    for i in range(n):
        flow.add(Inc(name="t%d" % i, provides="v%d" % (i + 1), rebind={"x": "v%d" % i}))
    return flow


def have_sqlite_backend():
    try:
        import sqlalchemy_utils  # noqa: F401  (taskflow's sqlalchemy tables need it)
        return True
    except ImportError:
        return False


class Store:
    """One backend location. conf() gives the configuration a new process would use."""

    def __init__(self, kind, root):
        self.kind = kind
        self.path = None
        self.backend = None
        if kind in ("dir", "sqlite"):
            self.path = tempfile.mkdtemp(prefix=kind + "-", dir=root)
        if kind != "none":
            self.backend = self.fresh_backend()
            with contextlib.closing(self.backend.get_connection()) as conn:
                conn.upgrade()

    def conf(self):
        if self.kind == "dir":
            return {"connection": "dir", "path": self.path}
        if self.kind == "sqlite":
            return {"connection": "sqlite:///" + os.path.join(self.path, "taskflow.db")}
        return {"connection": "memory"}

    def fresh_backend(self):
        """A new backend object on the same stored data (memory: the same object; none: None)."""
        if self.kind == "none":
            return None
        if self.kind == "memory" and self.backend is not None:
            return self.backend
        return backends.fetch(self.conf())

    def close(self):
        if self.backend is not None:
            self.backend.close()
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)


_gc = {"total": 0.0, "since": 0.0}


def _gc_callback(phase, info):
    if phase == "start":
        _gc["since"] = time.perf_counter()
    else:
        _gc["total"] += time.perf_counter() - _gc["since"]


gc.callbacks.append(_gc_callback)


class Timer:
    """Wall and process CPU time per phase, and the time spent in the garbage collector."""

    def __init__(self):
        self.wall = {}
        self.cpu = {}
        self._w = self._c = None
        self._gc0 = 0.0

    def start(self):
        self._gc0 = _gc["total"]
        self._w, self._c = time.perf_counter(), time.process_time()

    def gc_seconds(self):
        return _gc["total"] - self._gc0

    def lap(self, name):
        w, c = time.perf_counter(), time.process_time()
        self.wall[name] = w - self._w
        self.cpu[name] = c - self._c
        self._w, self._c = w, c


def measure_run(kind, n, root):
    """One fresh run of the N chain; returns wall and CPU seconds per phase."""
    store = Store(kind, root)
    try:
        flow = chain(n)
        gc.collect()
        t = Timer()
        t.start()
        book = models.LogBook("bench") if store.backend is not None else None
        eng = engines.load(flow, store={"v0": 0}, book=book, backend=store.backend, engine="serial")
        t.lap("load")
        eng.compile()
        t.lap("compile")
        eng.prepare()
        t.lap("prepare")
        eng.run()
        t.lap("run")
        t.gc = t.gc_seconds()
        assert eng.storage.fetch("v%d" % n) == n
        assert eng.storage.get_flow_state() == states.SUCCESS
        return t
    finally:
        store.close()


# --- the checkpointed state for the resume measurements ---------------------------------------

def run_and_suspend(store, n):
    """Runs the chain and suspends it when t<n-2> succeeds; returns (book uuid, flow detail uuid)."""
    flow = chain(n)
    book = models.LogBook("bench")
    eng = engines.load(flow, store={"v0": 0}, book=book, backend=store.backend, engine="serial")
    last_done = "t%d" % (n - 2)

    def on_success(state, details):
        if details.get("task_name") == last_done:
            eng.suspend()

    eng.atom_notifier.register(states.SUCCESS, on_success)
    eng.run()
    assert eng.storage.get_flow_state() == states.SUSPENDED, eng.storage.get_flow_state()
    return book.uuid, eng.storage.flow_uuid, eng


def write_checkpoint(store, n):
    """Writes the state run_and_suspend leaves, directly; returns (book uuid, flow detail uuid, fd)."""
    fd = models.FlowDetail("chain-%d" % n, str(uuid.uuid4()))
    fd.state = states.SUSPENDED
    inj = models.TaskDetail(tf_storage.Storage.injector_name, str(uuid.uuid4()))
    inj.state = states.SUCCESS
    inj.results = {"v0": 0}
    fd.add(inj)
    for i in range(n):
        ad = models.TaskDetail("t%d" % i, str(uuid.uuid4()))
        ad.version = "1.0"
        if i < n - 1:
            ad.put(states.SUCCESS, i + 1)
            ad.meta["progress"] = 1.0
        else:
            ad.state = states.PENDING
        fd.add(ad)
    book = models.LogBook("bench")
    book.add(fd)
    if store.backend is not None:
        with contextlib.closing(store.backend.get_connection()) as conn:
            conn.save_logbook(book)
    return book.uuid, fd.uuid, fd


def fetch_detail(backend, book_uuid, fd_uuid):
    with contextlib.closing(backend.get_connection()) as conn:
        book = conn.get_logbook(book_uuid)
    return book, book.find(fd_uuid)


def canonical(fd):
    atoms = {}
    for ad in fd:
        atoms[ad.name] = (type(ad).__name__, ad.state, ad.intention, ad.results, ad.failure,
                          ad.revert_results, ad.revert_failure, dict(ad.meta), ad.version)
    return fd.state, dict(fd.meta or {}), atoms


def self_check(root, n=30):
    """The written checkpoint equals what a really suspended run persists (dir backend)."""
    real = Store("dir", root)
    made = Store("dir", root)
    try:
        b1, f1, _ = run_and_suspend(real, n)
        b2, f2, _ = write_checkpoint(made, n)
        c1 = canonical(fetch_detail(real.fresh_backend(), b1, f1)[1])
        c2 = canonical(fetch_detail(made.fresh_backend(), b2, f2)[1])
        if c1 != c2:
            for name in sorted(set(c1[2]) | set(c2[2])):
                if c1[2].get(name) != c2[2].get(name):
                    print("  differs:", name, c1[2].get(name), c2[2].get(name), file=sys.stderr)
            raise SystemExit("self-check failed: flow %r/%r meta %r/%r" % (c1[0], c2[0], c1[1], c2[1]))
        pending = [k for k, v in c1[2].items() if v[1] == states.PENDING]
        return {"n": n, "flow_state": c1[0], "pending": pending}
    finally:
        real.close()
        made.close()


def count_dir_io(root, n):
    """File reads and writes of the dir backend during one fresh run of the N chain."""
    counts = {"read": 0, "write": 0}
    cls = impl_dir.Connection
    orig_get, orig_set = cls._get_item, cls._set_item

    def get_item(self, path):
        counts["read"] += 1
        return orig_get(self, path)

    def set_item(self, path, value, transaction):
        counts["write"] += 1
        return orig_set(self, path, value, transaction)

    cls._get_item, cls._set_item = get_item, set_item
    try:
        measure_run("dir", n, root)
    finally:
        cls._get_item, cls._set_item = orig_get, orig_set
    return counts


def measure_resume(kind, n, root, real_suspend=False):
    store = Store(kind, root)
    try:
        s = Timer()
        s.start()
        if real_suspend:
            book_uuid, fd_uuid, _engine = run_and_suspend(store, n)
            fd_mem = None
        else:
            book_uuid, fd_uuid, fd_mem = write_checkpoint(store, n)
        s.lap("setup")
        flow = chain(n)  # a new process rebuilds the flow (not timed)
        backend = store.fresh_backend()
        ran = []
        gc.collect()
        t = Timer()
        t.start()
        if backend is not None:
            book, fd = fetch_detail(backend, book_uuid, fd_uuid)
        else:
            book, fd = None, fd_mem
        t.lap("fetch")
        eng = engines.load(flow, flow_detail=fd, book=book, backend=backend, engine="serial")
        eng.atom_notifier.register(states.RUNNING, lambda state, details: ran.append(details["task_name"]))
        flow_running = []
        eng.notifier.register(states.RUNNING, lambda state, details: flow_running.append(time.perf_counter()))
        t.lap("load")
        eng.compile()
        t.lap("compile")
        eng.prepare()
        t.lap("prepare")
        run_start = time.perf_counter()
        eng.run()
        t.lap("run")
        gc_s = t.gc_seconds()
        # run() validates every atom's arguments, then writes the flow state RUNNING, then runs.
        until_running = flow_running[0] - run_start
        assert ran == ["t%d" % (n - 1)], ran[:5]
        assert eng.storage.fetch("v%d" % n) == n
        assert eng.storage.get_flow_state() == states.SUCCESS
        return t, s.wall["setup"], until_running, gc_s
    finally:
        store.close()


# --- reporting --------------------------------------------------------------------------------

def med(xs):
    return statistics.median(xs)


def span(xs, scale, fmt):
    return (fmt % (med(xs) * scale)) + " [" + (fmt % (min(xs) * scale)) + "–" + (fmt % (max(xs) * scale)) + "]"


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import networkx
    info = {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": platform.python_version(),
        "taskflow": tf_version.version_string(),
        "networkx": networkx.__version__,
        "kernel": platform.release(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    if have_sqlite_backend():
        import sqlalchemy
        import sqlite3
        info["sqlalchemy"] = sqlalchemy.__version__
        info["sqlite"] = sqlite3.sqlite_version
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sizes", default="100,1000")
    ap.add_argument("--resume-sizes", default="1000,2000")
    ap.add_argument("--resume-reps", type=int, default=None, help="default: --reps")
    ap.add_argument("--extrapolate-to", type=int, default=10000)
    ap.add_argument("--backends", default="none,memory,dir,sqlite")
    ap.add_argument("--no-real-suspend", action="store_true",
                    help="skip the dir row resumed from a really suspended run")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--report", metavar="OUTPUT",
                    help="measure nothing: print the tables again from an earlier output's JSON line")
    args = ap.parse_args()
    if args.report:
        with open(args.report) as f:
            line = next(x for x in f if x.startswith("JSON "))
        out = json.loads(line[5:])
        out.setdefault("extrapolate_to", args.extrapolate_to)
        report(out)
        return
    if args.quick:
        args.reps, args.sizes, args.resume_sizes = 2, "100", "200,400"
    sizes = [int(x) for x in args.sizes.split(",") if x]
    resume_sizes = [int(x) for x in args.resume_sizes.split(",") if x]
    resume_reps = args.resume_reps or args.reps
    kinds = [k for k in args.backends.split(",") if k]
    if "sqlite" in kinds and not have_sqlite_backend():
        print("sqlite backend skipped: sqlalchemy_utils is not importable", file=sys.stderr)
        kinds.remove("sqlite")
    assert kinds and kinds[0] == "none", "the first backend must be none (the baseline)"

    t_start = time.perf_counter()
    info = machine()
    root = tempfile.mkdtemp(prefix="taskflow-checkpoint-")
    out = {"machine": info, "reps": args.reps, "resume_reps": resume_reps, "runs": [], "resumes": []}
    try:
        out["self_check"] = self_check(root)
        print("self-check: the written checkpoint equals a suspended run's (N=%d, flow %s, pending %s)"
              % (out["self_check"]["n"], out["self_check"]["flow_state"], out["self_check"]["pending"]),
              file=sys.stderr)
        io100, io200 = count_dir_io(root, 100), count_dir_io(root, 200)
        out["dir_io"] = {"n100": io100, "n200": io200}

        # 1. per-atom cost of a run
        for n in sizes:
            for rep in range(args.reps):
                for kind in kinds:
                    t = measure_run(kind, n, root)
                    total_w, total_c = sum(t.wall.values()), sum(t.cpu.values())
                    rec = {"backend": kind, "n": n, "rep": rep, "wall": t.wall, "cpu": t.cpu, "gc": t.gc,
                           "total_wall": total_w, "total_cpu": total_c}
                    out["runs"].append(rec)
                    print("run %-6s N=%-5d rep %d: %.3f s wall, %.3f s CPU" % (kind, n, rep, total_w, total_c),
                          file=sys.stderr)

        # 2. resume
        for n in resume_sizes:
            for rep in range(resume_reps):
                rows = [(k, False) for k in kinds]
                if n == resume_sizes[0] and "dir" in kinds and not args.no_real_suspend:
                    rows.append(("dir", True))
                for kind, real in rows:
                    t, setup, until_running, gc_s = measure_resume(kind, n, root, real_suspend=real)
                    rec = {"backend": kind, "n": n, "rep": rep, "from": "suspended run" if real else "written",
                           "setup_wall": setup, "wall": t.wall, "cpu": t.cpu,
                           "run_until_flow_running": until_running, "gc": gc_s,
                           "total_wall": sum(t.wall.values()), "total_cpu": sum(t.cpu.values())}
                    out["resumes"].append(rec)
                    print("resume %-6s N=%-5d %-13s rep %d: %.3f s wall (%s)" % (
                        kind, n, rec["from"], rep, rec["total_wall"],
                        ", ".join("%s %.3f" % kv for kv in t.wall.items())), file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    out["elapsed_s"] = time.perf_counter() - t_start
    out["extrapolate_to"] = args.extrapolate_to
    report(out)
    print("JSON " + json.dumps(out, separators=(",", ":")))


def report(out):
    """Prints the tables from a result (measured now, or the JSON line of an earlier output)."""
    info = out["machine"]
    samples, rsamples, sizes, resume_sizes, kinds = {}, {}, [], [], []
    for rec in out["runs"]:
        samples.setdefault((rec["backend"], rec["n"]), []).append(rec)
        sizes += [rec["n"]] if rec["n"] not in sizes else []
        kinds += [rec["backend"]] if rec["backend"] not in kinds else []
    for rec in out["resumes"]:
        rsamples.setdefault((rec["backend"], rec["n"], rec["from"]), []).append(rec)
        resume_sizes += [rec["n"]] if rec["n"] not in resume_sizes else []
        kinds += [rec["backend"]] if rec["backend"] not in kinds else []
    print("TaskFlow %s, Python %s, networkx %s; %d CPUs (%s); load average %s at start, %s at end; "
          "%d repetitions; script time %.0f s." % (
              info["taskflow"], info["python"], info["networkx"], info["nproc"], info["cpu"],
              info["loadavg_start"], info["loadavg_end"], out["reps"], out["elapsed_s"]))
    print()
    io100, io200 = out["dir_io"]["n100"], out["dir_io"]["n200"]
    per_atom_io = {k: (io200[k] - io100[k]) / 100 for k in ("read", "write")}
    print("dir backend, one fresh run: %d file writes and %d reads at N=100, %d and %d at N=200 "
          "(%.1f writes and %.1f reads per added atom)." % (
              io100["write"], io100["read"], io200["write"], io200["read"],
              per_atom_io["write"], per_atom_io["read"]))
    print()
    if sizes:
        print_runs(sizes, kinds, samples)
    if resume_sizes:
        print_resumes(resume_sizes, kinds, rsamples, out.get("extrapolate_to", 10000), out)


def print_runs(sizes, kinds, samples):
    print("#### Per-atom cost of a run (load + compile + prepare + run), µs per atom, median [min–max]")
    print()
    print("| backend | N | total, wall | total, CPU | of which run(), wall | checkpoint cost vs none, wall | vs none, CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        base = {r["rep"]: r for r in samples[("none", n)]}
        for kind in kinds:
            recs = samples[(kind, n)]
            tw = [r["total_wall"] / n for r in recs]
            tc = [r["total_cpu"] / n for r in recs]
            rw = [r["wall"]["run"] / n for r in recs]
            if kind == "none":
                dw = dc = "—"
            else:
                dwl = [(r["total_wall"] - base[r["rep"]]["total_wall"]) / n for r in recs]
                dcl = [(r["total_cpu"] - base[r["rep"]]["total_cpu"]) / n for r in recs]
                dw, dc = span(dwl, 1e6, "%.0f"), span(dcl, 1e6, "%.0f")
            print("| %s | %d | %s | %s | %s | %s | %s |" % (
                kind, n, span(tw, 1e6, "%.0f"), span(tc, 1e6, "%.0f"), span(rw, 1e6, "%.0f"), dw, dc))
    print()


def print_resumes(resume_sizes, kinds, rsamples, target, out):
    print("#### Resume of an N-atom chain with N-1 atoms done, fresh engine, seconds, median [min–max]")
    print()
    print("Phases: wall-clock medians. \"to RUNNING\": from the start of run() to the flow's RUNNING "
          "notification (argument validation of every atom, then the flow-state write). "
          "GC: time in the garbage collector during the timed part, whatever the phase.")
    print()
    print("| backend | N | checkpoint from | fetch | load | compile | prepare | run() | of which to RUNNING "
          "| GC | total, wall | total, CPU |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    phases = ("fetch", "load", "compile", "prepare", "run")
    for (kind, n, src), recs in rsamples.items():
        cells = ["%.3f" % med([r["wall"][p] for r in recs]) for p in phases]
        cells.append("%.3f" % med([r["run_until_flow_running"] for r in recs]))
        cells.append("%.3f" % med([r["gc"] for r in recs]))
        print("| %s | %d | %s | %s | %s | %s |" % (
            kind, n, src, " | ".join(cells), span([r["total_wall"] for r in recs], 1, "%.2f"),
            span([r["total_cpu"] for r in recs], 1, "%.2f")))
    print()
    measured = list(resume_sizes)
    if target in measured or len(measured) < 2 or "none" not in kinds:
        return
    n1, n2 = measured[-2], measured[-1]
    fits = {}
    for col in ("total_wall", "total_cpu"):
        q1 = med([r[col] for r in rsamples[("none", n1, "written")]])
        q2 = med([r[col] for r in rsamples[("none", n2, "written")]])
        fits[col] = math.log(q2 / q1) / math.log(n2 / n1)
    print("#### EXTRAPOLATED, not measured: resume at N=%d from the medians at N=%d" % (target, n2))
    print()
    print("t(%d) = t(N=%d)·(%d/%d)^k for k = 2 (compile and validation are quadratic in their code) and "
          "for the k fitted on the none medians at N=%d and N=%d (wall %.2f, CPU %.2f): a range, "
          "low–high. Neither is reliable: between small sizes the growth is uneven (GC, caches, load)."
          % (target, n2, target, n2, n1, n2, fits["total_wall"], fits["total_cpu"]))
    print()
    print("| backend | total at N=%d, wall | extrapolated wall, s | total at N=%d, CPU | extrapolated CPU, s |"
          % (n2, n2))
    print("|---|---:|---:|---:|---:|")
    extra = []
    for kind in kinds:
        row = {"backend": kind, "n": target, "from_n": n2}
        cells = []
        for col in ("total_wall", "total_cpu"):
            t2 = med([r[col] for r in rsamples[(kind, n2, "written")]])
            a, b = sorted((t2 * (target / n2) ** 2, t2 * (target / n2) ** fits[col]))
            row[col] = [a, b]
            cells += ["%.2f" % t2, "%.0f–%.0f" % (a, b)]
        extra.append(row)
        print("| %s | %s |" % (kind, " | ".join(cells)))
    out["extrapolated"] = extra
    print()


if __name__ == "__main__":
    main()
