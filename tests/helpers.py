"""Shared helpers for the mlxc tests: dtype lists, conversion to numpy,
oracle comparison with per-dtype tolerances, and MLX's type-promotion rule.

Everything here was checked against real MLX 0.32.4 (run the suite with
MLXC_TEST_REFERENCE=mlx).
"""
import importlib
import os

import numpy as np

import mlxc.core as mx

# ---------------------------------------------------------------- dtypes --
DTYPE_NAMES = [
    "bool_", "uint8", "uint16", "uint32", "uint64",
    "int8", "int16", "int32", "int64",
    "float16", "bfloat16", "float32", "float64", "complex64",
]
DTYPE_SIZES = {
    "bool_": 1, "uint8": 1, "uint16": 2, "uint32": 4, "uint64": 8,
    "int8": 1, "int16": 2, "int32": 4, "int64": 8,
    "float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "complex64": 8,
}
UINT_NAMES = ["uint8", "uint16", "uint32", "uint64"]
SINT_NAMES = ["int8", "int16", "int32", "int64"]
INT_NAMES = UINT_NAMES + SINT_NAMES
FLOAT_NAMES = ["float16", "bfloat16", "float32", "float64"]
# dtypes for which numerical ops are generally tested (float64 is CPU-only
# in MLX; it still works on the CPU device).
REAL_FLOAT_NAMES = ["float16", "bfloat16", "float32"]

# numpy equivalents (bfloat16 has none: converted through float32)
NP_DTYPE = {
    "bool_": np.bool_, "uint8": np.uint8, "uint16": np.uint16,
    "uint32": np.uint32, "uint64": np.uint64, "int8": np.int8,
    "int16": np.int16, "int32": np.int32, "int64": np.int64,
    "float16": np.float16, "bfloat16": np.float32, "float32": np.float32,
    "float64": np.float64, "complex64": np.complex64,
}


def dt(name):
    """The mx.Dtype called ``name`` (``'bool_'`` for bool)."""
    return getattr(mx, name)


def dtype_name(d):
    """Short name of an mx.Dtype ('bool_' for bool), e.g. for ids."""
    for n in DTYPE_NAMES:
        if dt(n) == d:
            return n
    raise KeyError(d)


def kind(name):
    if name == "bool_":
        return "b"
    if name.startswith("uint"):
        return "u"
    if name.startswith("int"):
        return "i"
    if name == "complex64":
        return "c"
    return "f"


# -------------------------------------------------------- type promotion --
def promote(a, b):
    """MLX's result dtype name for a binary op between arrays of dtype
    names ``a`` and ``b`` (a compact rule, verified against MLX's table)."""
    if a == b:
        return a
    ka, kb = kind(a), kind(b)
    if "c" in (ka, kb):
        return "complex64"
    if ka == "b":
        return b
    if kb == "b":
        return a
    if ka == "f" and kb == "f":
        if {a, b} == {"float16", "bfloat16"}:
            return "float32"
        return a if DTYPE_SIZES[a] > DTYPE_SIZES[b] else b
    if ka == "f":
        return a
    if kb == "f":
        return b
    if ka == kb:  # both signed or both unsigned
        return a if DTYPE_SIZES[a] >= DTYPE_SIZES[b] else b
    u, s = (a, b) if ka == "u" else (b, a)
    if DTYPE_SIZES[u] < DTYPE_SIZES[s]:
        return s
    if u == "uint64":
        return "float32"
    return {1: "int16", 2: "int32", 4: "int64"}[DTYPE_SIZES[u]]


def promote_scalar(a, scalar):
    """Result dtype name of ``array(dtype a) <op> python scalar``: Python
    scalars are 'weak' and only change the kind when they must."""
    k = kind(a)
    if isinstance(scalar, bool):
        return a
    if isinstance(scalar, int):
        return "int32" if k == "b" else a
    if isinstance(scalar, float):
        return a if k in "fc" else "float32"
    if isinstance(scalar, complex):
        return "complex64"
    raise TypeError(scalar)


# ------------------------------------------------------------ conversion --
def to_np(a, dtype=None):
    """Convert an mx.array to numpy WITHOUT using the buffer protocol (so
    most tests do not depend on it).  Floats become float64, complex becomes
    complex128, ints int64 (uint64 stays uint64), bool stays bool, unless
    ``dtype`` is given."""
    assert isinstance(a, mx.array), type(a)
    name = dtype_name(a.dtype)
    if dtype is None:
        k = kind(name)
        dtype = {"b": np.bool_, "u": np.uint64 if name == "uint64" else np.int64,
                 "i": np.int64, "f": np.float64, "c": np.complex128}[k]
    out = np.array(a.tolist(), dtype=dtype)
    return out.reshape(a.shape)


