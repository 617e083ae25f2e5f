"""mx.array construction, attributes, conversion, printing, protocols."""
import copy
import pickle

import numpy as np
import pytest

import mlxc.core as mx
from helpers import DTYPE_NAMES, DTYPE_SIZES, NP_DTYPE, dt, to_np


# ---------------------------------------------------------- construction --
@pytest.mark.parametrize("value,dtype,shape", [
    (True, "bool_", ()),
    (3, "int32", ()),
    (3.5, "float32", ()),
    (1 + 2j, "complex64", ()),
    ([1, 2.5], "float32", (2,)),
    ([True, 2], "int32", (2,)),
    ([True, 2.0], "float32", (2,)),
    ([True, False], "bool_", (2,)),
    ([1, 2j], "complex64", (2,)),
    ([[1, 2], [3, 4]], "int32", (2, 2)),
    (((1, 2), (3, 4)), "int32", (2, 2)),
    ([(1, 2), [3, 4]], "int32", (2, 2)),
    ([], "float32", (0,)),
    ([[]], "float32", (1, 0)),
    (2 ** 31, "int64", ()),
    ([1, 2 ** 40], "int64", (2,)),
    (-2 ** 63, "int64", ()),
])
def test_python_inference(value, dtype, shape):
    a = mx.array(value)
    assert a.dtype == dt(dtype)
    assert a.shape == shape
    np.testing.assert_array_equal(to_np(a), np.array(value, dtype=np.result_type(to_np(a))))


def test_nested_values():
    a = mx.array([[1.5, -2.0, 3.25], [0.0, 1e10, -1e-10]])
    assert a.tolist() == [[1.5, -2.0, 3.25], [0.0, float(np.float32(1e10)),
                                            float(np.float32(-1e-10))]]


def test_array_of_arrays():
    a = mx.array([mx.array([1, 2]), mx.array([3, 4])])
    assert a.shape == (2, 2) and a.dtype == mx.int32
    assert a.tolist() == [[1, 2], [3, 4]]
    b = mx.array([mx.array(1.5), 2])
    assert b.dtype == mx.float32 and b.tolist() == [1.5, 2.0]


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_argument(name):
    a = mx.array([0, 1, 2], dt(name))
    assert a.dtype == dt(name)
    b = mx.array([0, 1, 2], dtype=dt(name))
    assert b.dtype == dt(name)
    expected = [bool(v) for v in (0, 1, 2)] if name == "bool_" else [0, 1, 2]
    assert [complex(v) if name == "complex64" else v for v in b.tolist()] == \
        [complex(v) if name == "complex64" else v for v in expected]


def test_dtype_argument_truncates_floats():
    assert mx.array([1.7, -2.7], dtype=mx.int32).tolist() == [1, -2]
    assert mx.array(3.0, dtype=mx.int8).dtype == mx.int8


def test_from_array_copies_and_casts():
    a = mx.array([1, 2])
    b = mx.array(a)
    c = mx.array(a, mx.float32)
    a[0] = 9
    assert b.tolist() == [1, 2]
    assert c.dtype == mx.float32 and c.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("np_dtype,mx_name", [
    (np.bool_, "bool_"), (np.uint8, "uint8"), (np.uint16, "uint16"),
    (np.uint32, "uint32"), (np.uint64, "uint64"), (np.int8, "int8"),
    (np.int16, "int16"), (np.int32, "int32"), (np.int64, "int64"),
    (np.float16, "float16"), (np.float32, "float32"),
    # float64 and complex128 numpy arrays become float32 / complex64
    (np.float64, "float32"), (np.complex64, "complex64"),
    (np.complex128, "complex64"),
])
def test_from_numpy(np_dtype, mx_name):
    n = np.array([[0, 1, 2], [3, 4, 5]]).astype(np_dtype)
    a = mx.array(n)
    assert a.dtype == dt(mx_name)
    assert a.shape == (2, 3)
    np.testing.assert_array_equal(to_np(a), n)


