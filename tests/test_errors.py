"""Error behaviour: for each op family, bad shapes / axes / dtypes / indices
raise the exception type MLX raises.  Messages are only loosely checked
(they must mention something relevant), never pinned to MLX's wording."""
import pytest

import mlxc.core as mx


def A(*shape, dtype=None):
    return mx.zeros(shape or (2, 3), dtype=dtype or mx.float32)


CASES = [
    # --- construction
    ("ragged list", lambda: mx.array([[1, 2], [3]]), ValueError, "uniform|shape|length"),
    ("string", lambda: mx.array("abc"), ValueError, "str"),
    ("list with str", lambda: mx.array([1, "a"]), ValueError, "str"),
    ("None", lambda: mx.array(None), TypeError, ""),
    ("negative dims", lambda: mx.zeros((-1,)), ValueError, "egative"),
    ("full broadcast", lambda: mx.full((2,), mx.array([1, 2, 3])), ValueError, "broadcast"),
    ("arange step 0", lambda: mx.arange(0, 5, 0), ValueError, "step"),
    ("linspace num<0", lambda: mx.linspace(0, 1, -1), ValueError, "-1|negative"),
    ("eye n<0", lambda: mx.eye(-1), ValueError, ""),
    ("meshgrid indexing", lambda: mx.meshgrid(mx.array([1]), indexing="zz"), ValueError, "index"),
    ("tril 1d", lambda: mx.tril(mx.ones(3)), ValueError, "2-D|dim"),
    # --- dtypes / info
    ("finfo int", lambda: mx.finfo(mx.int32), ValueError, "int32|inexact"),
    ("iinfo float", lambda: mx.iinfo(mx.float32), ValueError, "float32|integer"),
    # --- element-wise
    ("broadcast", lambda: A(2, 3) + A(4), ValueError, "broadcast"),
    ("negative bool", lambda: -mx.array([True]), ValueError, "bool"),
    ("invert float", lambda: ~mx.array([1.0]), ValueError, "[Ff]loat"),
    ("and float", lambda: mx.array([1.0]) & mx.array([1]), ValueError, "[Ff]loat"),
    ("shift float", lambda: mx.array([1.0]) << 1, ValueError, "[Ff]loat"),
    ("bitwise_and float fn", lambda: mx.bitwise_and(mx.array([1.0]), mx.array([1])), RuntimeError, "integer"),
    ("floor complex", lambda: mx.floor(mx.array([1 + 1j])), ValueError, "complex"),
    ("int scalar overflow", lambda: mx.array([1], mx.int8) + 1000, ValueError, "overflow"),
    ("add str", lambda: mx.array([1]) + "a", ValueError, "str"),
    ("add list", lambda: mx.array([1]) + [1, 2], ValueError, "list"),
    ("add None", lambda: mx.array([1]) + None, TypeError, ""),
    ("inplace int true-div", lambda: mx.array([1]).__itruediv__(2), ValueError, "floating|division"),
    ("clip both None", lambda: mx.clip(A(), None, None), ValueError, "None"),
    ("where broadcast", lambda: mx.where(mx.array([True, False]), A(3), 0), ValueError, "broadcast"),
    # --- conversions
    ("item of many", lambda: mx.array([1, 2]).item(), ValueError, "length-1|scalar|size"),
    ("float of many", lambda: float(mx.array([1, 2])), ValueError, "length-1|scalar|size"),
    ("bool of many", lambda: bool(mx.array([1, 2])), ValueError, "length-1|scalar|size"),
    ("len 0-d", lambda: len(mx.array(1)), TypeError, "0-d"),
    ("iter 0-d", lambda: iter(mx.array(1)), TypeError, "0-d"),
    ("mT of 1d", lambda: mx.ones(3).mT, ValueError, "dim"),
    ("bfloat16 to numpy", lambda: __import__("numpy").array(mx.ones(2, mx.bfloat16)), ValueError, "bfloat16|format"),
    # --- reductions
    ("sum axis", lambda: mx.sum(A(), axis=2), IndexError, "[Aa]xis"),
    ("sum neg axis", lambda: mx.sum(A(), axis=-3), IndexError, "[Aa]xis"),
    ("sum dup axes", lambda: mx.sum(A(), axis=(0, 0)), ValueError, "[Dd]uplicate"),
    ("mean axis", lambda: mx.mean(A(), axis=5), IndexError, "[Aa]xis"),
    ("var axis", lambda: mx.var(A(), axis=5), IndexError, "[Aa]xis"),
    ("argmax axis", lambda: mx.argmax(A(), axis=2), IndexError, "[Aa]xis"),
    ("argmax tuple axis", lambda: mx.argmax(A(), axis=(0, 1)), TypeError, ""),
    ("max empty", lambda: mx.max(mx.array([])), ValueError, "size 0|empty|zero"),
    ("argmin empty", lambda: mx.argmin(mx.array([])), ValueError, "zero|empty"),
    ("sum axis str", lambda: mx.sum(A(), axis="x"), TypeError, ""),
    # --- shapes
    ("reshape size", lambda: A().reshape(4, 2), ValueError, "reshape|size"),
    ("reshape two -1", lambda: A().reshape(-1, -1), ValueError, "infer"),
    ("flatten order", lambda: mx.flatten(A(2, 3, 4), 2, 1), ValueError, "axis"),
    ("unflatten size", lambda: mx.unflatten(A(2, 4), 1, (3, -1)), ValueError, "unflatten|Unflatten"),
    ("squeeze non-1", lambda: mx.squeeze(A(), 0), ValueError, "squeeze"),
    ("expand_dims axis", lambda: mx.expand_dims(A(), 4), IndexError, "xis"),
    ("expand_dims dup", lambda: mx.expand_dims(A(), (0, 0)), ValueError, "uplicate"),
    ("transpose count", lambda: mx.transpose(A(2, 3, 4), (0, 1)), ValueError, "axes"),
    ("transpose repeat", lambda: mx.transpose(A(2, 3, 4), (0, 0, 1)), ValueError, "epeat"),
    ("moveaxis axis", lambda: mx.moveaxis(A(), 3, 0), IndexError, "[Aa]xis"),
    ("swapaxes axis", lambda: mx.swapaxes(A(), 0, 5), IndexError, "[Aa]xis"),
    ("broadcast_to", lambda: mx.broadcast_to(mx.array([1, 2]), (3,)), ValueError, "broadcast"),
    ("broadcast_shapes", lambda: mx.broadcast_shapes((2,), (3,)), ValueError, "broadcast"),
    ("concatenate shapes", lambda: mx.concatenate([A(2, 3), A(2, 1)]), ValueError, "concatenat"),
    ("concatenate empty", lambda: mx.concatenate([]), ValueError, "No arrays|arrays"),
    ("concatenate ndim", lambda: mx.concatenate([A(2), A(2, 2)]), ValueError, "dimension"),
    ("concatenate axis", lambda: mx.concatenate([A(2, 3), A(2, 3)], axis=2), IndexError, "[Aa]xis"),
    ("stack shapes", lambda: mx.stack([A(2), A(3)]), ValueError, "shape"),
    ("stack empty", lambda: mx.stack([]), ValueError, "arrays"),
    ("split uneven", lambda: mx.split(mx.arange(6), 4), ValueError, "split"),
    ("pad mode", lambda: mx.pad(A(), 1, mode="wrap"), ValueError, "wrap|mode"),
    ("pad negative", lambda: mx.pad(A(), -1), ValueError, "pad"),
    ("repeat negative", lambda: mx.repeat(A(), -1), ValueError, "negative"),
    ("repeat list", lambda: mx.repeat(A(), [1, 2]), TypeError, ""),
    ("view size", lambda: mx.view(mx.array([1, 2, 3], mx.int8), mx.int16), ValueError, "multiple|size"),
    # --- indexing
    ("too many indices", lambda: A()[0, 0, 0], ValueError, "indices|dimension"),
    ("two ellipsis", lambda: A()[..., ...], ValueError, "ellipsis"),
    ("float index", lambda: A()[1.5], ValueError, "index"),
    ("float array index", lambda: A()[mx.array([0.0])], ValueError, "integral|dtype"),
    ("setitem broadcast", lambda: A().__setitem__(0, mx.ones(4)), ValueError, "broadcast"),
    # --- gather / scatter
    ("take axis", lambda: mx.take(A(), mx.array([0]), axis=2), IndexError, "[Aa]xis"),
    ("take float idx", lambda: mx.take(A(), mx.array([0.0])), ValueError, "integral|dtype"),
    ("take list idx", lambda: mx.take(A(), [0, 1]), TypeError, ""),
    ("take_along ndim", lambda: mx.take_along_axis(A(), mx.array([0]), axis=1), ValueError, "dimension"),
    ("put_along scalar", lambda: mx.put_along_axis(A(), mx.array([[0]]), 0, axis=1), TypeError, ""),
    ("slice size", lambda: mx.slice(A(3, 4), mx.array([1]), [1], [3, 5]), ValueError, "slice"),
    ("diagonal same axes", lambda: mx.diagonal(A(), 0, 0, 0), ValueError, "axis"),
    ("diagonal 1d", lambda: mx.diagonal(A(3)), ValueError, "dimension"),
    ("diag 3d", lambda: mx.diag(A(2, 2, 2)), ValueError, "1-D|2-D|dim"),
    ("trace 1d", lambda: mx.trace(A(3)), ValueError, "dimension"),
    # --- linalg-ish
    ("matmul shapes", lambda: A(2, 3) @ A(2, 3), ValueError, "dimension|shape"),
    ("matmul ints", lambda: mx.matmul(mx.ones((2, 2), mx.int32), mx.ones((2, 2), mx.int32)), ValueError, "int32|floating|inexact"),
    ("matmul 0-d", lambda: mx.matmul(A(3), mx.array(1.0)), ValueError, "dimension"),
    ("matmul batch", lambda: mx.matmul(A(2, 2, 3), A(3, 3, 2)), ValueError, "broadcast"),
    ("addmm c shape", lambda: mx.addmm(A(3, 3), A(2, 3), A(3, 2)), ValueError, "broadcast"),
    ("inner dims", lambda: mx.inner(A(2), A(3)), ValueError, "dimension"),
    ("tensordot shapes", lambda: mx.tensordot(A(2, 3), A(4, 3), axes=1), ValueError, "shape|contract"),
    ("tensordot axes", lambda: mx.tensordot(A(2, 3), A(3, 2), axes=[[1], [0, 1]]), ValueError, "axes"),
    # --- scans / sort
    ("cumsum axis", lambda: mx.cumsum(A(), axis=2), IndexError, "xis"),
    ("sort 0-d", lambda: mx.sort(mx.array(3)), IndexError, "xis"),
    ("argsort axis", lambda: mx.argsort(A(), axis=2), IndexError, "xis"),
    # --- devices
    ("Device from str", lambda: mx.Device("cpu"), TypeError, ""),
    ("stream= str", lambda: mx.add(A(), A(), stream="cpu"), TypeError, ""),
]


