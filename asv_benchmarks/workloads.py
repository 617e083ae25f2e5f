"""Benchmark workloads shared by compare.py and the asv suite.

A workload is a *builder*: ``builder(module, **params)`` creates and
evaluates its inputs (the setup, untimed) and returns a zero-argument
callable that does the timed work, including forcing the result.  The
builder for the MLX API family receives the array module (``mlxc.core`` or
``mlx.core``), so the identical code runs on both.  Other families (numpy
now, torch/jax later) register their own equivalent builder per workload with
``@workload.on("family")``; a workload without one shows "n/a" there.

Inputs come from numpy's seeded generator so that every backend sees the
same numbers.  This module imports nothing heavy at import time: the worker
picks the array module, not us.
"""

import gc
import math
import statistics
import time

import numpy as _np

WORKLOADS = {}


class Workload:
    def __init__(self, name, mlx_builder, defaults):
        self.name = name
        self.defaults = defaults
        self.builders = {"mlx": mlx_builder}

    def on(self, family):
        """Decorator registering this workload's builder for another family."""

        def register(fn):
            self.builders[family] = fn
            return self

        return register

    def build(self, family, module, **params):
        """Return the timed callable, or None if `family` has no builder."""
        fn = self.builders.get(family)
        if fn is None:
            return None
        return fn(module, **{**self.defaults, **params})

    def __call__(self, mx, **params):
        # Convenience for the asv suite, which only ever uses the MLX API.
        return self.build("mlx", mx, **params)


def workload(name, **defaults):
    """Decorator: the decorated function is the MLX-API builder."""

    def register(fn):
        w = Workload(name, fn, defaults)
        WORKLOADS[name] = w
        return w

    return register


# ---------------------------------------------------------------- inputs

def _normal(shape, seed):
    return _np.random.default_rng(seed).standard_normal(shape, dtype=_np.float32)


def _indices(n, k, seed, unique=False):
    rng = _np.random.default_rng(seed)
    idx = rng.permutation(n)[:k] if unique else rng.integers(0, n, size=k)
    # int32: the index dtype MLX prefers; numpy accepts it as is.
    return _np.ascontiguousarray(idx, dtype=_np.int32)


def _mx(mx, *arrays):
    """numpy -> evaluated array of `mx`, so no input work leaks into timing."""
    out = [mx.array(a) for a in arrays]
    mx.eval(*out)
    return out if len(out) > 1 else out[0]


def _shape(n, d2=False):
    return (n, n) if d2 else (n,)


# ---------------------------------------------------------------- overhead

@workload("overhead_chain", steps=100, n=16)
def overhead_chain(mx, steps, n):
    x = _mx(mx, _normal((n,), 0))

    def run():
        y = x
        for _ in range(steps):
            y = y * 1.0001 + 0.5
        mx.eval(y)

    return run


@overhead_chain.on("numpy")
def _(np, steps, n):
    x = _normal((n,), 0)

    def run():
        y = x
        for _ in range(steps):
            y = y * 1.0001 + 0.5
        return y

    return run


@workload("overhead_add", n=16)
def overhead_add(mx, n):
    a, b = _mx(mx, _normal((n,), 0), _normal((n,), 1))
    return lambda: mx.eval(a + b)


@overhead_add.on("numpy")
def _(np, n):
    a, b = _normal((n,), 0), _normal((n,), 1)
    return lambda: a + b


# ---------------------------------------------------------------- elementwise

_SQRT1_2 = 1.0 / math.sqrt(2.0)


def _gelu(mx, x):
    # erf form, written out (not mx.nn) so it is the same on every backend.
    return 0.5 * x * (1.0 + mx.erf(x * _SQRT1_2))


_MX_UNARY = {
    "exp": lambda mx, a: mx.exp(a),
    "gelu": _gelu,
}
_MX_BINARY = {
    "add": lambda mx, a, b: a + b,
    "multiply": lambda mx, a, b: a * b,
}
_NP_OPS = {
    "add": lambda np, a, b: a + b,
    "multiply": lambda np, a, b: a * b,
    "exp": lambda np, a: np.exp(a),
    # no erf in numpy itself: gelu has no numpy column.
}
ELEMENTWISE_OPS = ["add", "multiply", "exp", "gelu"]


