"""Measure the emulator's costs (for reports): python -m metal_emu.bench (from tests/).
Cold compile of one .metal file, ns per thread of a barrier-free kernel, ns per fiber switch,
ns per thread of a kernel with barriers."""
import os
import struct
import sys
import tempfile
import time

import numpy as np

import metal_emu

SAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "samples")


def best(f, repeat=5):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main():
    with tempfile.TemporaryDirectory() as d:
        os.environ["METAL_EMU_CACHE"] = d
        t = time.perf_counter()
        metal_emu.compile_library(os.path.join(SAMPLES, "reduce.metal"))
        print(f"cold compile (runtime + reduce.metal, {metal_emu.compiler()}): "
              f"{time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        lib = metal_emu.compile_library(os.path.join(SAMPLES, "binary.metal"))
        print(f"cold compile binary.metal (25 instantiations): {time.perf_counter() - t:.2f} s")
        red = metal_emu.compile_library(os.path.join(SAMPLES, "reduce.metal"))
    n = 1 << 22
    a = np.ones(n, np.float32)
    out = np.zeros(n, np.float32)
    f = lib.function("vv_add_float32")
    for order in metal_emu.LANE_ORDERS:
        s = best(lambda: f.dispatch({0: a, 1: a, 2: out, 3: struct.pack("I", n)}, (n,), (256,),
                                    lane_order=order), 3)
        print(f"barrier-free vv_add_float32, {order}: {s / n * 1e9:.1f} ns/thread")
    m = 2_000_000
    s = best(lambda: metal_emu.bench_switch(m), 3)
    print(f"fiber switch: {s / (2 * m) * 1e9:.1f} ns per switch")
    nn = 1 << 18
    x = np.ones(nn, np.float32)
    p = np.zeros(nn // 256, np.float32)
    g = red.function("tree_sum_float32")
    s = best(lambda: g.dispatch({0: x, 1: p, 2: struct.pack("I", nn)}, (nn,), (256,)), 3)
    print(f"tree_sum_float32 (9 barriers/thread, fibers): {s / nn * 1e9:.1f} ns/thread")
    return 0


if __name__ == "__main__":
    sys.exit(main())
