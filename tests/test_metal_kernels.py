"""The GPU half: routing of nodes to the GPU, and every Metal kernel against the CPU
kernels on the same inputs, at every lane order of the emulated device.

Oracle: the CPU kernels (themselves tested against numpy/float64 elsewhere).  Exact
(bit-for-bit up to NaN payloads) for copy/cast of in-range values, integer/bool ops,
comparisons, min/max, + - * / and the rounding/sign family; transcendentals within
stated ulps (MSL math vs the CPU's vmath).  Skipped, with the reason, without the
emulator (tests/metal_emu) unless MLXC_TEST_METAL=real on a Mac.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import mlxc.core as mx
from conftest import METAL_REAL
from helpers import child_env, internal

_node_device = internal("mlxc._core.array", "_node_device")

GPU_DTYPES = ["bool_", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
              "int64", "float16", "bfloat16", "float32"]
INTS = ["uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64"]
FLOATS = ["float16", "bfloat16", "float32"]
LANES = ["hardware"] if METAL_REAL else ["forward", "reverse", "shuffle"]


@pytest.fixture(params=LANES)
def lanes(request, gpu):
    """The GPU with the emulator's lane order set (the hardware's own order on Metal)."""
    if not METAL_REAL:
        from mlxc._core.metal import executor_emu
        executor_emu.set_lane_order(request.param, 7)
        yield request.param
        executor_emu.set_lane_order("forward", 0)
    else:
        yield request.param


def dt(name):
    return getattr(mx, name)


def values(name, shape, seed=0, lo=-100, hi=100):
    """A CPU-evaluated array of dtype name with values in range for every cast."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    if name == "bool_":
        v = rng.integers(0, 2, n).astype(np.bool_)
    elif name in INTS:
        lo2 = 0 if name.startswith("u") else lo
        hi2 = min(hi, 127)
        v = rng.integers(lo2, hi2 + 1, n)
    else:
        v = (rng.standard_normal(n) * 20).astype(np.float32)
        v[::7] = np.round(v[::7])           # some exact integers (round/floor ties)
    x = mx.array(np.asarray(v).reshape(shape))
    if name != "bool_":
        x = x.astype(dt(name))
    mx.eval(x)
    return x


def run(f, device, *args):
    """f(*args) built on device, evaluated; the result's node device is checked."""
    with mx.stream(device):
        r = f(*args)
    outs = r if isinstance(r, (list, tuple)) else [r]
    for o in outs:
        if not any(o is a for a in args):       # ops that return their input make no node
            assert _node_device(o) == (1 if device == mx.gpu else 0)
    mx.eval(outs)
    return r


def as_np(x):
    if x.dtype == mx.bfloat16:
        return np.array(x.astype(mx.float32))
    return np.array(x)


def assert_same(g, c, ulps=0, atol=0.0):
    """GPU result g equals CPU result c: exactly (NaNs equal), or within ulps of the
    result's dtype / atol."""
    assert g.dtype == c.dtype and g.shape == c.shape
    a, b = as_np(g), as_np(c)
    if ulps == 0 and atol == 0.0:
        np.testing.assert_array_equal(a, b)
        return
    fa, fb = a.astype(np.float64), b.astype(np.float64)
    both_nan = np.isnan(fa) & np.isnan(fb)
    assert not np.any(np.isnan(fa) != np.isnan(fb)), "NaN in one result only"
    same = (fa == fb) | both_nan
    eps = {mx.float16: 2.0 ** -10, mx.bfloat16: 2.0 ** -7, mx.float32: 2.0 ** -23}[g.dtype]
    tol = np.maximum(atol, ulps * eps * np.maximum(np.abs(fb), np.finfo(np.float32).tiny))
    with np.errstate(invalid="ignore"):       # inf - inf where both are inf: same anyway
        bad = ~same & ~(np.abs(fa - fb) <= tol)
    assert not np.any(bad), (fa[bad][:5], fb[bad][:5])


# ---------------------------------------------------------------- routing


