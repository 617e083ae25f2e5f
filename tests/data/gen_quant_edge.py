"""Record MLX's quantization of adversarial inputs for tests/test_quant_mlx_edge.py.

Run with the reference MLX:  /work/mlxref/bin/python tests/data/gen_quant_edge.py
Writes tests/data/quant_edge_mlx.npz.  The inputs are built here (seeded numpy) and
stored as float32 values exact in each dtype, so the test reads them back:
  w_<dt>   (R, 128) rows made of 16-value blocks (one nvfp4 group; two make an mx
           group, eight an affine group of 128): NaN, +-inf, all-NaN / all-inf,
           float32 and float16 subnormals, signed zeros, float32 extremes, values on
           the e2m1 / e4m3 / e8m0 rounding boundaries and just beside them, group
           maxima exactly at scale boundaries, nvfp4 elements far above 6 (a saturated
           scale), random blocks of many magnitudes.
           Rounding to float16 / bfloat16 turns the largest ones into +-inf.
For every case key c = <mode>_<bits>_<group>_<dt> (nvfp4 with a global scale:
nvfp4_g<i>_<dt>, global scale GLOBALS[i]):
  c_wq, c_s[, c_b]  quantize(w) (affine scales / biases as bit patterns in the dtype)
  c_dq              dequantize(...) bit patterns: affine in the dtype; fp modes in
                    bfloat16 (the default), float16 (c_dq16) and float32 (c_dq32)
  c_mm, c_mmT       fp modes without a global scale: quantized_matmul of float32 x
                    (3, 128) with transpose=True and of xt (3, R) with transpose=False,
                    MLX's float32 results bit for bit (its summation order is fixed);
                    c_mm_f16 ... c_mmT_bf16 the same with x, xt rounded to a half type
                    (MLX then computes in that type)
  gq_<mode>_<xdt>   gather_qmm of the float32 weights as 3 matrices of 5 rows (wq, scales
                    reshaped), x (2, 3, 128) in xdt, LHS / RHS below
"""
import os

import mlx.core as mx
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
DTS = {"f32": mx.float32, "f16": mx.float16, "bf16": mx.bfloat16}
GLOBALS = (0.37, 1e-3, 1.0, 448.0 * 6.0, 3e-7, 7e5, 1e-30, 6.0, 1e30)
AFFINE_BITS = (2, 3, 4, 5, 6, 8)
AFFINE_GS = (32, 64, 128)
FP = (("mxfp4", 4, 32), ("mxfp8", 8, 32), ("nvfp4", 4, 16))

LHS = np.array([[0, 1], [1, 0]], np.uint32)
RHS = np.array([[2, 0], [1, 1]], np.uint32)
E2M1 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6], np.float32)


def _e4m3_values():
    """All finite non-negative e4m3 values, ascending."""
    v = [m * 2.0 ** -9 for m in range(8)]
    v += [(1 + m / 8) * 2.0 ** (e - 7) for e in range(1, 16) for m in range(8)]
    return np.array(v[:-1], np.float64)        # 0x7f is NaN


def blocks(seed=0):
    """The list of 16-value float32 blocks (float64 arithmetic, rounded once)."""
    rng = np.random.default_rng(seed)
    nan, inf = np.nan, np.inf
    out = []

    def add(v):
        v = np.asarray(v, np.float64).ravel()
        assert v.size == 16
        out.append(v.astype(np.float32))

    def rnd(scale=1.0):
        return rng.standard_normal(16) * scale

    add(np.zeros(16))
    add(-np.zeros(16))
    add(np.full(16, nan))
    add(np.full(16, -nan))
    add(np.full(16, inf))
    add(np.full(16, -inf))
    add(np.where(np.arange(16) % 2, inf, -inf))
    for pos, val in ((0, nan), (5, nan), (15, nan), (3, inf), (9, -inf)):
        v = rnd()
        v[pos] = val
        add(v)
    v = rnd(); v[2] = nan; v[7] = inf
    add(v)
    v = np.zeros(16); v[4] = nan
    add(v)
    v = np.zeros(16); v[11] = -inf
    add(v)
    v = np.full(16, nan); v[0] = 1.0
    add(v)
    # float32 subnormals and their neighbours
    tiny = np.float64(np.finfo(np.float32).smallest_subnormal)
    add(rnd(1e-40))
    add(rnd(1e-44))
    add(np.array([tiny, -tiny] * 8))
    add(np.r_[tiny * 3, np.zeros(15)])
    add(np.r_[np.float64(np.finfo(np.float32).tiny), rnd(1e-39)[1:]])
    # float16 subnormals (2^-24 .. 2^-14) and bfloat16-size tiny values
    add(rnd(1e-6))
    add(np.arange(16) * 2.0 ** -24)
    add(rnd(1e-30))
    add(rnd(1e-20))
    # huge values: float32 max, beyond float16 / bfloat16 range
    fmax = np.float64(np.finfo(np.float32).max)
    add(np.r_[fmax, -fmax, rnd(1e37)[2:]])
    add(rnd(1e38))
    add(rnd(6e4))
    add(np.r_[65504.0, 65520.0, -65536.0, rnd(3e4)[3:]])
    add(rnd(1e20))
    # mx scale boundaries: amax = 6 * 2^k (mxfp4) and 448 * 2^k (mxfp8) exactly and
    # one float32 ulp above / below
    for m in (6.0, 448.0):
        for k in (-3, 0, 5):
            top = m * 2.0 ** k
            for t in (top, np.nextafter(np.float32(top), np.float32(inf)),
                      np.nextafter(np.float32(top), np.float32(0))):
                v = rng.uniform(-1, 1, 16) * top * 0.5
                v[rng.integers(16)] = -t if k == 0 else t
                add(v)
    # e2m1 thresholds (midpoints of the grid), ties and one ulp either side, at the
    # scale 1 (amax 6 in the group) and scale 2^-4
    mids = (E2M1[1:] + E2M1[:-1]) / 2
    for sc in (1.0, 2.0 ** -4):
        for d in (0, 1, -1):
            v = [np.nextafter(np.float32(m * sc), np.float32(inf if d > 0 else 0)) if d
                 else m * sc for m in mids]
            v = np.r_[6.0 * sc, v, [-x for x in v], 0.0][:16]
            add(v)
    # e4m3 midpoints (mxfp8 elements at scale 1: amax 448)
    e4 = _e4m3_values()
    em = (e4[1:] + e4[:-1]) / 2
    for i0 in range(0, len(em), 15 * 9):
        add(np.r_[448.0, em[i0:i0 + 15 * 9:9][:15], np.zeros(15)][:16])
    add(np.r_[448.0, em[rng.integers(0, len(em), 15)]])
    add(np.r_[-448.0, -em[rng.integers(0, len(em), 15)]])
    # nvfp4 scale boundaries: amax / 6 on e4m3 values and midpoints
    for s in (e4[10], e4[40], e4[100], 448.0, e4[3], (e4[60] + e4[61]) / 2,
              (e4[5] + e4[6]) / 2, 500.0, 1e-3):
        v = rng.uniform(-1, 1, 16) * 6 * s
        v[rng.integers(16)] = 6 * s
        add(v)
    # nvfp4 elements far above 6 (the scale saturates at 448, w / 448 in [2^22, 2^28]):
    # MLX's nearest-code search then decides on float32-rounded distances
    for lo in (22, 24, 25, 25, 26, 26, 27, 28):
        sign = np.sign(rng.standard_normal(16))
        add((rng.uniform(-1, 1, 16) * 2.0 ** (lo + 1) + sign * 2.0 ** lo) * 448)
    # random blocks of many magnitudes, some with a dominant outlier
    for i in range(40):
        v = rnd(10.0 ** rng.integers(-8, 9))
        if i % 3 == 0:
            v[rng.integers(16)] *= 50
        add(v)
    # float16-exact values (quarter-steps, small integers) at several scales
    for sc in (1 / 64, 1 / 4, 1, 4, 1000):
        add(np.round(rnd(4) * 4) / 4 * sc)
    return out


