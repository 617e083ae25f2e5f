"""Text form of arrays (``repr`` and ``str``) and the print options.

The engine evaluates an array, hands its data over as a numpy array and calls
``format_array``. The layout follows MLX 0.32.4 (observed, not copied):

* ``array(<body>, dtype=<name>)``; ``str`` and ``repr`` are the same text.
* Elements are separated by ``", "`` with no padding or column alignment.
  Nested rows are separated by ``",\\n"`` and indented to sit under the
  opening bracket of their parent (``len("array(")`` plus the depth); there
  are no blank lines between blocks.
* Every axis longer than 6 is summarized to its first 3 and last 3 entries
  with ``...`` in between, whatever the total size (a 7-element vector is
  summarized, a 6 x 6 x 6 x 6 array is not). A summarized row axis puts
  ``...,`` on a line of its own.
* An axis of length 0 prints as ``[]``; nothing inside it is shown, so shapes
  (0,), (0, 3) and (0, 2, 3) all print ``[]`` and (2, 0) prints two ``[]``.
* Floats: with the default precision -1, C's ``%g`` (6 significant digits,
  exponent form ``1e+10``/``1e-05`` outside [1e-4, 1e6)); with
  ``precision=p >= 0`` fixed notation with ``p`` decimals (``%.pf``); any
  other negative precision is fixed notation with 6 decimals (``%.6f``).
  Under %g whole numbers print without a point (``2``) and negative zero as
  ``-0``. NaN as ``nan`` or ``-nan`` (by its sign bit), infinities as
  ``inf``/``-inf``. float16 and bfloat16 values print as the float32 value they
  hold (bfloat16 1.1 prints ``1.10156``).
* complex64: real part, then ``+`` unless the imaginary part is < 0, then the
  imaginary part and ``j``: ``1+2j``, ``3-4j``, ``0+-0j``, ``1+-nanj``,
  ``1-infj``. Both parts follow the float rules and the precision.
* Integers print in full (uint64 as unsigned); bool as ``True``/``False``.
  Precision does not affect integer or bool arrays.
"""

import math
import operator
import struct

import numpy as np

__all__ = [
    "PrintOptions",
    "format_array",
    "format_scalar",
    "get_printoptions",
    "printoptions",
    "set_printoptions",
]

# Axes longer than this are summarized to _EDGE items at each end.
_SUMMARY_THRESHOLD = 6
_EDGE = 3
_PREFIX = "array("

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1


# --- print options ----------------------------------------------------------


def _check_precision(value, where):
    """``value`` as a C int, raising TypeError like MLX's binding for anything else.

    MLX accepts Python ints, bools and objects with ``__index__`` (numpy
    integers); floats, strings and ints outside the 32-bit range are a
    TypeError.
    """
    if isinstance(value, float):
        raise TypeError(
            f"{where}: precision must be an int, got {type(value).__name__}"
        )
    try:
        precision = operator.index(value)
    except TypeError:
        raise TypeError(
            f"{where}: precision must be an int, got {type(value).__name__}"
        ) from None
    if not _INT32_MIN <= precision <= _INT32_MAX:
        raise TypeError(f"{where}: precision {precision} does not fit in a C int")
    return int(precision)


class PrintOptions:
    """Options for formatting arrays.

    ``precision`` is the number of decimals of floating point values, printed
    in fixed notation; -1 (the default) prints 6 significant digits in the
    shorter of fixed and exponent notation (``%g``); other negative values
    print fixed notation with 6 decimals.
    """

    __slots__ = ("_precision",)

    def __init__(self, precision: int = -1):
        self._precision = _check_precision(precision, "PrintOptions")

    @property
    def precision(self) -> int:
        return self._precision

    @precision.setter
    def precision(self, value):
        self._precision = _check_precision(value, "PrintOptions.precision")

    def _copy(self):
        return PrintOptions(self._precision)


# The global options. get_printoptions hands out copies, so only
# set_printoptions and printoptions change it.
_options = PrintOptions()


def get_printoptions() -> PrintOptions:
    """Get global printing precision for array formatting.

    Returns:
        PrintOptions: The format options used for printing arrays.
    """
    return _options._copy()


def set_printoptions(precision: int = -1) -> None:
    """Set global printing precision for array formatting.

    Example:
        >>> print(x)  # Uses default precision
        >>> mx.set_printoptions(precision=3)
        >>> print(x)  # Uses precision of 3

    Args:
        precision (int): Number of decimal places.
    """
    _options._precision = _check_precision(precision, "set_printoptions()")


class _PrintOptionsContext:
    """Context manager returned by :func:`printoptions`.

    The options take effect on ``__enter__``; ``__exit__`` puts back the
    options that were current at the latest ``__enter__`` (MLX keeps a single
    saved slot, so re-entering the same object overwrites it).
    """

    __slots__ = ("_options", "_saved")

    def __init__(self, options):
        self._options = options
        self._saved = None

    def __enter__(self):
        global _options
        self._saved = _options._copy()
        _options = self._options._copy()
        return self

    def __exit__(self, exc_type, exc, tb):
        global _options
        if self._saved is not None:
            _options = self._saved._copy()
        return None


