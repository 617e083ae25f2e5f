"""Dtype objects (mx.float32 ...), DtypeCategory, issubdtype, finfo/iinfo and type promotion."""
import enum

import numpy as np

from mlxc._core.kernels cimport *

_NAMES = ("bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
          "float16", "bfloat16", "float32", "float64", "complex64")
_SIZES = (1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8, 8)
_KINDS = "buuuuiiiiffffc"

# Binary promotion by dtype code, as MLX 0.32.4 does it (observed facts, one row per code).
cdef int PROMOTE[14][14]
cdef int ITEMSIZE[14]
cdef char KIND[14]
_PROMOTE_ROWS = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13),
    (1, 1, 2, 3, 4, 6, 6, 7, 8, 9, 10, 11, 12, 13),
    (2, 2, 2, 3, 4, 7, 7, 7, 8, 9, 10, 11, 12, 13),
    (3, 3, 3, 3, 4, 8, 8, 8, 8, 9, 10, 11, 12, 13),
    (4, 4, 4, 4, 4, 11, 11, 11, 11, 9, 10, 11, 12, 13),
    (5, 6, 7, 8, 11, 5, 6, 7, 8, 9, 10, 11, 12, 13),
    (6, 6, 7, 8, 11, 6, 6, 7, 8, 9, 10, 11, 12, 13),
    (7, 7, 7, 8, 11, 7, 7, 7, 8, 9, 10, 11, 12, 13),
    (8, 8, 8, 8, 11, 8, 8, 8, 8, 9, 10, 11, 12, 13),
    (9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 11, 11, 12, 13),
    (10, 10, 10, 10, 10, 10, 10, 10, 10, 11, 10, 11, 12, 13),
    (11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 12, 13),
    (12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 13),
    (13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13),
)
for _i in range(14):
    for _j in range(14):
        PROMOTE[_i][_j] = _PROMOTE_ROWS[_i][_j]
    ITEMSIZE[_i] = _SIZES[_i]
    KIND[_i] = ord(_KINDS[_i])


cdef Dtype dtype_of(int code):
    return <Dtype>DTYPES[code]

cdef int itemsize(int code) noexcept nogil:
    return ITEMSIZE[code]

cdef char kind_of(int code) noexcept nogil:
    return KIND[code]

cdef int promote(int a, int b) noexcept nogil:
    return PROMOTE[a][b]

cdef bint is_float(int code) noexcept nogil:
    return KIND[code] == b'f' or KIND[code] == b'c'

cdef bint is_integral(int code) noexcept nogil:
    return KIND[code] == b'b' or KIND[code] == b'u' or KIND[code] == b'i'


cdef class Dtype:
    """An object to hold the type of an array's elements (mx.float32, mx.int32, ...)."""

    def __init__(self):
        raise TypeError("mlxc.core.Dtype cannot be instantiated; use mx.float32 etc.")

    def __repr__(self):
        return "mlx.core." + self.name

    __str__ = __repr__

    def __hash__(self):
        return hash(("mlxc.Dtype", self.code))

    def __eq__(self, other):
        if isinstance(other, Dtype):
            return self.code == (<Dtype>other).code
        return NotImplemented

    def __ne__(self, other):
        if isinstance(other, Dtype):
            return self.code != (<Dtype>other).code
        return NotImplemented

    def __reduce__(self):
        return (_dtype_from_name, (self.name,))


def _dtype_from_name(name):
    return DTYPES[_NAMES.index(name)]


cdef Dtype _make(int code):
    cdef Dtype d = Dtype.__new__(Dtype)
    d.code = code
    d.size = _SIZES[code]
    d.name = _NAMES[code]
    d.kind = _KINDS[code]
    return d

DTYPES = [_make(i) for i in range(14)]

bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float16, bfloat16, \
    float32, float64, complex64 = DTYPES


cdef Dtype to_dtype(object d):
    if isinstance(d, Dtype):
        return <Dtype>d
    raise TypeError(f"Expected an mlx dtype (e.g. mx.float32), got {d!r} of type "
                    f"{type(d).__name__}.")


