"""Op constructors of the LAPACK-backed primitives: argument checks (MLX's messages),
batch broadcasting of two-operand solves (as views), output shapes and dtypes, node
creation.  The public functions composing them are in mlxc/core/linalg.py."""
from mlxc._core.array cimport array, as_array, current_node_device, new_nodes
from mlxc._core.dtype cimport dtype_of
from mlxc._core.kernels cimport MLXC_COMPLEX64, MLXC_FLOAT32, MLXC_FLOAT64, MLXC_UINT32
from mlxc._core.ops.common cimport broadcast_shapes2
from mlxc._core.ops.shape cimport broadcast_to_op
from mlxc._core.prims.lapack cimport lapack_prim

from mlxc._core.prims.lapack import (CHOLESKY, EIG, EIGH, INV, LU, QR, SLOGDET, SOLVE,
                                     SOLVE_TRI, SVD, TRI_INV)


cdef array check_matrix(object x, str op, bint square):
    """x as an array of float32/float64 matrices (>= 2 dims), square when asked."""
    cdef array a = as_array(x)
    if a.dtype != MLXC_FLOAT32 and a.dtype != MLXC_FLOAT64:
        raise ValueError(f"[linalg::{op}] Arrays must have type float32 or float64. "
                         f"Received array with type {dtype_of(a.dtype).name}.")
    if a.ndim < 2:
        raise ValueError(f"[linalg::{op}] Arrays must have >= 2 dimensions. Received array "
                         f"with {a.ndim} dimensions.")
    if square and a._shape[-1] != a._shape[-2]:
        raise ValueError(f"[linalg::{op}] Arrays must be square matrices (the last two "
                         f"dimensions equal), received shape {a._shape}.")
    return a


def matrix(x, str op, bint square=True):
    """x checked as check_matrix does; the op must run on the CPU (MLX runs no linalg
    decomposition on the GPU and says so when one is asked for there: by stream=, a stream
    context or the default device, all of which set the device of the nodes made now)."""
    if current_node_device() == 1:
        raise ValueError(f"[linalg::{op}] This op is not yet supported on the GPU. "
                         f"Explicitly pass a CPU stream to run it.")
    return check_matrix(x, op, square)


def lapack(int op, int flag, a, b=None):
    """The outputs (a list) of the Lapack(op, flag) node on a (and b for the solves).
    a is checked by the caller; b must be (*batch, n, k) with a's dtype."""
    cdef array x = <array>a, y
    batch = x._shape[:-2]
    m, n = x._shape[-2], x._shape[-1]
    p = min(m, n)
    dt = x.dtype
    inputs = (x,)
    if op == SOLVE or op == SOLVE_TRI:
        y = <array>b
        batch = broadcast_shapes2(batch, y._shape[:-2], "linalg::solve")
        x = broadcast_to_op(x, batch + (n, n))
        y = broadcast_to_op(y, batch + y._shape[-2:])
        inputs = (x, y)
        shapes, dtypes = [batch + y._shape[-2:]], [dt]
    elif op == CHOLESKY or op == TRI_INV or op == INV:
        shapes, dtypes = [batch + (n, n)], [dt]
    elif op == LU:
        shapes, dtypes = [batch + (m, n), batch + (p,)], [dt, MLXC_UINT32]
        if flag & 1:
            shapes.append(batch + (m,))
            dtypes.append(MLXC_UINT32)
    elif op == QR:
        shapes, dtypes = [batch + (m, p), batch + (p, n)], [dt, dt]
    elif op == SVD:
        if flag == 0:
            shapes, dtypes = [batch + (p,)], [dt]
        elif flag == 1:
            shapes, dtypes = [batch + (m, m), batch + (p,), batch + (n, n)], [dt, dt, dt]
        else:
            shapes, dtypes = [batch + (m, p), batch + (p,), batch + (p, n)], [dt, dt, dt]
    elif op == EIGH:
        shapes, dtypes = [batch + (n,)], [dt]
        if flag & 2:
            shapes.append(batch + (n, n))
            dtypes.append(dt)
    elif op == EIG:
        shapes, dtypes = [batch + (n,)], [MLXC_COMPLEX64]
        if flag & 1:
            shapes.append(batch + (n, n))
            dtypes.append(MLXC_COMPLEX64)
    elif op == SLOGDET:
        shapes, dtypes = [batch, batch], [dt, dt]
    else:
        raise ValueError(f"[linalg] unknown LAPACK op {op}.")
    return new_nodes(dtypes, shapes, lapack_prim(op, flag), inputs)
