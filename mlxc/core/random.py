"""mx.random: MLX's random number functions, bit for bit.

Every function draws its bits from a key (a uint32 array of shape (2,)) through
MLX's threefry-2x32 generator and turns them into values with MLX's formulas, so the
same key or seed gives the same numbers as MLX 0.32.4.  Without a key, the global
state is split: its first half becomes the new state, the second is used.

The fused RandomBits modes (uniform, normal, randint in float32/int32) compute in one
pass what the composed ops below compute; the composed path covers every other dtype,
bound and shape, with MLX's own log/log1p/erf/erfinv (mlx_math) where MLX's results
depend on them.
"""
import math as _math
import struct as _struct
import time as _time

import mlxc.core as mx
from mlxc._core.ops import random as _r
from mlxc._core.ops.common import stream_scope as _stream_scope

__all__ = ["key", "split", "seed", "state", "uniform", "normal", "randint", "bernoulli",
           "truncated_normal", "gumbel", "laplace", "categorical", "permutation",
           "multivariate_normal"]


def _f32(x):
    """x rounded to float32 (a Python float)."""
    return _struct.unpack("f", _struct.pack("f", x))[0]


def _u64(seed, op):
    if isinstance(seed, bool) or not isinstance(seed, int):
        if hasattr(seed, "__index__"):
            seed = seed.__index__()
        else:
            raise TypeError(f"[{op}] Expected an integer seed, got {type(seed).__name__}.")
    if seed < 0 or seed >= 1 << 64:
        raise TypeError(f"[{op}] The seed must be an unsigned 64-bit integer, got {seed}.")
    return seed


def key(seed):
    """A PRNG key from a seed: the high and low 32 bits of the unsigned 64-bit seed."""
    seed = _u64(seed, "key")
    return mx.array([seed >> 32, seed & 0xFFFFFFFF], dtype=mx.uint32)


class _RandomState(list):
    """The global key, as a list of one array (MLX's random.state): a compiled
    function may take it as an input and an output, and state[0] is the key now."""

    def __getitem__(self, i):
        try:
            return list.__getitem__(self, i)
        except IndexError:
            raise IndexError("random state index out of range") from None

    def __repr__(self):
        return f"<mlxc.core.random._RandomState object at {hex(id(self))}>"

    __str__ = __repr__


state = _RandomState([key(_time.time_ns() & 0xFFFFFFFFFFFFFFFF)])


def seed(seed):
    """Seed the global PRNG state."""
    state[0] = key(_u64(seed, "seed"))


def _next_key():
    """Split the global key: keep the first half as the new state, return the second."""
    pair = _r.random_bits(state[0], (2, 2))
    state[0] = pair[0]
    return pair[1]


def _key(k):
    return _next_key() if k is None else _r.check_key(k)


def _bits(shape, k, mode=_r.BITS, *params):
    return _r.random_bits(_key(k), shape, mode, *params)


def split(key, num=2, stream=None):
    """Split a key into `num` keys, an array of shape (num, 2)."""
    with _stream_scope(stream, "split"):
        shape = _r.bits_shape((num, 2))
        return _r.random_bits(_r.check_key(key), shape)


def _floating(dtype):
    return mx.issubdtype(dtype, mx.floating)


def _upper(dtype):
    """nextafter(1, 0) in dtype: the largest [0, 1) value."""
    return {mx.float16: 1.0 - 2.0 ** -11, mx.bfloat16: 1.0 - 2.0 ** -8}.get(
        dtype, 1.0 - 2.0 ** -24)


def _is_py_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _in_dtype(x, dtype):
    """x as an array of dtype: a Python scalar converts straight to dtype (as MLX's
    bindings do: a float64 keeps the double), an array is cast."""
    if isinstance(x, (int, float, complex)):
        return mx.array(x, dtype)
    return mx.astype(mx.asarray(x), dtype)


