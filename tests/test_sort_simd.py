"""The SIMD sorting of 32-bit rows (kernels/sort_simd_impl.h: bitonic networks for
rows up to 256, an in-place vector quicksort above, merged over the threads for
one long row) at every SIMD level and several thread counts, bit for bit against
numpy's stable sort: NaNs last in input order with their payloads, -0 and +0
equal and in input order (rows holding those go to the stable sorts), infinities,
heavy ties, every length 0..300 and the network sizes around it."""
import json
import subprocess
import sys
import zlib

import numpy as np
import pytest

import mlxc.core as mx
from helpers import CHILD_CWD, child_env

pytestmark = pytest.mark.mlxc_only

_ORDER = ["scalar", "avx2", "avx512"]
_DETECTED = mx.cpu_info()["isa"]
LEVELS = _ORDER[:_ORDER.index(_DETECTED) + 1] if _DETECTED in _ORDER else [_DETECTED]

# lengths: all of 0..300 (the networks pad to 8..256), then quicksort pieces and
# a long row past the threading threshold (65536)
LENGTHS = list(range(0, 301)) + [383, 384, 385, 511, 512, 513, 1000, 4095, 4097, 20000, 70001]
DTYPES = ["float32", "int32", "uint32"]


def _case(dt, n, variant):
    """Row data of one (dtype, length, variant): variant 0 plain random values,
    1 heavy ties and extremes, 2 (floats) NaNs / zeros of one sign / infinities,
    3 (floats) zeros of both signs and NaNs with payloads."""
    rng = np.random.default_rng(zlib.crc32(repr((dt, n, variant)).encode()))
    if dt != "float32":
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
        if variant == 1:
            pool = np.array([info.min, info.max, 0, 1, info.max - 1, 7], dtype=dt)
            x = np.where(rng.random(n) < 0.7, pool[rng.integers(0, len(pool), n)], x)
        return x
    x = (rng.standard_normal(n) * 10).astype(np.float32)
    if variant == 1:
        x = np.round(x).astype(np.float32)
        x[rng.random(n) < 0.1] = np.float32(3.4e38)
    elif variant == 2:
        pick = rng.random(n)
        x[pick < 0.1] = np.inf
        x[(pick >= 0.1) & (pick < 0.2)] = -np.inf
        x[(pick >= 0.2) & (pick < 0.3)] = 0.0 if n % 2 else -0.0
        if n % 3 == 0:
            x[(pick >= 0.3) & (pick < 0.35)] = np.nan
    elif variant == 3:
        pick = rng.random(n)
        x[pick < 0.1] = 0.0
        x[(pick >= 0.1) & (pick < 0.2)] = -0.0
        bits = x.view(np.uint32)
        nan = (pick >= 0.2) & (pick < 0.25)
        bits[nan] = rng.integers(0x7f800001, 0x80000000, int(nan.sum())).astype(np.uint32) | (
            rng.integers(0, 2, int(nan.sum())).astype(np.uint32) << 31)
    return x


def _cases():
    for dt in DTYPES:
        for n in LENGTHS:
            for variant in (range(4) if dt == "float32" else range(2)):
                if n > 5000 and variant in (1, 3):
                    continue
                yield dt, n, variant


def _stable_sorted(x):
    if x.dtype.kind == "f":
        # mlxc's order: -0 == +0, NaNs last in input order
        return x[np.argsort(np.where(x == 0, np.float32(0), x), kind="stable")]
    return np.sort(x, kind="stable")


# In the child: every case sorted (as one row, and as 3 rows of it where short),
# the results' crc32s by case.
_CHILD = r"""
import json, sys, zlib, numpy as np, mlxc.core as mx
sys.path.insert(0, %r)
from test_sort_simd import _cases, _case
out = {"isa": mx.cpu_info()["isa"]}
for dt, n, v in _cases():
    x = _case(dt, n, v)
    r = [np.array(mx.sort(mx.array(x))).view(np.uint32)]
    if 0 < n <= 300:
        r.append(np.array(mx.sort(mx.array(np.stack([x, x[::-1], x])), axis=-1)).view(np.uint32))
    out[repr((dt, n, v))] = [zlib.crc32(np.ascontiguousarray(a).tobytes()) for a in r]
print(json.dumps(out))
"""


def _expected():
    want = {}
    for dt, n, v in _cases():
        x = _case(dt, n, v)
        r = [_stable_sorted(x).view(np.uint32)]
        if 0 < n <= 300:
            r.append(np.stack([_stable_sorted(x), _stable_sorted(x[::-1]),
                               _stable_sorted(x)]).view(np.uint32))
        want[repr((dt, n, v))] = [zlib.crc32(np.ascontiguousarray(a).tobytes()) for a in r]
    return want


_WANT = None


@pytest.mark.parametrize("level,threads", [(lv, "2") for lv in LEVELS] + [(LEVELS[-1], "1"),
                                                                          (LEVELS[-1], "3")])
def test_sort_32bit_rows_match_numpy_stable(level, threads):
    global _WANT
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run([sys.executable, "-c", _CHILD % here],
                       env=child_env(MLXC_CPU_ISA=level, MLXC_NUM_THREADS=threads),
                       capture_output=True, text=True, timeout=300, cwd=CHILD_CWD)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout)
    assert got.pop("isa") == level
    if _WANT is None:
        _WANT = _expected()
    bad = [k for k in _WANT if got[k] != _WANT[k]]
    assert not bad, bad[:20]


def test_adversarial_inputs_sort_exactly():
    # sorted, reversed, organ-pipe, all equal, two values, sawtooth: the pivot
    # sampling's worst cases (and the depth limit's heap sort) stay exact
    n = 100003
    i = np.arange(n)
    for x in (i, i[::-1], np.minimum(i, n - i), np.zeros(n), i % 2, i % 1000, (i * 7919) % 65,
              np.where(i % 64 == 0, n, 0)):
        for dt in (np.int32, np.float32):
            a = x.astype(dt)
            np.testing.assert_array_equal(np.array(mx.sort(mx.array(a))), np.sort(a))


@pytest.mark.parametrize("dt", ["float32", "int32", "uint32", "int64", "int8", "float16"])
def test_sort_reads_contiguous_rows_or_copies_views(dt):
    # contiguous rows are sorted from the input into the output (mlxc_sort_from);
    # strided views and other axes go through the copy first: all equal numpy's,
    # and the input stays as it was
    rng = np.random.default_rng(5)
    for shape in [(7, 1), (5, 16), (33, 64), (3, 100), (9, 256), (2, 300), (1, 70001)]:
        x = (rng.standard_normal(shape) * 50).astype(dt)
        if dt == "float32" and shape[0] > 1 and shape[1] > 16:
            x[1, 3] = np.nan                 # a row that goes to the stable sort
        a = mx.array(x)
        before = np.array(a).copy()
        x = before
        for view, ref in [(a, x), (a[:, ::2], x[:, ::2]), (a[::2], x[::2])]:
            np.testing.assert_array_equal(np.array(mx.sort(view, axis=-1)), np.sort(ref, axis=-1))
        np.testing.assert_array_equal(np.array(mx.sort(a, axis=0)), np.sort(x, axis=0))
        np.testing.assert_array_equal(np.array(a), before)
