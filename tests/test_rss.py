"""Flat memory measured from outside the allocator: long loops of evaluation,
training steps, transforms, custom_function and checkpoint run in a child
interpreter, whose resident set size (/proc/self/statm) must not grow between a
warmed-up point and many iterations later. A leak of graph nodes, Python objects
or scratch buffers outside mlxc's allocator shows here even when
mx.get_active_memory() stays flat."""
import json
import subprocess
import sys

import pytest

from helpers import CHILD_CWD, child_env

pytestmark = [pytest.mark.mlxc_only,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

_CHILD = r"""
import gc, json, os, sys
import mlxc.core as mx

PAGE = os.sysconf("SC_PAGE_SIZE")
def rss():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE

w1 = mx.random.normal((64, 128), key=mx.random.key(0)) * 0.1
w2 = mx.random.normal((128, 10), key=mx.random.key(1)) * 0.1
xb = mx.random.normal((32, 64), key=mx.random.key(2))
yb = mx.random.randint(0, 10, (32,), key=mx.random.key(3))

def loss(params, x, y):
    a, b = params
    h = mx.maximum(x @ a, 0)
    logits = h @ b
    return mx.mean(mx.logsumexp(logits, axis=1) - mx.take_along_axis(logits, y[:, None], axis=1)[:, 0])

@mx.custom_function
def cf(x):
    return mx.sin(x) * 2

@cf.vjp
def cf_vjp(primals, cot, out):
    return mx.cos(primals) * 2 * cot

def step_eval(i):
    x = mx.arange(1000, dtype=mx.float32) * (i % 7)
    mx.eval(mx.sum(mx.exp(-x * 1e-3) * x), mx.sort(x[::-1]))

params = [w1, w2]
def step_train(i):
    global params
    l, g = mx.value_and_grad(loss)(params, xb, yb)
    params = [p - 0.01 * gp for p, gp in zip(params, g)]
    mx.eval(params, l)

def step_transforms(i):
    x = mx.arange(16, dtype=mx.float32) + i % 3
    mx.eval(mx.vmap(mx.grad(lambda v: mx.sum(mx.tanh(v) ** 2)))(x.reshape(4, 4)),
            mx.jvp(lambda v: mx.exp(v), [x], [x])[1],
            mx.vjp(lambda v: v * v, [x], [x])[1])

def step_custom(i):
    x = mx.arange(16, dtype=mx.float32) * 0.1
    mx.eval(mx.grad(lambda v: mx.sum(cf(v)))(x), mx.vmap(cf)(x.reshape(4, 4)))

def step_checkpoint(i):
    x = mx.arange(256, dtype=mx.float32) * 0.01
    f = mx.checkpoint(lambda v: mx.sin(mx.cos(v)) * v)
    mx.eval(mx.grad(lambda v: mx.sum(f(f(v))))(x))

def step_lazy_numpy(i):
    import numpy as np
    a = mx.array(np.arange(100, dtype=np.float32) + i)
    np.asarray(a * 2).sum()
    a.tolist()

out = {}
for name in sys.argv[1:]:
    f = globals()["step_" + name]
    for i in range(300):              # warm-up: caches, pools, first-call allocations
        f(i)
    r0 = rss()
    for i in range(3000):
        f(i)
    out[name] = {"grew": rss() - r0, "active": mx.get_active_memory()}
print(json.dumps(out))
"""

LOOPS = ["eval", "train", "transforms", "custom", "checkpoint", "lazy_numpy"]


def test_loops_keep_rss_flat():
    r = subprocess.run([sys.executable, "-c", _CHILD, *LOOPS], env=child_env(MLXC_NUM_THREADS="2"),
                       cwd=CHILD_CWD, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    print(out)
    # 3000 iterations: a leak of one small object per iteration is ~300 KB
    grew = {k: v["grew"] for k, v in out.items() if v["grew"] > (1 << 18)}
    assert not grew, out