def _uniform(low, high, shape, dtype, k, op="uniform"):
    if dtype is None:
        dtype = mx.float32
    if not _floating(dtype):
        raise ValueError(f"[{op}] Can only generate uniform numbers with real floating point "
                         f"type.")
    if dtype == mx.float64:
        raise RuntimeError(f"[{op}] Unsupported type.")
    shape = _r.bits_shape(shape)
    default_bounds = (_is_py_number(low) and _is_py_number(high) and low == 0 and high == 1)
    if not default_bounds:
        lo = mx.astype(mx.asarray(low), dtype)
        hi = mx.astype(mx.asarray(high), dtype)
        rng = hi - lo
        out_shape = mx.broadcast_shapes(shape, rng.shape)
        if out_shape != shape:
            raise ValueError(f"[uniform] Cannot generate random values of shape "
                             f"{_r._fmt(shape)} from broadcasted shape {_r._fmt(out_shape)}.")
    u = _bits(shape, k, _r.UNIFORM)
    if dtype != mx.float32:
        u = mx.minimum(mx.astype(u, dtype), mx.array(_upper(dtype), dtype))
    if default_bounds:
        return u          # 1 * u + 0 == u exactly
    return rng * u + lo


def uniform(low=0, high=1, shape=[], dtype=mx.float32, key=None, stream=None):
    """Uniform samples in [low, high)."""
    with _stream_scope(stream, "uniform"):
        return _uniform(low, high, shape, dtype, key)


_SQRT2 = _math.sqrt(2.0)
_NORMAL_LO = -(1.0 - 2.0 ** -24)      # nextafter(-1, 0) in float32


def normal(shape=[], dtype=mx.float32, loc=None, scale=None, key=None, stream=None):
    """Normal samples: sqrt(2) erfinv(u) for u uniform in (-1, 1), scaled and shifted."""
    with _stream_scope(stream, "normal"):
        if dtype is None:
            dtype = mx.float32
        if dtype == mx.complex64:
            # real and imaginary parts of variance 1/2 each: erfinv(u) (sqrt(2) / sqrt(2))
            shape = tuple(_r.bits_shape(shape))
            z = mx.view(_bits(shape + (2,), key, _r.ERFINV), mx.complex64).reshape(shape)
            if scale is not None:
                z = _in_dtype(scale, mx.complex64) * z
            if loc is not None:
                z = _in_dtype(loc, mx.complex64) + z
            return z
        if not _floating(dtype):
            raise ValueError("[normal] Only floating point and complex64 types are supported.")
        shape = _r.bits_shape(shape)
        if dtype == mx.float32 and loc is None and scale is None:
            return _bits(shape, key, _r.NORMAL)
        samples = mx.astype(_bits(shape, key, _r.ERFINV), dtype)
        applied = mx.array(_SQRT2, dtype)
        if scale is not None:
            applied = applied * _in_dtype(scale, dtype)
        samples = applied * samples
        if loc is not None:
            samples = _in_dtype(loc, dtype) + samples
        return samples


def randint(low, high, shape=[], dtype=mx.int32, key=None, stream=None):
    """Random integers in [low, high): floor(uniform(low, high)) in dtype, clamped to
    [low, high - 1] cast to dtype (MLX's formula, wrap-arounds of the casts included)."""
    with _stream_scope(stream, "randint"):
        if dtype is None:
            dtype = mx.int32
        if mx.issubdtype(dtype, mx.inexact):
            raise ValueError("[randint] randint only accepts integer dtypes and bool.")
        if (dtype == mx.int32 and type(low) is int and type(high) is int
                and -2 ** 31 <= low < 2 ** 31 and -2 ** 31 < high < 2 ** 31):
            # the whole formula in the generator's pass
            shape = _r.bits_shape(shape)
            lo = _f32(float(low))
            return _bits(shape, key, _r.RANDINT, lo, _f32(_f32(float(high)) - lo), low, high - 1)
        low, high = mx.asarray(low), mx.asarray(high)
        u = _uniform(low, high, shape, mx.float32, key)
        v = mx.astype(mx.floor(u), dtype)
        v = mx.minimum(v, mx.astype(high - 1, dtype))
        return mx.maximum(v, mx.astype(low, dtype))


