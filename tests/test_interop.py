"""numpy interop: the buffer protocol, __array__ (numpy 2's copy protocol), mx.asarray's
copy semantics, __array_namespace__, pickling and copy.copy/deepcopy of every dtype.

The oracle is numpy itself (values, memory sharing seen through writes) and MLX 0.32.4's
observed behaviour; tests marked mlxc_only cover where mlxc shares memory that MLX's CPU
build copies (the documented copy=None meaning) or fixes an MLX quirk.
"""
import copy
import pickle

import numpy as np
import pytest

import mlxc.core as mx
from helpers import DTYPE_NAMES, DTYPE_SIZES, NP_DTYPE, dt

FORMATS = {"bool_": "?", "uint8": "B", "uint16": "H", "uint32": "I", "uint64": "Q",
           "int8": "b", "int16": "h", "int32": "i", "int64": "q", "float16": "e",
           "bfloat16": "bfloat16", "float32": "f", "float64": "d", "complex64": "Zf"}
NUMPY_NAMES = [n for n in DTYPE_NAMES if n != "bfloat16"]


def _values(name, shape=(2, 3)):
    """Distinct test values of dtype `name` (as numpy, bfloat16 as float32)."""
    n = int(np.prod(shape))
    if name == "bool_":
        v = np.arange(n) % 3 == 1
    elif name == "complex64":
        v = np.arange(n) - 2.5j * np.arange(n)[::-1]
    elif name.startswith("uint"):
        v = np.arange(n) * 7 + 1
    else:
        v = (np.arange(n) - n // 2) * 1.5 if name.startswith(("float", "bfloat")) \
            else (np.arange(n) - n // 2) * 3
    return v.reshape(shape).astype(NP_DTYPE[name])


# ------------------------------------------------------------- buffer protocol --
@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_memoryview_format_every_dtype(name):
    a = mx.array(_values(name), dt(name))
    mv = memoryview(a)
    assert mv.format == FORMATS[name]
    assert mv.itemsize == DTYPE_SIZES[name]
    assert mv.shape == (2, 3)
    assert mv.strides == (3 * DTYPE_SIZES[name], DTYPE_SIZES[name])
    assert mv.readonly is False
    assert mv.nbytes == 6 * DTYPE_SIZES[name]


def test_memoryview_bfloat16_bytes_are_the_bits():
    # bfloat16 is the top half of float32: the buffer's bytes must be exactly those halves.
    vals = np.array([1.5, -2.0, 3.25, 0.0], np.float32)
    a = mx.array(vals, mx.bfloat16)
    bits = np.frombuffer(memoryview(a).tobytes(), np.uint16)
    np.testing.assert_array_equal(bits, (vals.view(np.uint32) >> 16).astype(np.uint16))


@pytest.mark.parametrize("name", NUMPY_NAMES)
def test_np_array_copy_false_shares_memory(name):
    vals = _values(name)
    a = mx.array(vals, dt(name))
    n = np.array(a, copy=False)
    assert n.dtype == NP_DTYPE[name]
    np.testing.assert_array_equal(n, vals)
    # Shared, not copied: a write through numpy is visible in the array.
    n[0, 0] = vals[1, 2]
    assert a[0, 0].item() == vals[1, 2].item()
    assert np.shares_memory(np.asarray(a), n)


def test_asarray_views_strided_arrays_without_copy():
    a = mx.arange(12, dtype=mx.int32).reshape(3, 4)
    for v, ref in ((a.T, np.arange(12).reshape(3, 4).T), (a[:, ::-2], np.arange(12).reshape(3, 4)[:, ::-2])):
        n = np.asarray(v)
        np.testing.assert_array_equal(n, ref)
        assert np.shares_memory(n, np.asarray(a))


def test_np_array_copy_false_with_cast_raises():
    a = mx.array([1, 2, 3])
    with pytest.raises(ValueError):
        np.array(a, dtype=np.float64, copy=False)
    # A cast that is allowed to copy gives the values.
    np.testing.assert_array_equal(np.array(a, dtype=np.float64), [1.0, 2.0, 3.0])


@pytest.mark.mlxc_only  # MLX's __array__ ignores copy=True and hands numpy a view
def test_array_protocol_copy_true_is_independent():
    a = mx.array([1.0, 2.0, 3.0])
    for n in (np.array(a), np.array(a, copy=True), a.__array__(copy=True),
              a.__array__(np.float64)):
        n[0] = 9
        assert a.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="Unable to avoid copy"):
        a.__array__(np.float64, copy=False)
    assert a.__array__(np.float32, copy=False).dtype == np.float32   # same dtype: a view


def test_bfloat16_not_numpy_convertible():
    a = mx.array([1, 2], mx.bfloat16)
    for f in (np.array, np.asarray, lambda x: np.array(x, copy=False)):
        with pytest.raises(ValueError, match="bfloat16"):
            f(a)
    assert a.tolist() == [1.0, 2.0]


def test_lazy_array_is_evaluated_by_the_buffer_protocol():
    a = mx.arange(4) * 3
    np.testing.assert_array_equal(np.asarray(a), [0, 3, 6, 9])
    b = mx.exp(mx.zeros((2, 2)))
    assert memoryview(b).tolist() == [[1.0, 1.0], [1.0, 1.0]]


# ------------------------------------------------------------------- asarray --
def test_asarray_signature_and_conversions():
    assert mx.asarray([1, 2]).dtype == mx.int32
    assert mx.asarray(np.arange(3.0)).dtype == mx.float32      # MLX's float64 mapping
    assert mx.asarray(np.arange(3.0), dtype=mx.float64).dtype == mx.float64
    assert mx.asarray(np.arange(3)).dtype == mx.int64
    assert mx.asarray(3.0).tolist() == 3.0
    assert mx.asarray(b"ab").tolist() == [97, 98]
    a = mx.array([1, 2, 3])
    b = mx.asarray(a, mx.float32)
    assert b.dtype == mx.float32 and b.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(TypeError):
        mx.asarray([1, 2], None, False)        # copy is keyword-only


def test_asarray_of_array_is_a_new_object():
    # MLX returns a new array object: in-place operators on it leave the input alone.
    a = mx.array([1, 2, 3])
    b = mx.asarray(a)
    assert b is not a
    b += 1
    assert a.tolist() == [1, 2, 3] and b.tolist() == [2, 3, 4]
    c = mx.asarray(a, copy=True)
    c[0] = 7
    assert a.tolist() == [1, 2, 3] and c.tolist() == [7, 2, 3]


def test_asarray_copy_false_raises_when_a_copy_is_needed():
    for x in ([1, 2], 3, (1.0, 2.0)):
        with pytest.raises(ValueError, match="Unable to avoid copy"):
            mx.asarray(x, copy=False)


@pytest.mark.mlxc_only  # MLX's CPU build copies here (its docs: copy=None shares when possible)
def test_asarray_shares_numpy_memory_unless_copy():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    shared = mx.asarray(x)
    shared_f = mx.asarray(x, copy=False)
    copied = mx.asarray(x, copy=True)
    cast = mx.asarray(x, dtype=mx.int32)
    x[0, 0] = 100
    assert shared[0, 0].item() == 100 and shared_f[0, 0].item() == 100
    assert copied[0, 0].item() == 0 and cast[0, 0].item() == 0
    assert cast.dtype == mx.int32
    with pytest.raises(ValueError, match="without a copy"):
        mx.asarray(x, dtype=mx.int32, copy=False)
    with pytest.raises(ValueError, match="without a copy"):
        mx.asarray(np.arange(3.0), copy=False)          # float64 -> float32 needs a copy
    a = mx.array([1, 2])
    assert mx.asarray(a, copy=False).tolist() == [1, 2]
    with pytest.raises(ValueError, match="Unable to avoid copy"):
        mx.asarray(a, mx.float32, copy=False)


@pytest.mark.mlxc_only
def test_asarray_byteswapped_numpy_falls_back_to_a_copy():
    x = np.arange(4, dtype=">i4")
    a = mx.asarray(x)
    assert a.dtype == mx.int32 and a.tolist() == [0, 1, 2, 3]
    with pytest.raises(BufferError):
        mx.asarray(x, copy=False)


def test_array_constructor_copies_and_has_no_copy_keyword():
    x = np.arange(3, dtype=np.float32)
    a = mx.array(x)
    x[0] = 5
    assert a.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError):
        mx.array(x, copy=False)