def weights(seed=0):
    """The (R, 128) float32 weight matrix: blocks in order, padded with random ones."""
    b = blocks(seed)
    rng = np.random.default_rng(seed + 1)
    while len(b) % 8:
        b.append(rng.standard_normal(16).astype(np.float32))
    return np.concatenate(b).reshape(-1, 128)


def activations(rows, seed=2):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((3, 128)).astype(np.float32),
            rng.standard_normal((3, rows)).astype(np.float32))


def bits_of(a):
    """a's bit patterns (uint16 for the half types, uint32 for float32)."""
    return np.array(a.view(mx.uint16 if a.dtype != mx.float32 else mx.uint32))


def main():
    out = {}
    w32 = weights()
    x, xt = activations(w32.shape[0])
    for dname, dt in DTS.items():
        w = mx.array(w32).astype(dt)
        out[f"w_{dname}"] = bits_of(w)
        for bits in AFFINE_BITS:
            for gs in AFFINE_GS:
                key = f"affine_{bits}_{gs}_{dname}"
                r = mx.quantize(w, gs, bits, "affine")
                out[key + "_wq"] = np.array(r[0])
                out[key + "_s"], out[key + "_b"] = bits_of(r[1]), bits_of(r[2])
                out[key + "_dq"] = bits_of(mx.dequantize(*r, gs, bits, "affine"))
        cases = [(f"{m}_{b}_{g}_{dname}", m, b, g, None) for m, b, g in FP]
        cases += [(f"nvfp4_g{i}_{dname}", "nvfp4", 4, 16, v) for i, v in enumerate(GLOBALS)]
        for key, mode, bits, gs, gv in cases:
            g = None if gv is None else mx.array(gv, mx.float32)
            wq, s = mx.quantize(w, gs, bits, mode, global_scale=g)
            out[key + "_wq"], out[key + "_s"] = np.array(wq), np.array(s)
            for suf, odt in (("_dq", mx.bfloat16), ("_dq16", mx.float16), ("_dq32", mx.float32)):
                out[key + suf] = bits_of(mx.dequantize(wq, s, None, gs, bits, mode,
                                                       global_scale=g, dtype=odt))
            for xn, xdt in DTS.items():
                if g is not None:
                    break
                sfx = "" if xn == "f32" else "_" + xn
                xa, xta = mx.array(x).astype(xdt), mx.array(xt).astype(xdt)
                out[key + "_mm" + sfx] = bits_of(mx.quantized_matmul(xa, wq, s, None, True,
                                                                     gs, bits, mode))
                out[key + "_mmT" + sfx] = bits_of(mx.quantized_matmul(xta, wq, s, None, False,
                                                                      gs, bits, mode))
    w3 = mx.array(w32[:15]).reshape(3, 5, 128)
    for mode, bits, gs in FP:
        wq, s = mx.quantize(w3, gs, bits, mode)
        for xn, xdt in DTS.items():
            xg = (mx.array(x[:2, None].repeat(3, 1)).astype(xdt)
                  * mx.array([1.0, -2.0, 0.5])[:, None])
            out[f"gq_{mode}_{xn}"] = bits_of(mx.gather_qmm(xg.astype(xdt), wq, s, None,
                                                           mx.array(LHS), mx.array(RHS), True,
                                                           gs, bits, mode))
    np.savez_compressed(os.path.join(here, "quant_edge_mlx.npz"), **out)


if __name__ == "__main__":
    main()