def printoptions(precision: int = -1) -> _PrintOptionsContext:
    """Context manager for setting print options temporarily.

    Example:
        >>> with mx.printoptions(precision=3):
        >>>     print(x)  # Uses precision of 3
        >>> print(x)  # Back to the previous precision

    Args:
        precision (int): Number of decimal places. Use -1 for default
    """
    return _PrintOptionsContext(PrintOptions(_check_precision(precision, "printoptions()")))


# --- element formatting -----------------------------------------------------


def _round_to_bfloat16(x):
    """The bfloat16 nearest to float ``x`` (ties to even), as a Python float.

    The engine is expected to pass values that already are bfloat16; rounding
    again changes nothing for those and makes wider inputs print correctly.
    """
    if x != x or math.isinf(x):
        return x
    (bits,) = struct.unpack("<I", struct.pack("<f", float(np.float32(x))))
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def _float_text(x, precision):
    """One real value: %g when precision is -1, else fixed notation."""
    if x != x:
        # Python drops the sign of NaN; MLX (through the C++ stream) keeps it.
        return "-nan" if math.copysign(1.0, x) < 0 else "nan"
    if precision == -1:
        return "%g" % x
    # Any other negative precision still selects fixed notation, where the
    # C++ stream falls back to its default of 6 decimals.
    return "%.*f" % (precision if precision >= 0 else 6, x)


def _complex_text(z, precision):
    real = _float_text(z.real, precision)
    imag = _float_text(z.imag, precision)
    # The sign is only implied for non-negative parts; -0 and NaN parts are not
    # "< 0", so they get a "+" in front of their own sign: 0+-0j, 1+-nanj.
    joiner = "" if z.imag < 0 else "+"
    return f"{real}{joiner}{imag}j"


_INT_NAMES = {
    "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64",
}
_FLOAT_NAMES = {"float16", "bfloat16", "float32", "float64"}
_COMPLEX_NAMES = {"complex64", "complex128"}


def _element_formatter(dtype_name, np_kind, precision):
    """A function from one numpy scalar to its text, for this dtype."""
    if dtype_name == "bool" or (dtype_name not in _INT_NAMES and np_kind == "b"):
        return lambda v: "True" if v else "False"
    if dtype_name in _INT_NAMES or (
        dtype_name not in _FLOAT_NAMES | _COMPLEX_NAMES and np_kind in "iu"
    ):
        return lambda v: str(int(v))
    if dtype_name in _COMPLEX_NAMES or np_kind == "c":
        return lambda v: _complex_text(complex(v), precision)
    if dtype_name == "bfloat16":
        return lambda v: _float_text(_round_to_bfloat16(float(v)), precision)
    if dtype_name == "float16":
        return lambda v: _float_text(float(np.float16(v)), precision)
    if dtype_name == "float32":
        return lambda v: _float_text(float(np.float32(v)), precision)
    return lambda v: _float_text(float(v), precision)


# --- layout -----------------------------------------------------------------


def _edge_indices(n):
    """Indices shown along an axis of length n, with None where ``...`` goes."""
    if n > _SUMMARY_THRESHOLD:
        return [*range(_EDGE), None, *range(n - _EDGE, n)]
    return list(range(n))


def _body(x, depth, fmt):
    """Bracketed text of the sub-array ``x`` (ndim >= 1) at nesting ``depth``."""
    n = x.shape[0]
    if n == 0:
        return "[]"
    picks = _edge_indices(n)
    if x.ndim == 1:
        parts = ["..." if i is None else fmt(x[i]) for i in picks]
        return "[" + ", ".join(parts) + "]"
    sep = ",\n" + " " * (len(_PREFIX) + depth + 1)
    parts = ["..." if i is None else _body(x[i], depth + 1, fmt) for i in picks]
    return "[" + sep.join(parts) + "]"


def format_array(values, dtype_name: str, shape: tuple, for_repr: bool = True,
                 precision=None) -> str:
    """MLX's text for an array: ``array([1, 2, 3], dtype=int32)``.

    Args:
        values: numpy array (or anything ``np.asarray`` takes) holding the
            data, either already of ``shape`` or flat in row-major order.
            bfloat16 data comes as float32 values.
        dtype_name: MLX's dtype name, printed after ``dtype=`` and used to
            choose the element format.
        shape: the array's shape.
        for_repr: True for ``repr``, False for ``str``. MLX prints the same
            text for both; the flag is kept so the engine need not care.
        precision: overrides the global print precision when not None.

    Returns:
        str: the text.
    """
    del for_repr  # str and repr agree in MLX.
    if precision is None:
        precision = _options._precision
    else:
        precision = _check_precision(precision, "format_array")
    shape = tuple(int(d) for d in shape)
    arr = np.asarray(values)
    if arr.shape != shape:
        if arr.size != math.prod(shape):
            raise ValueError(
                f"format_array: {arr.size} values cannot have shape {shape}"
            )
        arr = arr.reshape(shape)
    fmt = _element_formatter(dtype_name, arr.dtype.kind, precision)
    if arr.ndim == 0:
        body = fmt(arr[()])
    else:
        body = _body(arr, 0, fmt)
    return f"{_PREFIX}{body}, dtype={dtype_name})"


def format_scalar(value, dtype_name: str, precision=None) -> str:
    """Text of one element as ``format_array`` would print it (no brackets)."""
    if precision is None:
        precision = _options._precision
    arr = np.asarray(value)
    return _element_formatter(dtype_name, arr.dtype.kind, precision)(arr[()])