# ------------------------------------------------------- __array_namespace__ --
def test_array_namespace():
    a = mx.array([1.0])
    ns = a.__array_namespace__()
    assert ns is mx
    assert ns.sum(a).item() == 1.0
    with pytest.raises(ValueError, match="api_version"):
        a.__array_namespace__(api_version="2023.12")


# -------------------------------------------------------------- pickle / copy --
@pytest.mark.parametrize("name", [
    n if n != "float64" else pytest.param(n, marks=pytest.mark.mlxc_only)  # MLX: float32
    for n in DTYPE_NAMES])
def test_pickle_round_trip_every_dtype(name):
    a = mx.array(_values(name, (3, 4)), dt(name))
    for proto in (2, pickle.HIGHEST_PROTOCOL):
        b = pickle.loads(pickle.dumps(a, protocol=proto))
        assert isinstance(b, mx.array) and b.dtype == a.dtype and b.shape == a.shape
        assert mx.array_equal(a, b).item()
        assert memoryview(b).tobytes() == memoryview(a).tobytes()


@pytest.mark.parametrize("name", ["bfloat16", "float16", "float32"])
def test_pickle_keeps_special_values_bit_exact(name):
    a = mx.array([float("nan"), -0.0, float("inf"), -float("inf"), 1e-30], dt(name))
    b = pickle.loads(pickle.dumps(a))
    assert b.dtype == a.dtype
    assert memoryview(b).tobytes() == memoryview(a).tobytes()