def test_gpu_routing_and_device_info(gpu):
    assert mx.is_available(mx.gpu) and mx.metal.is_available()
    assert mx.device_count(mx.gpu) == 1
    info = mx.device_info(mx.gpu)
    assert info["emulated"] is (not METAL_REAL)
    assert mx.default_device() == mx.cpu          # the default stays the CPU
    x = mx.array([1.0, 2.0])
    assert _node_device(mx.exp(x)) == 0
    assert _node_device(mx.exp(x, stream=mx.gpu)) == 1
    assert _node_device(mx.exp(x, stream=mx.new_stream(mx.gpu))) == 1
    assert _node_device(mx.astype(x, mx.float16, stream=mx.gpu)) == 1
    assert _node_device(x.exp(stream=mx.gpu)) == 1               # array methods too
    assert _node_device(x.sum(stream=mx.cpu)) == 0
    with mx.stream(mx.gpu):
        y = mx.exp(x) + 1
        assert _node_device(y) == 1
        assert _node_device(mx.exp(x, stream=mx.cpu)) == 0
    assert _node_device(mx.exp(x)) == 0
    mx.set_default_device(mx.gpu)
    assert _node_device(mx.exp(x)) == 1
    assert mx.default_stream(mx.gpu).device == mx.gpu
    mx.set_default_device(mx.cpu)
    np.testing.assert_allclose(np.array(y), np.exp([1.0, 2.0]) + 1, rtol=1e-6)


def test_gpu_nodes_run_on_the_gpu_executor(dispatched):
    x = mx.array([1.0, -2.0, 3.0])
    mx.eval(mx.abs(x) * 2)                      # CPU: no dispatch
    assert dispatched == []
    mx.eval(mx.abs(x, stream=mx.gpu) * 2)       # abs on the GPU, * on the CPU
    assert len(dispatched) == 1
    with mx.stream(mx.gpu):
        r = mx.abs(x) * 2
    mx.eval(r)
    assert len(dispatched) == 3
    np.testing.assert_array_equal(np.array(r), [2.0, 4.0, 6.0])


def test_missing_kernel_and_float64_raise(gpu):
    x = mx.array(np.arange(6, dtype=np.float32))
    # Every primitive may have a kernel by now: take one out of the table to see the error.
    from mlxc._core.primitive import _gpu_table
    sort_prim = internal("mlxc._core.prims.reduce", "Sort")
    saved = _gpu_table.pop(sort_prim)
    try:
        with pytest.raises(RuntimeError, match=r"\[Sort\] has no Metal kernel yet"):
            mx.eval(mx.sort(x, stream=mx.gpu))
    finally:
        _gpu_table[sort_prim] = saved
    d = mx.array(np.arange(3), dtype=mx.float64)
    with pytest.raises(TypeError, match=r"float64 is not supported on the GPU"):
        mx.eval(mx.exp(d, stream=mx.gpu))
    # The failed nodes leave no half-made result, and the CPU still runs them.
    np.testing.assert_array_equal(np.array(mx.sort(x)), np.arange(6))


def test_emulate_without_emulator_is_a_clear_error(tmp_path):
    code = ("import mlxc.core as mx\n"
            "try:\n    mx.is_available(mx.gpu)\nexcept RuntimeError as e:\n    print('ERR', e)\n")
    env = child_env(MLXC_METAL_EMULATE="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                        if p and "tests" not in os.path.basename(p.rstrip("/")))
    # cwd: not tests/ (the child's sys.path starts with its cwd).
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "ERR" in r.stdout and "tests/ directory on sys.path" in r.stdout, r.stdout


def test_cpu_only_behaviour_unchanged():
    """Without a GPU backend (this process, outside the gpu fixture) gpu is refused."""
    if os.environ.get("MLXC_METAL_EMULATE", "0") not in ("", "0") or sys.platform == "darwin":
        pytest.skip("this process has a GPU backend")
    assert not mx.is_available(mx.gpu) and not mx.metal.is_available()
    with pytest.raises(ValueError, match="gpu"):
        mx.exp(mx.array([1.0]), stream=mx.gpu)
    with pytest.raises(ValueError, match="gpu"):
        mx.set_default_device(mx.gpu)


# ---------------------------------------------------------------- copy / cast


SHAPES = [(), (0,), (1,), (31,), (32,), (33,), (255,), (256,), (257,), (3, 0, 2), (5, 7)]


@pytest.mark.parametrize("src", GPU_DTYPES)
def test_copy_cast(src, lanes):
    for shape in SHAPES:
        x = values(src, shape, seed=len(shape))
        for dst in GPU_DTYPES:
            g = run(lambda a: a.astype(dt(dst)), mx.gpu, x)
            c = run(lambda a: a.astype(dt(dst)), mx.cpu, x)
            assert_same(g, c)


@pytest.mark.parametrize("name", ["float32", "int16", "bfloat16", "bool_"])
def test_copy_strided_views(name, lanes):
    x = values(name, (6, 5, 4), seed=3)
    views = [
        lambda a: mx.contiguous(mx.transpose(a, (2, 0, 1))),
        lambda a: mx.contiguous(a[::2, ::-1, 1:]),
        lambda a: mx.contiguous(mx.broadcast_to(a[:, :1, :], (3, 6, 5, 4))),
        lambda a: mx.transpose(a, (1, 2, 0)).astype(mx.float32),
        lambda a: mx.reshape(mx.transpose(a, (2, 1, 0)), (4, 30)),        # Reshape's copy
        lambda a: mx.reshape(a[:, 1:3], (-1,)),
        lambda a: mx.flatten(a[::-1]),
    ]
    for f in views:
        assert_same(run(f, mx.gpu, x), run(f, mx.cpu, x))


# ---------------------------------------------------------------- unary

EXACT_UNARY = ["abs", "negative", "sign", "square", "floor", "ceil", "round", "sqrt",
               "reciprocal", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
               "conjugate", "real", "imag"]
# ulps of the result dtype, or absolute error (erf/erfinv, which MSL lacks).
TRANSCENDENTAL = {"rsqrt": 2, "exp": 4, "expm1": 4, "log": 4, "log1p": 4, "log2": 4,
                  "log10": 4, "sin": 4, "cos": 4, "tan": 8, "arcsin": 4, "arccos": 4,
                  "arctan": 4, "sinh": 8, "cosh": 8, "tanh": 8, "arcsinh": 8,
                  "arccosh": 8, "arctanh": 8, "sigmoid": 4}


def special(name):
    """Float specials and the domain edges, in dtype name."""
    v = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e-6, -1e-6, 0.999, -0.999,
                  30.0, -30.0, 88.0, -88.0, np.inf, -np.inf, np.nan, 1e30], np.float32)
    return mx.array(v).astype(dt(name))


