"""mx.compile's arithmetic chains: runs of float add/sub/mul/div/maximum/minimum and
neg/abs/sqrt/square, each reading the one before, run by kernels/fused_chain.c in one
pass with the running value in registers.
The oracle is the uncompiled graph (each op its own binary kernel over whole arrays):
the compiled results must have the same bits, including NaN payload order, -0, inf,
subnormals, operand order (swapped sub/div), scalar / row / column / full operands,
tails shorter than a SIMD block, row sums ending a chain (summed in mlxc_reduce's
order), the large-output path (streamed straight into the output), and every SIMD
level and thread count.  One freedom: when both operands of a commutative op (+, *)
are NaNs, which payload survives is the compiler's choice in the binary kernels too
(it may commute the operands, and does so differently in vector bodies and scalar
tails), so programs with such ops, and the row sums (NaN + NaN in a lane), compare
NaNs as NaNs; the others (sub, div, a square, a NaN against a constant) bit for bit."""
import ctypes
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mlxc.core as mx
from mlxc._core import openblas  # noqa: F401  (the package's libraries are loaded)

from helpers import CHILD_CWD, child_env


def _chain_runs():
    import mlxc
    import os
    lib = ctypes.CDLL(os.path.join(os.path.dirname(mlxc.__file__), "_core", "lib",
                                   "libmlxc_kernels.so"))
    lib.mlxc_fused_chain_runs.restype = ctypes.c_int64
    return lib.mlxc_fused_chain_runs()


def _special(n, dtype, seed):
    r = np.random.default_rng(seed)
    a = r.standard_normal(n).astype(dtype) * dtype(3)
    pick = r.integers(0, 12, n)
    tiny = np.finfo(dtype).tiny
    a[pick == 0] = np.nan
    a[pick == 1] = np.inf
    a[pick == 2] = -np.inf
    a[pick == 3] = -0.0
    a[pick == 4] = 0.0
    a[pick == 5] = tiny / dtype(3)            # subnormal
    # NaNs with distinct payloads: which one survives depends on the operand order
    nan_bits = np.array([0x7fc00001, 0xffc00123], np.uint32) if dtype == np.float32 else \
        np.array([0x7ff8000000000001, 0xfff8000000000123], np.uint64)
    k = np.flatnonzero(pick == 6)
    a[k] = nan_bits[k % 2].view(dtype)
    return a


def _bits_equal(a, b, any_nan=False):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    if any_nan:
        assert np.array_equal(np.isnan(a), np.isnan(b))
        a, b = np.where(np.isnan(a), 0, a), np.where(np.isnan(b), 0, b)
    assert a.tobytes() == b.tobytes()


def _programs():
    # (name, function of (x, y, z)); every one ends in a chain of >= 2 arithmetic ops
    return [
        ("mul_add", lambda x, y, z: x * y + z),
        ("swapped_sub_div", lambda x, y, z: 2.0 / (1.5 - x / y)),
        ("sub_div_order", lambda x, y, z: (x - y) / z - y / x),
        ("commuted_add_mul", lambda x, y, z: z * (y + x * z)),
        ("self_square", lambda x, y, z: (x - y) * (x - y) / z),
        ("scalars", lambda x, y, z: ((x * 0.5 + 1.0) * 3.0 - 0.25) / 7.0),
        ("long", lambda x, y, z: (((((x + y) * z) - x) / y) + z) * 0.5 - y),
        ("after_unary", lambda x, y, z: mx.exp(x) * y + z),
        ("two_chains", lambda x, y, z: (x * y + z, (x - z) / y)),
        # tees: an intermediate read again later in the chain / after it / as an output
        ("tee_in_chain", lambda x, y, z: (lambda a: (a * 2.0 - x) / a)(x * y + z)),
        ("tee_later", lambda x, y, z: (lambda a: mx.exp((a * a - y) * 0.5) + a)(x - z)),
        ("tee_output", lambda x, y, z: (lambda a: ((a * 2.0 - x) * z, a))(x * y + z)),
        # unary steps (neg, abs, sqrt, square) and maximum / minimum, both operand orders
        ("unary_steps", lambda x, y, z: mx.sqrt(mx.abs(-(x * y) + z)) * 2.0),
        ("square_step", lambda x, y, z: mx.square(x - y) / z),
        ("max_min", lambda x, y, z: mx.minimum(mx.maximum(x * y, z), 1.5) - x),
        # (swapped maximum / minimum operands; the final + adds two NaNs: commuted)
        ("commuted_max_min", lambda x, y, z: mx.maximum(z, x + y) * y + mx.minimum(-0.5, x * z)),
        ("unary_first", lambda x, y, z: mx.abs(x) * y - mx.sqrt(z)),
    ]