def bernoulli(p=0.5, shape=None, key=None, stream=None):
    """Bernoulli samples: True with probability p."""
    with _stream_scope(stream, "bernoulli"):
        p = mx.asarray(p)
        if not _floating(p.dtype):
            raise ValueError("[bernoulli] bernoulli probability `p` must be a float type.")
        if shape is None:
            shape = p.shape
        shape = _r.bits_shape(shape)
        mx.broadcast_shapes(shape, p.shape)
        return mx.less(_uniform(0, 1, shape, p.dtype, key), p)


def truncated_normal(lower, upper, shape=None, dtype=mx.float32, key=None, stream=None):
    """Normal samples truncated to [lower, upper]."""
    with _stream_scope(stream, "truncated_normal"):
        if dtype is None:
            dtype = mx.float32
        if not _floating(dtype):
            raise ValueError("[trunc_normal] trunc_normal only accepts floating point dtypes.")
        lower, upper = mx.asarray(lower), mx.asarray(upper)
        if shape is None:
            shape = mx.broadcast_shapes(lower.shape, upper.shape)
        sqrt2 = mx.array(_SQRT2, dtype)
        lo, hi = mx.astype(lower, dtype), mx.astype(upper, dtype)
        a = _r.mlx_math(lo / sqrt2, _r.ERF)
        b = _r.mlx_math(hi / sqrt2, _r.ERF)
        u = _uniform(a, b, shape, dtype, key)
        out = sqrt2 * _r.mlx_math(u, _r.ERFINV_F)
        return mx.maximum(mx.minimum(hi, out), lo)


def gumbel(shape=[], dtype=mx.float32, key=None, stream=None):
    """Gumbel samples: -log(-log(u))."""
    with _stream_scope(stream, "gumbel"):
        u = _uniform(0, 1, shape, dtype, key)
        return -_r.mlx_math(-_r.mlx_math(u, _r.LOG), _r.LOG)


def laplace(shape=[], dtype=mx.float32, loc=0.0, scale=1.0, key=None, stream=None):
    """Laplace samples by the inverse CDF of u uniform in (-1, 1)."""
    with _stream_scope(stream, "laplace"):
        if dtype is None:
            dtype = mx.float32
        if not _floating(dtype):
            raise ValueError("[laplace] Only real floating point types are supported.")
        u = _uniform(_NORMAL_LO, 1.0, shape, mx.float32, key)
        samples = mx.sign(u) * _r.mlx_math(-mx.abs(u), _r.LOG1P)
        samples = mx.astype(samples, dtype)
        return mx.array(loc, dtype) + mx.array(scale, dtype) * samples


def _categorical_cdf(logits, ax, shape, k):
    """One distribution (MLX's path when the logits hold a single row): inverse-CDF
    sampling, u * sum(w) located in cumsum(w) with w = exp(logits - max) (or the
    one-hot of the maximum when it is infinite)."""
    b = mx.reshape(mx.moveaxis(logits, ax, -1), (-1,)).astype(mx.float32)
    m = mx.max(b)
    w = mx.where(mx.logical_or(m == float("inf"), m == float("-inf")),
                 mx.astype(b == m, mx.float32), _r.mlx_math(b - m, _r.EXP))
    cdf = mx.cumsum(w)
    n = 1
    for d in shape:
        n *= d
    x = _uniform(0, 1, (n,), mx.float32, k) * cdf[-1]
    # searchsorted(cdf, x, side="right"): how many cdf entries are <= x
    idx = mx.sum(mx.expand_dims(cdf, 0) <= mx.expand_dims(x, 1), axis=1)
    return mx.reshape(mx.astype(idx, mx.uint32), shape)


