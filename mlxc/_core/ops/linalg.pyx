"""Linear algebra op constructors: matmul, addmm, inner, outer, tensordot."""
from cpython.long cimport PyLong_Check

from mlxc._core.array cimport array, as_array, new_node
from mlxc._core.dtype cimport dtype_of, is_float, promote
from mlxc._core.kernels cimport MLXC_MUL
from mlxc._core.ops.common cimport broadcast_shapes2, on_stream
from mlxc._core.ops.elementwise cimport astype_op, binary_op
from mlxc._core.ops.shape cimport broadcast_to_op, reshape_op, transpose_op
from mlxc._core.prims.linalg cimport addmm_prim, matmul_prim

from mlxc._core.array import _py_hooks

__all__ = ["matmul", "addmm", "inner", "outer", "tensordot"]


def _fmt(tuple shape):
    return "(" + ",".join([str(d) for d in shape]) + ")"


cdef int _matmul_dtype(array a, array b, int dt, str op) except -1:
    """The promoted dtype dt must be inexact: the GEMM has no integer kernels (as MLX)."""
    if not is_float(dt):
        raise ValueError(f"[{op}] Only inexact types are supported but {dtype_of(a.dtype).name} "
                         f"and {dtype_of(b.dtype).name} were provided which results in "
                         f"{dtype_of(dt).name}, which is not a floating point type.")
    return dt


cdef tuple _mm_operands(array a, array b, int dt, str op):
    """a and b as the (*batch, M, K) and (*batch, K, N) node inputs in dtype dt, with
    numpy's rules: 1-d operands gain a dim (dropped from the result), batch dims
    broadcast.  Returns (a, b, node shape, result shape, vec_a, vec_b).  dt is already
    checked."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"[{op}] Got 0 dimension input. Inputs must have at least one "
                         f"dimension.")
    cdef bint vec_a = a.ndim == 1, vec_b = b.ndim == 1
    if vec_a:
        a = reshape_op(a, (1, a._shape[0]))
    if vec_b:
        b = reshape_op(b, (b._shape[0], 1))
    if a._shape[-1] != b._shape[-2]:
        raise ValueError(f"[{op}] Last dimension of first input with shape {_fmt(a._shape)} "
                         f"must match second to last dimension of second input with shape "
                         f"{_fmt(b._shape)}.")
    batch = broadcast_shapes2(a._shape[:-2], b._shape[:-2], op)
    M, K, N = a._shape[-2], a._shape[-1], b._shape[-1]
    # Broadcast batch dims are stride-0 views: the primitive never copies them.
    a = broadcast_to_op(astype_op(a, dt), batch + (M, K))
    b = broadcast_to_op(astype_op(b, dt), batch + (K, N))
    shape = batch + ((M,) if not vec_a else ()) + ((N,) if not vec_b else ())
    return a, b, batch + (M, N), shape, vec_a, vec_b


cdef array matmul_op(array a, array b, int dt, str op):
    """a @ b in dtype dt (see _mm_operands)."""
    a, b, node_shape, shape, _, _ = _mm_operands(a, b, dt, op)
    cdef array out = new_node(dt, node_shape, matmul_prim(), (a, b))
    return out if shape == node_shape else reshape_op(out, shape)


cdef array addmm_op(array c, array a, array b, int dt, double alpha, double beta):
    """alpha * (a @ b) + beta * c as one AddMM node: c (which must broadcast to the
    result) is read by the GEMM's write-back through stride-0 broadcast strides."""
    a, b, node_shape, shape, vec_a, vec_b = _mm_operands(a, b, dt, "addmm")
    if broadcast_shapes2(c._shape, shape, "addmm") != shape:
        raise ValueError(f"[addmm] input c must broadcast to the output shape, got c with "
                         f"shape {_fmt(c._shape)} and output shape {_fmt(shape)}.")
    c = astype_op(c, dt)
    cs = c._shape
    if len(cs) > 0 and (vec_a or vec_b):
        # A 1-d a dropped the M dim, a 1-d b the N dim: give c that unit dim back so it
        # lines up with the node's (*batch, M, N) from the right.
        if vec_a and vec_b:
            cs = cs + (1, 1)
        elif vec_a:
            cs = cs[:-1] + (1,) + cs[-1:]
        else:
            cs = cs + (1,)
        c = reshape_op(c, cs)
    c = broadcast_to_op(c, node_shape)
    cdef array out = new_node(dt, node_shape, addmm_prim(alpha, beta), (a, b, c))
    return out if shape == node_shape else reshape_op(out, shape)


def matmul(a, b, /, *, stream=None):
    """matmul(a: array, b: array, /, *, stream=None) -> array."""
    scope = on_stream(stream, "matmul")
    cdef array x = as_array(a), y = as_array(b)
    return matmul_op(x, y, _matmul_dtype(x, y, promote(x.dtype, y.dtype), "matmul"), "matmul")