class DtypeCategory(enum.Enum):
    """Abstract categories of dtypes, for issubdtype."""
    complexfloating = 0
    floating = 1
    inexact = 2
    signedinteger = 3
    unsignedinteger = 4
    integer = 5
    number = 6
    generic = 7

    def __repr__(self):
        return "DtypeCategory." + self.name

    __str__ = __repr__

complexfloating = DtypeCategory.complexfloating
floating = DtypeCategory.floating
inexact = DtypeCategory.inexact
signedinteger = DtypeCategory.signedinteger
unsignedinteger = DtypeCategory.unsignedinteger
integer = DtypeCategory.integer
number = DtypeCategory.number
generic = DtypeCategory.generic

# The categories each kind belongs to (bool belongs only to generic, as in MLX).
_KIND_CATEGORIES = {
    "b": {generic},
    "u": {unsignedinteger, integer, number, generic},
    "i": {signedinteger, integer, number, generic},
    "f": {floating, inexact, number, generic},
    "c": {complexfloating, inexact, number, generic},
}
# Which category a category is inside of.
_CATEGORY_PARENTS = {
    complexfloating: {complexfloating, inexact, number, generic},
    floating: {floating, inexact, number, generic},
    inexact: {inexact, number, generic},
    signedinteger: {signedinteger, integer, number, generic},
    unsignedinteger: {unsignedinteger, integer, number, generic},
    integer: {integer, number, generic},
    number: {number, generic},
    generic: {generic},
}


def issubdtype(arg1, arg2):
    """issubdtype(arg1: Dtype | DtypeCategory, arg2: Dtype | DtypeCategory) -> bool

    Check if a Dtype or DtypeCategory is a subtype of another."""
    for a in (arg1, arg2):
        if not isinstance(a, (Dtype, DtypeCategory)):
            raise TypeError(f"issubdtype: expected a Dtype or DtypeCategory, got {a!r}.")
    if isinstance(arg1, Dtype):
        if isinstance(arg2, Dtype):
            return arg1 == arg2
        return arg2 in _KIND_CATEGORIES[arg1.kind]
    if isinstance(arg2, Dtype):
        return False
    return arg2 in _CATEGORY_PARENTS[arg1]


def promote_types(a, b):
    """The dtype that a binary op of dtypes a and b computes in."""
    return DTYPES[promote(to_dtype(a).code, to_dtype(b).code)]


_NP_NAMES = ("bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
             "int64", "float16", None, "float32", "float64", "complex64")


class finfo:
    """Machine limits for floating point types."""

    def __init__(self, dtype):
        d = to_dtype(dtype)
        if d.kind not in "fc":
            raise ValueError(f"[finfo] dtype {d} is not inexact.")
        self.dtype = d if d.kind == "f" else float32
        if d.code == MLXC_BFLOAT16:
            self.min, self.max = -3.3895313892515355e38, 3.3895313892515355e38
            self.eps = 2.0 ** -7
            self.tiny = 2.0 ** -126
            self.smallest_normal = self.tiny
        else:
            f = np.finfo(_NP_NAMES[self.dtype.code])
            self.min, self.max = float(f.min), float(f.max)
            self.eps = float(f.eps)
            self.tiny = float(f.tiny)
            self.smallest_normal = float(f.smallest_normal)
        self.bits = 8 * self.dtype.size

    def __repr__(self):
        return f"finfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype.name})"


class iinfo:
    """Machine limits for integer types."""

    def __init__(self, dtype):
        d = to_dtype(dtype)
        if d.kind not in "ui":
            raise ValueError(f"[iinfo] dtype {d} is not integral.")
        self.dtype = d
        bits = 8 * d.size
        if d.kind == "u":
            self.min, self.max = 0, (1 << bits) - 1
        else:
            self.min, self.max = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        self.bits = bits

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype.name})"