@pytest.mark.parametrize("name", FLOATS)
def test_unary_float(name, lanes):
    xs = [values(name, (257,), seed=1), special(name),
          mx.transpose(values(name, (9, 4), seed=2))]
    for x in xs:
        for op in EXACT_UNARY:
            f = getattr(mx, op)
            assert_same(run(f, mx.gpu, x), run(f, mx.cpu, x))
        for op, ulps in TRANSCENDENTAL.items():
            f = getattr(mx, op)
            # float16/bfloat16 round the float32 result once: one more unit of theirs.
            assert_same(run(f, mx.gpu, x), run(f, mx.cpu, x),
                        ulps=ulps if name == "float32" else 1)
        for op in ("erf", "erfinv"):
            f = getattr(mx, op)
            y = x if op == "erf" else mx.clip(x, -1, 1) / 1.001
            assert_same(run(f, mx.gpu, y), run(f, mx.cpu, y), ulps=4, atol=2e-6
                        if name == "float32" else 1e-2)


@pytest.mark.parametrize("name", INTS + ["bool_"])
def test_unary_int_bool(name, lanes):
    x = values(name, (257,), seed=4)
    edge = mx.array(np.array(np.iinfo(np.dtype(name)).min if name in INTS else 0)
                    ).astype(dt(name))
    ops = ["abs", "negative", "sign", "square", "floor", "ceil", "round", "isnan", "isinf",
           "isfinite", "isposinf", "isneginf", "conjugate", "real", "imag"]
    if name == "bool_":
        ops = [o for o in ops if o != "negative"] + ["logical_not"]
    ops.append("bitwise_invert")
    for arr in (x, edge, x[::-3]):
        for op in ops:
            f = getattr(mx, op)
            assert_same(run(f, mx.gpu, arr), run(f, mx.cpu, arr))


# ---------------------------------------------------------------- binary

ARITH = ["add", "subtract", "multiply", "divide", "floor_divide", "remainder", "maximum",
         "minimum", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
         "logical_and", "logical_or", "logical_xor"]
INT_ONLY = ["bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift", "power"]


def pairs(name):
    """(a, b) operand pairs: contiguous, broadcast both ways, a scalar, strided views,
    and sizes around the 256-thread group."""
    yield values(name, (257,), 5), values(name, (257,), 6)
    yield values(name, (4, 1, 3), 7), values(name, (5, 1), 8)
    yield values(name, (33,), 9), values(name, (), 10)
    yield mx.transpose(values(name, (8, 6), 11)), values(name, (6, 8), 12)[:, ::-1]
    yield values(name, (0, 3), 13), values(name, (1, 3), 14)


