"""The emulated Metal device (tests/metal_emu): real MSL kernels compiled as C++ and run with
Metal's execution model, checked bit for bit against numpy at every lane order; and the planted
bugs METAL.md lists, each of which must be caught."""
import pathlib
import shutil
import struct

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(shutil.which("g++") is None and shutil.which("clang++") is None,
                                reason="metal_emu needs a C++ compiler (g++ or clang++)")

import metal_emu  # noqa: E402
from metal_emu import LANE_ORDERS, MetalError  # noqa: E402

SAMPLES = pathlib.Path(__file__).parent / "metal_emu" / "samples"
ORDERS = [(o, s) for o in LANE_ORDERS for s in ((0, 1) if o == "shuffle" else (0,))]


@pytest.fixture(scope="module")
def binary():
    return metal_emu.compile_library(SAMPLES / "binary.metal")


@pytest.fixture(scope="module")
def reduce():
    return metal_emu.compile_library(SAMPLES / "reduce.metal")


def u32(*v):
    return struct.pack(f"{len(v)}I", *v)


def i32(*v):
    return struct.pack(f"{len(v)}i", *v)


def rand(rng, dtype, n):
    if np.dtype(dtype).kind == "f":
        return (rng.standard_normal(n) * 4).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, n, endpoint=True, dtype=dtype)


def same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes(), f"differ at {np.flatnonzero(a.view(np.uint8) != b.view(np.uint8))[:5]}"


# ----------------------------------------------------------------------------- kernels --
TYPES = {"float32": np.float32, "float16": np.float16, "int32": np.int32, "uint8": np.uint8}
OPS = {"add": np.add, "mul": np.multiply,
       "maximum": lambda a, b: np.fmax(a, b) if a.dtype.kind == "f" else np.maximum(a, b)}


def test_function_names(binary):
    names = binary.function_names()
    assert len(names) == len(TYPES) * len(OPS) * 2 + 1
    assert "vv_add_float16" in names and "g2_maximum_uint8" in names and "axpy_half" in names
    with pytest.raises(MetalError, match="no kernel function named 'vv_sub_float32'"):
        binary.function("vv_sub_float32")


@pytest.mark.parametrize("order,seed", ORDERS)
def test_binary_contiguous(binary, order, seed):
    rng = np.random.default_rng(1)
    n = 1000  # not a multiple of the group: Metal's non-uniform last threadgroup
    with np.errstate(over="ignore"):
        for tname, dt in TYPES.items():
            a, b = rand(rng, dt, n), rand(rng, dt, n)
            for op, ref in OPS.items():
                out = np.full(n + 8, 7, dt)  # the tail must stay untouched
                binary.function(f"vv_{op}_{tname}").dispatch(
                    {0: a, 1: b, 2: out, 3: u32(n + 8)}, (n,), (64,), lane_order=order, seed=seed)
                same_bits(out[:n], ref(a, b).astype(dt))
                assert (out[n:] == 7).all()


@pytest.mark.parametrize("order,seed", ORDERS)
def test_binary_strided_broadcast(binary, order, seed):
    rng = np.random.default_rng(2)
    rows, cols = 5, 37
    for tname, dt in TYPES.items():
        col = rand(rng, dt, rows)          # broadcast along the row: strides (1, 0)
        row = rand(rng, dt, cols)          # broadcast along the column: strides (0, 1)
        for op, ref in OPS.items():
            out = np.zeros(rows * cols, dt)
            binary.function(f"g2_{op}_{tname}").dispatch(
                {0: col, 1: row, 2: out, 3: i32(1, 0), 4: i32(0, 1)}, (cols, rows), (8, 2),
                lane_order=order, seed=seed)
            with np.errstate(over="ignore"):
                same_bits(out.reshape(rows, cols), ref(col[:, None], row[None, :]).astype(dt))


def test_plain_kernel_half(binary):
    rng = np.random.default_rng(3)
    x, y = rand(rng, np.float16, 100), rand(rng, np.float16, 100)
    y0 = y.copy()
    binary.function("axpy_half").dispatch({0: x, 1: y, 2: struct.pack("f", 0.5)}, (100,), (32,))
    same_bits(y, (np.float16(0.5) * x + y0 * np.float16(1.0)).astype(np.float16))


