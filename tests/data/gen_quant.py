"""Record MLX's quantization for tests/test_quant.py.

Run with the reference MLX:  /work/mlxref/bin/python tests/data/gen_quant.py
Writes tests/data/quant_mlx.npz.  Inputs (seeded numpy, so the test rebuilds them the
same way; stored too, as float32 values exact in each dtype):
  w_<dt>        (8, 128) weights in float32 / float16 / bfloat16: random rows of several
                magnitudes plus edge rows (all zero, all equal, all negative, all
                positive, values on the affine rounding grid, a row with one outlier)
  x             (3, 128) float32 activations; xt (3, 8) for transpose=False
For every case key c = <mode>_<bits>_<group>_<dt> (and nvfp4 with a global scale, "g"):
  c_wq, c_s[, c_b]  quantize(w) (scales / biases as float32 values; fp scales as bytes)
  c_dq              dequantize(...) in the scales' dtype, as bit patterns (fp modes:
                    the default bfloat16, and c_dq32 float32 via dtype=)
  c_mm, c_mmT       quantized_matmul(x, ..., transpose=True) and (xt, ..., False),
                    float32 x (affine: float32 scales only, to keep the file small)
(MLX 0.32's CPU build cannot evaluate qqmm / gather_qqmm: "NYI", so none are recorded.)
"""
import os

import mlx.core as mx
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
DTS = {"f32": mx.float32, "f16": mx.float16, "bf16": mx.bfloat16}


def weights(seed=0):
    """The (8, 256) float32 weight matrix (before rounding to a dtype)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((8, 128)).astype(np.float32)
    w[1] *= 100.0
    w[2] *= 1e-3
    w[3] = 0.0
    w[4] = 0.75
    w[5] = -np.abs(w[5])
    w[6] = np.abs(w[6])
    w[7] = np.round(w[7] * 4) / 4           # values on quarter steps: rounding ties
    w[7, 5] = 37.0                           # an outlier in the first group
    w[0, 64:128] = np.linspace(-1, 3, 64)    # an exact affine grid
    return w


def activations(seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((3, 128)).astype(np.float32),
            rng.standard_normal((3, 8)).astype(np.float32))


def f32(a):
    return np.array(a.astype(mx.float32))


def as_bits(a):
    """a's bit patterns (uint16 for the half types, uint32 for float32)."""
    return np.array(a.view(mx.uint16 if a.dtype != mx.float32 else mx.uint32))


def main():
    out = {}
    w32 = weights()
    x, xt = activations()
    out["x"], out["xt"] = x, xt
    cases = [("affine", b, g) for b in (1, 2, 3, 4, 5, 6, 8) for g in (32, 64, 128)]
    cases += [("mxfp4", 4, 32), ("mxfp8", 8, 32), ("nvfp4", 4, 16)]
    for dname, dt in DTS.items():
        w = mx.array(w32).astype(dt)
        out[f"w_{dname}"] = f32(w)
        for mode, bits, gs in cases:
            key = f"{mode}_{bits}_{gs}_{dname}"
            r = mx.quantize(w, gs, bits, mode)
            out[key + "_wq"] = np.array(r[0])
            if mode == "affine":
                out[key + "_s"], out[key + "_b"] = f32(r[1]), f32(r[2])
                out[key + "_dq"] = as_bits(mx.dequantize(*r, gs, bits, mode))
                if dname == "f32":
                    out[key + "_mm"] = np.array(mx.quantized_matmul(mx.array(x), *r, True, gs,
                                                                     bits, mode))
                    out[key + "_mmT"] = np.array(mx.quantized_matmul(mx.array(xt), *r, False,
                                                                      gs, bits, mode))
            else:
                out[key + "_s"] = np.array(r[1])
                out[key + "_dq"] = as_bits(mx.dequantize(*r, None, gs, bits, mode))
                out[key + "_dq32"] = as_bits(mx.dequantize(*r, None, gs, bits, mode,
                                                        dtype=mx.float32))
                if dname == "f32":
                    out[key + "_mm"] = np.array(mx.quantized_matmul(mx.array(x), *r, None, True,
                                                                     gs, bits, mode))
                    out[key + "_mmT"] = np.array(mx.quantized_matmul(mx.array(xt), *r, None,
                                                                      False, gs, bits, mode))
        # nvfp4 with a global scale
        for gname, gval in (("g1", 0.37), ("g2", 1e-3)):
            key = f"nvfp4_{gname}_{dname}"
            g = mx.array(gval, mx.float32)
            r = mx.quantize(w, mode="nvfp4", global_scale=g)
            out[key + "_wq"] = np.array(r[0])
            out[key + "_s"] = np.array(r[1])
            out[key + "_dq32"] = as_bits(mx.dequantize(*r, mode="nvfp4", global_scale=g,
                                                    dtype=mx.float32))
    np.savez_compressed(os.path.join(here, "quant_mlx.npz"), **out)


if __name__ == "__main__":
    main()