@pytest.mark.parametrize("name", GPU_DTYPES)
def test_binary(name, lanes):
    ops = list(ARITH)
    if name in INTS:
        ops += INT_ONLY
    if name == "bool_":
        ops = ["add", "multiply", "maximum", "minimum", "equal", "not_equal", "less",
               "greater_equal", "logical_and", "logical_or", "logical_xor", "bitwise_and",
               "bitwise_or", "bitwise_xor"]
    for a, b in pairs(name):
        for op in ops:
            f = getattr(mx, op)
            if name in INTS and op in ("left_shift", "right_shift", "power"):
                b = mx.abs(b) % 9 if op == "power" else (b % 70)   # also counts >= width
            assert_same(run(f, mx.gpu, a, b), run(f, mx.cpu, a, b))
    if name in FLOATS:
        for a, b in pairs(name):
            for op, ulps in (("power", 8), ("arctan2", 4), ("logaddexp", 4)):
                f = getattr(mx, op)
                assert_same(run(f, mx.gpu, a, b), run(f, mx.cpu, a, b),
                            ulps=ulps if name == "float32" else 1)


@pytest.mark.parametrize("name", INTS)
def test_binary_int_edges(name, lanes):
    info = np.iinfo(np.dtype(name))
    v = [min(max(int(k), int(info.min)), int(info.max))
         for k in (0, 1, -1, 7, -7, info.min, info.max, 3, -3, 64)]
    v = np.array(v, dtype=name)
    a = mx.array(np.repeat(v, len(v)))
    b = mx.array(np.tile(v, len(v)))
    for op in ["divide", "floor_divide", "remainder", "add", "multiply", "subtract",
               "left_shift", "right_shift", "power", "maximum", "minimum"]:
        f = getattr(mx, op)
        assert_same(run(f, mx.gpu, a, b), run(f, mx.cpu, a, b))


def test_binary_float_specials(lanes):
    s = np.array([0.0, -0.0, 1.0, -1.0, 5.0, -5.0, np.inf, -np.inf, np.nan, 3.0], np.float32)
    a = mx.array(np.repeat(s, len(s)))
    b = mx.array(np.tile(s, len(s)))
    for op in ["divide", "floor_divide", "remainder", "maximum", "minimum", "add",
               "multiply", "equal", "less", "logical_and"]:
        f = getattr(mx, op)
        assert_same(run(f, mx.gpu, a, b), run(f, mx.cpu, a, b))
    assert_same(run(mx.logaddexp, mx.gpu, a, b), run(mx.logaddexp, mx.cpu, a, b), ulps=4)


# ---------------------------------------------------------------- select


@pytest.mark.parametrize("name", GPU_DTYPES)
def test_select(name, lanes):
    c = values("bool_", (4, 1, 5), 20)
    a = values(name, (3, 5), 21)
    b = values(name, (4, 3, 1), 22)
    f = mx.where
    assert_same(run(f, mx.gpu, c, a, b), run(f, mx.cpu, c, a, b))
    ct = mx.transpose(values("bool_", (5, 3), 23))
    assert_same(run(f, mx.gpu, ct, a, b[0]), run(f, mx.cpu, ct, a, b[0]))


# ---------------------------------------------------------------- reductions

REDUCE_OPS = ["sum", "prod", "max", "min", "all", "any"]


def reduce_inputs(name):
    """(array, axis) cases: all-reduce, rows and columns with lengths around the simdgroup
    and threadgroup sizes, several axes, a transposed input, empty reductions."""
    for r in (1, 31, 32, 33, 255, 256, 257, 1000):
        yield values(name, (3, r), r), 1
    yield values(name, (300, 4), 1), 0
    yield values(name, (4, 5, 6), 2), (0, 2)
    yield mx.transpose(values(name, (6, 70), 3)), 0
    yield values(name, (513,), 4), None
    yield values(name, (3, 0), 5), 1
    yield values(name, (0, 3), 6), 1


