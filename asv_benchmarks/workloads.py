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



# ---------------------------------------------------------------- compile
# mx.compile against jax.jit and torch.compile (the compile set alone compares with
# compilers; numpy has no column here).  Inputs are evaluated and every function is
# traced/compiled in the untimed setup (the first call), except compile_first_call.


def _chain12(lib, x, y):
    # 12 elementwise ops written with each library's own names (lib: mx, jnp, torch)
    a = x * y + 1.0
    b = lib.exp(-(a * a))
    c = lib.maximum(b, 0.1 * y) - lib.sin(x)
    d = lib.where(c > 0, c, y * 0.5)
    return lib.sqrt(lib.abs(d)) + lib.tanh(a)


def _scalar_chain(x, steps):
    for _ in range(steps // 2):
        x = x * 1.0001 + 0.5
    return x


_COMPILE_FUNS = {
    "gelu": (1, lambda mx, x: _gelu(mx.erf, x)),
    "chain12": (2, lambda mx, x, y: _chain12(mx, x, y)),
}


@workload("compile", fun="gelu", n=1 << 20, compiled=True)
def compile_wl(mx, fun, n, compiled):
    nargs, f = _COMPILE_FUNS[fun]
    args = _mx_list(mx, [_normal((n,), i) for i in range(nargs)])
    g = mx.compile(lambda *a: f(mx, *a)) if compiled else (lambda *a: f(mx, *a))
    _evaluated(mx, g(*args))
    return lambda: _evaluated(mx, g(*args))


@compile_wl.on("torch")
def _(torch, fun, n, compiled):
    nargs = _COMPILE_FUNS[fun][0]
    args = _torch_list(torch, [_normal((n,), i) for i in range(nargs)])
    body = {"gelu": lambda x: _gelu(torch.erf, x),
            "chain12": lambda x, y: _chain12(torch, x, y)}[fun]
    try:
        g = torch.compile(body) if compiled else body
        g(*args)
    except Exception:             # no C compiler for inductor: no column
        return None
    return lambda: g(*args)


@compile_wl.on("jax")
def _(jax, fun, n, compiled):
    nargs = _COMPILE_FUNS[fun][0]
    args = _jax_list(jax, [_normal((n,), i) for i in range(nargs)])
    jnp = jax.numpy
    body = {"gelu": lambda x: _gelu(_jax_erf(), x),
            "chain12": lambda x, y: _chain12(jnp, x, y)}[fun]
    g = jax.jit(body) if compiled else body
    g(*args).block_until_ready()
    return lambda: g(*args).block_until_ready()


@compile_wl.bytes
def _(fun, n, compiled):
    return F32 * n * (_COMPILE_FUNS[fun][0] + 1)


@workload("compile_scalar_chain", steps=100, n=16)
def compile_scalar_chain(mx, steps, n):
    x = _mx(mx, _normal((n,), 0))
    g = mx.compile(lambda x: _scalar_chain(x, steps))
    _evaluated(mx, g(x))
    return lambda: _evaluated(mx, g(x))


@compile_scalar_chain.on("torch")
def _(torch, steps, n):
    x = _torch(torch, _normal((n,), 0))
    try:
        g = torch.compile(lambda x: _scalar_chain(x, steps))
        g(x)
    except Exception:
        return None
    return lambda: g(x)


@compile_scalar_chain.on("jax")
def _(jax, steps, n):
    x = _jax(jax, _normal((n,), 0))
    g = jax.jit(lambda x: _scalar_chain(x, steps))
    g(x).block_until_ready()
    return lambda: g(x).block_until_ready()


@workload("compile_first_call", steps=100, n=16)
def compile_first_call(mx, steps, n):
    # A new function object each time: nothing cached; trace, simplify, fuse, run.
    x = _mx(mx, _normal((n,), 0))

    def run():
        g = mx.compile(lambda x: _scalar_chain(x, steps))
        return _evaluated(mx, g(x))

    return run


@compile_first_call.on("jax")
def _(jax, steps, n):
    x = _jax(jax, _normal((n,), 0))

    def run():
        return jax.jit(lambda x: _scalar_chain(x, steps))(x).block_until_ready()

    return run


@workload("compile_cache", shapes=2000)
def compile_cache(mx, shapes):
    # One compiled function holding `shapes` traces; the timed call hits the first.
    g = mx.compile(lambda x: x * 2.0 + 1.0)
    xs = [_mx(mx, _normal((k + 1,), 0)) for k in range(shapes)]
    for x in xs:
        _evaluated(mx, g(x))
    x = xs[0]
    return lambda: _evaluated(mx, g(x))

def _hand_layer_norm(lib, x, w, b, eps=1e-5):
    # mean, var, rsqrt written out (lib: mx or jnp)
    mu = lib.mean(x, axis=-1, keepdims=True)
    xc = x - mu
    var = lib.mean(xc * xc, axis=-1, keepdims=True)
    return xc * (1.0 / lib.sqrt(var + eps)) * w + b if lib.__name__.startswith("jax") \
        else xc * lib.rsqrt(var + eps) * w + b


@workload("compile_layer_norm", rows=4096, cols=1024, kind="compiled")
def compile_layer_norm(mx, rows, cols, kind):
    # kind: "compiled" (the hand-written one through mx.compile), "uncompiled", or
    # "fast" (mx.fast.layer_norm, the row the compiled one is measured against)
    x, w, b = _mx(mx, _normal((rows, cols), 0), _normal((cols,), 1), _normal((cols,), 2))
    if kind == "fast":
        g = lambda x, w, b: mx.fast.layer_norm(x, w, b, 1e-5)
    else:
        f = lambda x, w, b: _hand_layer_norm(mx, x, w, b)
        g = mx.compile(f) if kind == "compiled" else f
    _evaluated(mx, g(x, w, b))
    return lambda: _evaluated(mx, g(x, w, b))


@compile_layer_norm.on("torch")
def _(torch, rows, cols, kind):
    x, w, b = (torch.from_numpy(a) for a in (_normal((rows, cols), 0), _normal((cols,), 1),
                                             _normal((cols,), 2)))
    f = torch.nn.functional.layer_norm
    return lambda: f(x, (cols,), w, b, 1e-5)


@compile_layer_norm.on("jax")
def _(jax, rows, cols, kind):
    x, w, b = _jax_list(jax, [_normal((rows, cols), 0), _normal((cols,), 1), _normal((cols,), 2)])
    g = jax.jit(lambda x, w, b: _hand_layer_norm(jax.numpy, x, w, b))
    g(x, w, b).block_until_ready()
    return lambda: g(x, w, b).block_until_ready()


@compile_layer_norm.bytes
def _(rows, cols, kind):
    return F32 * rows * cols * 2


def _nn_mlp(mx, nn, batch, sizes):
    """The MLP of the nn workloads: nn.Sequential of nn.Linear/nn.ReLU with
    _mlp_params' weights, a batch (x, y) and its cross-entropy loss."""
    layers = []
    for w, b in _mlp_params(sizes, 10):
        lin = nn.Linear(w.shape[0], w.shape[1])
        lin.weight, lin.bias = _mx(mx, _np.ascontiguousarray(w.T), b)
        layers += [lin, nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    x, y = _mx(mx, _normal((batch, sizes[0]), 0), _indices(sizes[-1], batch, 1))

    def loss(x, y):
        logits = model(x)
        picked = mx.take_along_axis(logits, mx.expand_dims(y, -1), axis=-1)[..., 0]
        return mx.mean(mx.logsumexp(logits, axis=-1) - picked)

    return model, loss, x, y


@workload("compile_mlp_step", batch=256, sizes=(784, 512, 512, 10))
def compile_mlp_step(mx, batch, sizes):
    # nn_mlp_train_step's value_and_grad through mx.compile (the model's state is the
    # compiled function's captured input).  Peer: the same step in eager PyTorch.
    nn = _nn_of(mx)
    model, loss, x, y = _nn_mlp(mx, nn, batch, sizes)
    step = mx.compile(nn.value_and_grad(model, loss), inputs=model.state,
                      outputs=model.state)

    def run():
        value, grads = step(x, y)
        mx.eval(value, grads)
        return value, [(g["weight"].T, g["bias"]) for g in grads["layers"][::2]]

    run()
    return run


@compile_mlp_step.on("numpy")
def _(np, batch, sizes):
    return WORKLOADS["mlp_value_and_grad"].build("numpy", np, batch=batch, sizes=sizes)


@compile_mlp_step.on("torch")
def _(torch, batch, sizes):
    return WORKLOADS["nn_mlp_train_step"].build("torch", torch, batch=batch, sizes=sizes)


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


@workload("sort", n=1 << 20, rows=1, dtype="float32", op="sort")
def sort(mx, n, rows, dtype, op):
    # The input is never modified, so every call sorts the same random data:
    # `rows` rows of n elements, each sorted (op "sort"), argsorted ("argsort")
    # or partitioned around its middle ("partition").
    x = _mx(mx, _sort_input(n, rows, dtype))
    f = {"sort": lambda: mx.sort(x, axis=-1), "argsort": lambda: mx.argsort(x, axis=-1),
         "partition": lambda: mx.partition(x, n // 2, axis=-1)}[op]
    return lambda: _evaluated(mx, f())


def _sort_input(n, rows, dtype):
    shape = (rows, n) if rows > 1 else (n,)
    if dtype == "int32":
        return _np.random.default_rng(0).integers(-(1 << 31), 1 << 31, shape).astype(_np.int32)
    return _normal(shape, 0)


@sort.on("numpy")
def _(np, n, rows, dtype, op):
    x = _sort_input(n, rows, dtype)
    # numpy's argsort of the stable kind: mlxc's (and MLX's) argsort is stable
    f = {"sort": lambda: np.sort(x, axis=-1), "argsort": lambda: np.argsort(x, axis=-1, kind="stable"),
         "partition": lambda: np.partition(x, n // 2, axis=-1)}[op]
    return f


@sort.on("torch")
def _(torch, n, rows, dtype, op):
    x = _torch(torch, _sort_input(n, rows, dtype))
    if op == "partition":
        return None
    if op == "argsort":
        return lambda: torch.argsort(x, dim=-1, stable=True)
    return lambda: torch.sort(x, dim=-1).values


@sort.on("jax")
def _(jax, n, rows, dtype, op):
    x = _jax(jax, _sort_input(n, rows, dtype))
    f = {"sort": lambda: jax.numpy.sort(x, axis=-1), "argsort": lambda: jax.numpy.argsort(x, axis=-1),
         "partition": lambda: jax.numpy.partition(x, n // 2, axis=-1)}[op]
    return lambda: f().block_until_ready()


@sort.bytes
def sort_bytes(n, rows=1, dtype="float32", op="sort"):
    # Read once, write once: the floor no comparison sort reaches, so the
    # share of bandwidth is only a yardstick here.
    return F32 * 2 * n * rows


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


# ---------------------------------------------------------------- nn

def _nn_of(mx):
    """The nn package next to the array module (mlxc.nn or mlx.nn)."""
    import importlib

    return importlib.import_module(mx.__name__.rsplit(".", 1)[0] + ".nn")


@workload("nn_mlp_train_step", batch=256, sizes=(784, 512, 512, 10))
def nn_mlp_train_step(mx, batch, sizes):
    # mlp_value_and_grad's network as nn.Sequential of nn.Linear/nn.ReLU, gradients
    # through nn.value_and_grad (parameter trees, update() per call).
    nn = _nn_of(mx)
    model, loss, x, y = _nn_mlp(mx, nn, batch, sizes)
    vg = nn.value_and_grad(model, loss)

    def run():
        value, grads = vg(x, y)
        mx.eval(value, grads)
        # numpy's layout: (in, out) weights
        return value, [(g["weight"].T, g["bias"]) for g in grads["layers"][::2]]

    return run


@nn_mlp_train_step.on("numpy")
def _(np, batch, sizes):
    return WORKLOADS["mlp_value_and_grad"].build("numpy", np, batch=batch, sizes=sizes)


@nn_mlp_train_step.on("torch")
def _(torch, batch, sizes):
    layers = []
    for w, b in _mlp_params(sizes, 10):
        lin = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(_np.ascontiguousarray(w.T)))
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    x = torch.from_numpy(_normal((batch, sizes[0]), 0))
    y = torch.from_numpy(_indices(sizes[-1], batch, 1).astype(_np.int64))

    def run():
        model.zero_grad(set_to_none=True)
        value = torch.nn.functional.cross_entropy(model(x), y)
        value.backward()
        return value.detach()

    return run


def _lstm_params(dims):
    """Wx, Wh, bias of an LSTM (gates i, f, g, o) as numpy float32."""
    i, h = dims
    scale = _np.float32(1.0 / math.sqrt(h))
    return (_normal((4 * h, i), 11) * scale, _normal((4 * h, h), 12) * scale,
            _normal((4 * h,), 13) * scale)


@workload("nn_lstm", batch=32, length=32, dims=(64, 128))
def nn_lstm(mx, batch, length, dims):
    # nn.LSTM forward over a sequence: one input projection, `length` cell steps.
    lstm = _nn_of(mx).LSTM(*dims)
    lstm.Wx, lstm.Wh, lstm.bias = _mx(mx, *_lstm_params(dims))
    x = _mx(mx, _normal((batch, length, dims[0]), 5))

    def run():
        return _evaluated(mx, lstm(x))

    return run


@nn_lstm.on("numpy")
def _(np, batch, length, dims):
    wx, wh, b = _lstm_params(dims)
    x = _normal((batch, length, dims[0]), 5)

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    def run():
        pre = x @ wx.T + b
        h = c = None
        hs, cs = [], []
        for t in range(length):
            z = pre[:, t] if h is None else pre[:, t] + h @ wh.T
            i, f, g, o = np.split(z, 4, axis=-1)
            c = sigmoid(i) * np.tanh(g) if c is None else sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            hs.append(h)
            cs.append(c)
        return np.stack(hs, 1), np.stack(cs, 1)

    return run


@nn_lstm.on("torch")
def _(torch, batch, length, dims):
    lstm = torch.nn.LSTM(*dims, batch_first=True)
    x = torch.from_numpy(_normal((batch, length, dims[0]), 5))

    def run():
        with torch.no_grad():
            return lstm(x)[0]

    return run


@workload("nn_maxpool2d", batch=16, size=64, channels=32, kernel=3, stride=2)
def nn_maxpool2d(mx, batch, size, channels, kernel, stride):
    # nn.MaxPool2d on channels-last images (kernel == stride takes the reshape path,
    # overlapping windows the as_strided one).
    pool = _nn_of(mx).MaxPool2d(kernel, stride)
    x = _mx(mx, _normal((batch, size, size, channels), 6))
    return lambda: _evaluated(mx, pool(x))


@nn_maxpool2d.on("numpy")
def _(np, batch, size, channels, kernel, stride):
    x = _normal((batch, size, size, channels), 6)
    view = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(1, 2))
    return lambda: view[:, ::stride, ::stride].max(axis=(-2, -1))


@nn_maxpool2d.on("torch")
def _(torch, batch, size, channels, kernel, stride):
    x = torch.from_numpy(_normal((batch, size, size, channels), 6)).permute(0, 3, 1, 2)
    return lambda: torch.nn.functional.max_pool2d(x, kernel, stride)


@workload("nn_upsample_linear", batch=4, size=64, channels=16, scale=2)
def nn_upsample_linear(mx, batch, size, channels, scale):
    # nn.Upsample(mode="linear") on channels-last images: separable gathers + weights.
    up = _nn_of(mx).Upsample(scale, mode="linear")
    x = _mx(mx, _normal((batch, size, size, channels), 7))
    return lambda: _evaluated(mx, up(x))


@nn_upsample_linear.on("numpy")
def _(np, batch, size, channels, scale):
    # Half-pixel-centre bilinear interpolation, one axis at a time.
    x = _normal((batch, size, size, channels), 7)
    src = np.clip((np.arange(size * scale) + 0.5) / scale - 0.5, 0, size - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.ceil(src).astype(np.int64)
    w = (src - lo).astype(np.float32)

    def run():
        y = x[:, lo] * (1 - w)[None, :, None, None] + x[:, hi] * w[None, :, None, None]
        return y[:, :, lo] * (1 - w)[None, None, :, None] + y[:, :, hi] * w[None, None, :, None]

    return run


@nn_upsample_linear.on("torch")
def _(torch, batch, size, channels, scale):
    x = torch.from_numpy(_normal((batch, size, size, channels), 7)).permute(0, 3, 1, 2)
    return lambda: torch.nn.functional.interpolate(x, scale_factor=scale, mode="bilinear")
# ---------------------------------------------------------------- conv

# Channels-last shapes as MLX takes them: input (N, *spatial, C_in), weight
# (C_out, *kernel, C_in).  PyTorch gets its own NC* layout (converted in the setup),
# JAX the channels-last one through lax.conv_general_dilated.
_CONV = {
    "conv2d": ((8, 64, 64, 32), (64, 3, 3, 32), 1, 1),       # input, weight, stride, padding
    "conv1d": ((16, 4096, 64), (128, 5, 64), 1, 2),
    "conv2d_grad": ((8, 32, 32, 32), (64, 3, 3, 32), 1, 1),
    "conv_transpose2d": ((8, 32, 32, 64), (32, 4, 4, 64), 2, 1),
}
# the same forms at test sizes (tests/test_benchmark_workloads.py)
_CONV_TINY = {
    "conv2d": ((2, 6, 5, 3), (4, 3, 3, 3), 1, 1),
    "conv1d": ((2, 9, 4), (5, 5, 4), 1, 2),
    "conv2d_grad": ((2, 5, 6, 3), (4, 3, 3, 3), 1, 1),
    "conv_transpose2d": ((2, 4, 3, 3), (2, 4, 4, 3), 2, 1),
}


def _conv_case(case, tiny):
    return (_CONV_TINY if tiny else _CONV)[case]


def _conv_inputs(case, tiny):
    xs, ws, _, _ = _conv_case(case, tiny)
    return _normal(xs, 0), _normal(ws, 1) * 0.1


@workload("conv", case="conv2d", tiny=False)
def conv(mx, case, tiny):
    _, ws, s, p = _conv_case(case, tiny)
    x, w = _mx(mx, *_conv_inputs(case, tiny))
    nsp = len(ws) - 2
    if case == "conv_transpose2d":
        return lambda: _evaluated(mx, mx.conv_transpose2d(x, w, stride=s, padding=p))
    if case == "conv2d_grad":
        g = mx.grad(lambda x, w: mx.sum(mx.conv2d(x, w, stride=s, padding=p)), argnums=(0, 1))
        return lambda: _evaluated(mx, g(x, w))
    f = mx.conv1d if nsp == 1 else mx.conv2d
    return lambda: _evaluated(mx, f(x, w, stride=s, padding=p))


@conv.on("numpy")
def _(np, case, tiny):
    """Loops over the kernel taps, a GEMM per tap (the reference for the tests)."""
    _, ws, s, p = _conv_case(case, tiny)
    x, w = _conv_inputs(case, tiny)
    nsp = len(ws) - 2
    ks = ws[1:-1]
    taps = list(np.ndindex(*ks))

    def window(t, n_out, step):
        return (slice(None),) + tuple(slice(t[d], t[d] + (n_out[d] - 1) * step + 1, step)
                                      for d in range(nsp))

    if case == "conv_transpose2d":
        def run():
            full = [(x.shape[d + 1] - 1) * s + ks[d] for d in range(nsp)]
            out = np.zeros((x.shape[0],) + tuple(full) + (ws[0],), np.float32)
            for t in taps:
                out[window(t, x.shape[1:-1], s)] += x @ w[(slice(None),) + t].T
            return out[(slice(None),) + tuple(slice(p, f - p) for f in full)]
        return run
    pad = [(0, 0)] + [(p, p)] * nsp + [(0, 0)]

    def forward():
        xp = np.pad(x, pad)
        osp = [(xp.shape[d + 1] - ks[d]) // s + 1 for d in range(nsp)]
        out = np.zeros((x.shape[0],) + tuple(osp) + (ws[0],), np.float32)
        for t in taps:
            out += xp[window(t, osp, s)] @ w[(slice(None),) + t].T
        return out

    if case != "conv2d_grad":
        return forward

    def grads():            # of sum(conv(x, w)): the cotangent is all ones
        xp = np.pad(x, pad)
        osp = [(xp.shape[d + 1] - ks[d]) // s + 1 for d in range(nsp)]
        g = np.ones((x.shape[0],) + tuple(osp) + (ws[0],), np.float32)
        dxp = np.zeros_like(xp)
        dw = np.zeros_like(w)
        for t in taps:
            win = window(t, osp, s)
            dxp[win] += g @ w[(slice(None),) + t]
            dw[(slice(None),) + t] = g.reshape(-1, ws[0]).T @ xp[win].reshape(-1, ws[-1])
        return dxp[(slice(None),) + (slice(p, -p or None),) * nsp], dw
    return grads


@conv.on("torch")
def _(torch, case, tiny):
    _, ws, s, p = _conv_case(case, tiny)
    xn, wn = _conv_inputs(case, tiny)
    nsp = len(ws) - 2
    perm_x = (0, nsp + 1) + tuple(range(1, nsp + 1))        # NC* layout
    x = _torch(torch, _np.ascontiguousarray(xn.transpose(perm_x)))
    if case == "conv_transpose2d":
        # torch's transposed weight is (C_in, C_out, kH, kW)
        w = _torch(torch, _np.ascontiguousarray(wn.transpose(3, 0, 1, 2)))
        return lambda: torch.nn.functional.conv_transpose2d(x, w, stride=s, padding=p)
    w = _torch(torch, _np.ascontiguousarray(wn.transpose(perm_x)))
    if case == "conv2d_grad":
        def run():
            xg = x.detach().requires_grad_()
            wg = w.detach().requires_grad_()
            torch.nn.functional.conv2d(xg, wg, stride=s, padding=p).sum().backward()
            return xg.grad, wg.grad
        return run
    f = torch.nn.functional.conv1d if nsp == 1 else torch.nn.functional.conv2d
    return lambda: f(x, w, stride=s, padding=p)


@conv.on("jax")
def _(jax, case, tiny):
    _, ws, s, p = _conv_case(case, tiny)
    nsp = len(ws) - 2
    x, w = _jax(jax, *_conv_inputs(case, tiny))
    lax = jax.lax
    sp = "HW"[:nsp] if nsp == 2 else "W"
    dn = ("N" + sp + "C", "O" + sp + "I", "N" + sp + "C")
    if case == "conv_transpose2d":
        k = ws[1]
        pad = [(k - 1 - p, k - 1 - p)] * 2
        f = jax.jit(lambda x, w: lax.conv_general_dilated(
            x, w[:, ::-1, ::-1, :], (1, 1), pad, lhs_dilation=(s, s), dimension_numbers=dn))
        return lambda: f(x, w).block_until_ready()

    def conv_(x, w):
        return lax.conv_general_dilated(x, w, (s,) * nsp, [(p, p)] * nsp, dimension_numbers=dn)
    if case == "conv2d_grad":
        g = jax.jit(jax.grad(lambda x, w: conv_(x, w).sum(), argnums=(0, 1)))
        return lambda: jax.block_until_ready(g(x, w))
    f = jax.jit(conv_)
    return lambda: f(x, w).block_until_ready()


@conv.flops
def conv_flops(case, tiny=False):
    xs, ws, s, p = _conv_case(case, tiny)
    nsp = len(ws) - 2
    taps = 1
    for k in ws[1:-1]:
        taps *= k
    if case == "conv_transpose2d":
        # every input element meets every tap once
        pos = xs[0] * xs[1] * xs[2]
        return 2.0 * pos * taps * xs[-1] * ws[0]
    out = xs[0]
    for d in range(nsp):
        out *= (xs[d + 1] + 2 * p - ws[d + 1]) // s + 1
    f = 2.0 * out * taps * xs[-1] * ws[0]
    return 3 * f if case == "conv2d_grad" else f
# ---------------------------------------------------------------- mx.fast

FAST_OPS = ("sdpa_causal", "sdpa_causal_grad", "sdpa_decode", "layer_norm", "rms_norm",
            "rope")


def _fast_inputs(op, b, h, l, d, n):
    """float32 inputs of a fast op: (q, k, v) for attention (decode: one query against
    n keys), (x, w, b) of (n, n) for the norms, x (b, h, l, d) for rope."""
    if op == "sdpa_causal":
        return [_normal((b, h, l, d), s) for s in (0, 1, 2)]
    if op == "sdpa_causal_grad":        # q, k, v and the output's cotangent
        return [_normal((b, h, l, d), s) for s in (0, 1, 2, 3)]
    if op == "sdpa_decode":
        return [_normal((b, h, 1, d), 0)] + [_normal((b, h, n, d), s) for s in (1, 2)]
    if op in ("layer_norm", "rms_norm"):
        return [_normal((n, n), 0), _normal((n,), 1), _normal((n,), 2)]
    return [_normal((b, h, l, d), 0)]


def _rope_tables(xp, l, d, base=10000.0):
    """cos / sin of positions x frequencies (l, d / 2), float32 (precomputed for the
    peers, as their models cache them)."""
    inv = base ** (-_np.arange(d // 2, dtype=_np.float64) / (d // 2))
    th = (_np.arange(l)[:, None] * inv).astype(_np.float32)
    return _np.cos(th), _np.sin(th)


def _rope_apply(xp_cat, x, c, s, half):
    x1, x2 = x[..., :half], x[..., half:]
    return xp_cat([x1 * c - x2 * s, x1 * s + x2 * c], -1)


@workload("fast", op="sdpa_causal", b=1, h=16, l=1024, d=64, n=4096)
def fast_op(mx, op, b, h, l, d, n):
    args = _mx_list(mx, _fast_inputs(op, b, h, l, d, n))
    F = mx.fast
    if op == "sdpa_causal_grad":
        # the vjp wrt q, k, v (forward included, as the peers' autodiff runs it)
        q, k, v, g = args

        def attn(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, scale=d ** -0.5, mask="causal")
        return lambda: _evaluated(mx, mx.vjp(attn, [q, k, v], [g])[1])
    if op.startswith("sdpa"):
        mask = "causal" if op == "sdpa_causal" else None
        return lambda: _evaluated(mx, F.scaled_dot_product_attention(
            *args, scale=d ** -0.5, mask=mask))
    if op == "layer_norm":
        return lambda: _evaluated(mx, F.layer_norm(*args, 1e-5))
    if op == "rms_norm":
        return lambda: _evaluated(mx, F.rms_norm(args[0], args[1], 1e-5))
    return lambda: _evaluated(mx, F.rope(args[0], d, traditional=False, base=10000.0,
                                         scale=1.0, offset=0))


@fast_op.on("numpy")
def _(np, op, b, h, l, d, n):
    args = _fast_inputs(op, b, h, l, d, n)
    if op == "sdpa_causal_grad":
        return lambda: _np_sdpa_causal_vjp(np, *args, d ** -0.5)
    if op.startswith("sdpa"):
        q, k, v = args
        lq, lk = q.shape[2], k.shape[2]

        def run():
            s = (q * d ** -0.5) @ k.transpose(0, 1, 3, 2)
            if op == "sdpa_causal":
                s = np.where(np.tril(np.ones((lq, lk), bool), lk - lq), s, -np.inf)
            p = np.exp(s - s.max(-1, keepdims=True))
            return (p / p.sum(-1, keepdims=True)) @ v
        return run
    x = args[0]
    if op == "layer_norm":
        w, bb = args[1:]

        def run():
            c = x - x.mean(-1, keepdims=True)
            return c / np.sqrt((c * c).mean(-1, keepdims=True) + 1e-5) * w + bb
        return run
    if op == "rms_norm":
        return lambda: x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * args[1]
    c, s = _rope_tables(np, l, d)
    return lambda: _rope_apply(np.concatenate, x, c, s, d // 2)


def _np_sdpa_causal_vjp(np, q, k, v, g, scale):
    """(dq, dk, dv) of causal attention by hand (materializes L x L)."""
    lq, lk = q.shape[2], k.shape[2]
    s = scale * q @ k.transpose(0, 1, 3, 2)
    keep = np.tril(np.ones((lq, lk), bool), lk - lq)
    s = np.where(keep, s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    o = p @ v
    ds = p * (g @ v.transpose(0, 1, 3, 2) - (g * o).sum(-1, keepdims=True))
    return scale * ds @ k, scale * ds.transpose(0, 1, 3, 2) @ q, p.transpose(0, 1, 3, 2) @ g


@fast_op.on("torch")
def _(torch, op, b, h, l, d, n):
    F = torch.nn.functional
    args = _torch_list(torch, _fast_inputs(op, b, h, l, d, n))
    if op == "sdpa_causal_grad":
        q, k, v = (a.requires_grad_() for a in args[:3])

        def run():
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=d ** -0.5)
            return torch.autograd.grad(o, (q, k, v), args[3])
        return run
    if op.startswith("sdpa"):
        causal = op == "sdpa_causal"
        return lambda: F.scaled_dot_product_attention(*args, is_causal=causal,
                                                      scale=d ** -0.5)
    if op == "layer_norm":
        return lambda: F.layer_norm(args[0], (n,), args[1], args[2], 1e-5)
    if op == "rms_norm":
        return lambda: F.rms_norm(args[0], (n,), args[1], 1e-5)
    c, s = (torch.from_numpy(t) for t in _rope_tables(None, l, d))
    return lambda: _rope_apply(torch.cat, args[0], c, s, d // 2)


@fast_op.on("jax")
def _(jax, op, b, h, l, d, n):
    import jax.numpy as jnp
    args = _jax_list(jax, _fast_inputs(op, b, h, l, d, n))
    if op == "sdpa_causal_grad":
        tr = [jnp.swapaxes(a, 1, 2) for a in args]     # (batch, length, heads, dim)
        for a in tr:
            a.block_until_ready()

        def vjp(q, k, v, g):
            f = lambda q, k, v: jax.nn.dot_product_attention(q, k, v, scale=d ** -0.5,
                                                             is_causal=True)
            return jax.vjp(f, q, k, v)[1](g)
        f = jax.jit(vjp)
        return lambda: jax.block_until_ready(f(*tr))
    if op.startswith("sdpa"):
        causal = op == "sdpa_causal"
        # jax's layout is (batch, length, heads, dim)
        tr = [jnp.swapaxes(a, 1, 2) for a in args]
        for a in tr:
            a.block_until_ready()
        f = jax.jit(lambda q, k, v: jax.nn.dot_product_attention(
            q, k, v, scale=d ** -0.5, is_causal=causal))
        return lambda: f(*tr).block_until_ready()
    if op == "layer_norm":
        def ln(x, w, bb):
            c = x - x.mean(-1, keepdims=True)
            return c * jax.lax.rsqrt((c * c).mean(-1, keepdims=True) + 1e-5) * w + bb
        f = jax.jit(ln)
        return lambda: f(*args).block_until_ready()
    if op == "rms_norm":
        f = jax.jit(lambda x, w: x * jax.lax.rsqrt((x * x).mean(-1, keepdims=True) + 1e-5) * w)
        return lambda: f(args[0], args[1]).block_until_ready()
    c, s = (jax.device_put(t) for t in _rope_tables(None, l, d))
    f = jax.jit(lambda x, c, s: _rope_apply(jnp.concatenate, x, c, s, d // 2))
    return lambda: f(args[0], c, s).block_until_ready()


@fast_op.bytes
def fast_bytes(op, b, h, l, d, n):
    if op == "sdpa_decode":
        return F32 * b * h * (2 * n * d + 2 * d)
    if op == "sdpa_causal_grad":            # q, k, v, g read; dq, dk, dv written
        return F32 * 7 * b * h * l * d
    if op in ("layer_norm", "rms_norm"):
        return F32 * 2 * n * n
    if op == "rope":
        return F32 * 2 * b * h * l * d
    return F32 * 4 * b * h * l * d


# ---------------------------------------------------------------- einsum and matmul variants

# name -> (subscripts, operand shapes, flops of the best contraction order)
EINSUM_CASES = {
    "bmm_32x128": ("bij,bjk->bik", [(32, 128, 128), (32, 128, 128)], 2.0 * 32 * 128 ** 3),
    "chain_512": ("ij,jk,kl->il", [(512, 512)] * 3, 4.0 * 512 ** 3),
    "trace_1024": ("ii", [(1024, 1024)], 1024.0),
    "outer_1024": ("i,j->ij", [(1024,), (1024,)], 1024.0 ** 2),
    # tiny versions for the tests
    "bmm_tiny": ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], 2.0 * 2 * 3 * 4 * 5),
    "chain_tiny": ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 6)], 2.0 * (3 * 4 * 5 + 3 * 5 * 6)),
}


def _einsum_inputs(case):
    sub, shapes, _ = EINSUM_CASES[case]
    return sub, [_normal(s, k) for k, s in enumerate(shapes)]


@workload("einsum", case="bmm_32x128")
def einsum_op(mx, case):
    sub, ops = _einsum_inputs(case)
    ops = _mx_list(mx, ops)
    return lambda: _evaluated(mx, mx.einsum(sub, *ops))


@einsum_op.on("numpy")
def _(np, case):
    sub, ops = _einsum_inputs(case)
    # optimize=True: numpy's contraction order and its BLAS (its fastest einsum)
    return lambda: np.einsum(sub, *ops, optimize=True)


@einsum_op.on("torch")
def _(torch, case):
    sub, ops = _einsum_inputs(case)
    ops = _torch_list(torch, ops)
    return lambda: torch.einsum(sub, *ops)


@einsum_op.on("jax")
def _(jax, case):
    import jax.numpy as jnp
    sub, ops = _einsum_inputs(case)
    ops = _jax_list(jax, ops)
    f = jax.jit(lambda *xs: jnp.einsum(sub, *xs))
    return lambda: f(*ops).block_until_ready()


@einsum_op.flops
def einsum_flops(case):
    return EINSUM_CASES[case][2]


def _complex(shape, seed):
    return (_normal(shape, seed) + 1j * _normal(shape, seed + 100)).astype(_np.complex64)


@workload("matmul_c64", n=512)
def matmul_c64(mx, n):
    a, b = _mx(mx, _complex((n, n), 0), _complex((n, n), 1))
    return lambda: _evaluated(mx, a @ b)


@matmul_c64.on("numpy")
def _(np, n):
    a, b = _complex((n, n), 0), _complex((n, n), 1)
    return lambda: a @ b


@matmul_c64.on("torch")
def _(torch, n):
    a, b = _torch(torch, _complex((n, n), 0), _complex((n, n), 1))
    return lambda: a @ b


@matmul_c64.on("jax")
def _(jax, n):
    a, b = _jax(jax, _complex((n, n), 0), _complex((n, n), 1))
    return lambda: (a @ b).block_until_ready()


@matmul_c64.flops
def matmul_c64_flops(n):
    return 8.0 * n ** 3          # 4 real multiply-adds per complex one


def _moe_inputs(tokens, experts, k, n):
    """MoE routing: each token's row times its expert's matrix, tokens sorted by expert."""
    x = _normal((tokens, 1, k), 0)
    w = _normal((experts, k, n), 1)
    ids = _np.sort(_np.random.default_rng(2).integers(0, experts, tokens)).astype(_np.int32)
    return x, w, ids


@workload("gather_mm", tokens=256, experts=8, k=512, n=512)
def gather_mm(mx, tokens, experts, k, n):
    x, w, ids = _moe_inputs(tokens, experts, k, n)
    x, w, ids = _mx_list(mx, [x, w, ids])
    return lambda: _evaluated(mx, mx.gather_mm(x, w, None, ids, sorted_indices=True))


@gather_mm.on("numpy")
def _(np, tokens, experts, k, n):
    x, w, ids = _moe_inputs(tokens, experts, k, n)
    x2 = x[:, 0, :]
    bounds = np.searchsorted(ids, np.arange(experts + 1))

    def run():
        # one GEMM per expert over its (sorted, contiguous) tokens
        out = np.concatenate([x2[bounds[e]:bounds[e + 1]] @ w[e] for e in range(experts)])
        return out[:, None, :]      # gather_mm's (tokens, 1, n), a view
    return run


@gather_mm.on("torch")
def _(torch, tokens, experts, k, n):
    x, w, ids = _moe_inputs(tokens, experts, k, n)
    bounds = _np.searchsorted(ids, _np.arange(experts + 1)).tolist()
    x2, w = _torch_list(torch, [_np.ascontiguousarray(x[:, 0, :]), w])
    return lambda: torch.cat([x2[bounds[e]:bounds[e + 1]] @ w[e] for e in range(experts)])


@gather_mm.on("jax")
def _(jax, tokens, experts, k, n):
    x, w, ids = _moe_inputs(tokens, experts, k, n)
    sizes = _np.bincount(ids, minlength=experts).astype(_np.int32)
    x2, w, sizes = _jax_list(jax, [_np.ascontiguousarray(x[:, 0, :]), w, sizes])
    f = jax.jit(jax.lax.ragged_dot)
    return lambda: f(x2, w, sizes).block_until_ready()


@gather_mm.flops
def gather_mm_flops(tokens, experts, k, n):
    return 2.0 * tokens * k * n


# ---------------------------------------------------------------- training steps
# One optimizer step of a small model, as MLX users write it: the loss and
# gradients, the optimizer's update and mx.eval of the parameters and the
# optimizer state. The model, its parameters and the optimizer persist across
# calls (each call is the next step), as in a training loop.


class Unavailable(Exception):
    """The array module lacks what a workload needs (e.g. layers not built
    yet): compare.py shows n/a, the workload tests skip."""


def _sibling(mx, name):
    """The package next to the array module: mlx.core -> mlx.<name>."""
    import importlib

    return importlib.import_module(mx.__name__.rsplit(".", 1)[0] + "." + name)


def _require(module, *names):
    missing = [n for n in names if not hasattr(module, n)]
    if missing:
        raise Unavailable("%s has no %s" % (module.__name__, ", ".join(missing)))


@workload("train_mlp_adam", batch=256, sizes=(784, 512, 512, 10), lr=1e-3)
def train_mlp_adam(mx, batch, sizes, lr):
    optim = _sibling(mx, "optimizers")
    params = {"layers": [{"w": w, "b": b} for w, b in
                         (_mx_list(mx, p) for p in _mlp_params(sizes, 10))]}
    x, y = _mx(mx, _normal((batch, sizes[0]), 0), _indices(sizes[-1], batch, 1))

    def loss_fn(params, x, y):
        h = x
        for layer in params["layers"][:-1]:
            h = mx.maximum(h @ layer["w"] + layer["b"], 0)
        last = params["layers"][-1]
        logits = h @ last["w"] + last["b"]
        picked = mx.take_along_axis(logits, mx.expand_dims(y, -1), axis=-1)[..., 0]
        return mx.mean(mx.logsumexp(logits, axis=-1) - picked)

    vg = mx.value_and_grad(loss_fn)
    opt = optim.Adam(learning_rate=lr)
    state = {"params": params}

    def run():
        loss, grads = vg(state["params"], x, y)
        state["params"] = opt.apply_gradients(grads, state["params"])
        mx.eval(state["params"], opt.state, loss)
        return loss, [(l["w"], l["b"]) for l in state["params"]["layers"]]

    return run


@train_mlp_adam.on("numpy")
def _(np, batch, sizes, lr):
    # Hand-written backpropagation and MLX's Adam (no bias correction).
    params = [[w.copy(), b.copy()] for w, b in _mlp_params(sizes, 10)]
    x, y = _normal((batch, sizes[0]), 0), _indices(sizes[-1], batch, 1)
    rows = np.arange(batch)
    moments = [[[np.zeros_like(p), np.zeros_like(p)] for p in layer] for layer in params]
    b1, b2, eps = 0.9, 0.999, 1e-8

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
        for i in range(len(params) - 1, -1, -1):
            grads = (hs[i].T @ g, g.sum(axis=0))
            if i:
                g = (g @ params[i][0].T) * (hs[i] > 0)
            for j, gr in enumerate(grads):
                mv = moments[i][j]
                mv[0] = b1 * mv[0] + (1 - b1) * gr
                mv[1] = b2 * mv[1] + (1 - b2) * gr * gr
                params[i][j] = params[i][j] - lr * mv[0] / (np.sqrt(mv[1]) + eps)
        return value, [tuple(p) for p in params]

    return run


@train_mlp_adam.on("torch")
def _(torch, batch, sizes, lr):
    layers = []
    for w, b in _mlp_params(sizes, 10):
        lin = torch.nn.Linear(*w.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    x = torch.from_numpy(_normal((batch, sizes[0]), 0))
    y = torch.from_numpy(_indices(sizes[-1], batch, 1).astype(_np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def run():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return run


@train_mlp_adam.flops
def train_mlp_adam_flops(batch, sizes, lr):
    # Forward and backward matmuls: 3 x 2*batch*in*out per layer.
    return sum(6 * batch * fi * fo for fi, fo in zip(sizes[:-1], sizes[1:]))


def _causal_mask(seq):
    return _np.triu(_np.full((seq, seq), -1e9, dtype=_np.float32), 1)


@workload("train_transformer", layers=2, dims=256, heads=4, ffn=1024, seq=128,
          batch=16, vocab=1000)
def train_transformer(mx, layers, dims, heads, ffn, seq, batch, vocab):
    # A language-model step: embedding, pre-norm encoder blocks, output layer,
    # next-token cross entropy, Adam.
    nn, optim = _sibling(mx, "nn"), _sibling(mx, "optimizers")
    _require(nn, "Module", "Embedding", "TransformerEncoder", "Linear", "value_and_grad")
    _require(mx, "fast")  # the layers' fused norms and attention

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, dims)
            self.encoder = nn.TransformerEncoder(layers, dims, heads, ffn)
            self.out = nn.Linear(dims, vocab)

        def __call__(self, tokens, mask):
            return self.out(self.encoder(self.embedding(tokens), mask))

    mx.random.seed(0)
    model = LM()
    tokens = _indices(vocab, batch * (seq + 1), 2).reshape(batch, seq + 1)
    x, y, mask = _mx(mx, tokens[:, :-1], tokens[:, 1:], _causal_mask(seq))

    def loss_fn(model, x, y):
        return nn.losses.cross_entropy(model(x, mask), y, reduction="mean")

    step = nn.value_and_grad(model, loss_fn)
    opt = optim.Adam(learning_rate=1e-3)
    mx.eval(model.parameters())

    def run():
        loss, grads = step(model, x, y)
        opt.update(model, grads)
        mx.eval(model.parameters(), opt.state, loss)
        return loss

    return run


@train_transformer.on("torch")
def _(torch, layers, dims, heads, ffn, seq, batch, vocab):
    nn = torch.nn
    torch.manual_seed(0)
    block = nn.TransformerEncoderLayer(dims, heads, ffn, dropout=0.0, batch_first=True,
                                       norm_first=True)
    encoder = nn.TransformerEncoder(block, layers, norm=nn.LayerNorm(dims),
                                    enable_nested_tensor=False)
    model = nn.ModuleDict({"embedding": nn.Embedding(vocab, dims), "encoder": encoder,
                           "out": nn.Linear(dims, vocab)})
    tokens = torch.from_numpy(_indices(vocab, batch * (seq + 1), 2).astype(_np.int64)
                              .reshape(batch, seq + 1))
    x, y = tokens[:, :-1], tokens[:, 1:]
    mask = torch.from_numpy(_causal_mask(seq))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def run():
        opt.zero_grad()
        h = model["encoder"](model["embedding"](x), mask=mask)
        logits = model["out"](h)
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    return run


@train_transformer.flops
def train_transformer_flops(layers, dims, heads, ffn, seq, batch, vocab):
    tokens = batch * seq
    per_layer = 2 * tokens * (4 * dims * dims + 2 * dims * ffn) + 4 * batch * seq * seq * dims
    return 3 * (layers * per_layer + 2 * tokens * dims * vocab)


@workload("train_cnn_sgd", batch=64, size=32, channels=(32, 64), classes=10, lr=0.01)
def train_cnn_sgd(mx, batch, size, channels, classes, lr):
    # Two 3x3 conv + relu + 2x2 max-pool blocks and a linear head, NHWC, SGD.
    nn, optim = _sibling(mx, "nn"), _sibling(mx, "optimizers")
    _require(nn, "Module", "Conv2d", "MaxPool2d", "Linear", "value_and_grad")
    _require(mx, "conv2d")
    c1, c2 = channels

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, c1, 3, padding=1)
            self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.head = nn.Linear((size // 4) ** 2 * c2, classes)

        def __call__(self, x):
            x = self.pool(nn.relu(self.conv1(x)))
            x = self.pool(nn.relu(self.conv2(x)))
            return self.head(x.reshape(x.shape[0], -1))

    mx.random.seed(0)
    model = CNN()
    x, y = _mx(mx, _normal((batch, size, size, 3), 3), _indices(classes, batch, 4))

    def loss_fn(model, x, y):
        return nn.losses.cross_entropy(model(x), y, reduction="mean")

    step = nn.value_and_grad(model, loss_fn)
    opt = optim.SGD(learning_rate=lr)
    mx.eval(model.parameters())

    def run():
        loss, grads = step(model, x, y)
        opt.update(model, grads)
        mx.eval(model.parameters(), opt.state, loss)
        return loss

    return run


@train_cnn_sgd.on("torch")
def _(torch, batch, size, channels, classes, lr):
    nn = torch.nn
    torch.manual_seed(0)
    c1, c2 = channels
    model = nn.Sequential(
        nn.Conv2d(3, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear((size // 4) ** 2 * c2, classes))
    # The same images, channels first.
    x = torch.from_numpy(_normal((batch, size, size, 3), 3).transpose(0, 3, 1, 2).copy())
    y = torch.from_numpy(_indices(classes, batch, 4).astype(_np.int64))
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def run():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return run


@train_cnn_sgd.flops
def train_cnn_sgd_flops(batch, size, channels, classes, lr):
    c1, c2 = channels
    conv1 = 2 * batch * size * size * 9 * 3 * c1
    conv2 = 2 * batch * (size // 2) ** 2 * 9 * c1 * c2
    head = 2 * batch * (size // 4) ** 2 * c2 * classes
    return 3 * (conv1 + conv2 + head)


# ---------------------------------------------------------------- fft

def _fft_input(op, shape):
    """complex64 input for the complex transforms, float32 for the real ones"""
    x = _normal(shape, 0)
    if op in ("fft", "ifft"):
        x = (x + 1j * _normal(shape, 1)).astype(_np.complex64)
    return x


@workload("fft", op="fft", shape=(1 << 20,))
def fft_op(mx, op, shape):
    (x,) = _mx_list(mx, [_fft_input(op, shape)])
    f = getattr(mx.fft, op)
    return lambda: _evaluated(mx, f(x))


@fft_op.on("numpy")
def _(np, op, shape):
    x = _fft_input(op, shape)
    f = getattr(np.fft, op)
    return lambda: f(x)


@fft_op.on("torch")
def _(torch, op, shape):
    (x,) = _torch_list(torch, [_fft_input(op, shape)])
    f = getattr(torch.fft, op)
    return lambda: f(x)


@fft_op.on("jax")
def _(jax, op, shape):
    import jax.numpy as jnp
    (x,) = _jax_list(jax, [_fft_input(op, shape)])
    f = getattr(jnp.fft, op)
    return lambda: f(x).block_until_ready()


@fft_op.flops
def _(op, shape):
    # the conventional 5 n log2 n of a complex FFT (2.5 n log2 n for a real one)
    n = math.prod(shape)
    last = shape[-1] if op.startswith("r") and len(shape) == 1 else n
    return (2.5 if op.startswith("r") else 5.0) * n * math.log2(max(last, 2))


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

# issue 12 item 6: sorting and gathers against the fastest of NumPy, PyTorch and
# JAX, 2 threads (the first three and the take are the targets; the rest guard
# against regressions).
SORT = [
    Case("sort_2^22", "sort", {"n": _N22}, 1.2),
    Case("sort_rows_65536x64", "sort", {"n": 64, "rows": 65536}, 1.2),
    Case("take_2^20_of_2^22", "take", {"n": _N22, "k": 1 << 20}, 1.2),
    Case("sort_i32_2^22", "sort", {"n": _N22, "dtype": "int32"}),
    Case("sort_2^16", "sort", {"n": 1 << 16}),
    Case("sort_rows_16384x16", "sort", {"n": 16, "rows": 16384}),
    Case("sort_rows_8192x256", "sort", {"n": 256, "rows": 8192}),
    Case("sort_rows_1024x4096", "sort", {"n": 4096, "rows": 1024}),
    Case("sort_i32_rows_65536x64", "sort", {"n": 64, "rows": 65536, "dtype": "int32"}),
    Case("argsort_2^22", "sort", {"n": _N22, "op": "argsort"}),
    Case("argsort_rows_65536x64", "sort", {"n": 64, "rows": 65536, "op": "argsort"}),
    Case("partition_2^22", "sort", {"n": _N22, "op": "partition"}),
    Case("partition_rows_65536x64", "sort", {"n": 64, "rows": 65536, "op": "partition"}),
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

# mlxc.nn layers and training steps, mlxc against MLX and torch.nn.
NN = [
    Case("nn_mlp_train_step", "nn_mlp_train_step", {}),
    Case("nn_lstm_32x32x64->128", "nn_lstm", {}),
    Case("nn_maxpool2d_k3s2_16x64x64x32", "nn_maxpool2d", {}),
    Case("nn_maxpool2d_k2s2_16x64x64x32", "nn_maxpool2d", {"kernel": 2, "stride": 2}),
    Case("nn_upsample_linear_x2_4x64x64x16", "nn_upsample_linear", {}),
]

# The convolution targets of issue 10 (float32, 2 threads, against the fastest of
# PyTorch and JAX; the MLX column is reported beside, its target being 0.1x MLX).
CONV = [
    Case("conv2d_8x64x64x32_k3x64", "conv", {"case": "conv2d"}, 1.2),
    Case("conv1d_16x4096x64_k5x128", "conv", {"case": "conv1d"}, 1.2),
    Case("grad_conv2d_8x32x32x32_k3x64", "conv", {"case": "conv2d_grad"}, 1.5),
    Case("conv_transpose2d_s2", "conv", {"case": "conv_transpose2d"}, 1.5),
]

# mx.fast (issue 10): fused kernels against the fastest of PyTorch and JAX, 2 threads.
FAST = [
    Case("sdpa_causal_1x16x1024x64", "fast",
         {"op": "sdpa_causal", "b": 1, "h": 16, "l": 1024, "d": 64}, 1.0),
    Case("sdpa_decode_1x16x1_kv4096x128", "fast",
         {"op": "sdpa_decode", "b": 1, "h": 16, "d": 128, "n": 4096}, 1.0),
    # the vjp wrt q, k, v (forward included) of the causal prefill above
    Case("grad_sdpa_causal_1x16x1024x64", "fast",
         {"op": "sdpa_causal_grad", "b": 1, "h": 16, "l": 1024, "d": 64}, 1.0),
    Case("layer_norm_4096^2", "fast", {"op": "layer_norm", "n": 4096}, 1.0),
    Case("rms_norm_4096^2", "fast", {"op": "rms_norm", "n": 4096}, 1.0),
    Case("rope_1x32x1024x128", "fast", {"op": "rope", "b": 1, "h": 32, "l": 1024, "d": 128},
         1.0),
]

# einsum and the matmul variants of issue 9 (float32 unless named, 2 threads, against
# the fastest of NumPy, PyTorch and JAX).
EINSUM = [
    Case("einsum_bmm_32x128", "einsum", {"case": "bmm_32x128"}, 1.1),
    Case("einsum_chain_512", "einsum", {"case": "chain_512"}, 1.1),
    Case("einsum_trace_1024", "einsum", {"case": "trace_1024"}),
    Case("einsum_outer_1024", "einsum", {"case": "outer_1024"}),
    Case("matmul_c64_512", "matmul_c64", {"n": 512}),
    Case("gather_mm_moe_256x8", "gather_mm", {}),
]

# Training steps (issue 11): mlxc against PyTorch (the fastest peer with a
# builder) and, beside it, MLX; the MLP's target is <= 1.2x PyTorch (and its
# time <= 0.1x MLX's, read from the mlxc/mlx column).
TRAIN = [
    Case("train_mlp_adam_784-512-512-10_b256", "train_mlp_adam", {}, 1.2),
    Case("train_transformer_2x256_seq128_b16", "train_transformer", {}, 1.2),
    Case("train_cnn_sgd_32x32x3_b64", "train_cnn_sgd", {}, 1.2),
]

# issue 9: mlxc's FFT against the fastest of numpy / torch / jax (and <= 0.2x MLX)
FFT = [
    Case("fft_c64_2^20", "fft", {"op": "fft", "shape": (1 << 20,)}, 1.0),
    Case("rfft_1024x4096", "fft", {"op": "rfft", "shape": (1024, 4096)}, 1.0),
    Case("rfft2_1024x1024", "fft", {"op": "rfft2", "shape": (1024, 1024)}, 1.0),
    Case("fft_c64_60060", "fft", {"op": "fft", "shape": (60060,)}, 1.5),
    Case("fft_c64_65521", "fft", {"op": "fft", "shape": (65521,)}, 1.5),
]

# mx.compile (issue 12), 2 threads, against the fastest of jax.jit and torch.compile.
# Targets: compiled gelu <= jax.jit and <= 0.6x the uncompiled row beside it; the
# 12-op chain <= the faster compiler; absolute ones (no ratio): the 100-op chain on 16
# elements <= 5 us a call, a first call (trace + fuse) <= 20 ms, a call with 2000
# traces cached no slower than with 1.
COMPILE = [
    Case("compiled_gelu_2^24", "compile", {"fun": "gelu", "n": _N24}, 1.0),
    Case("uncompiled_gelu_2^24", "compile", {"fun": "gelu", "n": _N24, "compiled": False}),
    Case("compiled_chain12_2^22", "compile", {"fun": "chain12", "n": _N22}, 1.0),
    Case("compiled_chain100_16", "compile_scalar_chain", {"steps": 100, "n": 16}),
    Case("compile_first_call_100", "compile_first_call", {"steps": 100, "n": 16}),
    Case("compiled_call_1_cached", "compile_cache", {"shapes": 1}),
    Case("compiled_call_2000_cached", "compile_cache", {"shapes": 2000}),
    # the hand-written layer norm compiled: <= 1.2x the "fast" row below it (mlxc's own
    # mx.fast.layer_norm; the ratio column there is against torch's layer_norm)
    Case("compiled_layer_norm_4096x1024", "compile_layer_norm", {"kind": "compiled"}),
    Case("fast_layer_norm_4096x1024", "compile_layer_norm", {"kind": "fast"}),
    Case("uncompiled_layer_norm_4096x1024", "compile_layer_norm", {"kind": "uncompiled"}),
    # value_and_grad of the 784-512-512-10 MLP through mx.compile: <= eager PyTorch
    Case("compiled_mlp_step_256", "compile_mlp_step", {}, 1.0),
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
        "nn": NN, "conv": CONV, "fast": FAST, "einsum": EINSUM, "train": TRAIN, "fft": FFT,
        "compile": COMPILE, "quant": QUANT, "sort": SORT}


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
