"""Benchmark workloads shared by compare.py and the asv suite.

A workload is a *builder*: ``builder(module, **params)`` creates and
evaluates its inputs (the setup, untimed) and returns a zero-argument
callable that does the timed work, including forcing the result, and
returns that result (so tests can check it against numpy).  The
builder for the MLX API family receives the array module (``mlxc.core`` or
``mlx.core``), so the identical code runs on both.  Other families (numpy,
torch, jax) register their own equivalent builder per workload with
``@workload.on("family")``; a workload without one shows "n/a" there.

A workload may also say how much work one call does, next to its builders:
``@workload.bytes`` (bytes read + written by the minimal algorithm, for
memory-bound work) or ``@workload.flops`` (for compute-bound work).  Rates
and the share of this machine's limits (PEAK_GFLOPS, PEAK_GBS) come from them.

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

# Physical limits measured on the 2-core reference machine: float32 FMA peak
# of both cores, and streaming memory bandwidth.
PEAK_GFLOPS = 234.0
PEAK_GBS = 41.0
LIMITS = {"flops": PEAK_GFLOPS, "bytes": PEAK_GBS}
UNITS = {"flops": "GFLOP/s", "bytes": "GB/s"}
F32 = 4  # bytes per float32 (and per int32 index)


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

    # -- work per call: decorators taking the workload's params as keywords

    def bytes(self, fn):
        """Register fn(**params) -> bytes moved per call (memory-bound)."""
        self.count_fn, self.bound = fn, "bytes"
        return fn

    def flops(self, fn):
        """Register fn(**params) -> floating-point ops per call (compute-bound)."""
        self.count_fn, self.bound = fn, "flops"
        return fn

    count_fn = None
    bound = None  # "bytes", "flops", or None: no meaningful rate

    def rate(self, seconds, **params):
        """(achieved GB/s or GFLOP/s, unit) of one call lasting `seconds`;
        (None, None) for a workload with no count."""
        if self.count_fn is None:
            return None, None
        amount = self.count_fn(**{**self.defaults, **params})
        return amount / seconds / 1e9, UNITS[self.bound]

    def share(self, seconds, **params):
        """Fraction of this machine's limit (peak FMA rate or memory bandwidth)."""
        value, _ = self.rate(seconds, **params)
        return None if value is None else value / LIMITS[self.bound]


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


def _unwrap(out):
    return out if len(out) > 1 else out[0]


def _mx_list(mx, arrays):
    """numpy -> evaluated arrays of `mx`, so no input work leaks into timing."""
    out = [mx.array(a) for a in arrays]
    mx.eval(*out)
    return out


def _torch_list(torch, arrays):
    """numpy -> torch tensors sharing the memory (from_numpy: no copy)."""
    return [torch.from_numpy(a) for a in arrays]


def _jax_list(jax, arrays):
    """numpy -> jax arrays on the CPU device, transferred before timing."""
    out = [jax.device_put(a) for a in arrays]
    for a in out:
        a.block_until_ready()
    return out


def _evaluated(mx, out):
    """Force `out` (timed) and hand it back, so tests can check the numbers."""
    mx.eval(out)
    return out


def _mx(mx, *arrays):
    return _unwrap(_mx_list(mx, arrays))


def _torch(torch, *arrays):
    return _unwrap(_torch_list(torch, arrays))


def _jax(jax, *arrays):
    return _unwrap(_jax_list(jax, arrays))


def _jax_erf():
    import jax.scipy.special  # a submodule `import jax` does not load

    return jax.scipy.special.erf


# ---------------------------------------------------------------- overhead

@workload("overhead_chain", steps=100, n=16)
def overhead_chain(mx, steps, n):
    x = _mx(mx, _normal((n,), 0))

    def run():
        y = x
        for _ in range(steps):
            y = y * 1.0001 + 0.5
        return _evaluated(mx, y)

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
    return lambda: _evaluated(mx, a + b)


@overhead_add.on("numpy")
def _(np, n):
    a, b = _normal((n,), 0), _normal((n,), 1)
    return lambda: a + b


# ---------------------------------------------------------------- elementwise

