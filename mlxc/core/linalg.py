"""mx.linalg: MLX 0.32.4's linear algebra on the scipy-openblas32 LAPACK.

Decompositions and solves are Lapack primitives (mlxc/_core/prims/lapack.pyx); the rest
is composed of mlxc ops on them, so every function has vjp, jvp and vmap.  float32 and
float64, batched over leading axes.  Non-finite input gives NaN results; a singular or
non-positive-definite matrix where a result cannot exist (solve, inv, cholesky)
raises RuntimeError when the graph is evaluated.

Gradients through eigenvectors (eigh) and singular vectors (svd) assume distinct
eigenvalues / singular values: the rules divide by their differences.  Gradients of the
full U / Vt of a non-square svd are not defined (their extra columns are arbitrary).
"""
import math

import mlxc.core as mx
from mlxc._core.ops.common import stream_scope as _stream_scope
from mlxc._core.ops.lapack import lapack as _lapack, matrix as _matrix
from mlxc._core.prims import lapack as _op      # op codes of the Lapack primitive

__all__ = ["norm", "cross", "cholesky", "cholesky_inv", "inv", "tri_inv", "solve",
           "solve_triangular", "qr", "svd", "eigh", "eigvalsh", "eig", "eigvals", "det",
           "slogdet", "lu", "lu_factor", "pinv"]


def _mT(x):
    return mx.swapaxes(x, -1, -2)


def _rhs(a, b, op):
    """(a, b) in their common float dtype, b as (*batch, n, k); a 1-d b is one vector
    (returned flag True), also for a batched a."""
    b = b if isinstance(b, mx.array) else mx.array(b)
    dt = mx.promote_types(a.dtype, b.dtype)
    if dt not in (mx.float32, mx.float64):
        raise ValueError(f"[linalg::{op}] Arrays must have type float32 or float64. "
                         f"Received arrays with types {a.dtype} and {b.dtype}.")
    a, b = a.astype(dt), b.astype(dt)
    vec = b.ndim == 1
    if vec:
        b = mx.expand_dims(b, -1)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"[linalg::{op}] Last dimension of first input with shape "
                         f"{tuple(a.shape)} must match second to last dimension of second "
                         f"input with shape {tuple(b.shape[:-1] if vec else b.shape)}.")
    return a, b, vec


def solve(a, b, *, stream=None):
    """solve(a: array, b: array, *, stream=None) -> array.  x with a @ x = b."""
    with _stream_scope(stream, "linalg::solve"):
        a = _matrix(a, "solve")
        a, b, vec = _rhs(a, b, "solve")
        x = _lapack(_op.SOLVE, 0, a, b)[0]
        return mx.squeeze(x, -1) if vec else x


def solve_triangular(a, b, *, upper=False, stream=None):
    """solve_triangular(a: array, b: array, *, upper: bool = False, stream=None) -> array.
    Only the lower (upper) triangle of a is read."""
    with _stream_scope(stream, "linalg::solve_triangular"):
        a = _matrix(a, "solve_triangular")
        a, b, vec = _rhs(a, b, "solve_triangular")
        x = _lapack(_op.SOLVE_TRI, int(bool(upper)), a, b)[0]
        return mx.squeeze(x, -1) if vec else x


def inv(a, *, stream=None):
    """inv(a: array, *, stream=None) -> array.  LU, then LAPACK's getri."""
    with _stream_scope(stream, "linalg::inv"):
        a = _matrix(a, "inv")
        return _lapack(_op.INV, 0, a)[0]


def cholesky(a, upper=False, *, stream=None):
    """cholesky(a: array, upper: bool = False, *, stream=None) -> array.
    L with a = L L^T (upper: U with a = U^T U); only that triangle of a is read."""
    with _stream_scope(stream, "linalg::cholesky"):
        if isinstance(a, mx.array) and a.ndim >= 2 and a.shape[-1] != a.shape[-2]:
            raise ValueError("[linalg::cholesky] Cholesky decomposition is only defined for "
                             "square matrices.")
        a = _matrix(a, "cholesky")
        return _lapack(_op.CHOLESKY, int(bool(upper)), a)[0]


def tri_inv(a, upper=False, *, stream=None):
    """tri_inv(a: array, upper: bool = False, *, stream=None) -> array."""
    with _stream_scope(stream, "linalg::tri_inv"):
        a = _matrix(a, "tri_inv")
        return _lapack(_op.TRI_INV, int(bool(upper)), a)[0]


def cholesky_inv(a, upper=False, *, stream=None):
    """cholesky_inv(a: array, upper: bool = False, *, stream=None) -> array.
    inv(A) from A's Cholesky factor a: L^-T L^-1 (upper: U^-1 U^-T)."""
    with _stream_scope(stream, "linalg::cholesky_inv"):
        a = _matrix(a, "cholesky_inv")
        t = tri_inv(a, upper=upper)
        return t @ _mT(t) if upper else _mT(t) @ t


