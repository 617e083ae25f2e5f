"""FFT op constructors: argument checks (MLX's messages), input dtypes, cropping /
zero-padding to the requested sizes, and the chain of 1-D FFT nodes (prims/fft.pyx)
that makes up a multi-axis transform.

Dtypes: complex64 and float32 are transformed in float; float64 input is transformed in
double precision and rounded once to the complex64 (or float32, irfft) result, since
mlxc, like MLX, has no complex128; other real dtypes are cast to float32 first.
"""
import math

from mlxc._core.array cimport array
from mlxc._core.dtype cimport dtype_of
from mlxc._core.kernels cimport MLXC_COMPLEX64, MLXC_FLOAT32, MLXC_FLOAT64
from mlxc._core.ops.common cimport on_stream
from mlxc._core.ops.elementwise cimport astype_op
from mlxc._core.ops.shape cimport slice_op
from mlxc._core.prims.fft import C2C, C2C_INV, C2R, R2C, fft_node

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
           "irfft2", "rfftn", "irfftn"]

_FWD, _INV, _RFWD, _RINV = 0, 1, 2, 3
_BASE = {_FWD: "fft", _INV: "ifft", _RFWD: "rfft", _RINV: "irfft"}


cdef double _scale(str norm, long long n, bint inverse):
    if norm == "ortho":
        return 1.0 / math.sqrt(n)
    if (norm == "backward") == inverse:
        return 1.0 / n
    return 1.0


cdef array _resize(array x, int ax, long long m):
    """x cropped or zero-padded (at the end) to length m along ax."""
    import mlxc.core as mx
    cdef long long cur = x._shape[ax]
    if cur == m:
        return x
    if cur > m:
        return slice_op(x, (0,) * x.ndim, x._shape[:ax] + (m,) + x._shape[ax + 1:],
                        (1,) * x.ndim)
    pad = mx.zeros(x._shape[:ax] + (m - cur,) + x._shape[ax + 1:], dtype_of(x.dtype))
    return mx.concatenate([x, pad], axis=ax)


cdef array _input(array x, int mode):
    """x in a dtype the kernel takes for this transform."""
    cdef int dt = x.dtype
    if mode == _RFWD:
        return x if dt == MLXC_FLOAT32 or dt == MLXC_FLOAT64 else astype_op(x, MLXC_FLOAT32)
    if dt == MLXC_FLOAT32 or dt == MLXC_FLOAT64 or dt == MLXC_COMPLEX64:
        return x
    return astype_op(x, MLXC_FLOAT32)


cdef int _int_arg(object v, str op, str name) except? -1:
    if isinstance(v, bool) or not hasattr(v, "__index__"):
        raise TypeError(f"{op}(): {name} must be an int, got {type(v).__name__}.")
    return v.__index__()


