"""Child side of test_fuzz.py: calls public mlxc.core functions with random valid and
invalid arguments (seeded), one call at a time, and reports what happened.

Usage: python fuzz_child.py SEED COUNT LOGFILE.  Before each call its description is
written (flushed) to LOGFILE, so the parent can name the call that crashed or hung.
Prints a JSON summary: counts of results and exceptions, and the calls that accepted an
argument that is invalid for any function (silently accepted invalid arguments)."""
import ast
import json
import os
import random
import resource
import sys

import numpy as np

# A huge allocation must fail with MemoryError, not swap the machine.
resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))

import mlxc.core as mx  # noqa: E402

CORE = os.path.dirname(os.path.abspath(mx.__file__))
# (namespace, stub file): mx itself and its submodules that have stubs
STUBS = [(ns, os.path.join(CORE, f"{ns or '__init__'}.pyi"))
         for ns in ("", "linalg", "random", "fft", "fast")]

# Not pure array functions: global state, files, callables, devices, streams, transforms.
SKIP_PREFIX = ("set_", "get_", "clear_", "reset_", "default_", "new_", "export", "import_",
               "save", "load", "is_", "device_count", "eval", "async_eval", "synchronize",
               "stream", "compile", "disable_", "enable_", "custom_function", "checkpoint",
               "vmap", "grad", "vjp", "jvp", "value_and_grad", "depends", "from_fp8", "to_fp8",
               "seed", "metal_kernel", "cuda_kernel", "precompiled_cuda_kernel")
SKIP_PARAMS = {"file", "fun", "file_or_callback", "primals", "tangents", "f", "callback"}

DTYPES = [mx.bool_, mx.uint8, mx.uint16, mx.uint32, mx.uint64, mx.int8, mx.int16, mx.int32,
          mx.int64, mx.float16, mx.bfloat16, mx.float32, mx.float64, mx.complex64]
EXTREME_INTS = [-2**63, -2**31 - 1, -7, -1, 0, 1, 2, 3, 5, 2**31, 2**40, 2**63 - 1]
SPECIAL = [0.0, -0.0, 1.0, -1.0, float("nan"), float("inf"), float("-inf"), 1e38, -1e-45, 65504.0]


def functions():
    out = []
    for ns, path in STUBS:
        if os.path.exists(path):
            out += _functions(ns, path)
    return out


def _functions(ns, path):
    tree = ast.parse(open(path).read())
    module = getattr(mx, ns) if ns else mx
    out = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        if node.name.startswith(SKIP_PREFIX):
            continue
        args = node.args
        pos = [a.arg for a in args.posonlyargs + args.args]
        kw = [a.arg for a in args.kwonlyargs if a.arg != "stream"]
        ndef = len(args.defaults)
        required = pos[:len(pos) - ndef]
        optional = pos[len(pos) - ndef:] + kw
        if SKIP_PARAMS & set(pos + kw) or args.vararg and node.name not in ("einsum",):
            continue
        fn = getattr(module, node.name, None)
        if callable(fn) and not isinstance(fn, type):
            out.append((f"{ns}.{node.name}" if ns else node.name, fn, required,
                        [o for o in optional if o != "stream"]))
    return out