def lu_factor(a, *, stream=None):
    """lu_factor(a: array, *, stream=None) -> tuple[array, array].
    (LU packed, pivots): row i was swapped with row pivots[i] (0-based), as LAPACK."""
    with _stream_scope(stream, "linalg::lu_factor"):
        a = _matrix(a, "lu_factor", square=False)
        lu_, piv = _lapack(_op.LU, 0, a)
        return lu_, piv


def lu(a, *, stream=None):
    """lu(a: array, *, stream=None) -> tuple[array, array, array].
    (P, L, U) with a = (L @ U)[..., P, :]."""
    with _stream_scope(stream, "linalg::lu"):
        a = _matrix(a, "lu", square=False)
        lu_, _, perm = _lapack(_op.LU, 1, a)
        m, n = a.shape[-2], a.shape[-1]
        p = min(m, n)
        L = mx.tril(lu_[..., :, :p], -1) + mx.eye(m, p, dtype=a.dtype)
        U = mx.triu(lu_[..., :p, :])
        return perm, L, U


def qr(a, *, stream=None):
    """qr(a: array, *, stream=None) -> tuple[array, array].  Reduced QR: Q (m, k), R (k, n)."""
    with _stream_scope(stream, "linalg::qr"):
        a = _matrix(a, "qr", square=False)
        q, r = _lapack(_op.QR, 0, a)
        return q, r


def svd(a, compute_uv=True, *, stream=None):
    """svd(a: array, compute_uv: bool = True, *, stream=None) -> tuple[array, array, array].
    Full U (m, m), S (k,) descending, Vt (n, n); with compute_uv=False only S.
    Gradients through U and Vt assume distinct singular values."""
    with _stream_scope(stream, "linalg::svd"):
        a = _matrix(a, "svd", square=False)
        if not compute_uv:
            return _lapack(_op.SVD, 0, a)[0]
        return tuple(_lapack(_op.SVD, 1, a))


def _uplo(UPLO, op):
    if UPLO not in ("L", "U"):
        raise ValueError(f"[linalg::{op}] UPLO must be 'L' or 'U', got {UPLO!r}.")
    return 1 if UPLO == "U" else 0


def eigh(a, UPLO="L", *, stream=None):
    """eigh(a: array, UPLO: str = 'L', *, stream=None) -> tuple[array, array].
    Eigenvalues ascending and eigenvectors (columns) of a symmetric matrix, read from its
    UPLO triangle.  Gradients through the eigenvectors assume distinct eigenvalues."""
    with _stream_scope(stream, "linalg::eigh"):
        a = _matrix(a, "eigh")
        w, v = _lapack(_op.EIGH, _uplo(UPLO, "eigh") | 2, a)
        return w, v


def eigvalsh(a, UPLO="L", *, stream=None):
    """eigvalsh(a: array, UPLO: str = 'L', *, stream=None) -> array."""
    with _stream_scope(stream, "linalg::eigvalsh"):
        a = _matrix(a, "eigvalsh")
        return _lapack(_op.EIGH, _uplo(UPLO, "eigvalsh"), a)[0]


def eig(a, *, stream=None):
    """eig(a: array, *, stream=None) -> tuple[array, array].  complex64 eigenvalues and
    unit-norm eigenvectors (columns), as MLX (for float64 input too)."""
    with _stream_scope(stream, "linalg::eig"):
        a = _matrix(a, "eig")
        w, v = _lapack(_op.EIG, 1, a)
        return w, v


def eigvals(a, *, stream=None):
    """eigvals(a: array, *, stream=None) -> array.  complex64 eigenvalues."""
    with _stream_scope(stream, "linalg::eigvals"):
        a = _matrix(a, "eigvals")
        return _lapack(_op.EIG, 0, a)[0]


def slogdet(a, *, stream=None):
    """slogdet(a: array, *, stream=None) -> tuple[array, array].  (sign, log|det|);
    a singular matrix gives (0, -inf)."""
    with _stream_scope(stream, "linalg::slogdet"):
        a = _matrix(a, "slogdet")
        sign, logabs = _lapack(_op.SLOGDET, 0, a)
        return sign, logabs


def det(a, *, stream=None):
    """det(a: array, *, stream=None) -> array.  sign * exp(log|det|) from one LU."""
    with _stream_scope(stream, "linalg::det"):
        a = _matrix(a, "det")
        sign, logabs = _lapack(_op.SLOGDET, 0, a)
        return sign * mx.exp(logabs)


def pinv(a, *, stream=None):
    """pinv(a: array, *, stream=None) -> array.  From the reduced SVD; singular values
    at or below max(m, n) * eps * s_max count as zero (NumPy's and MLX's cut-off)."""
    with _stream_scope(stream, "linalg::pinv"):
        a = _matrix(a, "pinv", square=False)
        m, n = a.shape[-2], a.shape[-1]
        if min(m, n) == 0:
            return mx.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
        u, s, vt = _lapack(_op.SVD, 2, a)
        eps = 2.220446049250313e-16 if a.dtype == mx.float64 else 1.1920929e-07
        cut = mx.max(s, axis=-1, keepdims=True) * (max(m, n) * eps)
        keep = s > cut
        sinv = mx.where(keep, 1 / mx.where(keep, s, 1), 0)
        return _mT(vt) @ (mx.expand_dims(sinv, -1) * _mT(u))