def categorical(logits, axis=-1, shape=None, num_samples=None, key=None, stream=None):
    """Samples of a categorical distribution with unnormalized log-probabilities logits."""
    with _stream_scope(stream, "categorical"):
        if shape is not None and num_samples is not None:
            raise ValueError("[categorical] At most one of shape or num_samples can be specified.")
        logits = mx.asarray(logits)
        nd = logits.ndim
        ax = axis + nd if axis < 0 else axis
        if ax < 0 or ax >= nd:
            raise IndexError(f"[categorical] Invalid axis {axis} for logits with {nd} dimensions.")
        reduced = logits.shape[:ax] + logits.shape[ax + 1:]
        if num_samples is not None:
            out_shape = tuple(_r.bits_shape(reduced + (num_samples,)))
        elif shape is None:
            out_shape = reduced
        else:
            out_shape = tuple(_r.bits_shape(shape))
            mx.broadcast_shapes(out_shape, reduced)
        if logits.shape[ax] == 0:
            raise ValueError("[argmax] Cannot argmax reduce zero size array.")
        batch = 1
        for d in reduced:
            batch *= d
        if batch == 1 and len(out_shape) > 0:
            return _categorical_cdf(logits, ax, out_shape, key)
        if num_samples is not None:
            # the samples are a last axis of the noise; logits broadcast along it
            g = gumbel(logits.shape + (num_samples,), mx.float32, key)
            return mx.argmax(g + mx.expand_dims(logits, -1), axis=ax)
        offset = ax + len(out_shape) - nd + 1
        gshape = out_shape[:offset] + (logits.shape[ax],) + out_shape[offset:]
        g = gumbel(gshape, mx.float32, key)
        return mx.argmax(g + logits, axis=offset)


def permutation(x, axis=0, key=None, stream=None):
    """A random permutation of range(x), or of x's entries along axis."""
    with _stream_scope(stream, "permutation"):
        if isinstance(x, int) and not isinstance(x, bool):
            return mx.argsort(_bits(_r.bits_shape((x,)), key))
        if not isinstance(x, mx.array):
            raise TypeError(f"[permutation] Expected an int or an array, got {type(x).__name__}.")
        if x.ndim == 0:
            raise IndexError("[permutation] Cannot permute a 0-dimensional array.")
        if not -x.ndim <= axis < x.ndim:
            raise IndexError(f"[permutation] Axis {axis} is out of bounds for array with "
                             f"{x.ndim} dimensions.")
        idx = mx.argsort(_bits((x.shape[axis],), key))
        return mx.take(x, idx, axis)


def multivariate_normal(mean, cov, shape=[], dtype=mx.float32, key=None, stream=None):
    """Samples of N(mean, cov) as MLX draws them: mean + z @ sqrt(cov), where z is
    normal(shape + (n,)) from the same key and sqrt(cov) = U diag(sqrt(S)) Vt from the
    SVD of cov (float32, so the numbers agree with MLX's to rounding)."""
    op = "multivariate_normal"
    with _stream_scope(stream, op):
        if dtype != mx.float32:
            raise ValueError(f"[{op}] dtype must be float32.")
        mean, cov = mx.asarray(mean), mx.asarray(cov)
        if mean.ndim < 1:
            raise ValueError(f"[{op}] mean must have at least one dimension.")
        if cov.ndim < 2:
            raise ValueError(f"[{op}] cov must have at least two dimensions.")
        n = mean.shape[-1]
        if cov.shape[-1] != cov.shape[-2]:
            raise ValueError(f"[{op}] last two dimensions of cov must be equal.")
        if cov.shape[-1] != n:
            raise ValueError(f"[{op}] mean and cov must have compatible shapes.")
        if not shape:
            batch = mx.broadcast_shapes(mean.shape[:-1], cov.shape[:-2])
        else:
            batch = tuple(_r.bits_shape(shape))
            mx.broadcast_shapes(batch, mean.shape[:-1], cov.shape[:-2])   # MLX's error
        u, sv, vt = mx.linalg.svd(mx.astype(cov, mx.float32))
        std = mx.matmul(u * mx.expand_dims(mx.sqrt(sv), -2), vt)
        z = normal(tuple(batch) + (n,), mx.float32, key=key)
        return mx.astype(mean, mx.float32) + mx.squeeze(
            mx.matmul(mx.expand_dims(z, -2), std), -2)