def tree_reference(x, group):
    """The kernel's tree, replayed in numpy with the same dtype and association."""
    parts = []
    for g in range(0, len(x), group):
        s = np.zeros(group, x.dtype)
        chunk = x[g:g + group]
        s[:len(chunk)] = chunk
        w = group // 2
        while w:
            s[:w] = s[:w] + s[w:2 * w]
            w //= 2
        parts.append(s[0])
    return np.array(parts, x.dtype)


@pytest.mark.parametrize("order,seed", ORDERS)
def test_tree_reduction(reduce, order, seed):
    rng = np.random.default_rng(4)
    n, group = 3000, 256
    for tname, dt in (("float32", np.float32), ("int32", np.int32)):
        x = rand(rng, dt, n) if dt == np.float32 else rng.integers(-1000, 1000, n, dtype=dt)
        ngroups = -(-n // group)
        out = np.zeros(ngroups, dt)
        reduce.function(f"tree_sum_{tname}").dispatch(
            {0: x, 1: out, 2: u32(n)}, (ngroups * group,), (group,), lane_order=order, seed=seed)
        same_bits(out, tree_reference(x, group))


@pytest.mark.parametrize("order,seed", ORDERS)
def test_simd_row_sum(reduce, order, seed):
    rng = np.random.default_rng(5)
    rows, row_len, tsize = 6, 1000, 96  # three simdgroups
    x = rng.standard_normal(rows * row_len).astype(np.float32)
    out = np.zeros(rows, np.float32)
    reduce.function("simd_row_sum").dispatch(
        {0: x, 1: out, 2: u32(row_len)}, (rows,), (tsize,), threadgroup_memory={0: 128},
        mode="groups", lane_order=order, seed=seed)
    ref = np.zeros(rows, np.float32)
    for r in range(rows):
        acc = np.zeros(tsize, np.float32)  # each thread's strided sum, in order
        for i in range(0, row_len, tsize):
            chunk = x[r * row_len + i: r * row_len + min(i + tsize, row_len)]
            acc[:len(chunk)] += chunk
        sg = []
        for s in range(tsize // 32):
            v = np.float32(0)
            for lane in range(32):  # the emulator's simd_sum: ascending lanes
                v = np.float32(v + acc[32 * s + lane]) if lane else acc[32 * s]
            sg.append(v)
        tot = sg[0]
        for v in sg[1:]:
            tot = np.float32(tot + v)
        ref[r] = tot
    same_bits(out, ref)
    assert np.allclose(out, x.reshape(rows, row_len).sum(1), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("order,seed", ORDERS)
def test_simd_shuffles_scans_ballot(reduce, order, seed):
    rng = np.random.default_rng(6)
    n = 128
    x = rng.integers(-10**6, 10**6, n, dtype=np.int32)
    mx = np.zeros(n // 32, np.int32)
    reduce.function("shuffle_max").dispatch({0: x, 1: mx}, (n,), (64,), lane_order=order, seed=seed)
    same_bits(mx, x.reshape(-1, 32).max(1))

    v = rng.integers(0, 1000, n, dtype=np.uint32)
    outs = [np.zeros(n, np.uint32), np.zeros(n, np.uint32), np.zeros(n // 32, np.uint64),
            np.zeros(n, np.uint32), np.zeros(n, np.uint32)]
    reduce.function("simd_scans").dispatch({0: v, 1: outs[0], 2: outs[1], 3: outs[2], 4: outs[3],
                                            5: outs[4]}, (n,), (128,), lane_order=order, seed=seed)
    g = v.reshape(-1, 32)
    inc = np.cumsum(g, 1, dtype=np.uint32)
    same_bits(outs[1], inc.ravel())
    same_bits(outs[0], (inc - g).ravel())
    bits = ((g & 1) != 0).astype(np.uint64) << np.arange(32, dtype=np.uint64)
    same_bits(outs[2], bits.sum(1).astype(np.uint64))
    same_bits(outs[3], np.repeat(g.sum(1, dtype=np.uint32), 32))
    same_bits(outs[4], np.repeat(g[:, 3], 32))


@pytest.mark.parametrize("order,seed", ORDERS)
def test_atomics(reduce, order, seed):
    rng = np.random.default_rng(7)
    n, nbins = 5000, 13
    idx = rng.integers(0, 10**6, n, dtype=np.uint32)
    w = rng.integers(-50, 50, n).astype(np.float32)  # integers: exact in any order
    bins = np.zeros(nbins, np.uint32)
    total = np.zeros(1, np.float32)
    reduce.function("histogram").dispatch({0: idx, 1: bins, 2: total, 3: w, 4: u32(nbins)},
                                          (n,), (256,), lane_order=order, seed=seed)
    same_bits(bins, np.bincount(idx % nbins, minlength=nbins).astype(np.uint32))
    assert total[0] == w.sum()
    x = rng.integers(-10**9, 10**9, n, dtype=np.int32)
    best = np.array([np.iinfo(np.int32).min], np.int32)
    reduce.function("cas_max").dispatch({0: x, 1: best}, (n,), (100,), lane_order=order, seed=seed)
    assert best[0] == x.max()


def test_builtins_3d():
    lib = metal_emu.compile_library(text="""
#include <metal_stdlib>
using namespace metal;
kernel void ids(device uint* out [[buffer(0)]],
                uint3 gid [[thread_position_in_grid]], uint3 lid [[thread_position_in_threadgroup]],
                uint3 tg [[threadgroup_position_in_grid]], uint3 tpt [[threads_per_threadgroup]],
                uint3 ntg [[threadgroups_per_grid]], uint3 grid [[threads_per_grid]],
                ushort tid [[thread_index_in_threadgroup]]) {
  uint i = (gid.z * grid.y + gid.y) * grid.x + gid.x;
  uint3 check = tg * uint3(4, 2, 2) + lid;
  out[i * 4 + 0] = all(check == gid) ? 1 : 0;
  out[i * 4 + 1] = tpt.x * 10000 + tpt.y * 100 + tpt.z;
  out[i * 4 + 2] = ntg.x * 10000 + ntg.y * 100 + ntg.z;
  out[i * 4 + 3] = tid;
}""", name="ids")
    grid = (10, 3, 5)
    out = np.zeros(np.prod(grid) * 4, np.uint32)
    lib.function("ids").dispatch({0: out}, grid, (4, 2, 2))
    o = out.reshape(grid[2], grid[1], grid[0], 4)
    assert (o[..., 0] == 1).all()
    z, y, x = np.meshgrid(*(np.arange(g) for g in grid[::-1]), indexing="ij")
    tx, ty, tz = np.minimum(4, 10 - x // 4 * 4), np.minimum(2, 3 - y // 2 * 2), np.minimum(2, 5 - z // 2 * 2)
    same_bits(o[..., 1], (tx * 10000 + ty * 100 + tz).astype(np.uint32))
    assert (o[..., 2] == 3 * 10000 + 2 * 100 + 3).all()
    same_bits(o[..., 3], ((z % 2 * ty + y % 2) * tx + x % 4).astype(np.uint32))


def test_raw_address_and_cache(binary):
    a = np.arange(64, dtype=np.float32)
    out = np.zeros(64, np.float32)
    binary.function("vv_mul_float32").dispatch(
        {0: (a.ctypes.data, a.nbytes), 1: a, 2: (out.ctypes.data, out.nbytes), 3: u32(64)},
        (64,), (32,))
    same_bits(out, a * a)
    assert metal_emu.compile_library(SAMPLES / "binary.metal") is binary  # once per content


def test_bad_bindings(binary):
    f = binary.function("vv_add_float32")
    a = np.zeros(8, np.float32)
    with pytest.raises(MetalError, match=r"buffer\(3\)\]\] is not bound"):
        f.dispatch({0: a, 1: a, 2: a}, (8,), (8,))
    with pytest.raises(MetalError, match="non-contiguous"):
        f.dispatch({0: np.zeros(16, np.float32)[::2], 1: a, 2: a, 3: u32(8)}, (8,), (8,))
    with pytest.raises(MetalError, match="setBytes"):
        f.dispatch({0: a, 1: a, 2: a, 3: bytes(5000)}, (8,), (8,))
    with pytest.raises(MetalError, match="lane_order"):
        f.dispatch({0: a, 1: a, 2: a, 3: u32(8)}, (8,), (8,), lane_order="sideways")


def test_compile_error_names_metal_line():
    with pytest.raises(MetalError, match=r"broken\.metal:4"):
        metal_emu.compile_library(text="#include <metal_stdlib>\nusing namespace metal;\n"
                                       "kernel void k(device float* o [[buffer(0)]]) {\n"
                                       "  o[0] = undefined_name;\n}\n", name="broken")
    with pytest.raises(MetalError, match=r"tginit\.metal:2: a threadgroup variable cannot have"):
        metal_emu.compile_library(text="kernel void k(device float* o [[buffer(0)]]) {\n"
                                       "  threadgroup float t[4] = {0};\n  o[0] = t[0];\n}\n",
                                  name="tginit")
    with pytest.raises(MetalError, match=r"tgtwo\.metal:2: one threadgroup declaration per"):
        metal_emu.compile_library(text="kernel void k(device float* o [[buffer(0)]]) {\n"
                                       "  threadgroup float a[4], b[4];\n  o[0] = a[0];\n}\n",
                                  name="tgtwo")
    with pytest.raises(MetalError, match=r"noattr\.metal:1: kernel k: .*has no \[\[buffer"):
        metal_emu.compile_library(text="kernel void k(device float* o) { o[0] = 1; }",
                                  name="noattr")


# ------------------------------------------------------------------------ planted bugs --
def planted(body, name):
    return metal_emu.compile_library(text="#include <metal_stdlib>\nusing namespace metal;\n" + body,
                                     name=name)


def test_planted_missing_barrier():
    lib = planted("""
kernel void racy_sum(device const float* in [[buffer(0)]], device float* out [[buffer(1)]],
                     uint gid [[thread_position_in_grid]], uint lid [[thread_position_in_threadgroup]],
                     uint group [[threadgroup_position_in_grid]]) {
  threadgroup float shared[256];
  shared[lid] = in[gid];
  threadgroup_barrier(mem_flags::mem_threadgroup);
  for (uint s = 128; s > 0; s >>= 1) {
    if (lid < s) shared[lid] += shared[lid + s];
    // BUG: no barrier between the tree's levels
  }
  if (lid == 0) out[group] = shared[0];
}""", "missing_barrier")
    x = np.random.default_rng(8).integers(0, 100, 1024).astype(np.float32)
    results = {}
    for order, seed in ORDERS:
        out = np.zeros(4, np.float32)
        lib.function("racy_sum").dispatch({0: x, 1: out}, (1024,), (256,), lane_order=order, seed=seed)
        results[(order, seed)] = out.tobytes()
    ref = x.reshape(4, 256).sum(1).astype(np.float32).tobytes()
    assert len(set(results.values())) > 1, "the lane orders did not expose the race"
    assert any(r != ref for r in results.values())


def test_planted_barrier_after_early_return():
    lib = planted("""
kernel void early(device float* out [[buffer(0)]], constant uint& n [[buffer(1)]],
                  uint gid [[thread_position_in_grid]], uint lid [[thread_position_in_threadgroup]]) {
  threadgroup float t[64];
  if (gid >= n) return;           // BUG: return before a barrier
  t[lid] = 1.0f;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  out[gid] = t[63 - lid];
}""", "early_return")
    out = np.zeros(128, np.float32)
    f = lib.function("early")
    f.dispatch({0: out, 1: u32(128)}, (128,), (64,))  # every thread present: fine
    for order, seed in ORDERS:
        with pytest.raises(MetalError, match=r"early_return\.metal:9: threadgroup_barrier reached "
                                             r"by 36 of 64 threads.*returned before it"):
            f.dispatch({0: out, 1: u32(100)}, (128,), (64,), lane_order=order, seed=seed)


def test_planted_uninitialized_threadgroup_read():
    lib = planted("""
kernel void uninit(device float* out [[buffer(0)]], uint lid [[thread_position_in_threadgroup]]) {
  threadgroup float t[33];
  t[lid] = float(lid);            // BUG: t[32] is never written
  threadgroup_barrier(mem_flags::mem_threadgroup);
  out[lid] = t[lid + 1];
}""", "uninit")
    for order, seed in ORDERS:
        out = np.zeros(32, np.float32)
        lib.function("uninit").dispatch({0: out}, (32,), (32,), lane_order=order, seed=seed)
        same_bits(out[:31], np.arange(1, 32, dtype=np.float32))
        assert np.isnan(out[31])  # the poison (0xFF bytes) shows


def test_planted_oversize_threadgroup_memory():
    lib = planted("""
kernel void big(device float* out [[buffer(0)]], threadgroup float* dyn [[threadgroup(0)]],
                uint lid [[thread_position_in_threadgroup]]) {
  threadgroup float a[4096];      // 16 KiB
  threadgroup float b[4097];      // BUG: 16 KiB + 4 bytes more
  a[lid] = 1; b[lid] = 2; dyn[lid] = 3;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  out[lid] = a[lid] + b[lid] + dyn[lid];
}""", "oversize_tg")
    out = np.zeros(32, np.float32)
    f = lib.function("big")
    with pytest.raises(MetalError, match=r"oversize_tg\.metal:7: threadgroup memory exceeds 32 KiB"):
        f.dispatch({0: out}, (32,), (32,), threadgroup_memory={0: 16})
    with pytest.raises(MetalError, match="exceeds 32 KiB"):
        f.dispatch({0: out}, (32,), (32,), threadgroup_memory={0: 32768, 1: 16})


def test_threadgroup_array_size_expressions():
    """A kernel-scope threadgroup array whose size is an expression with '*' or '(' is
    group memory (it was once taken for a pointer declaration and became per-thread):
    threads see each other's writes, and its size counts against the 32 KiB."""
    lib = planted("""
constant constexpr uint W = 8;
kernel void rev(device float* out [[buffer(0)]], uint lid [[thread_position_in_threadgroup]]) {
  threadgroup float t[4 * W];
  threadgroup uint u[(W + 1) * 4 - 4];
  t[lid] = float(lid);
  u[31 - lid] = lid;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  out[lid] = t[31 - lid] + float(u[lid]);
}""", "tg_size_expr")
    for order, seed in ORDERS:
        out = np.zeros(32, np.float32)
        lib.function("rev").dispatch({0: out}, (32,), (32,), lane_order=order, seed=seed)
        same_bits(out, 2 * (31 - np.arange(32, dtype=np.float32)))
    big = planted("""
kernel void big(device float* out [[buffer(0)]], uint lid [[thread_position_in_threadgroup]]) {
  threadgroup float a[64 * 129];  // BUG: 33 KiB
  a[lid] = 1;
  threadgroup_barrier(mem_flags::mem_threadgroup);
  out[lid] = a[lid];
}""", "tg_size_expr_big")
    with pytest.raises(MetalError, match=r"tg_size_expr_big\.metal:5: threadgroup memory exceeds "
                                         r"32 KiB"):
        big.function("big").dispatch({0: np.zeros(32, np.float32)}, (32,), (32,))
    # a threadgroup pointer is still a pointer (the keyword is erased, nothing allocated)
    ptr = planted("""
kernel void ptr(device float* out [[buffer(0)]], threadgroup float* dyn [[threadgroup(0)]],
                uint lid [[thread_position_in_threadgroup]]) {
  threadgroup float* p = dyn + 2 * 1;
  p[lid] = float(lid);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  out[lid] = dyn[2 + (lid + 1) % 32];
}""", "tg_pointer")
    out = np.zeros(32, np.float32)
    ptr.function("ptr").dispatch({0: out}, (32,), (32,), threadgroup_memory={0: 36 * 4})
    same_bits(out, ((np.arange(32) + 1) % 32).astype(np.float32))


def test_planted_oversize_group(binary):
    a = np.zeros(2048, np.float32)
    f = binary.function("vv_add_float32")
    for tg in ((1025,), (32, 32, 2)):
        with pytest.raises(MetalError, match="exceeds Metal's limit of 1024"):
            f.dispatch({0: a, 1: a, 2: a, 3: u32(2048)}, (2048,), tg)
    f.dispatch({0: a, 1: a, 2: a, 3: u32(2048)}, (2048,), (32, 32))  # exactly 1024 is fine


def test_planted_shuffle_from_inactive_lane():
    lib = planted("""
kernel void shuf(device float* out [[buffer(0)]], constant uint& n [[buffer(1)]],
                 uint gid [[thread_position_in_grid]], uint lane [[thread_index_in_simdgroup]]) {
  if (gid >= n) return;
  float v = float(gid);
  v = simd_shuffle(v, ushort((lane + 1) % 32));   // BUG: lane n%32 - 1 reads an exited lane
  out[gid] = v;
}
kernel void down(device float* out [[buffer(0)]], uint gid [[thread_position_in_grid]]) {
  float v = float(gid);
  v += simd_shuffle_down(v, ushort(8));  // BUG in a 48-thread group: reads lanes beyond it
  out[gid] = v;
}""", "shuffle_inactive")
    out = np.zeros(64, np.float32)
    f = lib.function("shuf")
    f.dispatch({0: out, 1: u32(64)}, (64,), (64,))
    same_bits(out, np.roll(np.arange(64, dtype=np.float32).reshape(2, 32), -1, 1).ravel())
    for order, seed in ORDERS:
        with pytest.raises(MetalError, match=r"shuffle_inactive\.metal:8: simd_shuffle reads lane "
                                             r"8, which is inactive"):
            f.dispatch({0: out, 1: u32(40)}, (64,), (64,), lane_order=order, seed=seed)
        with pytest.raises(MetalError, match=r"shuffle_inactive\.metal:13: simd_shuffle_down reads lane (1[6-9]|2[0-3]), which is inactive"):
            lib.function("down").dispatch({0: out}, (48,), (48,), lane_order=order, seed=seed)
    # without strictness the read gives poison, which shows in the result
    lib.function("down").dispatch({0: out}, (48,), (48,), strict_shuffle=False)
    assert np.isnan(out[40:48]).all() and not np.isnan(out[:40]).any()


def test_planted_barrier_in_divergent_control_flow():
    lib = planted("""
kernel void div(device float* out [[buffer(0)]], uint lid [[thread_position_in_threadgroup]]) {
  threadgroup float t[64];
  t[lid] = 1.0f;
  if (lid < 32) {
    threadgroup_barrier(mem_flags::mem_threadgroup);   // BUG: only half the group gets here
  } else {
    threadgroup_barrier(mem_flags::mem_threadgroup);
  }
  out[lid] = t[63 - lid];
}
kernel void simd_div(device float* out [[buffer(0)]], uint lane [[thread_index_in_simdgroup]]) {
  float v = 1.0f;
  if (lane < 16) {
    v = simd_sum(v);                 // BUG: the simdgroup is split between two collectives
  } else {
    v = simd_max(v);
  }
  out[lane] = v;
}""", "divergent")
    out = np.zeros(64, np.float32)
    for order, seed in ORDERS:
        with pytest.raises(MetalError, match=r"divergent\.metal:(8|10): threadgroup_barrier "
                                             r"divergence.*different barrier divergent\.metal:(8|10)"):
            lib.function("div").dispatch({0: out}, (64,), (64,), lane_order=order, seed=seed)
        with pytest.raises(MetalError, match=r"divergent\.metal:(17|19): SIMD collective in "
                                             r"divergent control flow"):
            lib.function("simd_div").dispatch({0: out}, (32,), (32,), lane_order=order, seed=seed)


# ------------------------------------------------------------------- the machinery --
CHILD = """
import struct, sys
import numpy as np
sys.path.insert(0, {tests!r})
import metal_emu
lib = metal_emu.compile_library({path!r})
x = np.arange(3000, dtype=np.int32)
out = np.zeros(12, np.int32)
for order in metal_emu.LANE_ORDERS:
    lib.function("tree_sum").dispatch({{0: x, 1: out, 2: struct.pack("I", 3000)}},
                                      (3072,), (256,), lane_order=order)
    assert out.sum() == x.sum(), out
print("ok")
"""

TINY_TREE = """#include <metal_stdlib>
using namespace metal;
kernel void tree_sum(device const int* in [[buffer(0)]], device int* partial [[buffer(1)]],
                     constant uint& n [[buffer(2)]], uint gid [[thread_position_in_grid]],
                     uint lid [[thread_position_in_threadgroup]],
                     uint group [[threadgroup_position_in_grid]]) {
  threadgroup int shared[256];
  shared[lid] = gid < n ? in[gid] : 0;
  for (uint s = 128; s > 0; s >>= 1) {
    threadgroup_barrier(mem_flags::mem_threadgroup);
    if (lid < s) shared[lid] += shared[lid + s];
  }
  if (lid == 0) partial[group] = shared[0];
}
"""


def _child(env_extra, tmp_path):
    import os
    import subprocess
    import sys
    src = tmp_path / "tiny_tree.metal"
    src.write_text(TINY_TREE)
    env = dict(os.environ, **env_extra)
    code = CHILD.format(tests=str(pathlib.Path(__file__).parent), path=str(src))
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_portable_context_switch(tmp_path):
    """The ucontext fallback (non-x86-64 machines) runs barrier kernels too."""
    p = _child({"METAL_EMU_UCONTEXT": "1"}, tmp_path)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0 and out.startswith("ok"), err


def test_concurrent_compiles_share_the_cache(tmp_path):
    """Two processes compiling the same file into one empty cache both succeed (each writes a
    private file, then renames it)."""
    cache = tmp_path / "cache"
    procs = [_child({"METAL_EMU_CACHE": str(cache)}, tmp_path) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.startswith("ok"), err
    assert not list(cache.glob("*.tmp*"))
    assert len(list(cache.glob("*.so"))) == 2  # the runtime and tiny_tree.metal


@pytest.mark.parametrize("host,dt", [("idioms_f32", np.float32), ("idioms_f16", np.float16)])
def test_idioms(host, dt):
    """Vectors, select, metal::/fast::/precise:: math, numeric_limits, half literals, bfloat,
    as_type, bit functions, struct setBytes, metal::array, simd_max/sum/is_first."""
    lib = metal_emu.compile_library(SAMPLES / "idioms.metal")
    out = np.zeros(64, np.float32)
    h4 = np.zeros(4, np.float16)
    bf = np.zeros(1, np.uint16)
    lib.function(host).dispatch({0: np.ones(4, dt), 1: out, 2: struct.pack("fi", 0.25, 2), 3: h4,
                                 4: bf}, (64,), (64,))
    f = np.float32
    w = np.array([3, 3, 5, 7], f)
    w[w > 5] = 0
    s = f(w.sum()) + f(1) + f(2) + f(1) + f(1) + f(15)
    hh = np.float16(3) + np.float16(s)
    same_bits(h4, (np.array([hh, 0.25, -1, hh], np.float16) * np.float16(2)).astype(np.float16))
    assert bf[0] == (np.array([s + 1], np.float32).view(np.uint32)[0] >> 16)
    s = f(f(f(f(f(s + f(7 + 31)) + np.log(f(2))) + f(0.5)) + f(0.25)) + f(2))
    s = f(s + f(32)) + f(4) + f(2)
    lanes = np.arange(64)
    expect = np.where(lanes % 32 == 0, f(s + f(1)), s).astype(f)
    expect[1:] = np.where(lanes[1:] % 32 == 0, f(f(s + f(1)) + f(1)), f(s + f(1)))
    assert np.allclose(out, expect, rtol=1e-6), (out[:3], expect[:3])


def test_faults_become_errors():
    """A bad access, an integer division by zero and a fiber stack overflow inside a kernel raise
    MetalError (with the .metal line where the line tables tell it); the process lives on."""
    lib = planted("""
kernel void bad_read(device const float* in [[buffer(0)]], device float* out [[buffer(1)]],
                     uint gid [[thread_position_in_grid]]) {
  out[gid] = in[gid];
}
kernel void divide(device int* out [[buffer(0)]], constant int& d [[buffer(1)]],
                   uint gid [[thread_position_in_grid]]) {
  out[gid] = 7 / (d - int(gid));
}
kernel void deep(device float* out [[buffer(0)]], uint gid [[thread_position_in_grid]]) {
  float big[200000];
  for (int i = 0; i < 200000; i++) big[i] = out[i % 4];
  threadgroup_barrier(mem_flags::mem_none);
  out[gid] = big[gid * 7 % 200000];
}""", "faults")
    out = np.zeros(64, np.float32)
    with pytest.raises(MetalError, match=r"invalid memory access at address 0x10 \(thread"):
        lib.function("bad_read").dispatch({0: (16, 256), 1: out}, (64,), (32,), guard=False)
    with pytest.raises(MetalError, match=r"division by zero.*thread \(5,0,0\)"):
        lib.function("divide").dispatch({0: np.zeros(64, np.int32), 1: i32(5)}, (64,), (32,))
    with pytest.raises(MetalError, match="fiber stack overflowed"):
        lib.function("deep").dispatch({0: out}, (64,), (32,))
    a = np.arange(64, dtype=np.float32)
    lib.function("bad_read").dispatch({0: a, 1: out}, (64,), (32,))
    same_bits(out, a)
    try:
        lib.function("bad_read").dispatch({0: (16, 256), 1: out}, (64,), (32,), guard=False)
    except MetalError as e:
        if shutil.which("addr2line"):
            assert "faults.metal:6: invalid memory access" in str(e)


@pytest.mark.parametrize("order,seed", ORDERS)
def test_threads_become_fibers_when_needed(order, seed):
    """Threads start as plain calls; the first to reach a collective becomes a fiber, mid-group
    (after lanes that returned early) or in a later group, with the same results."""
    lib = planted("""
kernel void partial_sums(device const float* in [[buffer(0)]], device float* out [[buffer(1)]],
                         constant uint& n [[buffer(2)]], uint gid [[thread_position_in_grid]],
                         uint lane [[thread_index_in_simdgroup]]) {
  if (gid >= n) return;            // exited lanes are inactive in the simd_sum
  float s = simd_sum(in[gid]);
  if (lane == 0) out[gid / 32] = s;
}
kernel void later_groups(device float* out [[buffer(0)]], uint lid [[thread_position_in_threadgroup]],
                         uint group [[threadgroup_position_in_grid]]) {
  alignas(16) threadgroup float t[32];
  if (group % 2 == 0) { out[group * 32 + lid] = -1.0f; return; }  // uniform per group
  t[lid] = float(group * 100 + lid);
  threadgroup_barrier(mem_flags::mem_threadgroup);
  out[group * 32 + lid] = t[31 - lid];
}""", "adopt")
    x = np.arange(100, dtype=np.float32)
    out = np.zeros(4, np.float32)
    lib.function("partial_sums").dispatch({0: x, 1: out, 2: u32(75)}, (128,), (64,),
                                          lane_order=order, seed=seed)
    ref = [x[i:min(i + 32, 75)].sum(dtype=np.float32) for i in range(0, 96, 32)]
    same_bits(out[:3], np.array(ref, np.float32))
    o = np.zeros(6 * 32, np.float32)
    lib.function("later_groups").dispatch({0: o}, (6,), (32,), mode="groups", lane_order=order,
                                          seed=seed)
    g, lid = np.divmod(np.arange(6 * 32), 32)
    same_bits(o, np.where(g % 2 == 0, -1, g * 100 + 31 - lid).astype(np.float32))


def test_guarded_buffers():
    """Buffers run on guarded copies: reading or writing past a buffer's end fails naming it;
    aliased bindings (in place) stay aliased; results are copied back."""
    lib = planted("""
kernel void copy_unguarded(device const float* in [[buffer(0)]], device float* out [[buffer(1)]],
                           uint gid [[thread_position_in_grid]]) {
  out[gid] = in[gid];     // BUG: no gid < n guard
}""", "unguarded")
    f = lib.function("copy_unguarded")
    a, out = np.arange(100, dtype=np.float32), np.zeros(128, np.float32)
    with pytest.raises(MetalError, match=r"past the end of buffer\(0\) \(400 bytes\)"):
        f.dispatch({0: a, 1: out}, (1,), (128,), mode="groups")
    with pytest.raises(MetalError, match=r"past the end of buffer\(1\) \(400 bytes\)"):
        f.dispatch({0: np.zeros(128, np.float32), 1: np.zeros(100, np.float32)}, (1,), (128,),
                   mode="groups")
    f.dispatch({0: a, 1: out}, (100,), (128,))  # dispatchThreads: the partial group is right
    same_bits(out[:100], a)
    x = np.arange(50, dtype=np.float32)
    binary = metal_emu.compile_library(SAMPLES / "binary.metal")
    binary.function("vv_add_float32").dispatch({0: x, 1: x, 2: x, 3: u32(50)}, (50,), (32,))
    same_bits(x, np.arange(50, dtype=np.float32) * 2)
    ro = np.arange(8, dtype=np.float32)
    ro.flags.writeable = False
    o = np.zeros(8, np.float32)
    binary.function("vv_add_float32").dispatch({0: ro, 1: ro, 2: o, 3: u32(8)}, (8,), (8,))
    same_bits(o, ro * 2)
