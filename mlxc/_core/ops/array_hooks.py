"""Python-level array methods the array type forwards to (cold paths: printing, casts)."""
from mlxc._core import printing
from mlxc._core.array import _py_hooks, array
from mlxc._core.dtype import DTYPES
from mlxc._core.ops import creation, elementwise


def _format(a, for_repr):
    values = a._numpy_values()
    return printing.format_array(values, a.dtype.name, a.shape, for_repr)


def _contiguous_cast(a, code):
    out = elementwise.astype(a, DTYPES[code])
    if out is a:
        out = creation.copy(a)
    from mlxc._core.eval import eval as eval_
    eval_(out)
    return out


_py_hooks.update(
    format=_format,
    astype=elementwise.astype,
    copy=creation.copy,
    contiguous_cast=_contiguous_cast,
    real=elementwise.real,
    imag=elementwise.imag,
    divmod=elementwise.divmod,
)