@pytest.mark.parametrize("name", GPU_DTYPES)
def test_reduce(name, lanes):
    for x, axis in reduce_inputs(name):
        if name in FLOATS:
            x = x / 20 + 1              # near 1: products of hundreds stay finite
            if name == "bfloat16":
                x = x.astype(mx.bfloat16)
            mx.eval(x)
        for op in REDUCE_OPS:
            if op in ("sum", "prod") and name in ("bool_", "int8", "uint8", "int16",
                                                  "uint16"):
                continue        # promoted to a wider type first (covered by int32/uint32)
            if op in ("max", "min") and x.size == 0:
                continue                # an error on both devices (an empty max)
            f = getattr(mx, op)
            g, c = run(lambda a: f(a, axis=axis), mx.gpu, x), run(lambda a: f(a, axis=axis), mx.cpu, x)
            if op in ("sum", "prod") and name in FLOATS:
                # Float sums/products associate differently (a tree vs the CPU's order):
                # relative error about n * eps of the result dtype.
                n = x.size // max(c.size, 1)
                eps = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23}[name]
                np.testing.assert_allclose(as_np(g), as_np(c), rtol=(n + 2) * eps, atol=0)
            else:
                assert_same(g, c)


@pytest.mark.parametrize("name", GPU_DTYPES)
def test_argreduce(name, lanes):
    for x, axis in reduce_inputs(name):
        if x.size == 0 or not isinstance(axis, int):
            continue
        x = x // 4 if name in INTS else x       # repeated values: the first one wins
        mx.eval(x)
        for f in (mx.argmax, mx.argmin):
            assert_same(run(lambda a: f(a, axis=axis), mx.gpu, x),
                        run(lambda a: f(a, axis=axis), mx.cpu, x))


def test_argreduce_nan_and_ties(lanes):
    x = np.zeros((5, 300), np.float32)
    x[1, [3, 100, 250]] = np.nan              # the first NaN wins
    x[2, [7, 260]] = 5.0                      # ties: the first wins
    x[3, [9, 299]] = -5.0
    a = mx.array(x)
    for f in (mx.argmax, mx.argmin):
        assert_same(run(lambda t: f(t, axis=1), mx.gpu, a), run(lambda t: f(t, axis=1), mx.cpu, a))
        assert_same(run(lambda t: f(t, axis=0), mx.gpu, a), run(lambda t: f(t, axis=0), mx.cpu, a))
    e = mx.array(np.zeros((0, 4), np.float32))         # refused by the op on both devices
    with pytest.raises(ValueError, match="zero size"):
        mx.argmax(e, axis=1, stream=mx.gpu)


def test_reduce_nan_and_mean(lanes):
    x = np.ones((4, 300), np.float32)
    x[1, 7] = np.nan
    x[2, 299] = -np.inf
    a = mx.array(x)
    for f in (mx.max, mx.min, mx.sum, mx.mean, mx.all, mx.any):
        assert_same(run(lambda t: f(t, axis=1), mx.gpu, a), run(lambda t: f(t, axis=1), mx.cpu, a))


# ---------------------------------------------------------------- transforms


def test_grad_vjp_jvp_vmap_on_gpu(gpu):
    x = mx.array(np.linspace(-2, 2, 33, dtype=np.float32))
    w = mx.array(np.linspace(0.5, 1.5, 33, dtype=np.float32))

    def f(x):
        return mx.sin(x) * w + mx.exp(-x * x) - mx.maximum(x, 0.25)

    def per_element(d):
        with mx.stream(d):
            (v,), (g,) = mx.vjp(f, [x], [mx.ones_like(x)])
            _, (t,) = mx.jvp(f, [x], [mx.ones_like(x)])
            b = mx.vmap(lambda r: f(r) * 2)(mx.broadcast_to(x, (2, 33)) + mx.array([[0.0], [1.0]]))
        mx.eval(v, g, t, b)
        return v, g, t, b

    gv, gg, gt, gb = per_element(mx.gpu)
    cv, cg, ct, cb = per_element(mx.cpu)
    # exp and sin differ by ulps (MSL math vs vmath); the sums cancel: absolute error.
    for g, c in ((gv, cv), (gg, cg), (gt, ct), (gb, cb)):
        assert_same(g, c, ulps=4, atol=1e-6)


# ---------------------------------------------------------------- address-space lint

_METAL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "metal")


@pytest.mark.parametrize("path", sorted(p for p in os.listdir(_METAL_DIR) if p.endswith(".metal"))
                         if os.path.isdir(_METAL_DIR) else [])
def test_metal_sources_pass_the_address_space_lint(path):
    lint = pytest.importorskip("metal_emu.lint", reason="the emulator (tests/metal_emu) is "
                               "not importable")
    if lint.clang() is None:
        pytest.skip("no clang with C++ for OpenCL 2021 (clang >= 14) for the lint")
    assert lint.lint_file(os.path.join(_METAL_DIR, path)) == []
