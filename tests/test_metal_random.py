"""metal/random.metal (RandomBits, MLXMath) and metal/fp8.metal (FP8) against the CPU
kernels on the same inputs, at every lane order of the emulated device.

Bit-for-bit: threefry bits and the uniform / randint / normal / erfinv transforms (the
C library's logf that erfinv needs runs in software binary64 on the GPU: Metal has no
double), MLXMath's log, log1p, erf, erfinv and exp (NaN payloads aside), and every float8
conversion (exhaustive over float16, bfloat16 and the 256 codes).  log1p is the C
library's log1pf algorithm in float32 (glibc 2.36: fdlibm's), compared on a sweep of
every 509th float32 and densely around its branch points.  MLXC_METAL_EXHAUSTIVE=1 adds
a sweep of logf over every 61st float32 and makes log1p's every 61st.
"""
import os

import numpy as np
import pytest

import mlxc.core as mx
from helpers import internal
from test_metal_kernels import lanes  # noqa: F401

random_node, mlx_math = internal("mlxc._core.prims.random", "random_node", "mlx_math")


def on_gpu(f, *args):
    with mx.stream(mx.gpu):
        g = f(*args)
    c = f(*args)
    mx.eval(g, c)
    return g, c


def same_bits(g, c):
    assert g.dtype == c.dtype and g.shape == c.shape
    a, b = np.array(g), np.array(c)
    if a.dtype.kind == "f":
        nan = np.isnan(a) & np.isnan(b)
        assert np.array_equal(np.isnan(a), np.isnan(b))
        a, b = a.view(np.uint32)[~nan], b.view(np.uint32)[~nan]
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- RandomBits


def test_random_bits_every_block_shape(lanes):
    k = mx.random.key(7)
    # per-key blocks of 0, 1 (only the middle word), even, odd, and two threadgroups
    for shape in [(0,), (1,), (2,), (3,), (7, 5), (1001,), (4, 128)]:
        same_bits(*on_gpu(lambda: mx.random._bits(shape, k)))


def test_random_bits_key_batches(lanes):
    keys = mx.random.split(mx.random.key(1), 6)                     # (6, 2)
    bits_mode = 0                                   # MLXC_RANDOM_BITS
    for key, shape in [(keys, (6, 5)), (keys[:3], (3, 4)),
                       (mx.transpose(mx.transpose(keys)[:, ::2]), (3, 7)),   # strided keys
                       (keys[2:5], (3, 1))]:
        same_bits(*on_gpu(lambda: random_node(key, shape, bits_mode)))


def test_random_transforms(lanes):
    k = mx.random.key(11)
    cases = [
        lambda: mx.random.uniform(shape=(513,), key=k),
        lambda: mx.random.uniform(-3.5, 2.25, (3, 33), key=k),
        lambda: mx.random.normal((1001,), key=k),
        lambda: mx.random.normal((4, 9), loc=1.5, scale=0.25, key=k),
        lambda: mx.random.randint(-5, 100, (257,), key=k),
        lambda: mx.random.randint(-2 ** 31, 2 ** 31 - 1, (65,), key=k),   # the clamps
        lambda: mx.random.truncated_normal(-1.0, 2.0, (300,), key=k),      # erf, erfinv
        lambda: mx.random.gumbel((200,), key=k),                           # log
        lambda: mx.random.bernoulli(0.3, (100,), key=k),
        lambda: mx.random.laplace((300,), loc=0.5, scale=2.0, key=k),      # log1p
    ]
    for f in cases:
        same_bits(*on_gpu(f))


# ---------------------------------------------------------------- MLXMath


def math_inputs():
    rng = np.random.default_rng(4)
    v = np.concatenate([
        rng.uniform(-4, 4, 3000), rng.uniform(-1, 1, 1000), 1 + rng.uniform(-1e-3, 1e-3, 500),
        np.geomspace(1e-38, 1e38, 400), -np.geomspace(1e-38, 1e38, 100),
        [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, np.inf, -np.inf, np.nan, 88.5, -88.5, 6.0, -6.0,
         1e-45, 3e-39, 0.99999994, -0.99999994]]).astype(np.float32)
    return v


