"""MLX API pieces: array members and their signatures, ArrayAt / ArrayIterator /
ArrayLike, pickling through __getstate__/__setstate__, get_array_buffer_size,
ThreadLocalStream and the new stream constructors, __version__."""
import copy
import inspect
import os
import pickle
import threading

import numpy as np
import pytest

import mlxc
import mlxc.core as mx
from helpers import DTYPE_NAMES, dt

# Every array member of MLX 0.32.4's surface (shared/api/mlx_core_surface.txt), less the
# DLPack pair (tested with DLPack).
ARRAY_MEMBERS = """T __abs__ __add__ __and__ __array__ __bool__ __copy__ __deepcopy__ __eq__
__float__ __floordiv__ __format__ __ge__ __getitem__ __getstate__ __gt__ __hash__ __iadd__
__imatmul__ __imul__ __int__ __invert__ __isub__ __iter__ __itruediv__ __le__ __len__
__lshift__ __lt__ __matmul__ __mod__ __mul__ __ne__ __neg__ __or__ __pow__ __radd__ __repr__
__rmul__ __rpow__ __rshift__ __rsub__ __rtruediv__ __setitem__ __setstate__ __sub__
__truediv__ __xor__ abs all any argmax argmin astype at conj cos cummax cummin cumprod cumsum
diag diagonal dtype exp flatten imag item itemsize log log10 log1p log2 logcumsumexp
logsumexp mT max mean min moveaxis nbytes ndim prod real reciprocal reshape round rsqrt shape
sin size split sqrt square squeeze std sum swapaxes tolist transpose var view""".split()

# MLX's signatures (parameter lists; MLX's StreamOrDevice written as stream=None).
SIGNATURES = {
    "abs": "(self, *, stream=None)",
    "all": "(self, axis=None, keepdims=False, *, stream=None)",
    "any": "(self, axis=None, keepdims=False, *, stream=None)",
    "argmax": "(self, axis=None, keepdims=False, *, stream=None)",
    "argmin": "(self, axis=None, keepdims=False, *, stream=None)",
    "astype": "(self, dtype, stream=None)",
    "conj": "(self, *, stream=None)",
    "cos": "(self, *, stream=None)",
    "cummax": "(self, axis=None, *, reverse=False, inclusive=True, stream=None)",
    "cummin": "(self, axis=None, *, reverse=False, inclusive=True, stream=None)",
    "cumprod": "(self, axis=None, *, reverse=False, inclusive=True, stream=None)",
    "cumsum": "(self, axis=None, *, reverse=False, inclusive=True, stream=None)",
    "diag": "(self, k=0, *, stream=None)",
    "diagonal": "(self, offset=0, axis1=0, axis2=1, stream=None)",
    "exp": "(self, *, stream=None)",
    "flatten": "(self, start_axis=0, end_axis=-1, *, stream=None)",
    "item": "(self)",
    "log": "(self, *, stream=None)",
    "log10": "(self, *, stream=None)",
    "log1p": "(self, *, stream=None)",
    "log2": "(self, *, stream=None)",
    "logcumsumexp": "(self, axis=None, *, reverse=False, inclusive=True, stream=None)",
    "logsumexp": "(self, axis=None, keepdims=False, *, stream=None)",
    "max": "(self, axis=None, keepdims=False, *, stream=None)",
    "mean": "(self, axis=None, keepdims=False, *, stream=None)",
    "min": "(self, axis=None, keepdims=False, *, stream=None)",
    "moveaxis": "(self, source, destination, *, stream=None)",
    "prod": "(self, axis=None, keepdims=False, *, stream=None)",
    "reciprocal": "(self, *, stream=None)",
    "reshape": "(self, *shape, stream=None)",
    "round": "(self, decimals=0, *, stream=None)",
    "rsqrt": "(self, *, stream=None)",
    "sin": "(self, *, stream=None)",
    "split": "(self, indices_or_sections, axis=0, *, stream=None)",
    "sqrt": "(self, *, stream=None)",
    "square": "(self, *, stream=None)",
    "squeeze": "(self, axis=None, *, stream=None)",
    "std": "(self, axis=None, keepdims=False, ddof=0, *, correction=None, stream=None)",
    "sum": "(self, axis=None, keepdims=False, *, stream=None)",
    "swapaxes": "(self, axis1, axis2, *, stream=None)",
    "tolist": "(self)",
    "transpose": "(self, *axes, stream=None)",
    "var": "(self, axis=None, keepdims=False, ddof=0, *, correction=None, stream=None)",
    "view": "(self, dtype, *, stream=None)",
    "__array__": "(self, dtype=None, copy=None)",
    "__getstate__": "(self)",
    "__setstate__": "(self, state, /)",
}


def test_array_has_every_mlx_member():
    missing = [n for n in ARRAY_MEMBERS if not hasattr(mx.array, n)]
    assert not missing, f"mx.array lacks {missing}"


