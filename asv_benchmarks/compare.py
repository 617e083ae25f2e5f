#!/usr/bin/env python
"""Time the workloads of workloads.COMPARE on mlxc, MLX and NumPy side by side.

    python asv_benchmarks/compare.py [--mlx-python PATH] [--filter SUBSTR]
                                     [--repeat N] [--min-time SEC] [--json OUT]

Each backend runs in its own worker subprocess (this same file with
--worker), because MLX usually lives in another interpreter than mlxc and
because two array libraries in one process would share thread pools and
caches.  A backend whose module cannot be imported gets an "n/a" column.

To add a backend (torch, jax, ...): append a Backend below, and give the
workloads a builder for its family in workloads.py (`@<workload>.on("torch")`).
Each backend gets a --<name>-python option automatically.
"""

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass
class Backend:
    name: str          # column title and --<name>-python option
    module: str        # what the worker imports and hands to the builders
    family: str        # which builder of a workload to use ("mlx", "numpy")
    # Interpreters tried in order when none is given on the command line;
    # the first one that can import `module` wins.
    pythons: list = field(default_factory=lambda: [sys.executable])


BACKENDS = [
    Backend("mlxc", "mlxc.core", "mlx"),
    Backend("mlx", "mlx.core", "mlx", [sys.executable, "/work/mlxref/bin/python"]),
    Backend("numpy", "numpy", "numpy"),
]
# Ratios are printed as REFERENCE/<other> for every other backend.
REFERENCE = "mlxc"

NOISY = 1.5  # max/min run time above which a cell is starred
RESULT_MARK = "@@RESULT@@"  # stdout may carry library chatter; find our line


# ---------------------------------------------------------------- worker side

def worker(name, filt, repeat, min_time):
    import importlib

    sys.path.insert(0, HERE)
    import workloads

    backend = next(b for b in BACKENDS if b.name == name)
    try:
        module = importlib.import_module(backend.module)
    except Exception as e:  # ImportError, or a broken build raising anything
        print(RESULT_MARK + json.dumps({"import_error": "%s: %s" % (type(e).__name__, e)}))
        return
    version = getattr(module, "__version__", None)
    if version is None and "." in backend.module:  # mlx.core -> mlx
        parent = sys.modules.get(backend.module.split(".")[0])
        version = getattr(parent, "__version__", "?")
    results = {}
    for label, wname, params in workloads.COMPARE:
        if filt and filt not in label:
            continue
        try:
            fn = workloads.WORKLOADS[wname].build(backend.family, module, **params)
            if fn is None:
                results[label] = {"error": "no %s builder" % backend.family}
                continue
            med, inner, times = workloads.measure(fn, repeat=repeat, min_time=min_time)
            results[label] = {"median": med, "inner": inner, "min": min(times),
                              "max": max(times)}
        except Exception as e:  # one missing op must not sink the column
            results[label] = {"error": "%s: %s" % (type(e).__name__, e)}
    print(RESULT_MARK + json.dumps({"version": str(version), "results": results}))


# ---------------------------------------------------------------- driver side

def run_worker(python, backend, args):
    """Run one backend's worker; returns (results, None) or (None, why).

    The worker doubles as the import probe (one process fewer, and it sees
    exactly the sys.path the timing sees: the script's folder, not the cwd,
    so a source checkout of mlxc in the cwd is not picked up by accident).
    """
    cmd = [python, os.path.abspath(__file__), "--worker", backend.name,
           "--repeat", str(args.repeat), "--min-time", str(args.min_time)]
    if args.filter:
        cmd += ["--filter", args.filter]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--filter", default="", help="only workloads whose label contains this")
    p.add_argument("--repeat", type=int, default=11, help="timed runs per workload (median)")
    p.add_argument("--min-time", type=float, default=0.01,
                   help="seconds each run lasts at least (tiny bodies are looped)")
    p.add_argument("--backends", default=",".join(b.name for b in BACKENDS),
                   help="comma-separated subset of: %(default)s")
    p.add_argument("--json", help="also write the raw results to this file")
    for b in BACKENDS:
        p.add_argument("--%s-python" % b.name, metavar="PATH",
                       help="interpreter for %s (default: first of %s that imports it)"
                       % (b.name, ", ".join(b.pythons)))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        worker(args.worker, args.filter, args.repeat, args.min_time)
        return 0

    sys.path.insert(0, HERE)
    import workloads

    labels = [c[0] for c in workloads.COMPARE if args.filter in c[0]]
    if not labels:
        print("no workload matches %r" % args.filter)
        return 1
    wanted = args.backends.split(",")
    backends = [b for b in BACKENDS if b.name in wanted]

    data = {}  # backend name -> {label: {...}} or None
    for b in backends:
        python, out, why = run_backend(b, getattr(args, "%s_python" % b.name), args)
        if out:
            data[b.name] = out["results"]
            print("# %-6s %s %s via %s" % (b.name, b.module, out["version"], python))
        else:
            data[b.name] = None
            print("# %-6s n/a: %s" % (b.name, why))

    names = [b.name for b in backends]
    ref_ok = REFERENCE in data
    others = [n for n in names if n != REFERENCE] if ref_ok else []
    header = ["workload"] + names + ["%s/%s" % (REFERENCE, o) for o in others]
    rows = []
    errors = []
    for label in labels:
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
        rows.append(row)

    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    print("# median of %d runs per workload, each run >= %g s; ratio > 1 means %s is slower"
          % (args.repeat, args.min_time, REFERENCE))
    print("# * = noisy: slowest run > %gx the fastest (see --json for min/max)" % NOISY)
    for e in errors:
        print("# error: " + e)

    if args.json:
        with open(args.json, "w") as f:
            json.dump(data, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
