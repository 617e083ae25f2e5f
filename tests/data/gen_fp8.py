"""Record MLX's float8 (e4m3) conversions for tests/test_fp8.py.

Run with the reference MLX:  /work/mlxref/bin/python tests/data/gen_fp8.py
Writes tests/data/fp8_mlx.npz:
  codes_f32 / codes_f16 / codes_bf16   from_fp8 of the 256 codes, as the output's bits
  to_f16   to_fp8 of every float16 bit pattern (input i is the pattern i)
  to_bf16  to_fp8 of every bfloat16 bit pattern
  f32_in, to_f32   a float32 sweep (bits) and its to_fp8 codes: every e4m3 value, the
                   midpoints between neighbours and their float32 neighbours (the
                   rounding ties), both signs, specials, and seeded random values
"""
import os

import mlx.core as mx
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))

codes = mx.arange(256).astype(mx.uint8)
out = {
    "codes_f32": np.array(mx.from_fp8(codes, mx.float32)).view(np.uint32),
    "codes_f16": np.array(mx.from_fp8(codes, mx.float16)).view(np.uint16),
    "codes_bf16": np.array(mx.from_fp8(codes, mx.bfloat16).view(mx.uint16)),
}

pat16 = mx.arange(65536).astype(mx.uint16)
out["to_f16"] = np.array(mx.to_fp8(pat16.view(mx.float16)))
out["to_bf16"] = np.array(mx.to_fp8(pat16.view(mx.bfloat16)))

# float32 sweep
vals = np.array(mx.from_fp8(codes[:127], mx.float32), dtype=np.float32)   # 0 .. 448
vals = np.unique(vals)
mids = ((vals[:-1].astype(np.float64) + vals[1:]) / 2).astype(np.float32)
near = []
for m in list(mids) + list(vals) + [np.float32(464.0), np.float32(2.0 ** -10)]:
    m = np.float32(m)
    near += [np.nextafter(m, np.float32(-np.inf)), m, np.nextafter(m, np.float32(np.inf))]
special = np.array([0.0, np.inf, np.nan, 448.0, 449.0, 463.99, 464.0, 465.0, 480.0, 1e30,
                    3.4e38, 1e-30, 1e-45, 2.0 ** -9, 2.0 ** -10, 3 * 2.0 ** -11],
                   dtype=np.float32)
rng = np.random.default_rng(8)
rand = (rng.uniform(-1, 1, 5000) * 2.0 ** rng.integers(-12, 10, 5000)).astype(np.float32)
rand_bits = rng.integers(0, 2**32, 1000, dtype=np.uint64).astype(np.uint32).view(np.float32)
x = np.concatenate([np.array(near, np.float32), special, rand, rand_bits])
x = np.concatenate([x, -x])
out["f32_in"] = x.view(np.uint32)
out["to_f32"] = np.array(mx.to_fp8(mx.array(x)))

np.savez_compressed(os.path.join(here, "fp8_mlx.npz"), **out)
print({k: v.shape for k, v in out.items()})