_SQRT1_2 = 1.0 / math.sqrt(2.0)


def _gelu(erf, x):
    # erf form as separate ops (no fused gelu), the same on every backend.
    return 0.5 * x * (1.0 + erf(x * _SQRT1_2))


_MX_UNARY = {
    "exp": lambda mx, a: mx.exp(a),
    "gelu": lambda mx, a: _gelu(mx.erf, a),
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
_TORCH_OPS = {
    "add": lambda torch, a, b: a + b,
    "multiply": lambda torch, a, b: a * b,
    "exp": lambda torch, a: torch.exp(a),
    "gelu": lambda torch, a: _gelu(torch.erf, a),
}
_JAX_OPS = {
    "add": lambda jnp, a, b: a + b,
    "multiply": lambda jnp, a, b: a * b,
    "exp": lambda jnp, a: jnp.exp(a),
    "gelu": lambda jnp, a: _gelu(_jax_erf(), a),
}
ELEMENTWISE_OPS = ["add", "multiply", "exp", "gelu"]


def _elementwise_inputs(op, n):
    return [_normal((n,), i) for i in range(2 if op in _MX_BINARY else 1)]


@workload("elementwise", op="add", n=1 << 20)
def elementwise(mx, op, n):
    args = _mx_list(mx, _elementwise_inputs(op, n))
    f = _MX_BINARY.get(op) or _MX_UNARY[op]
    return lambda: _evaluated(mx, f(mx, *args))


@elementwise.on("numpy")
def _(np, op, n):
    if op not in _NP_OPS:
        return None
    args, f = _elementwise_inputs(op, n), _NP_OPS[op]
    return lambda: f(np, *args)


@elementwise.on("torch")
def _(torch, op, n):
    args, f = _torch_list(torch, _elementwise_inputs(op, n)), _TORCH_OPS[op]
    return lambda: f(torch, *args)


@elementwise.on("jax")
def _(jax, op, n):
    args, f = _jax_list(jax, _elementwise_inputs(op, n)), _JAX_OPS[op]
    return lambda: f(jax.numpy, *args).block_until_ready()


@elementwise.bytes
def elementwise_bytes(op, n):
    # Each input read once, the output written once (gelu too: one fused
    # pass is the minimal algorithm, whatever the backends really do).
    return F32 * n * (3 if op in _MX_BINARY else 2)


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
    return lambda: _evaluated(mx, f(mx, x))


@reduce.on("numpy")
def _(np, op, n):
    x = _normal((n, n), 0)
    f = _NP_REDUCE[op]
    return lambda: f(np, x)


_TORCH_REDUCE = {
    "sum_all": lambda torch, x: x.sum(),
    "sum_axis0": lambda torch, x: x.sum(dim=0),
    "sum_axis1": lambda torch, x: x.sum(dim=1),
    "argmax": lambda torch, x: torch.argmax(x, dim=-1),
    "logsumexp": lambda torch, x: torch.logsumexp(x, dim=-1),
    "softmax": lambda torch, x: torch.softmax(x, dim=-1),
}


@reduce.on("torch")
def _(torch, op, n):
    x = _torch(torch, _normal((n, n), 0))
    f = _TORCH_REDUCE[op]
    return lambda: f(torch, x)


def _jax_reduce(jax, op):
    import jax.nn  # noqa: F401  (loads jax.nn for the attribute below)

    jnp = jax.numpy
    return {
        "sum_all": lambda x: jnp.sum(x),
        "sum_axis0": lambda x: jnp.sum(x, axis=0),
        "sum_axis1": lambda x: jnp.sum(x, axis=1),
        "argmax": lambda x: jnp.argmax(x, axis=-1),
        "logsumexp": lambda x: jax.nn.logsumexp(x, axis=-1),
        "softmax": lambda x: jax.nn.softmax(x, axis=-1),
    }[op]


@reduce.on("jax")
def _(jax, op, n):
    x = _jax(jax, _normal((n, n), 0))
    f = _jax_reduce(jax, op)
    return lambda: f(x).block_until_ready()


@reduce.bytes
def reduce_bytes(op, n):
    # Read the matrix once; write the result (a scalar, a row of n, or for
    # softmax the whole matrix again).
    out = {"sum_all": 1, "softmax": n * n}.get(op, n)
    return F32 * (n * n + out)


# ---------------------------------------------------------------- matmul

@workload("matmul", n=256, batch=0)
def matmul(mx, n, batch):
    shape = (batch, n, n) if batch else (n, n)
    a, b = _mx(mx, _normal(shape, 0), _normal(shape, 1))
    return lambda: _evaluated(mx, a @ b)


@matmul.on("numpy")
def _(np, n, batch):
    shape = (batch, n, n) if batch else (n, n)
    a, b = _normal(shape, 0), _normal(shape, 1)
    return lambda: a @ b


@matmul.on("torch")
def _(torch, n, batch):
    shape = (batch, n, n) if batch else (n, n)
    a, b = _torch(torch, _normal(shape, 0), _normal(shape, 1))
    return lambda: a @ b


@matmul.on("jax")
def _(jax, n, batch):
    shape = (batch, n, n) if batch else (n, n)
    a, b = _jax(jax, _normal(shape, 0), _normal(shape, 1))
    return lambda: (a @ b).block_until_ready()


@matmul.flops
def matmul_flops(n, batch=0):
    return 2.0 * n ** 3 * max(batch, 1)


@workload("matvec", n=4096)
def matvec(mx, n):
    a, v = _mx(mx, _normal((n, n), 0), _normal((n,), 1))
    return lambda: _evaluated(mx, a @ v)


@matvec.on("numpy")
def _(np, n):
    a, v = _normal((n, n), 0), _normal((n,), 1)
    return lambda: a @ v


@matvec.on("torch")
def _(torch, n):
    a, v = _torch(torch, _normal((n, n), 0), _normal((n,), 1))
    return lambda: a @ v


@matvec.on("jax")
def _(jax, n):
    a, v = _jax(jax, _normal((n, n), 0), _normal((n,), 1))
    return lambda: (a @ v).block_until_ready()


@matvec.bytes
def matvec_bytes(n):
    # 2 flops per matrix element read once: bandwidth-bound, not FMA-bound.
    return F32 * (n * n + 2 * n)


# ---------------------------------------------------------------- quantized matmul

def _qweights(n, k, bits, group):
    """An (n, k) float32 weight matrix already on a `bits`-bit affine grid (codes times
    1/16, every group holding the lowest and highest code), so that quantize(w) is
    exact: the MLX API's quantized_matmul and the peers' float32 matmul then compute
    the same product."""
    rng = _np.random.default_rng(3)
    top = (1 << bits) - 1
    q = rng.integers(0, top + 1, (n, k // group, group))
    q[:, :, 0], q[:, :, 1] = 0, top
    return (q.reshape(n, k) / 16.0).astype(_np.float32)


@workload("quantized_matmul", m=32, n=4096, k=4096, bits=4, group=64)
def quantized_matmul(mx, m, n, k, bits, group):
    x = mx.array(_normal((m, k), 0))
    wq, s, b = mx.quantize(mx.array(_qweights(n, k, bits, group)), group, bits)
    mx.eval(x, wq, s, b)
    return lambda: _evaluated(mx, mx.quantized_matmul(x, wq, s, b, True, group, bits))


@quantized_matmul.on("numpy")
def _(np, m, n, k, bits, group):
    x, w = _normal((m, k), 0), _qweights(n, k, bits, group)
    return lambda: x @ w.T


@quantized_matmul.on("torch")
def _(torch, m, n, k, bits, group):
    x, w = _torch(torch, _normal((m, k), 0), _qweights(n, k, bits, group))
    return lambda: x @ w.T


@quantized_matmul.on("jax")
def _(jax, m, n, k, bits, group):
    x, w = _jax(jax, _normal((m, k), 0), _qweights(n, k, bits, group))
    return lambda: (x @ w.T).block_until_ready()


@quantized_matmul.flops
def quantized_matmul_flops(m, n, k, bits=4, group=64):
    return 2.0 * m * n * k


# ---------------------------------------------------------------- indexing

@workload("take", n=1 << 20, k=1 << 16)
def take(mx, n, k):
    x, idx = _mx(mx, _normal((n,), 0), _indices(n, k, 1))
    return lambda: _evaluated(mx, mx.take(x, idx))


@take.on("numpy")
def _(np, n, k):
    x, idx = _normal((n,), 0), _indices(n, k, 1)
    return lambda: np.take(x, idx)


@take.on("torch")
def _(torch, n, k):
    # index_select takes the int32 indices as they are (torch.take wants int64).
    x, idx = _torch(torch, _normal((n,), 0), _indices(n, k, 1))
    return lambda: torch.index_select(x, 0, idx)


@take.on("jax")
def _(jax, n, k):
    x, idx = _jax(jax, _normal((n,), 0), _indices(n, k, 1))
    return lambda: jax.numpy.take(x, idx).block_until_ready()


@take.bytes
def take_bytes(n, k):
    # Read k indices and the k picked values, write k values.  Random
    # gathers really move whole cache lines, so the share understates them.
    return F32 * 3 * k


@workload("transpose_copy", n=1024)
def transpose_copy(mx, n):
    # mx.contiguous of the transposed view: a real row-major copy on both
    # mlxc and MLX (x.T alone would stay a view).
    x = _mx(mx, _normal((n, n), 0))
    return lambda: _evaluated(mx, mx.contiguous(x.T))


@transpose_copy.on("numpy")
def _(np, n):
    x = _normal((n, n), 0)
    return lambda: np.ascontiguousarray(x.T)


@transpose_copy.on("torch")
def _(torch, n):
    x = _torch(torch, _normal((n, n), 0))
    return lambda: x.T.contiguous()


@transpose_copy.on("jax")
def _(jax, n):
    # jax arrays have no strided views: .T is already the copy.
    x = _jax(jax, _normal((n, n), 0))
    return lambda: x.T.block_until_ready()


@transpose_copy.bytes
def transpose_copy_bytes(n):
    return F32 * 2 * n * n


@workload("slice", n=1024)
def slice_(mx, n):
    x = _mx(mx, _normal((n, n), 0))
    # A strided 2-D window; evaluating it may be a view or a copy.
    return lambda: _evaluated(mx, x[1::2, n // 8: n - n // 8])


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
            return _evaluated(mx, x)
    else:  # "int_array": scatter rows picked by unique integer indices
        x, idx, v = _mx(mx, _normal((n, n), 0), _indices(n, n // 4, 2, True),
                        _normal((n // 4, n), 1))

        def run():
            x[idx] = v
            return _evaluated(mx, x)

    return run


@setitem.on("numpy")
def _(np, n, kind):
    x = _normal((n, n), 0)
    if kind == "slice":
        v, lo = _normal((n // 2, n), 1), n // 4

        def run():
            x[lo: lo + n // 2] = v
            return x
    else:
        idx, v = _indices(n, n // 4, 2, True), _normal((n // 4, n), 1)

        def run():
            x[idx] = v
            return x

    return run


@workload("slice_setitem", n=1024)
def slice_setitem(mx, n):
    # Read a strided block, write its negation into the interleaved rows:
    # a slice and a strided slice update in one graph; values stay bounded.
    x = _mx(mx, _normal((n, n), 0))
    c0, c1 = n // 4, n - n // 4

    def run():
        x[0::2, c0:c1] = -x[1::2, c0:c1]
        return _evaluated(mx, x)

    return run


@slice_setitem.on("numpy")
def _(np, n):
    x = _normal((n, n), 0)
    c0, c1 = n // 4, n - n // 4

    def run():
        x[0::2, c0:c1] = -x[1::2, c0:c1]
        return x

    return run


@workload("take_along_axis", n=1024, k=64)
def take_along_axis(mx, n, k):
    idx = _indices(n, n * k, 3).reshape(n, k)
    x, idx = _mx(mx, _normal((n, n), 0), idx)
    return lambda: _evaluated(mx, mx.take_along_axis(x, idx, axis=1))


@take_along_axis.on("numpy")
def _(np, n, k):
    x, idx = _normal((n, n), 0), _indices(n, n * k, 3).reshape(n, k)
    return lambda: np.take_along_axis(x, idx, axis=1)


# ---------------------------------------------------------------- scans, sort

@workload("cumsum", n=1 << 20)
def cumsum(mx, n):
    x = _mx(mx, _normal((n,), 0))
    return lambda: _evaluated(mx, mx.cumsum(x))


@cumsum.on("numpy")
def _(np, n):
    x = _normal((n,), 0)
    return lambda: np.cumsum(x)


@cumsum.on("torch")
def _(torch, n):
    x = _torch(torch, _normal((n,), 0))
    return lambda: torch.cumsum(x, dim=0)


@cumsum.on("jax")
def _(jax, n):
    x = _jax(jax, _normal((n,), 0))
    return lambda: jax.numpy.cumsum(x).block_until_ready()


@cumsum.bytes
def cumsum_bytes(n):
    return F32 * 2 * n


@workload("sort", n=1 << 20)
def sort(mx, n):
    # The input is never modified, so every call sorts the same random data.
    x = _mx(mx, _normal((n,), 0))
    return lambda: _evaluated(mx, mx.sort(x))


@sort.on("numpy")
def _(np, n):
    x = _normal((n,), 0)
    return lambda: np.sort(x)


@sort.on("torch")
def _(torch, n):
    x = _torch(torch, _normal((n,), 0))
    return lambda: torch.sort(x).values


@sort.on("jax")
def _(jax, n):
    x = _jax(jax, _normal((n,), 0))
    return lambda: jax.numpy.sort(x).block_until_ready()


@sort.bytes
def sort_bytes(n):
    # Read once, write once: the floor no comparison sort reaches, so the
    # share of bandwidth is only a yardstick here.
    return F32 * 2 * n


# ---------------------------------------------------------------- random

RANDOM_OPS = ("normal", "uniform", "randint")


@workload("random", op="normal", n=1 << 22)
def random(mx, op, n):
    # Fresh float32 normals / uniforms or int32 integers in [0, 1000) from a fixed key
    # each call (the generator's work; the key's bits are MLX's in mlxc and MLX).
    k = mx.random.key(0)
    mx.eval(k)
    f = {"normal": lambda: mx.random.normal((n,), key=k),
         "uniform": lambda: mx.random.uniform(shape=(n,), key=k),
         "randint": lambda: mx.random.randint(0, 1000, (n,), key=k)}[op]
    return lambda: _evaluated(mx, f())


@random.on("numpy")
def _(np, op, n):
    rng = np.random.default_rng(0)
    return {"normal": lambda: rng.standard_normal(n, dtype=np.float32),
            "uniform": lambda: rng.random(n, dtype=np.float32),
            "randint": lambda: rng.integers(0, 1000, n, dtype=np.int32)}[op]


@random.on("torch")
def _(torch, op, n):
    torch.manual_seed(0)
    return {"normal": lambda: torch.randn(n),
            "uniform": lambda: torch.rand(n),
            "randint": lambda: torch.randint(0, 1000, (n,), dtype=torch.int32)}[op]


@random.on("jax")
def _(jax, op, n):
    k = jax.random.key(0)
    f = {"normal": lambda k: jax.random.normal(k, (n,)),
         "uniform": lambda k: jax.random.uniform(k, (n,)),
         "randint": lambda k: jax.random.randint(k, (n,), 0, 1000)}[op]
    f = jax.jit(f)
    f(k).block_until_ready()
    return lambda: f(k).block_until_ready()


@random.bytes
def random_bytes(op, n):
    # Only the output is written: a yardstick, the generator is compute-bound.
    return F32 * n


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
        return _evaluated(mx, (value, grads))

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
    return lambda: _evaluated(mx, f(w, x, y))


@per_example_grads.on("numpy")
def _(np, batch, dim):
    w, x, y = _normal((dim,), 2), _normal((batch, dim), 3), _normal((batch,), 4)
    return lambda: (2 * (x @ w - y))[:, None] * x


def _mlp_forward(mx, params, x):
    h = x
    for w, b in params[:-1]:
        h = mx.maximum(h @ w + b, 0)
    w, b = params[-1]
    return h @ w + b


@workload("mlp_jvp", batch=256, sizes=(784, 512, 512, 10))
def mlp_jvp(mx, batch, sizes):
    # Forward-mode derivative of the MLP's logits along a direction in the first layer.
    params = [tuple(_mx(mx, w, b)) for w, b in _mlp_params(sizes, 10)]
    x = _mx(mx, _normal((batch, sizes[0]), 0))
    w0, b0 = params[0]
    dw = _mx(mx, _normal(w0.shape, 7))

    def f(w):
        return _mlp_forward(mx, [(w, b0)] + params[1:], x)

    return lambda: _evaluated(mx, mx.jvp(f, [w0], [dw]))


@workload("custom_function_call", n=16, custom=True)
def custom_function_call(mx, n, custom):
    # The cost of the custom_function wrapper: the same tiny op with and without it.
    x = _mx(mx, _normal((n,), 5))

    def f(x):
        return mx.sin(x) * 2.0

    g = mx.custom_function(f) if custom else f

    def run():
        return _evaluated(mx, g(x))

    return run


# ---------------------------------------------------------------- io

def _io_file(kind, n):
    """A float32 file of n values in a fresh temp dir (removed at exit): .npy written
    by numpy, .safetensors by hand (8-byte length, JSON header, data), so every
    library reads the very same bytes."""
    import atexit
    import json
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="mlxc_bench_io_")
    atexit.register(shutil.rmtree, d, True)
    x = _normal((n,), 11)
    if kind == "npy":
        path = d + "/x.npy"
        _np.save(path, x)
        return path
    path = d + "/x.safetensors"
    head = json.dumps({"x": {"dtype": "F32", "shape": [n],
                             "data_offsets": [0, x.nbytes]}}).encode()
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little") + head)
        x.tofile(f)
    return path


@workload("load_npy", n=64 << 20)
def load_npy(mx, n):
    path = _io_file("npy", n)
    return lambda: _evaluated(mx, mx.load(path))


@load_npy.on("numpy")
def _(np, n):
    path = _io_file("npy", n)
    return lambda: np.load(path)


@load_npy.bytes
def _(n):
    return 2 * F32 * n  # read from the page cache, written into the new array


@workload("load_safetensors", n=64 << 20)
def load_safetensors(mx, n):
    path = _io_file("safetensors", n)
    return lambda: _evaluated(mx, mx.load(path)["x"])


@load_safetensors.on("numpy")
def _(np, n):
    # numpy has no safetensors reader: the same data as .npy, through numpy.load.
    path = _io_file("npy", n)
    return lambda: np.load(path)


@load_safetensors.bytes
def _(n):
    return 2 * F32 * n


# ---------------------------------------------------------------- linalg

def _linalg_inputs(op, n, k):
    """float32 inputs of a decomposition/solve: SPD matrices where the op needs one."""
    a = _normal((n, n), 0)
    if op in ("cholesky", "eigh"):
        a = (a @ a.T) / n + _np.eye(n, dtype=_np.float32)
    elif op in ("solve", "inv"):
        a = a + n ** 0.5 * _np.eye(n, dtype=_np.float32)      # well conditioned
    return [a, _normal((n, k), 1)] if op == "solve" else [a]


def _linalg_call(lib, op, args):
    L = lib.linalg
    if op == "solve":
        return L.solve(*args)
    if op == "qr":
        return L.qr(*args)
    if op == "svd":
        return L.svd(*args)
    return getattr(L, op)(*args)


@workload("linalg", op="solve", n=1024, k=64)
def linalg_op(mx, op, n, k):
    args = _mx_list(mx, _linalg_inputs(op, n, k))
    return lambda: _evaluated(mx, _linalg_call(mx, op, args))


@linalg_op.on("numpy")
def _(np, op, n, k):
    args = _linalg_inputs(op, n, k)
    return lambda: _linalg_call(np, op, args)


@linalg_op.on("torch")
def _(torch, op, n, k):
    args = _torch_list(torch, _linalg_inputs(op, n, k))
    return lambda: _linalg_call(torch, op, args)


@linalg_op.on("jax")
def _(jax, op, n, k):
    import jax.numpy as jnp
    args = _jax_list(jax, _linalg_inputs(op, n, k))
    return lambda: jax.block_until_ready(_linalg_call(jnp, op, args))


@workload("linalg_grad_solve", n=256)
def linalg_grad_solve(mx, n):
    # d/dA sum(solve(A A^T + n I, b)): a GEMM, a solve and the solve's vjp
    a, b = _mx_list(mx, [_normal((n, n), 0), _normal((n,), 1)])
    eye = mx.eye(n) * n

    def f(x):
        return mx.sum(mx.linalg.solve(x @ x.T + eye, b))

    g = mx.grad(f)
    return lambda: _evaluated(mx, g(a))


@linalg_grad_solve.on("torch")
def _(torch, n):
    a, b = _torch_list(torch, [_normal((n, n), 0), _normal((n,), 1)])
    eye = torch.eye(n) * n

    def run():
        x = a.detach().requires_grad_()
        torch.linalg.solve(x @ x.T + eye, b).sum().backward()
        return x.grad

    return run


@linalg_grad_solve.on("jax")
def _(jax, n):
    import jax.numpy as jnp
    a, b = _jax_list(jax, [_normal((n, n), 0), _normal((n,), 1)])
    eye = jnp.eye(n) * n
    g = jax.jit(jax.grad(lambda x: jnp.sum(jnp.linalg.solve(x @ x.T + eye, b))))
    return lambda: g(a).block_until_ready()


# ---------------------------------------------------------------- comparison sets


class Case:
    """One row of compare.py's table: a workload at fixed params, and
    optionally the target for mlxc's time over the fastest peer's."""

    def __init__(self, label, workload, params, target=None):
        self.label, self.workload, self.params, self.target = label, workload, params, target

    def build(self, family, module):
        return WORKLOADS[self.workload].build(family, module, **self.params)

    def rate(self, seconds):
        return WORKLOADS[self.workload].rate(seconds, **self.params)

    def share(self, seconds):
        return WORKLOADS[self.workload].share(seconds, **self.params)


# The everyday set: mlxc against MLX (and NumPy) on small and mid sizes.
COMPARE = [
    Case("overhead_chain_100", "overhead_chain", {"steps": 100, "n": 16}),
    Case("overhead_add", "overhead_add", {"n": 16}),
    Case("add_2^20", "elementwise", {"op": "add", "n": 1 << 20}),
    Case("mul_2^20", "elementwise", {"op": "multiply", "n": 1 << 20}),
    Case("exp_2^20", "elementwise", {"op": "exp", "n": 1 << 20}),
    Case("sum_1024x1024", "reduce", {"op": "sum_all", "n": 1024}),
    Case("argmax_1024x1024", "reduce", {"op": "argmax", "n": 1024}),
    Case("logsumexp_1024x1024", "reduce", {"op": "logsumexp", "n": 1024}),
    Case("softmax_1024x1024", "reduce", {"op": "softmax", "n": 1024}),
    Case("matmul_256", "matmul", {"n": 256}),
    Case("matmul_1024", "matmul", {"n": 1024}),
    Case("matvec_4096", "matvec", {"n": 4096}),
    Case("take_2^16_of_2^20", "take", {"n": 1 << 20, "k": 1 << 16}),
    Case("slice_setitem_1024", "slice_setitem", {"n": 1024}),
    Case("mlp_value_and_grad", "mlp_value_and_grad", {}),
    Case("per_example_grads_512x256", "per_example_grads", {"batch": 512, "dim": 256}),
    Case("mlp_jvp", "mlp_jvp", {}),
    Case("plain_function_call", "custom_function_call", {"custom": False}),
    Case("custom_function_call", "custom_function_call", {"custom": True}),
]

# The performance targets of issue 3: large float32 workloads, mlxc against
# the fastest of NumPy, PyTorch and JAX (all on 2 threads).
_N24, _N22 = 1 << 24, 1 << 22
ISSUE3 = [
    Case("exp_2^24", "elementwise", {"op": "exp", "n": _N24}, 0.6),
    Case("add_2^24", "elementwise", {"op": "add", "n": _N24}, 0.8),
    Case("gelu_erf_2^24", "elementwise", {"op": "gelu", "n": _N24}, 0.8),
    Case("sum_4096^2", "reduce", {"op": "sum_all", "n": 4096}, 1.0),
    Case("sum_axis0_4096^2", "reduce", {"op": "sum_axis0", "n": 4096}, 1.0),
    Case("sum_axis1_4096^2", "reduce", {"op": "sum_axis1", "n": 4096}, 1.0),
    Case("argmax_4096^2", "reduce", {"op": "argmax", "n": 4096}, 1.0),
    Case("logsumexp_4096^2", "reduce", {"op": "logsumexp", "n": 4096}, 1.0),
    Case("softmax_4096^2", "reduce", {"op": "softmax", "n": 4096}, 1.0),
    Case("matmul_256", "matmul", {"n": 256}, 1.2),
    Case("matmul_1024", "matmul", {"n": 1024}, 1.1),
    Case("matmul_2048", "matmul", {"n": 2048}, 1.1),
    Case("matmul_64x128^3", "matmul", {"n": 128, "batch": 64}, 1.1),
    Case("matvec_4096", "matvec", {"n": 4096}, 1.1),
    Case("transpose_copy_4096^2", "transpose_copy", {"n": 4096}, 1.0),
    Case("cumsum_2^22", "cumsum", {"n": _N22}, 1.0),
    Case("sort_2^22", "sort", {"n": _N22}, 1.2),
    Case("take_2^20_of_2^22", "take", {"n": _N22, "k": 1 << 20}, 1.2),
]

# Loading 256 MiB of float32 (page cache warm) against numpy.load of the same .npy.
_N26 = 64 << 20
IO = [
    Case("load_npy_256MiB", "load_npy", {"n": _N26}, 1.5),
    Case("load_safetensors_256MiB", "load_safetensors", {"n": _N26}, 1.5),
]

# mx.random: the generator against the fastest of NumPy's default_rng, PyTorch and
# JAX (the MLX column is reported beside; its target is 10x faster than MLX).
RANDOM = [
    Case("random_normal_2^22", "random", {"op": "normal", "n": _N22}, 1.0),
    Case("random_uniform_2^22", "random", {"op": "uniform", "n": _N22}, 1.0),
    Case("randint_2^22", "random", {"op": "randint", "n": _N22}, 1.0),
]

# The linear-algebra targets of issue 9 (float32, 2 threads, against the fastest of
# NumPy, PyTorch and JAX).
LINALG = [
    Case("solve_1024_rhs64", "linalg", {"op": "solve", "n": 1024, "k": 64}, 1.2),
    Case("cholesky_1024", "linalg", {"op": "cholesky", "n": 1024}, 1.2),
    Case("inv_1024", "linalg", {"op": "inv", "n": 1024}, 1.2),
    Case("qr_512", "linalg", {"op": "qr", "n": 512}, 1.2),
    Case("svd_512", "linalg", {"op": "svd", "n": 512}, 1.2),
    Case("eigh_512", "linalg", {"op": "eigh", "n": 512}, 1.2),
    Case("grad_solve_256", "linalg_grad_solve", {"n": 256}, 1.5),
]

# Quantization (issue 10): 4-bit affine quantized_matmul (group 64) against the fastest
# peer's float32 matmul of the same shape (the peers have no 4-bit product; the MLX
# column runs MLX's quantized_matmul).  The one-row product is the decoding step.
QUANT = [
    Case("qmm_4bit_32x4096x4096", "quantized_matmul", {"m": 32, "n": 4096, "k": 4096}, 0.5),
    Case("qmv_4bit_1x4096x4096", "quantized_matmul", {"m": 1, "n": 4096, "k": 4096}, 0.3),
]

# compare.py --set NAME
SETS = {"default": COMPARE, "issue3": ISSUE3, "random": RANDOM, "io": IO, "linalg": LINALG,
        "quant": QUANT}


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