def cross(a, b, axis=-1, *, stream=None):
    """cross(a: array, b: array, axis: int = -1, *, stream=None) -> array.
    Vectors of size 2 are padded with a zero third component, as MLX."""
    with _stream_scope(stream, "linalg::cross"):
        a = a if isinstance(a, mx.array) else mx.array(a)
        b = b if isinstance(b, mx.array) else mx.array(b)
        for x in (a, b):
            if not -x.ndim <= axis < x.ndim:
                raise ValueError(f"[linalg::cross] axis {axis} is out of bounds for an array "
                                 f"with {x.ndim} dimensions.")
        da, db = a.shape[axis], b.shape[axis]
        if da not in (2, 3) or db not in (2, 3):
            raise ValueError("[linalg::cross] The specified axis must have size 2 or 3.")
        a = mx.moveaxis(a, axis, -1)
        b = mx.moveaxis(b, axis, -1)

        def parts(x):
            c = [x[..., i] for i in range(x.shape[-1])]
            return c if len(c) == 3 else c + [mx.zeros_like(c[0])]

        a0, a1, a2 = parts(a)
        b0, b1, b2 = parts(b)
        out = mx.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
        return mx.moveaxis(out, -1, axis)



def _vector_norm(x, ord, axis, keepdims):
    ax = x if ord in (0, 0.0) else mx.abs(x)
    if ord is None or ord == 2:
        return mx.sqrt(mx.sum(x * x, axis=axis, keepdims=keepdims))
    if ord == math.inf:
        return mx.max(ax, axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return mx.min(ax, axis=axis, keepdims=keepdims)
    if ord == 0:
        return mx.sum(x != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
    if ord == 1:
        return mx.sum(ax, axis=axis, keepdims=keepdims)
    return mx.power(mx.sum(mx.power(ax, ord), axis=axis, keepdims=keepdims), 1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):
    r, c = axes
    if ord is None or ord == "fro":
        return mx.sqrt(mx.sum(x * x, axis=axes, keepdims=keepdims))
    if ord in ("nuc", 2, -2):
        perm = [i for i in range(x.ndim) if i not in axes] + [r, c]
        s = svd(mx.transpose(x, perm), compute_uv=False)
        out = (mx.sum(s, axis=-1) if ord == "nuc" else
               mx.max(s, axis=-1) if ord == 2 else mx.min(s, axis=-1))
        if keepdims:
            out = mx.expand_dims(out, sorted(axes))
        return out
    if ord in (1, -1, math.inf, -math.inf):
        inner, outer = (r, c) if ord in (1, -1) else (c, r)   # 1: max column sum
        sums = mx.sum(mx.abs(x), axis=inner, keepdims=True)
        red = mx.max if ord > 0 else mx.min
        out = red(sums, axis=outer, keepdims=True)
        return out if keepdims else mx.squeeze(out, axis=tuple(sorted(axes)))
    if isinstance(ord, str):
        raise ValueError(f"[linalg::norm] Invalid ord value '{ord}' for matrix norm.")
    raise ValueError(f"[linalg::norm] Invalid ord {ord} for matrix norm.")


def norm(a, /, ord=None, axis=None, keepdims=False, *, stream=None):
    """norm(a: array, /, ord: None | int | float | str = None, axis: None | int | list[int] = None, keepdims: bool = False, *, stream=None) -> array.
    Vector norms over one axis, matrix norms ('fro', 'nuc', +-1, +-2, +-inf) over two;
    ord=None with axis=None is the 2-norm of every entry.  Integer input gives float32."""
    with _stream_scope(stream, "linalg::norm"):
        x = a if isinstance(a, mx.array) else mx.array(a)
        if mx.issubdtype(x.dtype, mx.complexfloating):
            x = mx.abs(x)                   # every norm depends on the moduli only
        elif not mx.issubdtype(x.dtype, mx.inexact):
            x = x.astype(mx.float32)
        if axis is None:
            if ord is None:
                return mx.sqrt(mx.sum(x * x, axis=None, keepdims=keepdims))
            axes = tuple(range(x.ndim))
        else:
            axes = (axis,) if isinstance(axis, int) else tuple(axis)
            axes = tuple(ax % x.ndim if -x.ndim <= ax < x.ndim else ax for ax in axes)
            for ax in axes:
                if not 0 <= ax < x.ndim:
                    raise ValueError(f"[linalg::norm] Invalid axis {ax} for array with "
                                     f"{x.ndim} dimensions.")
            if len(set(axes)) != len(axes):
                raise ValueError(f"[linalg::norm] Received duplicate axes {axes}.")
        if isinstance(ord, str) and len(axes) != 2:
            raise ValueError(f"[linalg::norm] Norm '{ord}' only supported for matrices, but "
                             f"received {len(axes)} axis/axes.")
        if len(axes) == 1:
            return _vector_norm(x, ord, axes[0], keepdims)
        if len(axes) == 2:
            return _matrix_norm(x, ord, axes, keepdims)
        raise ValueError("[linalg::norm] Received too many axes for norm.")
