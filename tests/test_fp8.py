"""to_fp8 / from_fp8 (float8 e4m3 in uint8) against conversions recorded from MLX 0.32.4
(tests/data/fp8_mlx.npz, written by tests/data/gen_fp8.py), bit for bit: every code,
every float16 and bfloat16 pattern, a float32 sweep through every rounding tie; float64
(where MLX returns garbage) against an independent Python rounding."""
import math
import os
import struct

import numpy as np
import pytest

import mlxc.core as mx

DATA = np.load(os.path.join(os.path.dirname(__file__), "data", "fp8_mlx.npz"))
CODES = mx.arange(256).astype(mx.uint8)


def _bits(a, width):
    return np.array(a.view({16: mx.uint16, 32: mx.uint32}[width]))


@pytest.mark.parametrize("dt,key,width", [("float32", "codes_f32", 32),
                                          ("float16", "codes_f16", 16),
                                          ("bfloat16", "codes_bf16", 16)])
def test_from_fp8_every_code_matches_mlx(dt, key, width):
    out = mx.from_fp8(CODES, getattr(mx, dt))
    assert out.dtype == getattr(mx, dt)
    np.testing.assert_array_equal(_bits(out, width), DATA[key])


def test_from_fp8_default_is_bfloat16():
    assert mx.from_fp8(mx.array([56], mx.uint8)).dtype == mx.bfloat16


@pytest.mark.parametrize("dt,key", [("float16", "to_f16"), ("bfloat16", "to_bf16")])
def test_to_fp8_every_half_pattern_matches_mlx(dt, key):
    x = mx.arange(65536).astype(mx.uint16).view(getattr(mx, dt))
    out = mx.to_fp8(x)
    assert out.dtype == mx.uint8
    np.testing.assert_array_equal(np.array(out), DATA[key])


def test_to_fp8_float32_sweep_matches_mlx():
    x = mx.array(DATA["f32_in"]).view(mx.float32)
    np.testing.assert_array_equal(np.array(mx.to_fp8(x)), DATA["to_f32"])


def _e4m3_reference(v):
    """Round v (a Python float) to e4m3 by exhaustive search over the finite codes:
    nearest value, ties to the even code; saturate past 448 / inf / NaN as MLX does."""
    sign = 0x80 if math.copysign(1.0, v) < 0 else 0
    a = abs(v)
    if math.isnan(v) or a > 448.0:
        return sign | 0x7E
    best = None
    for c in range(0x7F):
        e, m = c >> 3, c & 7
        val = m * 2.0 ** -9 if e == 0 else (1 + m / 8) * 2.0 ** (e - 7)
        d = abs(val - a)
        if best is None or d < best[0] or (d == best[0] and c % 2 == 0):
            best = (d, c)
    return sign | best[1]


@pytest.mark.mlxc_only
def test_to_fp8_float64_rounds_once_from_the_double():
    # MLX 0.32.4 reinterprets float64 input (garbage); mlxc rounds it correctly, from the
    # double itself: values just above a float32-representable tie must round up.
    rng = np.random.default_rng(3)
    vals = list(rng.uniform(-500, 500, 300)) + list(rng.uniform(-0.05, 0.05, 300))
    for k in range(126):                       # ties between neighbours, nudged in float64
        lo = mx.from_fp8(mx.array([k], mx.uint8), mx.float64).item()
        hi = mx.from_fp8(mx.array([k + 1], mx.uint8), mx.float64).item()
        mid = (lo + hi) / 2
        vals += [mid, math.nextafter(mid, math.inf), math.nextafter(mid, -math.inf)]
    vals += [0.0, -0.0, math.inf, -math.inf, math.nan, 1e300, 2.0 ** -10, 2.0 ** -1000]
    x = np.array(vals, np.float64)
    got = np.array(mx.to_fp8(mx.array(x, mx.float64)))
    want = np.array([_e4m3_reference(float(v)) for v in x], np.uint8)
    np.testing.assert_array_equal(got, want)


@pytest.mark.mlxc_only
def test_from_fp8_float64_is_exact():
    out = np.array(mx.from_fp8(CODES, mx.float64))
    ref = np.array(mx.from_fp8(CODES, mx.float32)).astype(np.float64)
    np.testing.assert_array_equal(out, ref)       # NaN positions compare equal
    assert np.isnan(out[[0x7F, 0xFF]]).all() and np.signbit(out[0xFF])