def test_from_numpy_scalars_and_views():
    assert mx.array(np.float64(1.5)).dtype == mx.float32
    assert mx.array(np.int64(3)).dtype == mx.int64
    assert mx.array(np.float32(2.5)).item() == 2.5
    assert mx.array(np.bool_(True)).dtype == mx.bool_
    n = np.arange(6).reshape(2, 3)
    assert mx.array(n.T).tolist() == n.T.tolist()
    assert mx.array(n[:, ::2]).tolist() == n[:, ::2].tolist()


def test_from_numpy_is_a_copy():
    n = np.array([1.0, 2.0], np.float32)
    a = mx.array(n)
    n[0] = 7
    assert a.tolist() == [1.0, 2.0]


def test_asarray():
    assert mx.asarray([1, 2]).dtype == mx.int32
    assert mx.asarray(np.array([1.5])).dtype == mx.float32
    assert mx.asarray(3).tolist() == 3
    assert mx.asarray([1, 2], dtype=mx.int8).dtype == mx.int8
    assert mx.asarray(mx.array([1]), mx.float32).dtype == mx.float32


# ------------------------------------------------------------ attributes --
@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_size_attributes(name):
    a = mx.zeros((2, 3, 4), dt(name))
    assert a.shape == (2, 3, 4) and isinstance(a.shape, tuple)
    assert a.ndim == 3
    assert a.size == 24
    assert a.itemsize == DTYPE_SIZES[name]
    assert a.nbytes == 24 * DTYPE_SIZES[name]


def test_scalar_attributes():
    a = mx.array(1.5)
    assert a.shape == () and a.ndim == 0 and a.size == 1 and a.nbytes == 4


def test_T_and_mT():
    n = np.arange(24).reshape(2, 3, 4)
    a = mx.array(n)
    assert a.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(to_np(a.T), n.T)
    assert a.mT.shape == (2, 4, 3)
    np.testing.assert_array_equal(to_np(a.mT), np.swapaxes(n, -1, -2))
    assert mx.ones(3).T.shape == (3,)
    with pytest.raises(ValueError):
        mx.ones(3).mT


def test_real_imag():
    c = mx.array([1 + 2j, 3 - 1j])
    assert c.real.dtype == mx.float32 and c.real.tolist() == [1.0, 3.0]
    assert c.imag.dtype == mx.float32 and c.imag.tolist() == [2.0, -1.0]
    f = mx.array([1.0, 2.0])
    assert f.real.tolist() == [1.0, 2.0] and f.imag.tolist() == [0.0, 0.0]
    i = mx.array([1, 2])
    assert i.real.dtype == mx.int32 and i.imag.tolist() == [0, 0]


# ------------------------------------------------------ item / tolist --
def test_item():
    assert mx.array(3).item() == 3 and type(mx.array(3).item()) is int
    assert type(mx.array(3.5).item()) is float
    assert mx.array(True).item() is True
    assert mx.array(1 + 2j).item() == 1 + 2j
    assert mx.array([[1.5]]).item() == 1.5
    assert mx.array(3, mx.float16).item() == 3.0
    assert type(mx.array(3, mx.bfloat16).item()) is float
    assert mx.array(2 ** 40).item() == 2 ** 40
    assert mx.array(3, mx.uint64).item() == 3
    assert mx.array([2 ** 32], mx.uint64)[0].item() == 2 ** 32
    with pytest.raises(ValueError):
        mx.array([1, 2]).item()


def test_tolist():
    assert mx.array(3).tolist() == 3
    assert mx.array([[True, False]]).tolist() == [[True, False]]
    assert mx.array([1.5], mx.bfloat16).tolist() == [1.5]
    assert mx.array([1 + 2j]).tolist() == [1 + 2j]
    assert mx.zeros((2, 0)).tolist() == [[], []]
    v = mx.array([1, 2], mx.int64).tolist()
    assert all(type(x) is int for x in v)
    v = mx.array([1, 2], mx.float16).tolist()
    assert all(type(x) is float for x in v)


