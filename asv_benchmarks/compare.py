#!/usr/bin/env python
"""Time a set of workloads on mlxc, MLX, NumPy, PyTorch and JAX side by side.

    python asv_benchmarks/compare.py [--set default|issue3] [--filter SUBSTR]
                                     [--repeat N] [--min-time SEC] [--threads N]
                                     [--backends a,b,..] [--<backend>-python PATH]
                                     [--json OUT]

Each backend runs in its own worker subprocess (this same file with
--worker), because MLX, torch and jax usually live in other interpreters than
mlxc and because two array libraries in one process would share thread
pools and caches.  A backend whose module cannot be imported in any of its
interpreters gets an "n/a" column.  Every backend gets --threads threads.

To add a backend: append a Backend below, and give the workloads a builder
for its family in workloads.py (`@<workload>.on("family")`).  Each backend
gets a --<name>-python option automatically.
"""

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))


PEERS_PYTHON = "/work/peers/bin/python"  # numpy 2.4, torch 2.13 CPU, jax 0.10.2
MLX_PYTHON = "/work/mlxref/bin/python"


def _torch_threads(torch, threads):
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # only allowed before the first parallel op; none ran yet
        pass


@dataclass
class Backend:
    name: str          # column title and --<name>-python option
    module: str        # what the worker imports and hands to the builders
    family: str        # which builder of a workload to use ("mlx", "numpy", ...)
    # Interpreters tried in order when none is given on the command line;
    # the first one that can import `module` wins.
    pythons: list = field(default_factory=lambda: [sys.executable])
    # XLA sizes its CPU thread pool from the CPUs the process may run on and
    # has no flag for it: such a backend gets its affinity cut to --threads.
    pin: bool = False
    # Called with (module, threads) after the import, for libraries whose
    # thread count is set by a call rather than an environment variable.
    configure: object = None


BACKENDS = [
    Backend("mlxc", "mlxc.core", "mlx"),
    Backend("mlx", "mlx.core", "mlx", [sys.executable, MLX_PYTHON]),
    Backend("numpy", "numpy", "numpy", [sys.executable, PEERS_PYTHON]),
    Backend("torch", "torch", "torch", [sys.executable, PEERS_PYTHON],
            configure=_torch_threads),
    Backend("jax", "jax", "jax", [sys.executable, PEERS_PYTHON], pin=True),
]
# Ratios are printed as REFERENCE/<other> for every other backend.
REFERENCE = "mlxc"
# "best peer" and the targets compare against the fastest of these (not MLX,
# whose CPU backend is a reference for behaviour, not a speed bar).
PEERS = ("numpy", "torch", "jax")


def thread_env(threads):
    """Environment giving every library `threads` threads (set before import)."""
    env = dict(os.environ)
    t = str(threads)
    for var in ("MLXC_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS"):
        env[var] = t
    # Eager jax on the CPU: multi-threaded Eigen inside ops (the default,
    # spelled out); the pool size itself follows the CPU affinity (pin).
    flags = env.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        env["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=true").strip()
    env.setdefault("JAX_PLATFORMS", "cpu")  # no probing for accelerators
    return env


NOISY = 1.5  # max/min run time above which a cell is starred
RESULT_MARK = "@@RESULT@@"  # stdout may carry library chatter; find our line


# ---------------------------------------------------------------- worker side

def selected(workloads, set_name, filt):
    return [c for c in workloads.SETS[set_name] if not filt or filt in c.label]