def addmm(c, a, b, /, alpha=1.0, beta=1.0, *, stream=None):
    """addmm(c: array, a: array, b: array, /, alpha: float = 1.0, beta: float = 1.0, *, stream=None) -> array."""
    scope = on_stream(stream, "addmm")
    cdef array z = as_array(c), x = as_array(a), y = as_array(b)
    alpha = float(alpha)
    beta = float(beta)
    cdef int dt = promote(promote(x.dtype, y.dtype), z.dtype)
    if not is_float(dt):
        raise ValueError(f"[addmm] Only real floating point types are supported but "
                         f"{dtype_of(z.dtype).name}, {dtype_of(x.dtype).name} and "
                         f"{dtype_of(y.dtype).name} were provided which results in "
                         f"{dtype_of(dt).name}, which is not a real floating point type.")
    # beta == 0 ignores c (BLAS): the kernel never reads it, so its NaN/inf do not leak.
    return addmm_op(z, x, y, dt, alpha, beta)


cdef list _axes_of(object axes, int ndim, str which):
    """One side of tensordot's axes: normalized (negative counts from the end)."""
    out = []
    for ax in axes:
        if not PyLong_Check(ax) or isinstance(ax, bool):
            raise TypeError(f"[tensordot] Axes must be integers, got {ax!r}.")
        if ax < -ndim or ax >= ndim:
            raise ValueError(f"[tensordot] Axis {ax} is out of bounds for {which} with {ndim} "
                             f"dimensions.")
        out.append(ax % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"[tensordot] Repeated axes {list(axes)} for {which}.")
    return out


cdef array tensordot_op(array x, array y, list ax_a, list ax_b):
    """Contract ax_a of x with ax_b of y: one matmul of (free_a, contracted) x (contracted,
    free_b).  The transposes are views; reshape copies only when the layout requires it."""
    for i in range(len(ax_a)):
        if x._shape[ax_a[i]] != y._shape[ax_b[i]]:
            raise ValueError(f"[tensordot] a and b must have the same shape on the contracted "
                             f"axes, got {_fmt(x._shape)} and {_fmt(y._shape)} on axes "
                             f"{ax_a} and {ax_b}.")
    cdef int dt = _matmul_dtype(x, y, promote(x.dtype, y.dtype), "tensordot")
    free_a = [i for i in range(x.ndim) if i not in ax_a]
    free_b = [i for i in range(y.ndim) if i not in ax_b]
    ka = 1
    for i in ax_a:
        ka *= x._shape[i]
    fa = tuple([x._shape[i] for i in free_a])
    fb = tuple([y._shape[i] for i in free_b])
    ma = 1
    for d in fa:
        ma *= d
    nb = 1
    for d in fb:
        nb *= d
    xa = reshape_op(transpose_op(x, tuple(free_a + ax_a)), (ma, ka))
    yb = reshape_op(transpose_op(y, tuple(ax_b + free_b)), (ka, nb))
    return reshape_op(matmul_op(xa, yb, dt, "tensordot"), fa + fb)


def tensordot(a, b, /, axes=2, *, stream=None):
    """tensordot(a: array, b: array, /, axes: int | list[Sequence[int]] = 2, *, stream=None) -> array."""
    scope = on_stream(stream, "tensordot")
    cdef array x = as_array(a), y = as_array(b)
    if PyLong_Check(axes) and not isinstance(axes, bool):
        n = axes
        if n < 0:
            raise ValueError(f"[tensordot] axis must be greater or equal to 0, got {n}.")
        if n > x.ndim or n > y.ndim:
            raise ValueError(f"[tensordot] axis {n} must be less than the number of dimensions "
                             f"of a and b ({x.ndim} and {y.ndim}).")
        ax_a = list(range(x.ndim - n, x.ndim))
        ax_b = list(range(n))
    else:
        try:
            pair = list(axes)
        except TypeError:
            raise TypeError(f"[tensordot] axes must be an int or a pair of axis lists, got "
                            f"{axes!r}.") from None
        if len(pair) != 2 or PyLong_Check(pair[0]) or PyLong_Check(pair[1]):
            raise TypeError(f"[tensordot] axes must be an int or a pair of axis lists, got "
                            f"{axes!r}.")
        ax_a = _axes_of(pair[0], x.ndim, "a")
        ax_b = _axes_of(pair[1], y.ndim, "b")
        if len(ax_a) != len(ax_b):
            raise ValueError(f"[tensordot] axes must have the same size, got {ax_a} and "
                             f"{ax_b}.")
    return tensordot_op(x, y, ax_a, ax_b)


def inner(a, b, /, *, stream=None):
    """inner(a: array, b: array, /, *, stream=None) -> array."""
    scope = on_stream(stream, "inner")
    cdef array x = as_array(a), y = as_array(b)
    if x.ndim == 0 or y.ndim == 0:
        return binary_op(x, y, MLXC_MUL)
    if x._shape[-1] != y._shape[-1]:
        raise ValueError(f"[inner] a and b must have the same last dimension, got shapes "
                         f"{_fmt(x._shape)} and {_fmt(y._shape)}.")
    return tensordot_op(x, y, [x.ndim - 1], [y.ndim - 1])


def outer(a, b, /, *, stream=None):
    """outer(a: array, b: array, /, *, stream=None) -> array."""
    scope = on_stream(stream, "outer")
    cdef array x = as_array(a), y = as_array(b)
    return binary_op(reshape_op(x, (x.size, 1)), reshape_op(y, (y.size,)), MLXC_MUL)


_py_hooks["matmul"] = matmul