# programs with no + or * of two arrays (which may both be NaN): their NaN payloads are
# defined by the operand order alone, and compared bit for bit
_STRICT = {"swapped_sub_div", "sub_div_order", "self_square", "scalars", "square_step"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 15, 64, 65, 293, 2048, 2049, 70001])
def test_chains_bit_identical(dtype, n):
    x, y, z = (mx.array(_special(n, dtype, s)) for s in range(3))
    before = _chain_runs()
    for name, f in _programs():
        want = f(x, y, z)
        got = mx.compile(f)(x, y, z)
        for g, w in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            _bits_equal(g, w, any_nan=name not in _STRICT)
    assert n == 1 or _chain_runs() > before     # the chain kernels ran (n == 1: one value)


def test_broadcast_operands_bit_identical():
    x = mx.array(_special(3 * 257, np.float32, 0).reshape(3, 257))
    row = mx.array(_special(3, np.float32, 1).reshape(3, 1))
    col = mx.array(_special(257, np.float32, 2))
    s = mx.array(np.float32(1.25))
    f = lambda x, r, c, s: ((x * r + c) / s - r) * c  # noqa: E731
    _bits_equal(mx.compile(f)(x, row, col, s), f(x, row, col, s))
    # strided input (a transpose) gathered per tile
    xt = mx.array(_special(257 * 3, np.float32, 3).reshape(257, 3)).T
    _bits_equal(mx.compile(f)(xt, row, col, s), f(xt, row, col, s))


@pytest.mark.parametrize("shape", [(5, 1024), (7, 33), (3, 70000)])
def test_row_program_chains(shape):
    # a layer norm's epilogue: (x - mu) * rsqrt(var + eps) * w + b, ROW and COL operands
    x = mx.array(_special(shape[0] * shape[1], np.float32, 4).reshape(shape))
    w = mx.array(_special(shape[1], np.float32, 5))
    b = mx.array(_special(shape[1], np.float32, 6))

    def ln(x, w, b):
        mu = mx.mean(x, axis=-1, keepdims=True)
        xc = x - mu
        var = mx.mean(xc * xc, axis=-1, keepdims=True)
        return xc * mx.rsqrt(var + 1e-5) * w + b

    before = _chain_runs()
    _bits_equal(mx.compile(ln)(x, w, b), ln(x, w, b))
    assert _chain_runs() > before