# ---------------------------------------------------------------- astype --
def test_astype_values():
    assert mx.array([1.9, -1.9]).astype(mx.int32).tolist() == [1, -1]
    assert mx.array([300]).astype(mx.uint8).tolist() == [44]
    assert mx.array([-1]).astype(mx.uint8).tolist() == [255]
    assert mx.array([2.5, 0.0]).astype(mx.bool_).tolist() == [True, False]
    assert mx.array([1.5]).astype(mx.complex64).tolist() == [1.5 + 0j]
    assert mx.array([1 + 2j]).astype(mx.float32).tolist() == [1.0]
    assert mx.array([0.1]).astype(mx.float16).tolist() == [float(np.float16(0.1))]
    assert mx.astype(mx.array([1.5]), mx.int32).tolist() == [1]
    assert mx.array([1, 2]).astype(dtype=mx.float16).dtype == mx.float16


@pytest.mark.parametrize("src", DTYPE_NAMES)
@pytest.mark.parametrize("dst", DTYPE_NAMES)
def test_astype_small_values_all_pairs(src, dst):
    vals = [0, 1, 2, 3]
    a = mx.array(vals, dt(src)).astype(dt(dst))
    assert a.dtype == dt(dst)
    if dst == "bool_":
        want = [bool(v) for v in vals] if src != "bool_" else [False, True, True, True]
    elif src == "bool_":
        want = [0, 1, 1, 1]
    else:
        want = vals
    assert [complex(v) for v in a.tolist()] == [complex(v) for v in want]


