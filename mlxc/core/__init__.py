"""mlxc.core: MLX's core API (import mlxc.core as mx)."""
import sys as _sys

from mlxc._core.array import (
    array, _py_hooks, ArrayIterator, ArrayLike, get_array_buffer_size,
)
from mlxc._core.dtype import (
    Dtype, DtypeCategory, bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64,
    float16, bfloat16, float32, float64, complex64, complexfloating, floating, inexact,
    signedinteger, unsignedinteger, integer, number, generic, issubdtype, finfo, iinfo,
    promote_types,
)
from mlxc._core.allocator import (
    get_active_memory, get_peak_memory, reset_peak_memory, get_cache_memory, clear_cache,
    set_memory_limit, set_cache_limit, set_wired_limit, get_memory_limit,
)
from mlxc._core.device import (
    Device, DeviceType, Stream, StreamContext, cpu, gpu, default_device, set_default_device,
    default_stream, set_default_stream, new_stream, clear_streams, stream, synchronize,
    is_available, device_count, device_info, ThreadLocalStream, new_thread_local_stream,
    new_thread_unsafe_stream,
)
from mlxc._core.eval import eval, async_eval
from mlxc._core.cpu import cpu_info
from mlxc._core.printing import PrintOptions, get_printoptions, set_printoptions, printoptions
from mlxc._core.ops.elementwise import (
    add, subtract, multiply, divide, floor_divide, remainder, divmod, power, maximum, minimum,
    equal, not_equal, less, less_equal, greater, greater_equal, logical_and, logical_or,
    logical_xor, bitwise_and, bitwise_or, bitwise_xor, left_shift, right_shift, arctan2,
    logaddexp, abs, negative, positive, sign, sqrt, rsqrt, square, reciprocal, exp, expm1, log,
    log1p, log2, log10, sin, cos, tan, arcsin, arccos, arctan, sinh, cosh, tanh, arcsinh,
    arccosh, arctanh, sigmoid, erf, erfinv, floor, ceil, round, isnan, isinf, isfinite,
    isposinf, isneginf, logical_not, bitwise_invert, conjugate, conj, real, imag, degrees,
    radians, astype, where, clip, stop_gradient, nan_to_num, isclose, allclose, array_equal,
    to_fp8, from_fp8,
)
from mlxc._core.ops.creation import (
    full, zeros, ones, zeros_like, ones_like, full_like, arange, linspace, tri, tril, triu, eye,
    identity, meshgrid, asarray, copy,
)
from mlxc._core.ops.shape import (
    reshape, flatten, unflatten, squeeze, expand_dims, transpose, permute_dims, swapaxes,
    moveaxis, broadcast_shapes, broadcast_to, broadcast_arrays, atleast_1d, atleast_2d,
    atleast_3d, as_strided, contiguous, view, depends,
)
from mlxc._core.ops import array_hooks as _array_hooks
from mlxc._core.dlpack import from_dlpack
from mlxc._core.transforms import vjp, jvp, grad, value_and_grad, vmap
from mlxc._core.custom_function import custom_function, checkpoint
from mlxc._core.export import export_function, import_function, exporter, FunctionExporter
from mlxc._core.dot import export_to_dot
from mlxc._core.compile import compile, disable_compile, enable_compile
# Families that list their public names in __all__.
from mlxc._core.ops.reduce import *        # noqa: F401,F403
from mlxc._core.ops.index import *         # noqa: F401,F403
from mlxc._core.ops.linalg import *        # noqa: F401,F403
from mlxc._core.ops.join import *          # noqa: F401,F403
from mlxc._core.io import *               # noqa: F401,F403
from mlxc._core.ops.composite import *     # noqa: F401,F403
from mlxc._core.ops.einsum import einsum, einsum_path
from mlxc._core.ops.matmul_variants import gather_mm, block_masked_mm, segmented_mm
from mlxc._core.ops.search import *        # noqa: F401,F403
from mlxc._core.ops.conv import *          # noqa: F401,F403
from mlxc._core.ops.quant import *         # noqa: F401,F403

# The MLX release whose API this module implements.  Scripts compare mx.__version__ to gate
# features (and parse it as dotted integers), so it reads as that MLX version;
# mlxc.__version__ is mlxc's own.
__version__ = "0.32.4"

# Constants, as MLX exports them.
pi = 3.141592653589793
e = 2.718281828459045
euler_gamma = 0.5772156649015329
inf = float("inf")
nan = float("nan")
newaxis = None

# MLX's short aliases.
pow = power
acos, asin, atan = arccos, arcsin, arctan
acosh, asinh, atanh = arccosh, arcsinh, arctanh
atan2 = arctan2
bitwise_left_shift, bitwise_right_shift = left_shift, right_shift
empty, empty_like = zeros, zeros_like      # MLX's empty and empty_like are these functions

_py_hooks["ops"] = _sys.modules[__name__]

# Submodules: mx.random, mx.linalg, and the device namespaces (mx.metal, mx.cuda,
# mx.distributed) as MLX's CPU-only build has them.
from mlxc.core import cuda, distributed, fft, linalg, metal, random  # noqa: E402
from mlxc.core import fast  # noqa: E402
