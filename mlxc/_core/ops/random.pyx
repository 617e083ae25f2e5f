"""Random op constructors: argument checks and RandomBits / MLXMath nodes.  The
public functions (mx.random) are in mlxc/core/random.py, built on these."""
from mlxc._core.array cimport array, as_array
from mlxc._core.dtype cimport dtype_of
from mlxc._core.kernels cimport *
from mlxc._core.ops.common cimport check_shape
from mlxc._core.ops.elementwise cimport astype_op
from mlxc._core.prims.random cimport mlx_math as _mlx_math_node, random_node

BITS, UNIFORM, ERFINV, NORMAL, RANDINT = (MLXC_RANDOM_BITS, MLXC_RANDOM_UNIFORM,
                                          MLXC_RANDOM_ERFINV, MLXC_RANDOM_NORMAL,
                                          MLXC_RANDOM_RANDINT)
LOG, LOG1P, ERF, ERFINV_F, EXP = (MLXC_MLXMATH_LOG, MLXC_MLXMATH_LOG1P, MLXC_MLXMATH_ERF,
                                  MLXC_MLXMATH_ERFINV, MLXC_MLXMATH_EXP)


def _fmt(shape):
    return "(" + ",".join([str(d) for d in shape]) + ")"


def check_key(key):
    """key must be a uint32 array of shape (2,), as MLX's bits requires."""
    if not isinstance(key, array):
        raise TypeError(f"[bits] Expected the key to be an array, got {type(key).__name__}.")
    cdef array k = <array>key
    if k.dtype != MLXC_UINT32:
        raise ValueError(f"[bits] Expected key type uint32 but received "
                         f"{dtype_of(k.dtype).name}.")
    if k._shape != (2,):
        raise ValueError(f"[bits] Expected key shape (2) but received {_fmt(k._shape)}.")
    return k


def bits_shape(shape):
    """A shape for the generator: non-negative ints (MLX's message for negatives)."""
    try:
        return check_shape(shape, "bits")
    except ValueError:
        raise ValueError("[bits] Negative dimensions not allowed.") from None


def random_bits(key, shape, int mode=MLXC_RANDOM_BITS, float low=0.0, float range=1.0,
                int ilow=0, int ihigh=0):
    """A RandomBits node of `shape` from a checked key (see check_key, bits_shape)."""
    return random_node(<array>key, tuple(shape), mode, low, range, ilow, ihigh)


def mlx_math(x, int func):
    """MLX's own `func` (log, log1p, erf, erfinv, exp) of x, computed in float32 and
    returned in x's float dtype (MLX computes half types in float32 too)."""
    cdef array a = as_array(x)
    cdef int dt = a.dtype
    cdef array y = _mlx_math_node(astype_op(a, MLXC_FLOAT32), func)
    return y if dt == MLXC_FLOAT32 else astype_op(y, dt)