@pytest.mark.parametrize("what,fn,exc,msg", CASES, ids=[c[0] for c in CASES])
def test_error_type(what, fn, exc, msg):
    with pytest.raises(exc, match=msg or None):
        mx.eval(fn())


def test_gpu_errors_when_unavailable():
    if mx.is_available(mx.gpu):
        pytest.skip("a GPU is available")
    with pytest.raises(ValueError, match="gpu"):
        mx.set_default_device(mx.gpu)
    with pytest.raises(ValueError, match="gpu"):
        mx.add(mx.array(1), mx.array(2), stream=mx.gpu)


def test_keyword_names_checked():
    with pytest.raises(TypeError):
        mx.sum(A(), axes=0)
    with pytest.raises(TypeError):
        mx.reshape(A(), newshape=(6,))
    with pytest.raises(TypeError):
        mx.exp(a=A())            # positional-only
    with pytest.raises(TypeError):
        mx.zeros((2,), mx.float32, mx.cpu)  # stream is keyword-only


@pytest.mark.mlxc_only
def test_out_of_range_int_index_raises_indexerror():
    with pytest.raises(IndexError, match="3|10|range|bounds"):
        mx.eval(mx.array([1, 2, 3])[10])


@pytest.mark.mlxc_only
def test_out_of_range_take_raises():
    with pytest.raises((IndexError, ValueError)):
        mx.eval(mx.take(mx.array([1, 2, 3]), mx.array([0, 3])))