# ------------------------------------------------------------ repr / str --
REPRS = [
    (lambda: mx.array(3), "array(3, dtype=int32)"),
    (lambda: mx.array(3.0), "array(3, dtype=float32)"),
    (lambda: mx.array(True), "array(True, dtype=bool)"),
    (lambda: mx.array(-0.0), "array(-0, dtype=float32)"),
    (lambda: mx.array(1e20), "array(1e+20, dtype=float32)"),
    (lambda: mx.array([1, 2, 3]), "array([1, 2, 3], dtype=int32)"),
    (lambda: mx.array([1.5, -2.25, 3]), "array([1.5, -2.25, 3], dtype=float32)"),
    (lambda: mx.array([0.1, 0.123456789]), "array([0.1, 0.123457], dtype=float32)"),
    (lambda: mx.array([1e10, 1]), "array([1e+10, 1], dtype=float32)"),
    (lambda: mx.array([1e-5, 1]), "array([1e-05, 1], dtype=float32)"),
    (lambda: mx.array([100000.0]), "array([100000], dtype=float32)"),
    (lambda: mx.array([1e6, 2.0]), "array([1e+06, 2], dtype=float32)"),
    (lambda: mx.array([float("nan"), float("inf"), -float("inf")]),
     "array([nan, inf, -inf], dtype=float32)"),
    (lambda: mx.array([True, False]), "array([True, False], dtype=bool)"),
    (lambda: mx.array([1, 2], mx.float16), "array([1, 2], dtype=float16)"),
    (lambda: mx.array([0.1], mx.float16), "array([0.0999756], dtype=float16)"),
    (lambda: mx.array([1.5, 2], mx.bfloat16), "array([1.5, 2], dtype=bfloat16)"),
    (lambda: mx.array([1, 2], mx.uint8), "array([1, 2], dtype=uint8)"),
    (lambda: mx.array([1, 2], mx.int64), "array([1, 2], dtype=int64)"),
    (lambda: mx.array([1, 2], mx.float64), "array([1, 2], dtype=float64)"),
    (lambda: mx.array([1 + 2j, 3 - 4j]), "array([1+2j, 3-4j], dtype=complex64)"),
    (lambda: mx.array([1 + 0.5j, -1 - 2.25j]), "array([1+0.5j, -1-2.25j], dtype=complex64)"),
    (lambda: mx.array(0.5j), "array(0+0.5j, dtype=complex64)"),
    (lambda: mx.array([]), "array([], dtype=float32)"),
    (lambda: mx.zeros((2, 0)), "array([[],\n       []], dtype=float32)"),
    (lambda: mx.array([[1, 2], [3, 4]]), "array([[1, 2],\n       [3, 4]], dtype=int32)"),
    (lambda: mx.array([[True, False], [False, True]]),
     "array([[True, False],\n       [False, True]], dtype=bool)"),
    (lambda: mx.array([1, 2, 3]).reshape(3, 1),
     "array([[1],\n       [2],\n       [3]], dtype=int32)"),
    (lambda: mx.ones((1, 1, 1)), "array([[[1]]], dtype=float32)"),
    (lambda: mx.arange(24).reshape(2, 3, 4),
     "array([[[0, 1, 2, 3],\n        [4, 5, 6, 7],\n        [8, 9, 10, 11]],\n"
     "       [[12, 13, 14, 15],\n        [16, 17, 18, 19],\n        [20, 21, 22, 23]]], dtype=int32)"),
    (lambda: mx.arange(6), "array([0, 1, 2, 3, 4, 5], dtype=int32)"),
    # any axis longer than 6 is summarized as first 3, ..., last 3
    (lambda: mx.arange(7), "array([0, 1, 2, ..., 4, 5, 6], dtype=int32)"),
    (lambda: mx.arange(2000), "array([0, 1, 2, ..., 1997, 1998, 1999], dtype=int32)"),
    (lambda: mx.arange(1001.0), "array([0, 1, 2, ..., 998, 999, 1000], dtype=float32)"),
    (lambda: mx.arange(40000).reshape(200, 200),
     "array([[0, 1, 2, ..., 197, 198, 199],\n"
     "       [200, 201, 202, ..., 397, 398, 399],\n"
     "       [400, 401, 402, ..., 597, 598, 599],\n"
     "       ...,\n"
     "       [39400, 39401, 39402, ..., 39597, 39598, 39599],\n"
     "       [39600, 39601, 39602, ..., 39797, 39798, 39799],\n"
     "       [39800, 39801, 39802, ..., 39997, 39998, 39999]], dtype=int32)"),
]


@pytest.mark.parametrize("make,text", REPRS, ids=[str(i) for i in range(len(REPRS))])
def test_repr_and_str(make, text):
    a = make()
    assert repr(a) == text
    assert str(a) == text


def test_repr_summarizes_3d():
    r = repr(mx.arange(10 * 10 * 11).reshape(10, 10, 11))
    assert r.startswith("array([[[0, 1, 2, ..., 8, 9, 10],\n        [11, 12, 13, ..., 19, 20, 21],")
    assert "\n       ...,\n       [[770, 771, 772, ..., 778, 779, 780]," in r
    assert r.endswith("[1089, 1090, 1091, ..., 1097, 1098, 1099]]], dtype=int32)")


# ---------------------------------------------------- python protocols --
def test_len_and_iteration():
    a = mx.array([[1, 2], [3, 4], [5, 6]])
    assert len(a) == 3
    rows = list(a)
    assert len(rows) == 3 and all(isinstance(r, mx.array) for r in rows)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    assert [x.item() for x in mx.array([7, 8])] == [7, 8]
    with pytest.raises(TypeError):
        len(mx.array(3))
    with pytest.raises(TypeError):
        iter(mx.array(3))


def test_contains():
    assert 3 in mx.array([1, 2, 3])
    assert 4 not in mx.array([1, 2, 3])