def worker(name, set_name, filt, repeat, min_time, threads):
    import importlib

    sys.path.insert(0, HERE)
    import workloads

    backend = next(b for b in BACKENDS if b.name == name)
    if backend.pin and hasattr(os, "sched_getaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) > threads:
            os.sched_setaffinity(0, cpus[:threads])
    try:
        module = importlib.import_module(backend.module)
        if backend.configure:
            backend.configure(module, threads)
    except Exception as e:  # ImportError, or a broken build raising anything
        print(RESULT_MARK + json.dumps({"import_error": "%s: %s" % (type(e).__name__, e)}))
        return
    version = getattr(module, "__version__", None)
    if version is None and "." in backend.module:  # mlx.core -> mlx
        parent = sys.modules.get(backend.module.split(".")[0])
        version = getattr(parent, "__version__", "?")
    results = {}
    for case in selected(workloads, set_name, filt):
        try:
            fn = case.build(backend.family, module)
            if fn is None:
                results[case.label] = {"error": "no %s builder" % backend.family}
                continue
            med, inner, times = workloads.measure(fn, repeat=repeat, min_time=min_time)
            results[case.label] = {"median": med, "inner": inner, "min": min(times),
                                   "max": max(times)}
        except Exception as e:  # one missing op must not sink the column
            results[case.label] = {"error": "%s: %s" % (type(e).__name__, e)}
        fn = None  # free this workload's inputs before building the next
    root = sys.modules[backend.module.split(".")[0]]
    print(RESULT_MARK + json.dumps({"version": str(version), "results": results,
                                    "file": getattr(root, "__file__", None)}))


# ---------------------------------------------------------------- driver side

def run_worker(python, backend, args):
    """Run one backend's worker; returns (results, None) or (None, why).

    The worker doubles as the import probe (one process fewer, and it sees
    exactly the sys.path the timing sees: the script's folder, not the cwd,
    so a source checkout of mlxc in the cwd is not picked up by accident).
    """
    cmd = [python, os.path.abspath(__file__), "--worker", backend.name,
           "--set", args.set, "--repeat", str(args.repeat),
           "--min-time", str(args.min_time), "--threads", str(args.threads)]
    if args.filter:
        cmd += ["--filter", args.filter]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=thread_env(args.threads))
    except OSError as e:
        return None, "cannot run %s: %s" % (python, e)
    for line in r.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            out = json.loads(line[len(RESULT_MARK):])
            if "import_error" in out:
                return None, "%s: %s" % (python, out["import_error"])
            return out, None
    tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"]
    return None, "worker failed with %s (rc=%d): %s" % (python, r.returncode, tail[0])


def run_backend(backend, explicit, args):
    """Try the given interpreter, else each default one, until one imports."""
    whys = []
    for python in [explicit] if explicit else backend.pythons:
        if os.path.sep in python and not os.path.exists(python):
            whys.append("%s: no such interpreter" % python)
            continue
        print("# %-6s trying %s ..." % (backend.name, python), file=sys.stderr, flush=True)
        out, why = run_worker(python, backend, args)
        if out:
            return python, out, None
        whys.append(why)
    return None, None, "; ".join(whys)


def fmt_time(t):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return "%.3g %s" % (t / scale, unit)
    return "%.3g ns" % (t / 1e-9)


def summarize(case, med):
    """The derived columns of one row from {backend: median seconds}."""
    ref = med.get(REFERENCE)
    peers = {n: t for n, t in med.items() if n in PEERS}
    row = {"best_peer": None, "ratio_best": None, "rate": None, "unit": None,
           "share": None, "target": case.target, "met": None}
    if peers:
        row["best_peer"] = min(peers, key=peers.get)
    if ref is not None:
        if peers:
            row["ratio_best"] = ref / peers[row["best_peer"]]
        row["rate"], row["unit"] = case.rate(ref)
        row["share"] = case.share(ref)
    if case.target is not None and row["ratio_best"] is not None:
        row["met"] = row["ratio_best"] <= case.target
    return row


def fmt_target(s):
    if s["target"] is None:
        return ""
    mark = {True: "met", False: "MISS", None: "?"}[s["met"]]
    return "<=%g %s" % (s["target"], mark)