@pytest.mark.mlxc_only       # nanobind methods have no inspectable signature
@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_array_method_signature(name):
    assert str(inspect.signature(getattr(mx.array, name))) == SIGNATURES[name]


def test_methods_forward_their_arguments():
    x = mx.array(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    xn = np.array(x)
    np.testing.assert_allclose(np.array(x.sum(1, True)), xn.sum(1, keepdims=True))
    np.testing.assert_allclose(np.array(x.cumsum(2, reverse=True)),
                               np.flip(np.cumsum(np.flip(xn, 2), 2), 2))
    np.testing.assert_allclose(np.array(x.var(0, False, 1)), xn.var(0, ddof=1))
    # correction replaces ddof, as in MLX
    np.testing.assert_allclose(np.array(x.std(correction=1)), xn.std(ddof=1), rtol=1e-6)
    np.testing.assert_allclose(np.array(x.var(ddof=3, correction=1)), xn.var(ddof=1))
    np.testing.assert_array_equal(np.array(x.moveaxis(0, 2)), np.moveaxis(xn, 0, 2))
    np.testing.assert_array_equal(np.array(x.flatten(1)), xn.reshape(2, 12))
    np.testing.assert_array_equal(np.array(x.diagonal(1, 1, 2)), np.diagonal(xn, 1, 1, 2))
    np.testing.assert_array_equal(np.array(x.split([1], 1)[1]), xn[:, 1:])
    np.testing.assert_array_equal(np.array(x.view(mx.int32)), xn.view(np.int32))


# ---------------------------------------------------------------- helper classes

def test_array_at_class():
    a = mx.arange(6).reshape(2, 3)
    assert type(a.at) is mx.ArrayAt and type(a.at[0]) is mx.ArrayAt
    np.testing.assert_array_equal(np.array(a.at[0].add(1)), [[1, 2, 3], [3, 4, 5]])
    idx = mx.array([0, 0, 1])
    np.testing.assert_array_equal(np.array(mx.zeros((3,)).at[idx].add(1)), [2, 1, 0])
    np.testing.assert_array_equal(np.array(mx.ones((3,)).at[idx].multiply(3)), [9, 3, 1])
    with pytest.raises(ValueError, match="Must give indices to array.at"):
        a.at.add(1)
    with pytest.raises(TypeError):
        mx.ArrayAt(a)


def test_array_iterator_class():
    a = mx.arange(6).reshape(3, 2)
    it = iter(a)
    assert type(it) is mx.ArrayIterator
    np.testing.assert_array_equal(np.array(next(it)), [0, 1])
    # iterating it again starts a new iterator at its position and leaves it there (MLX)
    rest = list(it)
    assert [r.tolist() for r in rest] == [[2, 3], [4, 5]]
    np.testing.assert_array_equal(np.array(next(it)), [2, 3])
    assert [r.tolist() for r in a] == [[0, 1], [2, 3], [4, 5]]
    assert list(iter(mx.zeros((0, 3)))) == []
    with pytest.raises(TypeError):
        iter(mx.array(1))
    with pytest.raises(TypeError):
        mx.ArrayIterator(a)
    with pytest.raises(TypeError):
        len(it)


class _HasMlxArray:
    def __mlx_array__(self):
        return mx.array([1, 2, 3])


def test_array_like_protocol():
    np.testing.assert_array_equal(np.array(mx.array(_HasMlxArray())), [1, 2, 3])
    np.testing.assert_array_equal(np.array(mx.array([1]) + _HasMlxArray()), [2, 3, 4])
    assert isinstance(mx.ArrayLike(_HasMlxArray()), mx.ArrayLike)
    assert not isinstance(_HasMlxArray(), mx.ArrayLike)
    with pytest.raises(ValueError):
        mx.array(mx.ArrayLike(3))


# ---------------------------------------------------------------- pickling

MLX_DTYPE_NUMBER = {"bool_": 0, "uint8": 1, "uint16": 2, "uint32": 3, "uint64": 4, "int8": 5,
                    "int16": 6, "int32": 7, "int64": 8, "float16": 9, "float32": 10,
                    "float64": 11, "bfloat16": 12, "complex64": 13}


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_getstate_is_mlx_state_and_pickle_roundtrips(name):
    vals = [1, 0, 1] if name == "bool_" else [1.5, -2.0, 3.25] if "float" in name or \
        name == "complex64" else [1, 2, 3]
    a = mx.array(vals, dt(name)).reshape(3, 1)[::2]          # a strided view
    state = a.__getstate__()
    assert isinstance(state, tuple) and len(state) == 2
    values, number = state
    assert number == MLX_DTYPE_NUMBER[name] and isinstance(values, np.ndarray)
    if name == "bfloat16":
        assert values.dtype == np.uint16          # the bits, as MLX stores them
        np.testing.assert_array_equal(values.reshape(-1), [0x3FC0, 0x4050])
    else:
        np.testing.assert_array_equal(values, np.array(a))
    for proto in (2, pickle.HIGHEST_PROTOCOL):
        b = pickle.loads(pickle.dumps(a, protocol=proto))
        # (MLX 0.32.4 loads float64 back as float32; mlxc keeps the dtype)
        if not (name == "float64" and os.environ.get("MLXC_TEST_REFERENCE")):
            assert b.dtype == a.dtype
        assert b.shape == a.shape
        assert mx.array_equal(a, b).item()
    assert mx.array_equal(copy.deepcopy(a), a).item()


def test_pickle_protocol_and_setstate_errors():
    a = mx.arange(3)
    for proto in (0, 1):
        with pytest.raises(TypeError, match="cannot pickle"):
            pickle.dumps(a, protocol=proto)
    b = mx.array.__new__(mx.array)
    b.__setstate__((np.array([1.0, 2.0], np.float32), 10))
    np.testing.assert_array_equal(np.array(b), [1, 2])
    with pytest.raises(ValueError, match="Invalid pickle state"):
        mx.array.__new__(mx.array).__setstate__((np.array([1.0]),))


@pytest.mark.mlxc_only      # MLX raises RuntimeError/accepts garbage here
def test_setstate_bad_states():
    with pytest.raises(ValueError, match="Invalid pickle state"):
        mx.array.__new__(mx.array).__setstate__((1, 10))
    with pytest.raises(ValueError, match="Invalid pickle state"):
        mx.array.__new__(mx.array).__setstate__((np.array([1.0]), 99))
    with pytest.raises(TypeError):
        mx.arange(3).__setstate__((np.array([1.0]), 10))


# ---------------------------------------------------------------- buffer sizes

def test_get_array_buffer_size():
    x = mx.array(np.zeros(1000, np.float32))
    n = mx.get_array_buffer_size(x)
    assert n >= 4000
    # each buffer counted once; trees walked; other leaves ignored
    assert mx.get_array_buffer_size(x, [x, {"a": x, "b": (x, 3)}], "s") == n
    y = mx.array(np.zeros(10, np.int8))
    assert mx.get_array_buffer_size(x, y) == n + mx.get_array_buffer_size(y)
    assert mx.get_array_buffer_size() == 0
    with pytest.raises(ValueError, match="must be evaluated"):
        mx.get_array_buffer_size(x + 1)


@pytest.mark.mlxc_only
def test_get_array_buffer_size_is_allocator_size():
    before = mx.get_active_memory()
    x = mx.array(np.zeros(12345, np.float32))
    assert mx.get_array_buffer_size(x) == mx.get_active_memory() - before


# ---------------------------------------------------------------- streams

def test_thread_local_stream():
    s = mx.new_thread_local_stream(mx.cpu)
    assert type(s) is mx.ThreadLocalStream
    assert s.device == mx.Device(mx.cpu)
    assert repr(s).startswith("ThreadLocalStream(Device(cpu, 0), ")
    assert s == s and s != mx.new_thread_local_stream(mx.cpu)
    np.testing.assert_array_equal(np.array(mx.add(mx.array(1), 2, stream=s)), 3)
    with mx.stream(s):
        main = mx.default_stream(mx.cpu)
    with mx.stream(s):
        assert mx.default_stream(mx.cpu) == main       # the same stream in one thread
    seen = []

    def worker():
        with mx.stream(s):
            seen.append(mx.default_stream(mx.cpu))
            seen.append(np.array(mx.multiply(mx.array(3), 4, stream=s)).item())

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen[1] == 12 and seen[0] != main                # another thread, its own stream
    mx.synchronize(s)
    with pytest.raises(TypeError):
        mx.ThreadLocalStream()
    with pytest.raises(TypeError):
        pickle.dumps(s)
    with pytest.raises(TypeError):
        mx.new_thread_local_stream(3)


def test_thread_unsafe_stream():
    s = mx.new_thread_unsafe_stream(mx.cpu)
    assert type(s) is mx.Stream and s.device == mx.Device(mx.cpu)
    out = []
    t = threading.Thread(target=lambda: out.append(np.array(mx.add(1, 2, stream=s)).item()))
    t.start()
    t.join()
    assert out == [3]
    with pytest.raises(ValueError, match=r"\[new_thread_unsafe_stream\]"):
        mx.new_thread_unsafe_stream(mx.gpu)


@pytest.mark.mlxc_only     # MLX reports the error from its internal new_stream
def test_thread_local_gpu_stream_fails_on_use():
    g = mx.new_thread_local_stream(mx.gpu)            # made lazily, as in MLX
    with pytest.raises(ValueError, match="gpu"):
        mx.add(1, 2, stream=g)


# ---------------------------------------------------------------- version

def test_version():
    assert mx.__version__ == "0.32.4"      # the MLX API level scripts compare against
    assert tuple(int(p) for p in mx.__version__.split(".")) >= (0, 32)


@pytest.mark.mlxc_only
def test_mlxc_version():
    assert isinstance(mlxc.__version__, str) and mlxc.__version__ != mx.__version__
