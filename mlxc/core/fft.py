"""mx.fft: MLX 0.32.4's discrete Fourier transforms on mlxc's own FFT kernels.

The transforms are FFT primitives (mlxc/_core/prims/fft.pyx over kernels/fft.c), with
vjp, jvp and vmap.  Dtypes: complex64 and float32 are transformed in single precision;
float64 input is transformed in double precision and the result rounded once to
complex64 (float32 for irfft), since mlxc, like MLX, has no complex128; other real
dtypes (integers, bool, float16, bfloat16) are cast to float32 first.  fftshift,
ifftshift, fftfreq, rfftfreq, stft and istft are built from mlxc ops.
"""
import mlxc.core as mx
from mlxc._core.ops.common import stream_scope as _stream_scope
from mlxc._core.ops.fft import (fft, fft2, fftn, ifft, ifft2, ifftn, irfft, irfft2,  # noqa: F401
                                irfftn, rfft, rfft2, rfftn)

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
           "irfft2", "rfftn", "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq",
           "stft", "istft"]


def _shift(a, axes, op, sign, stream):
    if not isinstance(a, mx.array):
        raise TypeError(f"{op}(): a must be an array, got {type(a).__name__}.")
    if axes is None:
        axes = list(range(a.ndim))
    elif isinstance(axes, int):
        axes = [axes]
    axes = list(axes)
    if not axes:
        return a
    for ax in axes:
        if ax < -a.ndim or ax >= a.ndim:
            raise IndexError(f"[{op}] Invalid axis {ax} for array with {a.ndim} dimensions.")
    shifts = [sign * (a.shape[ax] // 2) for ax in axes]
    return mx.roll(a, tuple(shifts), tuple(axes), stream=stream)


def fftshift(a, axes=None, stream=None):
    """fftshift(a: array, axes: int | Sequence[int] | None = None, stream: Stream | Device | None = None) -> array.

    Moves the zero-frequency term to the centre (a roll by n // 2 along each axis)."""
    return _shift(a, axes, "fftshift", 1, stream)


def ifftshift(a, axes=None, stream=None):
    """ifftshift(a: array, axes: int | Sequence[int] | None = None, stream: Stream | Device | None = None) -> array.

    The inverse of fftshift (a roll by -(n // 2) along each axis)."""
    return _shift(a, axes, "ifftshift", -1, stream)


def _freq_n(n, op):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{op}(): n must be an int, got {type(n).__name__}.")
    if n <= 0:
        raise ValueError(f"[{op}] `n` must be greater than 0.")


def fftfreq(n, d=1.0, stream=None):
    """fftfreq(n: int, d: float = 1.0, stream: Stream | Device | None = None) -> array.

    The sample frequencies of an n-point FFT with sample spacing d (float32)."""
    with _stream_scope(stream, "fftfreq"):
        _freq_n(n, "fftfreq")
        k = mx.arange(n, dtype=mx.int32)
        k = mx.where(k < (n + 1) // 2, k, k - n)
        return k.astype(mx.float32) / (n * d)


def rfftfreq(n, d=1.0, stream=None):
    """rfftfreq(n: int, d: float = 1.0, stream: Stream | Device | None = None) -> array.

    The sample frequencies of rfft's n // 2 + 1 outputs (float32)."""
    with _stream_scope(stream, "rfftfreq"):
        _freq_n(n, "rfftfreq")
        return mx.arange(n // 2 + 1, dtype=mx.float32) / (n * d)


def _window(window, win_length, n_fft, op):
    """The window as float32 of length n_fft: rectangular by default, centred and
    zero-padded when shorter."""
    if window is None:
        window = mx.ones((win_length,), mx.float32)
    elif not isinstance(window, mx.array):
        window = mx.array(window)
    if window.ndim != 1 or window.shape[0] != win_length:
        raise ValueError(f"[{op}] The window must be one-dimensional of length win_length "
                         f"({win_length}), got shape {window.shape}.")
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = mx.pad(window, [(left, n_fft - win_length - left)])
    return window


def _positive(v, name, op):
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{op}(): {name} must be an int, got {type(v).__name__}.")
    if v <= 0:
        raise ValueError(f"[{op}] {name} must be positive, got {v}.")
    return v


def stft(x, n_fft=2048, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", norm="backward", onesided=None, stream=None):
    """stft(x: array, n_fft: int = 2048, hop_length: int | None = None, win_length: int | None = None, window: array | None = None, center: bool = True, pad_mode: str = 'reflect', norm: str = 'backward', onesided: bool | None = None, stream: Stream | Device | None = None) -> array.

    Short-time Fourier transform of the last axis: frames of n_fft samples every
    hop_length (default n_fft // 4), times the window (rectangular by default, centred and
    zero-padded to n_fft), transformed; the result is (..., n_freq, n_frames).  center pads
    n_fft // 2 samples at both ends with pad_mode ('reflect', 'constant' or 'edge');
    onesided (default: for real input) keeps the n_fft // 2 + 1 non-negative
    frequencies."""
    with _stream_scope(stream, "stft"):
        if not isinstance(x, mx.array):
            raise TypeError(f"stft(): x must be an array, got {type(x).__name__}.")
        n_fft = _positive(n_fft, "n_fft", "stft")
        hop = _positive(n_fft // 4 if hop_length is None else hop_length, "hop_length", "stft")
        win_length = _positive(n_fft if win_length is None else win_length, "win_length", "stft")
        if win_length > n_fft:
            raise ValueError(f"[stft] win_length ({win_length}) must be at most n_fft ({n_fft}).")
        if pad_mode not in ("reflect", "constant", "edge"):
            raise ValueError(f"[stft] Invalid pad_mode '{pad_mode}'. Expected 'reflect', "
                             f"'constant' or 'edge'.")
        if x.ndim < 1:
            raise ValueError("[stft] The input must have at least one dimension.")
        w = _window(window, win_length, n_fft, "stft")
        is_complex = x.dtype == mx.complex64
        if onesided is None:
            onesided = not is_complex
        if onesided and is_complex:
            raise ValueError("[stft] onesided is not possible for complex input.")
        if center:
            p = n_fft // 2
            if pad_mode == "reflect" and x.shape[-1] <= p:
                raise ValueError(f"[stft] Reflect padding of {p} needs an input longer than the "
                                 f"padding, got {x.shape[-1]} samples.")
            widths = [(0, 0)] * (x.ndim - 1) + [(p, p)]
            x = mx.pad(x, widths, mode=pad_mode)
        length = x.shape[-1]
        if length < n_fft:
            raise ValueError(f"[stft] The (padded) input has {length} samples, fewer than n_fft "
                             f"({n_fft}).")
        n_frames = 1 + (length - n_fft) // hop
        idx = (mx.arange(n_frames, dtype=mx.int32)[:, None] * hop
               + mx.arange(n_fft, dtype=mx.int32)[None, :])
        frames = mx.take(x, idx, axis=-1) * w.astype(
            mx.float64 if x.dtype == mx.float64 else mx.float32)
        spec = (rfft if onesided else fft)(frames, norm=norm)
        return mx.swapaxes(spec, -1, -2)


def _overlap_add(frames, hop, out_len):
    """sum of frames (..., n_frames, n_fft) placed every hop samples, length out_len"""
    lead = frames.shape[:-2]
    n_frames, n_fft = frames.shape[-2], frames.shape[-1]
    flat = mx.reshape(frames, (-1, n_frames * n_fft))
    idx = mx.reshape(mx.arange(n_frames, dtype=mx.int32)[:, None] * hop
                     + mx.arange(n_fft, dtype=mx.int32)[None, :], (-1,))
    y = mx.zeros((flat.shape[0], out_len), frames.dtype).at[:, idx].add(flat)
    return mx.reshape(y, lead + (out_len,))


def istft(stft_matrix, n_fft=None, hop_length=None, win_length=None, window=None,
          center=True, norm="backward", onesided=None, length=None, stream=None):
    """istft(stft_matrix: array, n_fft: int | None = None, hop_length: int | None = None, win_length: int | None = None, window: array | None = None, center: bool = True, norm: str = 'backward', onesided: bool | None = None, length: int | None = None, stream: Stream | Device | None = None) -> array.

    Inverse of stft: the inverse transform of every frame times the window, overlap-added
    and divided by the overlap-added squared window (where it is not ~0); center drops
    n_fft // 2 samples at the start and, when length is not given, at the end; length trims
    or zero-pads the result."""
    with _stream_scope(stream, "istft"):
        if not isinstance(stft_matrix, mx.array):
            raise TypeError(f"istft(): stft_matrix must be an array, got "
                            f"{type(stft_matrix).__name__}.")
        s = stft_matrix
        if s.ndim < 2:
            raise ValueError(f"[istft] The STFT must have at least two dimensions (n_freq, "
                             f"n_frames), got {s.ndim}.")
        if onesided is None:
            onesided = True
        n_freq, n_frames = s.shape[-2], s.shape[-1]
        if n_fft is None:
            n_fft = 2 * (n_freq - 1) if onesided else n_freq
        n_fft = _positive(n_fft, "n_fft", "istft")
        hop = _positive(n_fft // 4 if hop_length is None else hop_length, "hop_length", "istft")
        win_length = _positive(n_fft if win_length is None else win_length, "win_length", "istft")
        if win_length > n_fft:
            raise ValueError(f"[istft] win_length ({win_length}) must be at most n_fft ({n_fft}).")
        w = _window(window, win_length, n_fft, "istft")
        spec = mx.swapaxes(s, -1, -2)
        if onesided:
            frames = irfft(spec, n=n_fft, norm=norm)
        else:
            frames = mx.real(ifft(spec, n=n_fft, norm=norm))
        frames = frames * w
        out_len = n_fft + hop * (n_frames - 1)
        y = _overlap_add(frames, hop, out_len)
        env = _overlap_add(mx.broadcast_to(w * w, (n_frames, n_fft)), hop, out_len)
        y = y / mx.where(env > 1e-11, env, 1.0)
        if center:   # drop the padding at the start; at the end only when no length is given
            p = n_fft // 2
            y = y[..., p:] if length is not None else y[..., p:max(out_len - p, p)]
        if length is not None:
            length = int(length)
            cur = y.shape[-1]
            if cur >= length:
                y = y[..., :length]
            else:
                y = mx.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, length - cur)])
        return y