def main(argv=None):
    sys.path.insert(0, HERE)
    import workloads

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--set", default="default", choices=sorted(workloads.SETS),
                   help="which list of workloads (default: %(default)s; issue3: the targets)")
    p.add_argument("--filter", default="", help="only workloads whose label contains this")
    p.add_argument("--repeat", type=int, default=11, help="timed runs per workload (median)")
    p.add_argument("--min-time", type=float, default=0.01,
                   help="seconds each run lasts at least (tiny bodies are looped)")
    p.add_argument("--threads", type=int, default=2,
                   help="threads every backend may use (default: %(default)s)")
    p.add_argument("--backends", default=",".join(b.name for b in BACKENDS),
                   help="comma-separated subset of: %(default)s")
    p.add_argument("--json", help="also write the raw results and the table to this file")
    for b in BACKENDS:
        p.add_argument("--%s-python" % b.name, metavar="PATH",
                       help="interpreter for %s (default: first of %s that imports it)"
                       % (b.name, ", ".join(b.pythons)))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        worker(args.worker, args.set, args.filter, args.repeat, args.min_time, args.threads)
        return 0

    cases = selected(workloads, args.set, args.filter)
    if not cases:
        print("no workload of set %r matches %r" % (args.set, args.filter))
        return 1
    wanted = args.backends.split(",")
    unknown = [w for w in wanted if w not in {b.name for b in BACKENDS}]
    if unknown:
        print("unknown backend(s): %s" % ", ".join(unknown))
        return 1
    backends = [b for b in BACKENDS if b.name in wanted]

    data = {}  # backend name -> {label: {...}} or None
    meta = {}
    for b in backends:
        python, out, why = run_backend(b, getattr(args, "%s_python" % b.name), args)
        if out:
            data[b.name] = out["results"]
            meta[b.name] = {"python": python, "version": out["version"], "file": out["file"]}
            # The file tells which build ran (a source tree or site-packages).
            print("# %-6s %s %s via %s (%s)" % (b.name, b.module, out["version"], python,
                                                out["file"]))
        else:
            data[b.name] = None
            meta[b.name] = {"error": why}
            print("# %-6s n/a: %s" % (b.name, why))

    names = [b.name for b in backends]
    others = [n for n in names if n != REFERENCE] if REFERENCE in names else []
    with_targets = any(c.target is not None for c in cases)
    header = (["workload"] + names + ["%s/%s" % (REFERENCE, o) for o in others]
              + ["best peer", "%s/best" % REFERENCE] + (["target"] if with_targets else [])
              + ["%s rate" % REFERENCE, "share"])
    rows, summaries, errors = [], {}, []
    for case in cases:
        label = case.label
        row = [label]
        med = {}
        for n in names:
            r = (data[n] or {}).get(label)
            if r and "median" in r:
                med[n] = r["median"]
                # Flag cells whose runs disagree a lot (a busy 2-core box,
                # thread wake-up latency): their median deserves a rerun.
                noisy = r["max"] > NOISY * r["min"]
                row.append(fmt_time(r["median"]) + ("*" if noisy else " "))
            else:
                row.append("n/a")
                if r and "error" in r and not r["error"].startswith("no "):
                    errors.append("%s on %s: %s" % (label, n, r["error"]))
        for o in others:
            ok = REFERENCE in med and o in med and med[o] > 0
            row.append("%.2fx" % (med[REFERENCE] / med[o]) if ok else "n/a")
        s = summaries[label] = summarize(case, med)
        row.append(s["best_peer"] or "n/a")
        row.append("%.2fx" % s["ratio_best"] if s["ratio_best"] is not None else "n/a")
        if with_targets:
            row.append(fmt_target(s))
        row.append("%.3g %s" % (s["rate"], s["unit"]) if s["rate"] is not None else "")
        row.append("%.0f%%" % (100 * s["share"]) if s["share"] is not None else "")
        rows.append(row)

    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    print("# median of %d runs per workload, each run >= %g s, %d threads per backend;"
          " ratio > 1 means %s is slower" % (args.repeat, args.min_time, args.threads, REFERENCE))
    print("# best peer = fastest of %s; share = %s's GFLOP/s over %g (matmuls) or GB/s"
          " over %g (the rest)" % ("/".join(PEERS), REFERENCE, workloads.PEAK_GFLOPS,
                                    workloads.PEAK_GBS))
    print("# * = noisy: slowest run > %gx the fastest (see --json for min/max)" % NOISY)
    if with_targets:
        met = [s["met"] for s in summaries.values() if s["met"] is not None]
        print("# targets met: %d of %d" % (sum(met), len(met)))
    for e in errors:
        print("# error: " + e)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"set": args.set, "threads": args.threads, "backends": meta,
                       "results": data, "summary": summaries}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