# ------------------------------------------------------------ tolerances --
TOL = {
    "float16": (2e-3, 2e-3),
    "bfloat16": (1.6e-2, 1.6e-2),
    "float32": (2e-5, 1e-6),
    "float64": (1e-12, 1e-14),
    "complex64": (2e-5, 1e-6),
}


def tol(name):
    return TOL.get(name, (0.0, 0.0))


def assert_close(actual, expected, dtype=None, rtol=None, atol=None,
                 equal_nan=True, check_shape=True):
    """Compare an mx.array against a numpy oracle (typically float64).

    If ``dtype`` (an mx.Dtype or name) is given, the result dtype must match
    exactly.  Tolerances default to the result dtype's entry in TOL; integer
    and bool results must match exactly."""
    assert isinstance(actual, mx.array), f"expected mx.array, got {type(actual)}"
    if dtype is not None:
        want = dt(dtype) if isinstance(dtype, str) else dtype
        assert actual.dtype == want, f"dtype {actual.dtype} != {want}"
    expected = np.asarray(expected)
    if check_shape:
        assert tuple(actual.shape) == tuple(expected.shape), (
            f"shape {actual.shape} != {expected.shape}")
    name = dtype_name(actual.dtype)
    got = to_np(actual)
    if kind(name) in "fc":
        r, a = tol(name)
        r = r if rtol is None else rtol
        a = a if atol is None else atol
        np.testing.assert_allclose(got, expected, rtol=r, atol=a,
                                   equal_nan=equal_nan)
    else:
        np.testing.assert_array_equal(got, expected)


def rand(shape, name="float32", low=-3.0, high=3.0, seed=0):
    """Deterministic random test data: returns (mx.array, numpy float64
    values exactly representable in the dtype)."""
    rng = np.random.default_rng(seed)
    k = kind(name)
    if k == "b":
        v = rng.integers(0, 2, size=shape).astype(np.bool_)
    elif k in "ui":
        lo = 0 if k == "u" else int(low)
        v = rng.integers(lo, max(int(high), lo + 1) + 1, size=shape).astype(np.int64)
    elif k == "c":
        v = (rng.uniform(low, high, size=shape)
             + 1j * rng.uniform(low, high, size=shape)).astype(np.complex64)
    else:
        v = rng.uniform(low, high, size=shape).astype(np.float32)
    a = mx.array(v.tolist() if np.ndim(v) else v.item(), dtype=dt(name)) \
        if np.size(v) else mx.zeros(shape, dtype=dt(name))
    # round-trip so the oracle uses the exact stored values
    return a, to_np(a)


# ---------------------------------------------------------------- child interpreters

# A child interpreter runs from here: a directory with no mlxc in it, so a source checkout
# in the parent's cwd cannot shadow the mlxc under test.
CHILD_CWD = os.path.dirname(os.path.abspath(__file__))


def child_env(**extra):
    """os.environ for a child interpreter that imports the same mlxc as this process
    (installed or built in place), plus `extra` (e.g. MLXC_NUM_THREADS="2")."""
    import mlxc
    root = os.path.dirname(os.path.dirname(os.path.abspath(mlxc.__file__)))
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH")
                                                  else []))
    return env


def child_json(code, timeout=300, **env):
    """Run code in a child interpreter (child_env(**env)) and return the JSON it prints."""
    import json
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", code], env=child_env(**env), capture_output=True,
                       text=True, timeout=timeout, cwd=CHILD_CWD)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def assert_same_at_thread_counts(code, timeout=300, counts=("2", "3")):
    """code's JSON (child_json) at MLXC_NUM_THREADS=1 equals it at each of counts, key
    by key; returns the one-thread result."""
    one = child_json(code, timeout, MLXC_NUM_THREADS="1")
    for n in counts:
        other = child_json(code, timeout, MLXC_NUM_THREADS=n)
        for key in one:
            assert other[key] == one[key], (n, key)
    return one


# ------------------------------------------------------- mlxc internals --
class _AbsentInternal:
    """Stands in for mlxc-internal names under MLXC_TEST_REFERENCE=mlx, where
    they do not exist: module-level uses (parametrize lists) still build, and
    the tests that use them are marked mlxc_only, so they are skipped."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __repr__(self):
        return "<mlxc internal, absent under the MLX reference>"


def internal(module, *names):
    """``from module import names`` for mlxc internals; under the MLX
    reference each name is an _AbsentInternal, so the file still collects."""
    if os.environ.get("MLXC_TEST_REFERENCE", "").strip():
        got = [_AbsentInternal() for _ in names]
    else:
        mod = importlib.import_module(module)
        got = [getattr(mod, n) for n in names]
    return got[0] if len(got) == 1 else tuple(got)