@pytest.mark.parametrize("make", [
    lambda: mx.arange(12, dtype=mx.int16).reshape(3, 4).T,        # transposed view
    lambda: mx.arange(10.0)[::-3],                                  # negative strides
    lambda: mx.broadcast_to(mx.array([1, 2], mx.bfloat16), (3, 2)),  # zero strides
    lambda: mx.array(2.5, mx.bfloat16),                             # 0-d
    lambda: mx.zeros((0, 3), mx.complex64),                         # empty
    lambda: mx.arange(6) * 2,                                       # lazy
])
def test_pickle_and_copy_of_views_and_lazy_arrays(make):
    a = make()
    for b in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
        assert b is not a and b.dtype == a.dtype and b.shape == a.shape
        assert b.tolist() == a.tolist()


def test_deepcopy_keeps_sharing_within_the_copied_object():
    a = mx.array([1, 2])
    pair = copy.deepcopy([a, a])
    assert pair[0] is pair[1] and pair[0] is not a
    pair[0][0] = 5
    assert a.tolist() == [1, 2]


@pytest.mark.mlxc_only
@pytest.mark.mlxc_only
def test_unpickle_rejects_inconsistent_state():
    for state in ((b"abc", 10), (np.zeros(2, np.float32), 99), (np.zeros(2),), "x"):
        bare = mx.array.__new__(mx.array)
        with pytest.raises(ValueError, match="Invalid pickle state"):
            bare.__setstate__(state)


@pytest.mark.mlxc_only  # MLX raises RuntimeError("std::bad_cast") for these
@pytest.mark.parametrize("x", [np.array(["a"]), np.array([1, None], dtype=object),
                               np.array(["2020"], dtype="datetime64[D]")])
def test_unsupported_numpy_dtypes_raise_value_error(x):
    for f in (mx.array, mx.asarray):
        with pytest.raises(ValueError, match="Invalid type"):
            f(x)
    with pytest.raises(BufferError):           # numpy's own refusal to export
        mx.from_dlpack(x)