@workload("elementwise", op="add", n=1 << 20)
def elementwise(mx, op, n):
    if op in _MX_BINARY:
        a, b = _mx(mx, _normal((n,), 0), _normal((n,), 1))
        f = _MX_BINARY[op]
        return lambda: mx.eval(f(mx, a, b))
    a = _mx(mx, _normal((n,), 0))
    f = _MX_UNARY[op]
    return lambda: mx.eval(f(mx, a))


@elementwise.on("numpy")
def _(np, op, n):
    if op not in _NP_OPS:
        return None
    f = _NP_OPS[op]
    if op in _MX_BINARY:
        a, b = _normal((n,), 0), _normal((n,), 1)
        return lambda: f(np, a, b)
    a = _normal((n,), 0)
    return lambda: f(np, a)


# ---------------------------------------------------------------- reductions

REDUCE_OPS = ["sum_all", "sum_axis0", "sum_axis1", "argmax", "logsumexp", "softmax"]

_MX_REDUCE = {
    "sum_all": lambda mx, x: mx.sum(x),
    "sum_axis0": lambda mx, x: mx.sum(x, axis=0),
    "sum_axis1": lambda mx, x: mx.sum(x, axis=1),
    "argmax": lambda mx, x: mx.argmax(x, axis=-1),
    "logsumexp": lambda mx, x: mx.logsumexp(x, axis=-1),
    "softmax": lambda mx, x: mx.softmax(x, axis=-1),
}


def _np_logsumexp(np, x):
    m = x.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))[..., 0]