class Gen:
    def __init__(self, rng):
        self.r = rng

    def shape(self, allow_bad=True):
        r = self.r
        c = r.random()
        if c < 0.1:
            return ()
        if c < 0.2:
            return (0,) if r.random() < 0.5 else (3, 0)
        nd = r.randint(1, 4)
        s = tuple(r.choice([1, 1, 2, 3, 4, 5, 7]) for _ in range(nd))
        if allow_bad and r.random() < 0.05:
            s = s[:-1] + (r.choice([-1, -3, 2**62]),)
        return s

    def array(self, shape=None, dtype=None):
        r = self.r
        shape = self.shape(False) if shape is None else shape
        dtype = dtype or r.choice(DTYPES)
        n = int(np.prod(shape)) if shape else 1
        if dtype == mx.bool_:
            v = np.array([r.random() < 0.5 for _ in range(n)], dtype=np.bool_)
        elif dtype in (mx.float16, mx.bfloat16, mx.float32, mx.float64, mx.complex64):
            v = np.array([r.choice(SPECIAL) if r.random() < 0.2 else r.gauss(0, 3) for _ in range(n)])
        else:
            v = np.array([r.randint(-3, 9) for _ in range(n)])
        a = mx.array(v.reshape(shape) if shape else (v[0] if n else 0))
        try:
            return a.astype(dtype)
        except Exception:
            return a

    def int_(self):
        return self.r.choice(EXTREME_INTS) if self.r.random() < 0.3 else self.r.randint(-3, 4)

    def value(self, name, first):
        """A random argument for a parameter called name (first: the first array)."""
        r = self.r
        nd = first.ndim if isinstance(first, mx.array) else 1
        if name in ("axis", "axis1", "axis2", "start_axis", "end_axis", "source", "destination"):
            c = r.random()
            if c < 0.6:
                return r.randint(-nd, max(nd - 1, 0)) if nd else 0
            if c < 0.75:
                return None
            if c < 0.9:
                return tuple(range(min(nd, 2)))
            return r.choice([50, -50, 2**40])
        if name == "axes":
            return r.choice([None, tuple(range(min(nd, 2))), [0], (0, 0), (60,)])
        if name in ("shape", "strides"):
            return self.shape()
        if name == "dtype":
            return r.choice(DTYPES + ["float32", 3])
        if name in ("keepdims", "reverse", "inclusive", "endpoint", "sparse", "equal_nan",
                    "copy", "allow_col_major", "sorted", "upper"):
            return r.choice([True, False])
        if name in ("k", "n", "N", "M", "m", "num", "kth", "offset", "decimals", "repeats",
                    "shift", "ddof", "precision", "num_splits", "indices_or_sections"):
            return self.int_() if r.random() < 0.8 else None
        if name in ("a_min", "a_max", "start", "stop", "step", "alpha", "beta", "rtol", "atol",
                    "nan", "posinf", "neginf", "constant_values", "vals", "val", "fill_value"):
            return r.choice([None, 0, 1.5, -2, float("nan"), self.array(())])
        if name == "pad_width":
            return r.choice([1, (1, 2), ((1, 0),) * nd, -1, ((0, 1, 2),)])
        if name == "mode":
            return r.choice(["constant", "edge", "bogus", None])
        if name == "indexing":
            return r.choice(["xy", "ij", "zz"])
        if name in ("arrays", "inputs"):
            return [self.array() for _ in range(r.randint(0, 3))]
        if name in ("indices", "start_indices"):
            shp = first.shape if isinstance(first, mx.array) and r.random() < 0.5 else self.shape(False)
            return self.array(shp, r.choice([mx.int32, mx.int64, mx.uint32, mx.float32]))
        if name == "subscripts":
            return r.choice(["ij,jk->ik", "ii", "i,i", "bad", "ij->k"])
        if r.random() < 0.15:
            return r.choice([None, 3, 2.5, "x", [1, 2], True])
        if first is not None and r.random() < 0.5:
            return self.array(first.shape)       # a second operand of the same shape
        return self.array()


def invalid(name, args, first):
    """A reason the call must be refused, whatever the function: an axis outside every
    array's rank, or a negative dimension in a shape."""
    nd = max([a.ndim for a in args.values() if isinstance(a, mx.array)] + [0])
    for k, v in args.items():
        if k in ("axis", "axis1", "axis2") and isinstance(v, int) and not isinstance(v, bool):
            if v >= nd + 1 or v < -(nd + 1):
                return f"{k}={v} with arrays of rank <= {nd}"
        if k == "shape" and isinstance(v, tuple) and any(isinstance(d, int) and d < 0 for d in v):
            if name not in ("reshape", "view"):           # -1 is inferred there
                return f"shape={v}"
    return None


def main():
    seed, count, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    gen = Gen(rng)
    funcs = functions()
    stats = {"ok": 0, "exceptions": {}, "accepted_invalid": [], "functions": len(funcs)}
    with open(log, "w") as logf:
        for i in range(count):
            name, fn, required, optional = rng.choice(funcs)
            args = {}
            first = None
            for p in required:
                args[p] = gen.value(p, first)
                if first is None and isinstance(args[p], mx.array):
                    first = args[p]
            for p in optional:
                if rng.random() < 0.4:
                    args[p] = gen.value(p, first)
            pos = [args[p] for p in required]
            kw = {p: args[p] for p in optional if p in args}
            desc = f"{i}: mx.{name}(" + ", ".join(
                [repr(v) if not isinstance(v, mx.array) else f"array{v.shape}:{v.dtype}" for v in pos]
                + [f"{k}={v!r}" if not isinstance(v, mx.array) else f"{k}=array{v.shape}:{v.dtype}"
                   for k, v in kw.items()]) + ")"
            logf.write(desc + "\n")
            logf.flush()
            try:
                out = fn(*pos, **kw)
                mx.eval([o for o in (out if isinstance(out, (list, tuple)) else [out])
                         if isinstance(o, mx.array)])
            except (Exception, MemoryError) as e:
                t = type(e).__name__
                stats["exceptions"][t] = stats["exceptions"].get(t, 0) + 1
                continue
            stats["ok"] += 1
            why = invalid(name, args, first)
            if why:
                stats["accepted_invalid"].append(desc + "  <- " + why)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
