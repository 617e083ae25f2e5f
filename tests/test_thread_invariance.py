"""Results do not depend on the thread count: every threaded kernel family runs the
same workloads (sized past the kernels' threading thresholds) in child interpreters
at MLXC_NUM_THREADS=1, 2, 3 and 7, and the output bytes must be identical."""
import json
import subprocess
import sys

import pytest

from helpers import CHILD_CWD, child_env

pytestmark = pytest.mark.mlxc_only

# Runs in the child: a sha256 of each workload's output bytes.
_CHILD = r"""
import hashlib, json, numpy as np, mlxc.core as mx
rng = np.random.default_rng(0)
N = 1 << 20
x = mx.array(rng.standard_normal(N).astype(np.float32))
y = mx.array(rng.standard_normal(N).astype(np.float32))
m2 = mx.array(rng.standard_normal((1024, 1024)).astype(np.float32))
tall = mx.array(rng.standard_normal((8192, 129)).astype(np.float32))
wide = mx.array(rng.standard_normal((3, 300001)).astype(np.float32))
ints = mx.array(rng.integers(-1000, 1000, N).astype(np.int32))
idx = mx.array(rng.integers(0, N, N // 2).astype(np.int32))
rows = mx.array(rng.integers(0, 1024, 4096).astype(np.int32))
a = mx.array(rng.standard_normal((300, 257)).astype(np.float32))
b = mx.array(rng.standard_normal((257, 311)).astype(np.float32))
c = mx.array(rng.standard_normal((300, 311)).astype(np.float32))
ab = mx.array(rng.standard_normal((8, 96, 80)).astype(np.float32))
bb = mx.array(rng.standard_normal((8, 80, 72)).astype(np.float32))
spd = mx.array(rng.standard_normal((16, 24, 24)))
spd = spd @ mx.swapaxes(spd, -1, -2) + 24 * mx.eye(24)
W = {
  "exp": lambda: mx.exp(x), "tanh": lambda: mx.tanh(x), "erf": lambda: mx.erf(x),
  "add": lambda: x + y, "mul_row": lambda: m2 * m2[0], "pow": lambda: mx.power(mx.abs(x), y),
  "where": lambda: mx.where(x > y, x, y * 2),
  "f32_f16": lambda: x.astype(mx.float16), "f32_bf16": lambda: x.astype(mx.bfloat16),
  "i32_f32": lambda: ints.astype(mx.float32), "f32_i64": lambda: (x * 100).astype(mx.int64),
  "take": lambda: mx.take(x, idx), "take_rows": lambda: mx.take(m2, rows, axis=0),
  "take_along": lambda: mx.take_along_axis(m2, mx.argsort(m2, axis=1), axis=1),
  "scatter_add": lambda: mx.zeros((N,)).at[idx % 1000].add(x[: N // 2]),
  "scatter_set": lambda: mx.zeros((N,)).at[idx].add(1.0),
  "scatter_max": lambda: mx.zeros((N,)).at[idx % 4096].maximum(x[: N // 2]),
  "put_along": lambda: mx.put_along_axis(m2, mx.argsort(m2, axis=0)[:7], m2[:7], axis=0),
  "transpose": lambda: mx.contiguous(m2.T), "transpose3": lambda: mx.contiguous(mx.transpose(ab, (2, 0, 1))),
  "sum": lambda: mx.sum(x), "sum0": lambda: mx.sum(tall, axis=0), "sum1": lambda: mx.sum(wide, axis=1),
  "prod": lambda: mx.prod(1 + x * 1e-3), "max": lambda: mx.max(tall, axis=0), "min": lambda: mx.min(wide, axis=1),
  "lse": lambda: mx.logsumexp(tall, axis=1), "lse_all": lambda: mx.logsumexp(x),
  "var": lambda: mx.var(tall, axis=0), "std": lambda: mx.std(wide, axis=1, ddof=1),
  "argmax": lambda: mx.argmax(tall, axis=0), "argmin": lambda: mx.argmin(wide, axis=1),
  "isum": lambda: mx.sum(ints), "sum_f64": lambda: mx.sum(x.astype(mx.float64) * 1e3),
  "cumsum_f64": lambda: mx.cumsum(x.astype(mx.float64)), "mean": lambda: mx.mean(m2, axis=(0, 1)),
  "cumsum": lambda: mx.cumsum(x), "cumsum0": lambda: mx.cumsum(tall, axis=0),
  "cumprod": lambda: mx.cumprod(1 + wide * 1e-4, axis=1), "cummax": lambda: mx.cummax(tall, axis=0),
  "cummin": lambda: mx.cummin(x, reverse=True), "lcse": lambda: mx.logcumsumexp(wide, axis=1),
  "sort": lambda: mx.sort(x), "sort_rows": lambda: mx.sort(tall, axis=1),
  "sort_i32": lambda: mx.sort(ints), "sort_rows64": lambda: mx.sort(m2[:, :64], axis=1),
  "argsort": lambda: mx.argsort(ints), "argsort0": lambda: mx.argsort(tall, axis=0),
  "partition": lambda: mx.partition(tall, 64, axis=1), "argpartition": lambda: mx.argpartition(x, 1000),
  "matmul": lambda: a @ b, "matvec": lambda: m2 @ m2[0], "vecmat": lambda: m2[0] @ m2,
  "addmm": lambda: mx.addmm(c, a, b, alpha=0.5, beta=2.0), "bmm": lambda: ab @ bb,
  "matmul_f64": lambda: a.astype(mx.float64) @ b.astype(mx.float64),
  "random_normal": lambda: mx.random.normal((N,), key=mx.random.key(3)),
  "random_uniform": lambda: mx.random.uniform(shape=(N,), key=mx.random.key(4)),
  "randint": lambda: mx.random.randint(0, 1000, (N,), key=mx.random.key(5)),
  "searchsorted": lambda: mx.searchsorted(mx.sort(y), x),
  "cholesky_batch": lambda: mx.linalg.cholesky(spd, stream=mx.cpu),
  "inv_batch": lambda: mx.linalg.inv(spd, stream=mx.cpu),
}
W["fft"] = lambda: mx.fft.fft(x[: 1 << 19])
W["rfft_rows"] = lambda: mx.fft.rfft(tall, axis=0)
W["rfft2"] = lambda: mx.fft.rfft2(m2)
W["conv2d"] = lambda: mx.conv2d(mx.reshape(x[: 8 * 32 * 32 * 16], (8, 32, 32, 16)),
                                mx.reshape(y[: 32 * 9 * 16], (32, 3, 3, 16)), padding=1)
q = mx.reshape(x[: 4 * 256 * 64], (1, 4, 256, 64))
W["sdpa"] = lambda: mx.fast.scaled_dot_product_attention(q, q, q, scale=0.125, mask="causal")
W["layer_norm"] = lambda: mx.fast.layer_norm(tall, None, None, 1e-5)


def _hand_ln(v, g):
    mu = mx.mean(v, axis=-1, keepdims=True)
    vc = v - mu
    return vc * mx.rsqrt(mx.mean(vc * vc, axis=-1, keepdims=True) + 1e-5) * g


# mx.compile's row program (a reduction fused with its prologue and epilogue)
_cln = mx.compile(_hand_ln)
W["compiled_layer_norm"] = lambda: _cln(tall, tall[0])
_csm = mx.compile(lambda v: mx.softmax(v * 2.0, axis=-1))
W["compiled_softmax"] = lambda: _csm(tall)
wq = mx.reshape(x[: 512 * 512], (512, 512))
W["quantize"] = lambda: mx.quantize(wq, 64, 4)[0]
W["qmm"] = lambda: mx.quantized_matmul(mx.reshape(y[: 64 * 512], (64, 512)), *mx.quantize(wq, 64, 4),
                                       transpose=True, group_size=64, bits=4)
out = {}
for name, f in W.items():
    r = f()
    mx.eval(r)
    arr = np.array(r.view(mx.uint8) if r.dtype == mx.bfloat16 else r)
    out[name] = hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()
print(json.dumps(out))
"""


def _run(threads):
    r = subprocess.run([sys.executable, "-c", _CHILD], env=child_env(MLXC_NUM_THREADS=str(threads)),
                       cwd=CHILD_CWD, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout)


def test_every_threaded_kernel_is_thread_count_invariant():
    runs = {t: _run(t) for t in (1, 2, 3, 7)}
    base = runs[1]
    assert len(base) >= 65
    bad = {t: sorted(k for k in base if runs[t][k] != base[k]) for t in (2, 3, 7)}
    assert not any(bad.values()), bad