def test_mlx_math_bitwise(lanes):
    x = mx.array(math_inputs())
    for func in (0, 2, 3, 4):                      # log, erf, erfinv, exp
        same_bits(*on_gpu(lambda: mlx_math(x, func)))
    # strided input
    xs = mx.reshape(x[: 4000], (40, 100))[::3, ::-2]
    same_bits(*on_gpu(lambda: mlx_math(xs, 0)))


def log1p_edges():
    """Every float32 around the branch points of the C library's log1pf: the k = 0 range's
    ends (0x3ed413d7, 0xbe95f61f), |x| = 2^-29 and 2^-54, x = -1, 1 + x no longer
    representable (0x5a000000), and mantissas of 1 + x around sqrt(2) (0x3504f7)."""
    pts = [0x3ed413d7, 0xbe95f61f, 0x31000000, 0x24800000, 0xb1000000, 0xa4800000,
           0xbf800000, 0x5a000000, 0x7f800000, 0x3fb504f7, 0x403504f7, 0x4f3504f7]
    bits = np.concatenate([np.arange(p - 300, p + 300) for p in pts] +
                          [np.arange(0, 2 ** 32, 2 ** 32 // 4096)]) % 2 ** 32
    return bits.astype(np.uint32).view(np.float32)


def test_mlx_math_log1p_bitwise(lanes):
    x = mx.array(np.concatenate([math_inputs(), log1p_edges()]))
    same_bits(*on_gpu(lambda: mlx_math(x, 1)))


def test_log1p_sweep(gpu):
    """Every 509th float32 (8.4 million): the C library's log1pf bit for bit (every one
    was checked in C against the algorithm; MLXC_METAL_EXHAUSTIVE=1 makes it every 61st)."""
    step = 61 if os.environ.get("MLXC_METAL_EXHAUSTIVE", "0") not in ("", "0") else 509
    bits = np.arange(0, 2 ** 32, step, dtype=np.uint64).astype(np.uint32)
    for part in np.array_split(bits, 8 if step > 100 else 64):
        x = mx.array(part.view(np.float32))
        same_bits(*on_gpu(lambda: mlx_math(x, 1)))


@pytest.mark.skipif(os.environ.get("MLXC_METAL_EXHAUSTIVE", "0") in ("", "0"),
                    reason="exhaustive sweep: set MLXC_METAL_EXHAUSTIVE=1")
def test_logf_sweep(gpu):
    bits = np.arange(0, 2 ** 32, 61, dtype=np.uint64).astype(np.uint32)
    for part in np.array_split(bits, 16):
        x = mx.array(part.view(np.float32))
        same_bits(*on_gpu(lambda: mlx_math(x, 0)))


# ---------------------------------------------------------------- FP8


def all_bits16(dtype):
    x = mx.array(np.arange(2 ** 16, dtype=np.uint32).astype(np.uint16)).view(dtype)
    mx.eval(x)
    return x


def test_to_fp8_exhaustive_half_types(gpu):
    for dtype in (mx.float16, mx.bfloat16):
        same_bits(*on_gpu(lambda: mx.to_fp8(all_bits16(dtype))))


def test_fp8_float32_and_strided(lanes):
    rng = np.random.default_rng(2)
    v = np.concatenate([rng.integers(0, 2 ** 32, 3000, dtype=np.uint64).astype(np.uint32)
                        .view(np.float32),
                        rng.standard_normal(1000).astype(np.float32) * 100,
                        np.float32([448, 449, 464, 480, 2 ** -6, 2 ** -9, 2 ** -10, 1.5 * 2 ** -10,
                                    0.0, -0.0, np.inf, -np.inf, np.nan, 3e-39])])
    x = mx.array(v)
    same_bits(*on_gpu(lambda: mx.to_fp8(x)))
    xs = mx.reshape(x[:4000], (50, 80)).T[::2]
    same_bits(*on_gpu(lambda: mx.to_fp8(xs)))
    xb = mx.broadcast_to(x[:7], (3, 7))
    same_bits(*on_gpu(lambda: mx.to_fp8(xb)))


def test_from_fp8_every_code(lanes):
    codes = mx.array(np.arange(256, dtype=np.uint8))
    for dtype in (mx.float16, mx.bfloat16, mx.float32):
        g, c = on_gpu(lambda: mx.from_fp8(codes, dtype))
        assert g.dtype == c.dtype == dtype
        view = mx.uint32 if dtype == mx.float32 else mx.uint16
        np.testing.assert_array_equal(np.array(g.view(view)), np.array(c.view(view)))
    cs = mx.reshape(codes, (16, 16))[::-1, 1::3]
    same_bits(*on_gpu(lambda: mx.from_fp8(cs, mx.float32)))


def test_fp8_bad_input(gpu):
    d = mx.array(np.arange(3), dtype=mx.float64)
    with pytest.raises(TypeError, match=r"\[ToFP8\] float64 is not supported on the GPU"):
        mx.eval(mx.to_fp8(d, stream=mx.gpu))
    i = mx.array(np.arange(3, dtype=np.int32))
    errors = []
    for stream in (mx.cpu, mx.gpu):
        with pytest.raises((TypeError, ValueError)) as e:
            mx.eval(mx.to_fp8(i, stream=stream))
        errors.append((type(e.value), str(e.value)))
    assert errors[0] == errors[1]


# ---------------------------------------------------------------- software binary64


def test_soft_double_fma_against_exact_rationals(gpu):
    """random.metal's SoftD (the binary64 that logf runs in) against exact arithmetic:
    random operands over logf's range, exact cancellations, and products that land on
    a rounding tie with a tiny addend of either sign (the sticky bit decides) or none
    (ties to even)."""
    from fractions import Fraction
    from conftest import METAL_REAL
    if METAL_REAL:
        pytest.skip("drives the emulator directly")
    import metal_emu
    from mlxc._core.metal.dispatch import kernel_dir
    rng = np.random.default_rng(8)
    n = 3000
    mant = rng.uniform(1, 2, (n, 3)) * rng.choice([-1.0, 1.0], (n, 3))
    cases = mant * np.exp2(rng.integers(-40, 8, (n, 3)).astype(np.float64))
    cases[::10, 2] = 0.0
    cases[5::10, 2] = -cases[5::10, 0] * cases[5::10, 1]     # near / exact cancellation
    a, b = 1 + 2.0 ** -27, 1 + 2.0 ** -26                      # a * b = 1 + ... + 2^-53: a tie
    cases[1::10] = [a, b, 2.0 ** -200]
    cases[2::10] = [a, b, -2.0 ** -200]
    cases[3::10] = [a, -b, 0.0]
    cases[4::10] = [1.0, 1.0, 3 * 2.0 ** -53]                  # tie, rounds to even (up)
    cases[6::10] = [1.0, 1.0, 2.0 ** -53]                      # tie, rounds to even (down)
    cases[7::20] = [a, b, 2.0 ** -126]                        # addend wholly in the sticky bit
    cases[17::20] = [a, b, -1.5 * 2.0 ** -127]
    cases[8::20] = [1.0, 1.0, 2.0 ** -24]                      # float32 ties for to_float
    cases[18::20] = [1.0, 1.0, 3 * 2.0 ** -24]
    lib = metal_emu.compile_library(os.path.join(kernel_dir(), "random.metal"))
    out = np.zeros(n, np.uint64)
    out_f = np.zeros(n, np.float32)
    lib.function("soft_fma_check_g").dispatch(
        {0: np.ascontiguousarray(cases).view(np.uint64), 1: out, 2: out_f,
         3: np.uint32(n).tobytes()}, grid=(n,), threadgroup=(64,), mode="threads")
    want = np.array([float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in cases])
    np.testing.assert_array_equal(out.view(np.float64), want)
    normal = (np.abs(want) >= 2.0 ** -126) | (want == 0)      # to_float's domain (logf's)
    assert normal.sum() > n * 0.9
    np.testing.assert_array_equal(out_f[normal], want[normal].astype(np.float32))