def test_scalar_conversions():
    assert bool(mx.array(0)) is False
    assert bool(mx.array([1])) is True
    assert int(mx.array(3.7)) == 3
    assert int(mx.array(-3.7)) == -3
    assert float(mx.array(3)) == 3.0
    assert int(mx.array([5])) == 5
    assert int(mx.array(2 ** 40)) == 2 ** 40
    assert complex(mx.array(1 + 2j)) == 1 + 2j
    assert [10, 20, 30][mx.array(1)] == 20  # __index__
    for f in (bool, float, int):
        with pytest.raises(ValueError):
            f(mx.array([1, 2]))
    with pytest.raises(ValueError):
        bool(mx.array([]))
    with pytest.raises(TypeError):
        float(mx.array(1 + 2j))


def test_hash_is_identity_based():
    a = mx.array([1, 2])
    b = mx.array([1, 2])
    assert hash(a) == hash(a)
    assert hash(a) != hash(b)
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"


def test_equality_returns_array_not_bool():
    r = mx.array([1, 2]) == mx.array([1, 3])
    assert isinstance(r, mx.array) and r.tolist() == [True, False]
    # comparison with an unsupported type: False (no exception)
    assert (mx.array([1, 2]) == "a") is False
    with pytest.raises(TypeError):
        mx.array([1, 2]) == None  # noqa: E711


# -------------------------------------------------- buffer protocol --
@pytest.mark.parametrize("name,fmt", [
    ("bool_", "?"), ("uint8", "B"), ("uint16", "H"), ("uint32", "I"),
    ("uint64", "Q"), ("int8", "b"), ("int16", "h"), ("int32", "i"),
    ("int64", "q"), ("float16", "e"), ("float32", "f"), ("float64", "d"),
    ("complex64", "Zf"),
])
def test_buffer_protocol(name, fmt):
    vals = [[0, 1, 2], [3, 4, 5]]
    a = mx.array(vals, dt(name))
    mv = memoryview(a)
    assert mv.format == fmt
    assert mv.shape == (2, 3)
    assert mv.itemsize == DTYPE_SIZES[name]
    n = np.array(a)
    assert n.dtype == NP_DTYPE[name]
    np.testing.assert_array_equal(n, np.array(vals).astype(NP_DTYPE[name]))
    np.testing.assert_array_equal(np.asarray(a), n)


def test_buffer_protocol_noncontiguous():
    n = np.arange(6, dtype=np.int32).reshape(2, 3)
    a = mx.array(n)
    np.testing.assert_array_equal(np.array(a.T), n.T)
    np.testing.assert_array_equal(np.array(a[:, ::2]), n[:, ::2])
    np.testing.assert_array_equal(np.array(a[:, ::-1]), n[:, ::-1])
    assert memoryview(mx.array([[1, 2], [3, 4]]).T).strides == (4, 8)


def test_buffer_bfloat16_not_numpy_convertible():
    with pytest.raises(ValueError):
        np.array(mx.array([1, 2], mx.bfloat16))


def test_numpy_round_trip_values():
    n = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(np.array(mx.array(n)), n)


# ------------------------------------------------- pickle / copy --
@pytest.mark.parametrize("make", [
    lambda: mx.array([1, 2, 3]),
    lambda: mx.array([[1.5, 2]], mx.float16),
    lambda: mx.array([1.5, -3], mx.bfloat16),
    lambda: mx.array(True),
    lambda: mx.array([1 + 2j]),
    lambda: mx.arange(12, dtype=mx.uint16).reshape(3, 4).T,
])
def test_pickle_copy_deepcopy(make):
    a = make()
    for b in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert isinstance(b, mx.array) and b is not a
        assert b.dtype == a.dtype and b.shape == a.shape
        assert b.tolist() == a.tolist()


def test_copies_are_independent():
    a = mx.array([1, 2])
    c = copy.copy(a)
    d = copy.deepcopy(a)
    a[0] = 9
    assert c.tolist() == [1, 2] and d.tolist() == [1, 2]