def transform(a, s, axes, norm, int mode, str op, stream):
    """The n-dimensional transform of kind mode (fft, ifft, rfft, irfft) over axes."""
    if not isinstance(a, array):
        raise TypeError(f"{op}(): a must be an array, got {type(a).__name__}.")
    if not isinstance(norm, str) or norm not in ("backward", "ortho", "forward"):
        raise ValueError(f"[{op}] Invalid norm. Expected one of {{'backward', 'ortho', "
                         f"'forward'}}.")
    scope = on_stream(stream, op)
    cdef array x = <array>a
    cdef int nd = x.ndim
    base = _BASE[mode]
    if axes is None:
        if s is not None:
            raise ValueError(f"[{base}n] `axes` should not be `None` if `s` is not `None`.")
        axes = list(range(nd))
    elif isinstance(axes, int):
        raise TypeError(f"{op}(): axes must be a sequence of ints, got int.")
    axes = [_int_arg(ax, op, "axes") for ax in axes]
    if len(axes) == 0:
        return x
    norm_axes = []
    for ax in axes:
        if ax < -nd or ax >= nd:
            raise IndexError(f"[{op}] Invalid axis {ax} for array with {nd} dimensions.")
        norm_axes.append(ax % nd)
    if len(set(norm_axes)) != len(norm_axes):
        raise ValueError(f"[fftn] Duplicated axis received ({','.join(map(str, axes))})")
    if s is None:
        sizes = [x._shape[ax] for ax in norm_axes]
        if mode == _RINV:
            sizes[-1] = 2 * (sizes[-1] - 1)
    else:
        if isinstance(s, int):
            raise TypeError(f"{op}(): s must be a sequence of ints, got int.")
        sizes = [_int_arg(v, op, "s") for v in s]
        if len(sizes) != len(norm_axes):
            raise ValueError("[fftn] Shape and axes have different sizes.")
    for v in sizes:
        if v <= 0:
            raise ValueError(f"[fftn] Invalid FFT output size requested ({v})")
    x = _input(x, mode)
    cdef int last = len(norm_axes) - 1
    cdef int i
    if mode == _FWD or mode == _INV:
        for i in range(last, -1, -1):
            n = sizes[i]
            x = fft_node(_resize(x, norm_axes[i], n), norm_axes[i],
                         C2C if mode == _FWD else C2C_INV, n, _scale(norm, n, mode == _INV))
    elif mode == _RFWD:
        n = sizes[last]
        x = fft_node(_resize(x, norm_axes[last], n), norm_axes[last], R2C, n,
                     _scale(norm, n, False))
        for i in range(last - 1, -1, -1):
            n = sizes[i]
            x = fft_node(_resize(x, norm_axes[i], n), norm_axes[i], C2C, n,
                         _scale(norm, n, False))
    else:
        for i in range(last - 1, -1, -1):
            n = sizes[i]
            x = fft_node(_resize(x, norm_axes[i], n), norm_axes[i], C2C_INV, n,
                         _scale(norm, n, True))
        n = sizes[last]
        x = fft_node(_resize(x, norm_axes[last], n // 2 + 1), norm_axes[last], C2R, n,
                     _scale(norm, n, True))
    return x


def _one(a, n, axis, norm, int mode, str op, stream):
    axis = _int_arg(axis, op, "axis")
    if n is not None:
        n = _int_arg(n, op, "n")
    return transform(a, None if n is None else [n], [axis], norm, mode, op, stream)


def fft(a, n=None, axis=-1, norm="backward", stream=None):
    """fft(a: array, n: int | None = None, axis: int = -1, norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    One-dimensional discrete Fourier transform (complex64 result; float64 input is
    transformed in double precision, rounded to complex64)."""
    return _one(a, n, axis, norm, _FWD, "fft", stream)


def ifft(a, n=None, axis=-1, norm="backward", stream=None):
    """ifft(a: array, n: int | None = None, axis: int = -1, norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    One-dimensional inverse discrete Fourier transform (complex64 result)."""
    return _one(a, n, axis, norm, _INV, "ifft", stream)


def rfft(a, n=None, axis=-1, norm="backward", stream=None):
    """rfft(a: array, n: int | None = None, axis: int = -1, norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    One-dimensional FFT of real input: the n // 2 + 1 non-negative frequencies (complex64;
    complex input is cast to float32 first, float64 is transformed in double)."""
    return _one(a, n, axis, norm, _RFWD, "rfft", stream)


def irfft(a, n=None, axis=-1, norm="backward", stream=None):
    """irfft(a: array, n: int | None = None, axis: int = -1, norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    Inverse of rfft: n real outputs (float32) from the n // 2 + 1 non-negative
    frequencies; n defaults to 2 * (a.shape[axis] - 1)."""
    return _one(a, n, axis, norm, _RINV, "irfft", stream)


def fft2(a, s=None, axes=[-2, -1], norm="backward", stream=None):
    """fft2(a: array, s: tuple[int, ...] | None = None, axes: Sequence[int] | None = [-2, -1], norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    Two-dimensional discrete Fourier transform."""
    return transform(a, s, axes, norm, _FWD, "fft2", stream)


def ifft2(a, s=None, axes=[-2, -1], norm="backward", stream=None):
    """ifft2(a: array, s: tuple[int, ...] | None = None, axes: Sequence[int] | None = [-2, -1], norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    Two-dimensional inverse discrete Fourier transform."""
    return transform(a, s, axes, norm, _INV, "ifft2", stream)


def fftn(a, s=None, axes=None, norm="backward", stream=None):
    """fftn(a: array, s: tuple[int, ...] | None = None, axes: Sequence[int] | None = None, norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    n-dimensional discrete Fourier transform (all axes by default)."""
    return transform(a, s, axes, norm, _FWD, "fftn", stream)


def ifftn(a, s=None, axes=None, norm="backward", stream=None):
    """ifftn(a: array, s: tuple[int, ...] | None = None, axes: Sequence[int] | None = None, norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    n-dimensional inverse discrete Fourier transform."""
    return transform(a, s, axes, norm, _INV, "ifftn", stream)


def rfft2(a, s=None, axes=[-2, -1], norm="backward", stream=None):
    """rfft2(a: array, s: tuple[int, ...] | None = None, axes: Sequence[int] | None = [-2, -1], norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    Two-dimensional FFT of real input (the last axis keeps s[-1] // 2 + 1 values)."""
    return transform(a, s, axes, norm, _RFWD, "rfft2", stream)


def irfft2(a, s=None, axes=[-2, -1], norm="backward", stream=None):
    """irfft2(a: array, s: tuple[int, ...] | None = None, axes: Sequence[int] | None = [-2, -1], norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    Inverse of rfft2 (float32 result)."""
    return transform(a, s, axes, norm, _RINV, "irfft2", stream)


def rfftn(a, s=None, axes=None, norm="backward", stream=None):
    """rfftn(a: array, s: tuple[int, ...] | None = None, axes: Sequence[int] | None = None, norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    n-dimensional FFT of real input (the last axis keeps s[-1] // 2 + 1 values)."""
    return transform(a, s, axes, norm, _RFWD, "rfftn", stream)


def irfftn(a, s=None, axes=None, norm="backward", stream=None):
    """irfftn(a: array, s: tuple[int, ...] | None = None, axes: Sequence[int] | None = None, norm: str = 'backward', stream: Stream | Device | None = None) -> array.

    Inverse of rfftn (float32 result); the last size defaults to 2 * (a.shape[-1] - 1)."""
    return transform(a, s, axes, norm, _RINV, "irfftn", stream)