def test_fp8_roundtrip_and_layouts():
    x = mx.array(np.linspace(-500, 500, 4001, dtype=np.float32)).reshape(1, 4001)
    y = mx.broadcast_to(x, (3, 4001))[:, ::-3]               # strided, broadcast input
    got = np.array(mx.to_fp8(y))
    np.testing.assert_array_equal(got, np.array(mx.to_fp8(mx.array(np.array(y)))))
    back = np.array(mx.from_fp8(mx.to_fp8(x), mx.float32))
    xv = np.array(x)
    inside = np.abs(xv) <= 448
    # relative error of a 3-bit mantissa: at most 2^-4
    assert (np.abs(back - xv)[inside] <= np.abs(xv)[inside] * 2.0 ** -4 + 2.0 ** -10).all()
    assert (np.abs(back[~inside]) == 448).all()


def test_fp8_large_is_thread_count_independent():
    rng = np.random.default_rng(1)
    x = rng.uniform(-600, 600, 300_000).astype(np.float32)
    got = np.array(mx.to_fp8(mx.array(x)))
    chunks = np.concatenate([np.array(mx.to_fp8(mx.array(x[i:i + 1000])))
                             for i in range(0, len(x), 1000)])
    np.testing.assert_array_equal(got, chunks)


@pytest.mark.mlxc_only   # MLX 0.32.4 has no vjp/jvp/vmap for these: mlxc gives zeros / maps
def test_fp8_transforms():
    x = mx.array([1.0, 2.5, -3.0])
    g = mx.grad(lambda v: mx.from_fp8(mx.to_fp8(v), mx.float32).sum())(x)
    np.testing.assert_array_equal(np.array(g), 0)
    _, t = mx.jvp(lambda v: mx.from_fp8(mx.to_fp8(v), mx.float32), (x,), (mx.ones(3),))
    np.testing.assert_array_equal(np.array(t[0]), 0)
    xb = mx.array(np.random.default_rng(0).uniform(-9, 9, (4, 5)).astype(np.float32))
    vm = mx.vmap(mx.to_fp8, in_axes=1)(xb)
    np.testing.assert_array_equal(np.array(vm), np.array(mx.to_fp8(xb)).T)
    codes = mx.to_fp8(xb)
    vm = mx.vmap(lambda c: mx.from_fp8(c, mx.float16))(codes)
    assert vm.dtype == mx.float16
    np.testing.assert_array_equal(np.array(vm), np.array(mx.from_fp8(codes, mx.float16)))


@pytest.mark.parametrize("bad", ["int32", "uint8", "bool_", "complex64"])
def test_to_fp8_rejects_non_floating(bad):
    with pytest.raises(ValueError, match=r"\[to_fp8\].*" + bad.rstrip("_")):
        mx.to_fp8(mx.zeros((2,), getattr(mx, bad)))


def test_from_fp8_bad_input():
    with pytest.raises(ValueError, match=r"\[from_fp8\] Input must have type uint8"):
        mx.from_fp8(mx.array([56], mx.int32))
    with pytest.raises(ValueError, match=r"\[from_fp8\] Input must have type uint8"):
        mx.from_fp8(mx.array([56.0]))
    with pytest.raises(ValueError, match=r"\[from_fp8\] Only real floating"):
        mx.from_fp8(mx.array([56], mx.uint8), mx.int32)


_THREAD_CHILD = r"""
import sys
import numpy as np
import mlxc.core as mx
x = np.random.default_rng(3).standard_normal(300_001).astype(np.float32) * 300
codes = mx.to_fp8(mx.array(x))
out = [np.array(codes), np.array(mx.from_fp8(codes, mx.float32)),
       np.array(mx.from_fp8(codes, mx.float16)),
       np.array(mx.to_fp8(mx.array(x.astype(np.float16))))]
sys.stdout.buffer.write(b"".join(o.tobytes() for o in out))
"""


@pytest.mark.parametrize("threads", ["2", "3", "7"])
def test_fp8_same_bytes_at_any_thread_count(threads):
    # 300001 elements: 5 tasks of 2^16 for the pool; the split must not change a bit.
    import subprocess
    import sys
    from helpers import CHILD_CWD, child_env

    def run(n):
        return subprocess.run([sys.executable, "-c", _THREAD_CHILD], capture_output=True,
                              env=child_env(MLXC_NUM_THREADS=n), cwd=CHILD_CWD,
                              timeout=300, check=True).stdout
    one = run("1")
    assert len(one) > 0 and run(threads) == one