def _np_softmax(np, x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_NP_REDUCE = {
    "sum_all": lambda np, x: x.sum(),
    "sum_axis0": lambda np, x: x.sum(axis=0),
    "sum_axis1": lambda np, x: x.sum(axis=1),
    "argmax": lambda np, x: x.argmax(axis=-1),
    "logsumexp": _np_logsumexp,
    "softmax": _np_softmax,
}


@workload("reduce", op="sum_all", n=1024)
def reduce(mx, op, n):
    x = _mx(mx, _normal((n, n), 0))
    f = _MX_REDUCE[op]
    return lambda: mx.eval(f(mx, x))


@reduce.on("numpy")
def _(np, op, n):
    x = _normal((n, n), 0)
    f = _NP_REDUCE[op]
    return lambda: f(np, x)


# ---------------------------------------------------------------- matmul

@workload("matmul", n=256, batch=0)
def matmul(mx, n, batch):
    shape = (batch, n, n) if batch else (n, n)
    a, b = _mx(mx, _normal(shape, 0), _normal(shape, 1))
    return lambda: mx.eval(a @ b)


@matmul.on("numpy")
def _(np, n, batch):
    shape = (batch, n, n) if batch else (n, n)
    a, b = _normal(shape, 0), _normal(shape, 1)
    return lambda: a @ b


@workload("matvec", n=4096)
def matvec(mx, n):
    a, v = _mx(mx, _normal((n, n), 0), _normal((n,), 1))
    return lambda: mx.eval(a @ v)


@matvec.on("numpy")
def _(np, n):
    a, v = _normal((n, n), 0), _normal((n,), 1)
    return lambda: a @ v


def matmul_flops(n, batch=0):
    return 2.0 * n ** 3 * max(batch, 1)


# ---------------------------------------------------------------- indexing

@workload("take", n=1 << 20, k=1 << 16)
def take(mx, n, k):
    x, idx = _mx(mx, _normal((n,), 0), _indices(n, k, 1))
    return lambda: mx.eval(mx.take(x, idx))


@take.on("numpy")
def _(np, n, k):
    x, idx = _normal((n,), 0), _indices(n, k, 1)
    return lambda: np.take(x, idx)


@workload("slice", n=1024)
def slice_(mx, n):
    x = _mx(mx, _normal((n, n), 0))
    # A strided 2-D window; evaluating it may be a view or a copy.
    return lambda: mx.eval(x[1::2, n // 8: n - n // 8])


@slice_.on("numpy")
def _(np, n):
    x = _normal((n, n), 0)
    return lambda: x[1::2, n // 8: n - n // 8]


@workload("setitem", n=1024, kind="slice")
def setitem(mx, n, kind):
    # The target is updated in place on every call; the values written are
    # always the same, so every call does identical work.
    if kind == "slice":
        x, v = _mx(mx, _normal((n, n), 0), _normal((n // 2, n), 1))
        lo = n // 4

        def run():
            x[lo: lo + n // 2] = v
            mx.eval(x)
    else:  # "int_array": scatter rows picked by unique integer indices
        x, idx, v = _mx(mx, _normal((n, n), 0), _indices(n, n // 4, 2, True),
                        _normal((n // 4, n), 1))

        def run():
            x[idx] = v
            mx.eval(x)

    return run


@setitem.on("numpy")
def _(np, n, kind):
    x = _normal((n, n), 0)
    if kind == "slice":
        v, lo = _normal((n // 2, n), 1), n // 4

        def run():
            x[lo: lo + n // 2] = v
    else:
        idx, v = _indices(n, n // 4, 2, True), _normal((n // 4, n), 1)

        def run():
            x[idx] = v

    return run


@workload("slice_setitem", n=1024)
def slice_setitem(mx, n):
    # Read a strided block, write its negation into the interleaved rows:
    # a slice and a strided slice update in one graph; values stay bounded.
    x = _mx(mx, _normal((n, n), 0))
    c0, c1 = n // 4, n - n // 4

    def run():
        x[0::2, c0:c1] = -x[1::2, c0:c1]
        mx.eval(x)

    return run


@slice_setitem.on("numpy")
def _(np, n):
    x = _normal((n, n), 0)
    c0, c1 = n // 4, n - n // 4

    def run():
        x[0::2, c0:c1] = -x[1::2, c0:c1]

    return run


@workload("take_along_axis", n=1024, k=64)
def take_along_axis(mx, n, k):
    idx = _indices(n, n * k, 3).reshape(n, k)
    x, idx = _mx(mx, _normal((n, n), 0), idx)
    return lambda: mx.eval(mx.take_along_axis(x, idx, axis=1))


@take_along_axis.on("numpy")
def _(np, n, k):
    x, idx = _normal((n, n), 0), _indices(n, n * k, 3).reshape(n, k)
    return lambda: np.take_along_axis(x, idx, axis=1)


# ---------------------------------------------------------------- transforms

def _mlp_params(sizes, seed):
    """He-scaled weights and small biases for the layer sizes, as numpy float32."""
    params = []
    for i, (fi, fo) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = _normal((fi, fo), seed + 2 * i) * _np.float32(math.sqrt(2.0 / fi))
        b = _normal((fo,), seed + 2 * i + 1) * _np.float32(0.01)
        params.append((w, b))
    return params


@workload("mlp_value_and_grad", batch=256, sizes=(784, 512, 512, 10))
def mlp_value_and_grad(mx, batch, sizes):
    # Loss and gradients of a relu MLP with a cross-entropy head: forward, backward
    # (matmul vjps, relu masks, logsumexp) and their evaluation, per call.
    params = [tuple(_mx(mx, w, b)) for w, b in _mlp_params(sizes, 10)]
    x, y = _mx(mx, _normal((batch, sizes[0]), 0), _indices(sizes[-1], batch, 1))

    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = mx.maximum(h @ w + b, 0)
        w, b = params[-1]
        logits = h @ w + b
        picked = mx.take_along_axis(logits, mx.expand_dims(y, -1), axis=-1)[..., 0]
        return mx.mean(mx.logsumexp(logits, axis=-1) - picked)

    vg = mx.value_and_grad(loss)

    def run():
        value, grads = vg(params, x, y)
        mx.eval(value, grads)

    return run


@mlp_value_and_grad.on("numpy")
def _(np, batch, sizes):
    # The same loss and gradients, backpropagated by hand.
    params = _mlp_params(sizes, 10)
    x, y = _normal((batch, sizes[0]), 0), _indices(sizes[-1], batch, 1)
    rows = np.arange(batch)

    def run():
        hs = [x]
        for w, b in params[:-1]:
            hs.append(np.maximum(hs[-1] @ w + b, 0))
        w, b = params[-1]
        logits = hs[-1] @ w + b
        m = logits.max(axis=-1, keepdims=True)
        e = np.exp(logits - m)
        s = e.sum(axis=-1, keepdims=True)
        value = np.mean((m + np.log(s))[:, 0] - logits[rows, y])
        g = e / s
        g[rows, y] -= 1
        g /= batch
        grads = []
        for i in range(len(params) - 1, -1, -1):
            w, _ = params[i]
            grads.append((hs[i].T @ g, g.sum(axis=0)))
            if i:
                g = (g @ w.T) * (hs[i] > 0)
        return value, grads[::-1]

    return run


@workload("per_example_grads", batch=512, dim=256)
def per_example_grads(mx, batch, dim):
    # One gradient per example: vmap of grad of a linear model's squared error.
    w, x, y = _mx(mx, _normal((dim,), 2), _normal((batch, dim), 3), _normal((batch,), 4))

    def loss(w, x, y):
        return mx.square(x @ w - y)

    f = mx.vmap(mx.grad(loss), in_axes=(None, 0, 0))
    return lambda: mx.eval(f(w, x, y))


@per_example_grads.on("numpy")
def _(np, batch, dim):
    w, x, y = _normal((dim,), 2), _normal((batch, dim), 3), _normal((batch,), 4)
    return lambda: (2 * (x @ w - y))[:, None] * x


# ---------------------------------------------------------------- comparison set

# (label, workload name, params): the side-by-side table of compare.py.
COMPARE = [
    ("overhead_chain_100", "overhead_chain", {"steps": 100, "n": 16}),
    ("overhead_add", "overhead_add", {"n": 16}),
    ("add_2^20", "elementwise", {"op": "add", "n": 1 << 20}),
    ("mul_2^20", "elementwise", {"op": "multiply", "n": 1 << 20}),
    ("exp_2^20", "elementwise", {"op": "exp", "n": 1 << 20}),
    ("sum_1024x1024", "reduce", {"op": "sum_all", "n": 1024}),
    ("argmax_1024x1024", "reduce", {"op": "argmax", "n": 1024}),
    ("logsumexp_1024x1024", "reduce", {"op": "logsumexp", "n": 1024}),
    ("softmax_1024x1024", "reduce", {"op": "softmax", "n": 1024}),
    ("matmul_256", "matmul", {"n": 256}),
    ("matmul_1024", "matmul", {"n": 1024}),
    ("matvec_4096", "matvec", {"n": 4096}),
    ("take_2^16_of_2^20", "take", {"n": 1 << 20, "k": 1 << 16}),
    ("slice_setitem_1024", "slice_setitem", {"n": 1024}),
    ("mlp_value_and_grad", "mlp_value_and_grad", {}),
    ("per_example_grads_512x256", "per_example_grads", {"batch": 512, "dim": 256}),
]


# ---------------------------------------------------------------- timing

def measure(fn, repeat=11, min_time=0.01, warmup=2):
    """Median seconds per call of `fn`.

    Each of `repeat` runs loops `fn` enough times to last at least
    `min_time` (tiny workloads would otherwise measure the timer), then
    divides.  Returns (median, inner_loops, all per-call times).
    """
    for _ in range(warmup):  # first calls pay for allocation, caches, JIT
        fn()
    inner = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time:
            break
        # Aim a bit past min_time so the next try usually succeeds.
        inner = max(inner * 2, int(inner * 1.3 * min_time / max(dt, 1e-9)))
    times = []
    # Like timeit: no cyclic GC pauses inside a timed run.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            times.append((time.perf_counter() - t0) / inner)
    finally:
        if gc_was_on:
            gc.enable()
    return statistics.median(times), inner, times
