"""The radix sort kernels through mx.sort / mx.argsort: every real dtype against
numpy's stable sort, bit for bit (NaN last with its payload, -0 and +0 equal and
in input order, each keeping its sign), on row lengths around the kernel's
switches (merge sort of short rows, radix, one long row over all threads), and
the same results with 1 and 2 threads."""
import hashlib
import subprocess
import sys
import zlib

import numpy as np
import pytest

import mlxc.core as mx

# (rows, length): short rows (merge sort), radix rows, many rows over threads,
# a single long row split over the threads
SHAPES = [(1, 1), (3, 2), (5, 31), (4, 79), (3, 128), (2, 230), (2, 1000), (64, 300), (1, 70000)]

INT_DTYPES = ["bool_", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64"]
FLOAT_DTYPES = ["float16", "float32", "float64"]


def _data(dt, shape, rng):
    """Random values with heavy ties; floats also get NaNs, infinities and zeros of both signs."""
    n = int(np.prod(shape))
    if dt == "bool_":
        return rng.integers(0, 2, n).astype(np.bool_).reshape(shape)
    npdt = np.dtype(dt)
    if npdt.kind in "ui":
        info = np.iinfo(npdt)
        pool = rng.integers(info.min, info.max, 40, dtype=npdt, endpoint=True)
        pool[:2] = [info.min, info.max]
        full = rng.integers(info.min, info.max, n, dtype=npdt, endpoint=True)
        return np.where(rng.random(n) < 0.5, pool[rng.integers(0, 40, n)], full).reshape(shape)
    specials = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0], dtype=npdt)
    x = (rng.standard_normal(n) * 100).astype(npdt)
    pick = rng.random(n)
    x = np.where(pick < 0.3, specials[rng.integers(0, len(specials), n)], x)
    return x.astype(npdt).reshape(shape)


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view(f"u{a.dtype.itemsize}") if a.dtype.kind == "f" else a


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("dt", INT_DTYPES + FLOAT_DTYPES)
def test_sort_argsort_match_numpy_stable(dt, shape):
    # crc32, not hash(): str hashes change per process, the data must not
    rng = np.random.default_rng(zlib.crc32(repr((dt, shape)).encode()))
    x = _data(dt, shape, rng)
    a = mx.array(x, dtype=getattr(mx, dt))
    want_idx = np.argsort(x, axis=-1, kind="stable")
    want = np.take_along_axis(x, want_idx, axis=-1)
    assert np.array_equal(_bits(np.sort(x, axis=-1, kind="stable")), _bits(want))
    got_idx = np.array(mx.argsort(a, axis=-1))
    np.testing.assert_array_equal(got_idx, want_idx)
    got = np.array(mx.sort(a, axis=-1))
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(_bits(got), _bits(want))


@pytest.mark.parametrize("shape", [(4, 33), (2, 1000), (1, 70000)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_bfloat16_sorts_like_its_float32_values(shape):
    # numpy has no bfloat16: sort the (exact) float32 values of the bfloat16 data
    rng = np.random.default_rng(7)
    b = mx.array(_data("float32", shape, rng)).astype(mx.bfloat16)
    x = np.array(b.astype(mx.float32))
    want_idx = np.argsort(x, axis=-1, kind="stable")
    np.testing.assert_array_equal(np.array(mx.argsort(b, axis=-1)), want_idx)
    got = np.array(mx.sort(b, axis=-1).astype(mx.float32))
    want = np.take_along_axis(x, want_idx, axis=-1)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))   # -0 kept
    np.testing.assert_array_equal(got, want)                             # NaN == NaN here


def test_long_float32_row_and_other_axis():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(1 << 20).astype(np.float32)
    x[rng.integers(0, x.size, 1000)] = np.nan
    x[rng.integers(0, x.size, 1000)] = -0.0
    x[rng.integers(0, x.size, 1000)] = 0.0
    a = mx.array(x)
    want_idx = np.argsort(x, kind="stable")
    np.testing.assert_array_equal(np.array(mx.argsort(a)), want_idx)
    np.testing.assert_array_equal(_bits(np.array(mx.sort(a))), _bits(x[want_idx]))
    # a non-last axis goes through the same kernel on transposed rows
    y = rng.integers(-5, 5, (300, 7)).astype(np.int32)
    np.testing.assert_array_equal(np.array(mx.argsort(mx.array(y), axis=0)),
                                  np.argsort(y, axis=0, kind="stable"))
    np.testing.assert_array_equal(np.array(mx.sort(mx.array(y), axis=0)), np.sort(y, axis=0))


def test_sorted_reversed_and_constant_rows():
    n = 5000
    for x in (np.arange(n, dtype=np.int64), np.arange(n, 0, -1).astype(np.float32),
              np.full(n, 3, np.uint16), np.full(n, np.nan, np.float64),
              np.tile(np.array([0.0, -0.0], np.float32), n // 2)):
        want_idx = np.argsort(x, kind="stable")
        a = mx.array(x, dtype=getattr(mx, x.dtype.name))
        np.testing.assert_array_equal(np.array(mx.argsort(a)), want_idx)
        np.testing.assert_array_equal(_bits(np.array(mx.sort(a))), _bits(x[want_idx]))


# Runs in the child: digests of sort/argsort results of long and many rows.
_CHILD = r"""
import hashlib, numpy as np, mlxc.core as mx
rng = np.random.default_rng(11)
out = []
for x in (rng.standard_normal(1 << 20).astype(np.float32),
          rng.integers(-1000, 1000, (1 << 17,)).astype(np.int64),
          rng.standard_normal((256, 700)).astype(np.float16),
          rng.integers(0, 50, (3000, 40)).astype(np.uint8)):
    a = mx.array(x)
    for r in (mx.sort(a, axis=-1), mx.argsort(a, axis=-1)):
        out.append(hashlib.sha256(np.ascontiguousarray(np.array(r)).tobytes()).hexdigest())
print(" ".join(out))
"""


@pytest.mark.mlxc_only
def test_thread_count_does_not_change_results():
    from helpers import CHILD_CWD, child_env
    digests = []
    for threads in ("1", "2"):
        r = subprocess.run([sys.executable, "-c", _CHILD], env=child_env(MLXC_NUM_THREADS=threads),
                           capture_output=True, text=True, timeout=300, cwd=CHILD_CWD)
        assert r.returncode == 0, r.stderr[-3000:]
        digests.append(r.stdout.split())
    assert digests[0] == digests[1]
    # and they are numpy's stable results
    rng = np.random.default_rng(11)
    want = []
    for x in (rng.standard_normal(1 << 20).astype(np.float32),
              rng.integers(-1000, 1000, (1 << 17,)).astype(np.int64),
              rng.standard_normal((256, 700)).astype(np.float16),
              rng.integers(0, 50, (3000, 40)).astype(np.uint8)):
        i = np.argsort(x, axis=-1, kind="stable")
        for r in (np.take_along_axis(x, i, axis=-1), i.astype(np.uint32)):
            want.append(hashlib.sha256(np.ascontiguousarray(r).tobytes()).hexdigest())
    assert digests[0] == want