def _row_sum_programs():
    # row sums ending a chain (summed in mlxc_reduce's order, values not stored), with
    # the summed value also read later (a tee), ROW / COL operands, and mean / var
    return [
        ("sum_mul", lambda x, w: mx.sum(x * w, axis=-1)),
        ("sum_sq_dev", lambda x, w: mx.sum((x - 0.5) * (x - 0.5), axis=-1, keepdims=True)),
        ("mean_chain", lambda x, w: mx.mean((x * w + 1.0) / 3.0, axis=-1)),
        ("tee_summed", lambda x, w: (lambda a: a / mx.sum(a, axis=-1, keepdims=True))(x * w - x)),
        ("layer_norm", lambda x, w: (lambda xc: xc * mx.rsqrt(
            mx.mean(xc * xc, axis=-1, keepdims=True) + 1e-5) * w)(
            x - mx.mean(x, axis=-1, keepdims=True))),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("L", [1, 15, 64, 65, 127, 1000, 2048, 2049])
def test_row_sum_chains_bit_identical(dtype, L):
    rows = 9
    x = mx.array(_special(rows * L, dtype, 11).reshape(rows, L))
    w = mx.array(_special(L, dtype, 12))
    for name, f in _row_sum_programs():
        before = _chain_runs()
        # (a sum of two NaNs keeps either payload: see the module's docstring)
        _bits_equal(mx.compile(f)(x, w), f(x, w), any_nan=True)
        if name == "sum_mul" and 1 < L <= 2048:    # (L == 1: the sum is a reshape)
            # a lone multiply is a chain only when a row sum ends it
            assert _chain_runs() > before
    # plain values too (the special ones make most sums NaN)
    r = np.random.default_rng(L)
    x = mx.array(r.standard_normal((rows, L)).astype(dtype))
    w = mx.array(r.standard_normal(L).astype(dtype))
    for name, f in _row_sum_programs():
        _bits_equal(mx.compile(f)(x, w), f(x, w))


def test_recomputed_operands_bit_identical():
    # x - mu read by several chains: each later chaining reader computes its own copy
    # (kernels/fused.c, mlxc_fused_rows); readers that cannot chain (exp) read the
    # stored value, a reader using it twice (d * d) gets one copy
    def f(x, w):
        d = x - mx.mean(x, axis=-1, keepdims=True)
        return d * d + w, mx.exp(d), d * w - 1.0, mx.sum(d * d, axis=-1)

    for L in (33, 1024):
        x = mx.array(_special(5 * L, np.float32, 14).reshape(5, L))
        w = mx.array(_special(L, np.float32, 15))
        for g, want in zip(mx.compile(f)(x, w), f(x, w)):
            _bits_equal(g, want, any_nan=True)
        r = np.random.default_rng(L)
        x = mx.array(r.standard_normal((5, L)).astype(np.float32))
        for g, want in zip(mx.compile(f)(x, w), f(x, w)):
            _bits_equal(g, want)


def test_large_output_streamed_path():
    n = (1 << 22) + 37                      # > 16 MiB of float32 output: streamed stores
    x, y = (mx.array(_special(n, np.float32, s)) for s in (7, 8))
    f = lambda x, y: (x * y + 1.0) * 0.5  # noqa: E731
    _bits_equal(mx.compile(f)(x, y), f(x, y))
    big = mx.array(_special(4096 * 1024 + 1024, np.float32, 9)[: 4097 * 1024].reshape(4097, 1024))
    g = lambda x: (x - mx.mean(x, axis=-1, keepdims=True)) * 2.0 + 1.0  # noqa: E731
    _bits_equal(mx.compile(g)(big), g(big))
    # a chain reading a ROW value as a broadcast while its output is streamed from
    # scratch: the ROW value's slot must not be the output's
    w = mx.array(_special(1024, np.float32, 10))

    def ln(x, w):
        xc = x - mx.mean(x, axis=-1, keepdims=True)
        return xc * mx.rsqrt(mx.mean(xc * xc, axis=-1, keepdims=True) + 1e-5) * w

    _bits_equal(mx.compile(ln)(big, w), ln(big, w))
    # rows of 1023: the streamed chain's rows start unaligned (a head of plain stores)
    odd = mx.array(_special(4200 * 1023, np.float32, 13).reshape(4200, 1023))
    _bits_equal(mx.compile(ln)(odd, w[:1023]), ln(odd, w[:1023]), any_nan=True)
    # a streamed chain output that is also read by the program after the chain
    h = lambda x, y: (lambda a: (a, a * 2.0 + mx.exp(a)))(x * y + 1.0)  # noqa: E731
    for g, want in zip(mx.compile(h)(x, y), h(x, y)):
        _bits_equal(g, want)


def test_same_bits_at_every_level_and_thread_count():
    code = textwrap.dedent("""
        import hashlib, numpy as np, mlxc.core as mx
        r = np.random.default_rng(0)
        x, y = (mx.array(r.standard_normal(300001).astype(np.float32)) for _ in range(2))
        x2 = mx.array(r.standard_normal((300, 1000)).astype(np.float32))
        f = lambda x, y: ((x * y + 1.0) / (y - 0.5) - x) * 0.25
        g = lambda x: (x - mx.mean(x, axis=-1, keepdims=True)) * 3.0 / 7.0 + 1.0
        h = lambda x: (lambda xc: xc * mx.rsqrt(mx.mean(xc * xc, axis=-1, keepdims=True)
                                                + 1e-5))(x - mx.mean(x, axis=-1, keepdims=True))
        u = lambda x, y: mx.sqrt(mx.abs(mx.maximum(x * y, -0.5) - y)) * mx.minimum(2.0, -x)
        outs = [np.array(mx.compile(f)(x, y)), np.array(mx.compile(g)(x2)),
                np.array(mx.compile(h)(x2)), np.array(mx.compile(u)(x, y))]
        assert outs[0].tobytes() == np.array(f(x, y)).tobytes()
        assert outs[1].tobytes() == np.array(g(x2)).tobytes()
        assert outs[2].tobytes() == np.array(h(x2)).tobytes()
        assert outs[3].tobytes() == np.array(u(x, y)).tobytes()
        print(hashlib.sha1(b"".join(o.tobytes() for o in outs)).hexdigest())
    """)
    digests = set()
    for env in ({"MLXC_NUM_THREADS": "1"}, {"MLXC_NUM_THREADS": "3"},
                {"MLXC_CPU_ISA": "avx2", "MLXC_NUM_THREADS": "2"},
                {"MLXC_CPU_ISA": "scalar", "MLXC_NUM_THREADS": "2"}):
        out = subprocess.run([sys.executable, "-c", code], env=child_env(**env), cwd=CHILD_CWD,
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        if "MLXC_CPU_ISA" not in env:      # (a level's reductions may sum in its own order)
            digests.add(out.stdout.strip())
    assert len(digests) == 1
