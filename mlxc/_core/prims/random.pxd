# Random primitives: MLX's threefry bits (and fused float transforms), MLX's own math.
from mlxc._core.array cimport array
from mlxc._core.primitive cimport Primitive

cdef class RandomBits(Primitive):
    cdef readonly tuple shape     # output shape (key batch dims included)
    cdef readonly int mode        # enum mlxc_random_mode
    cdef readonly float low, range  # MLXC_RANDOM_RANDINT: range * u + low, floored,
    cdef readonly int ilow, ihigh   # then clamped to [ilow, ihigh]

cdef class MLXMath(Primitive):
    cdef readonly int func        # enum mlxc_mlxmath_func

cpdef array random_node(array key, tuple shape, int mode, float low=*, float range=*,
                        int ilow=*, int ihigh=*)
cpdef array mlx_math(array x, int func)
