"""DLPack: array.__dlpack__ / __dlpack_device__ and mx.from_dlpack, against numpy (always),
PyTorch and JAX (skipped when not importable).

Sharing is checked through writes on the other side; lifetimes through numpy reference
counts and mlxc's active-memory counter (a capsule, used or not, must keep the data alive
exactly as long as needed and free it afterwards).  Tests marked mlxc_only cover where
mlxc goes beyond MLX's CPU build: versioned capsules, zero-copy imports, copy=False.
"""
import gc
import sys

import numpy as np
import pytest

import mlxc.core as mx
from helpers import DTYPE_NAMES, NP_DTYPE, dt
from test_interop import NUMPY_NAMES, _values

MiB = 1 << 20


# --------------------------------------------------------------------- export --
def test_dlpack_device_is_cpu():
    assert mx.array([1]).__dlpack_device__() == (1, 0)


@pytest.mark.parametrize("name", NUMPY_NAMES)
def test_numpy_from_dlpack_every_dtype_shares_memory(name):
    vals = _values(name)
    a = mx.array(vals, dt(name))
    n = np.from_dlpack(a)
    assert n.dtype == NP_DTYPE[name] and n.shape == (2, 3)
    np.testing.assert_array_equal(n, vals)
    assert np.shares_memory(n, np.asarray(a))


@pytest.mark.parametrize("make,ref", [
    (lambda a: a.T, lambda n: n.T),
    (lambda a: a[:, ::2], lambda n: n[:, ::2]),
    (lambda a: a[::-1, 1:], lambda n: n[::-1, 1:]),
    (lambda a: mx.broadcast_to(a[0], (4, 4)), lambda n: np.broadcast_to(n[0], (4, 4))),
    (lambda a: a[1, 2], lambda n: n[1, 2]),
    (lambda a: a[:0], lambda n: n[:0]),
    (lambda a: a * 2 + 1, lambda n: n * 2 + 1),          # lazy: evaluated on export
])
def test_numpy_from_dlpack_views(make, ref):
    n0 = np.arange(16, dtype=np.float32).reshape(4, 4)
    a = make(mx.array(n0))
    n = np.from_dlpack(a)
    np.testing.assert_array_equal(n, ref(n0))
    assert n.strides == np.asarray(a).strides


def test_export_to_another_device_raises_buffer_error():
    a = mx.array([1.0])
    with pytest.raises(BufferError):
        a.__dlpack__(dl_device=(2, 0))
    a.__dlpack__(dl_device=(1, 0))            # the CPU itself is fine


@pytest.mark.mlxc_only  # MLX always returns the legacy capsule
def test_capsule_versions():
    a = mx.array([1.0, 2.0])
    assert "dltensor" in repr(a.__dlpack__()) and "versioned" not in repr(a.__dlpack__())
    assert '"dltensor_versioned"' in repr(a.__dlpack__(max_version=(1, 0)))
    assert '"dltensor_versioned"' in repr(a.__dlpack__(max_version=(1, 3)))
    assert '"dltensor"' in repr(a.__dlpack__(max_version=(0, 8)))
    with pytest.raises(TypeError):
        a.__dlpack__(max_version=1)
    with pytest.raises(TypeError):
        a.__dlpack__(1)                        # keyword-only


@pytest.mark.mlxc_only
def test_export_copy_true_is_independent_and_copy_false_shares():
    a = mx.array([1.0, 2.0, 3.0])
    c = np.from_dlpack(a, copy=True)
    c[0] = 9
    assert a.tolist() == [1.0, 2.0, 3.0]
    s = np.from_dlpack(a, copy=False)
    s[0] = 7
    assert a.tolist() == [7.0, 2.0, 3.0]


def test_export_keeps_the_data_alive_after_the_array_dies_or_is_rebound():
    a = mx.arange(5)
    n = np.from_dlpack(a)
    del a
    gc.collect()
    mx.zeros((1000,)).tolist()                # reuse freed memory, if any was freed
    assert n.tolist() == [0, 1, 2, 3, 4]
    b = mx.arange(5)
    m = np.from_dlpack(b)
    b += 10                                    # rebinds b to a new node and buffer
    assert m.tolist() == [0, 1, 2, 3, 4] and b.tolist() == list(range(10, 15))


@pytest.mark.mlxc_only  # reads mlxc's allocator statistics
@pytest.mark.parametrize("version", [None, (1, 0)])
def test_capsules_free_the_buffer_used_or_unused(version):
    gc.collect()
    base = mx.get_active_memory()
    a = mx.zeros((MiB // 4,))
    mx.eval(a)
    assert mx.get_active_memory() - base >= MiB
    # Unused capsule: it alone keeps the buffer, and frees it when it dies.
    cap = a.__dlpack__(max_version=version)
    del a
    assert mx.get_active_memory() - base >= MiB
    del cap
    assert mx.get_active_memory() - base < MiB
    # Used capsule: the consumer (numpy) calls the deleter when its array dies.
    a = mx.zeros((MiB // 4,))
    n = np.from_dlpack(a) if version else np.from_dlpack(_Legacy(a))
    del a
    assert mx.get_active_memory() - base >= MiB
    assert n.sum() == 0
    del n
    gc.collect()
    assert mx.get_active_memory() - base < MiB


class _Legacy:
    """A producer that answers only the pre-1.0 protocol (forces a legacy capsule)."""

    def __init__(self, x):
        self.x = x

    def __dlpack__(self, stream=None):
        return self.x.__dlpack__()

    def __dlpack_device__(self):
        return self.x.__dlpack_device__()


@pytest.mark.mlxc_only
def test_many_capsules_do_not_leak():
    gc.collect()
    base = mx.get_active_memory()
    for _ in range(300):
        a = mx.ones((4096,))
        caps = [a.__dlpack__(), a.__dlpack__(max_version=(1, 0))]
        n = np.from_dlpack(a)
        del a, caps, n
    gc.collect()
    assert mx.get_active_memory() - base < 4096 * 4 * 2


# --------------------------------------------------------------------- import --
@pytest.mark.parametrize("name", NUMPY_NAMES)
def test_from_dlpack_numpy_every_dtype(name):
    vals = _values(name, (3, 4))
    a = mx.from_dlpack(vals)
    expect = "float32" if name == "float64" else name       # MLX maps float64 to float32
    assert a.dtype == dt(expect) and a.shape == (3, 4)
    np.testing.assert_array_equal(np.array(a), vals.astype(NP_DTYPE[expect]))


def test_from_dlpack_numpy_mapping_and_shapes():
    c = np.array([1 + 2j, -3.5 - 0.25j], np.complex128)
    a = mx.from_dlpack(c)
    assert a.dtype == mx.complex64 and a.tolist() == [1 + 2j, -3.5 - 0.25j]
    assert mx.from_dlpack(np.array(3.0, np.float32)).shape == ()
    assert mx.from_dlpack(np.float32(2.5)).item() == 2.5
    e = mx.from_dlpack(np.zeros((0, 3), np.int16))
    assert e.shape == (0, 3) and e.dtype == mx.int16
    assert mx.from_dlpack(np.array([2 ** 63], np.uint64)).item() == 2 ** 63


@pytest.mark.parametrize("view", [
    lambda n: n.T,
    lambda n: n[:, ::2],
    # MLX refuses negative strides ("Cannot convert DLPack arrays with negative strides").
    pytest.param(lambda n: n[::-1], marks=pytest.mark.mlxc_only),
    pytest.param(lambda n: n[::-2, ::-3], marks=pytest.mark.mlxc_only),
    lambda n: np.broadcast_to(n[1], (5, 6)),
    lambda n: n[2, 1:4],
])
def test_from_dlpack_numpy_strided(view):
    n0 = np.arange(30, dtype=np.int32).reshape(5, 6)
    v = view(n0)
    a = mx.from_dlpack(v)
    np.testing.assert_array_equal(np.array(a), v)
    # Computation on the imported layout (kernels see the producer's strides).
    np.testing.assert_array_equal(np.array(a * 2 + 1), v * 2 + 1)
    np.testing.assert_array_equal(np.array(mx.sum(a, axis=-1)), v.sum(axis=-1))


def test_from_dlpack_of_an_mlx_array_and_round_trip():
    a = mx.array([1.0, 2.0])
    b = mx.from_dlpack(a)
    assert b is not a and b.tolist() == [1.0, 2.0]
    c = mx.from_dlpack(np.from_dlpack(mx.arange(4)))
    assert c.tolist() == [0, 1, 2, 3]


def test_from_dlpack_bad_input():
    with pytest.raises(TypeError):
        mx.from_dlpack([1, 2])
    with pytest.raises(TypeError):
        mx.from_dlpack(np.arange(3), None)     # copy is keyword-only


class _OldProducer:
    """__dlpack__ without keyword arguments (producers written before DLPack 1.0)."""

    def __init__(self, x):
        self.x = x

    def __dlpack__(self):
        return self.x.__dlpack__()


def test_from_dlpack_producer_without_keywords():
    x = np.arange(4, dtype=np.float32)
    assert mx.from_dlpack(_OldProducer(x)).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert mx.array(_OldProducer(x)).tolist() == [0.0, 1.0, 2.0, 3.0]


def test_imports_never_write_into_the_producer():
    # Buffer donation must not hand borrowed memory to an output.
    x = np.arange(6, dtype=np.float32)
    out = mx.exp(mx.from_dlpack(x))
    mx.eval(out)
    np.testing.assert_array_equal(x, np.arange(6))
    np.testing.assert_allclose(np.array(out), np.exp(np.arange(6)), rtol=1e-6)
    a = mx.from_dlpack(x)
    a[0] = 50
    a += 1
    mx.eval(a)
    np.testing.assert_array_equal(x, np.arange(6))
    assert a.tolist() == [51.0, 2.0, 3.0, 4.0, 5.0, 6.0]


@pytest.mark.mlxc_only  # MLX's CPU build always copies on import
def test_from_dlpack_shares_numpy_memory():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    shared, nocopy, copied = mx.from_dlpack(x), mx.from_dlpack(x, copy=False), \
        mx.from_dlpack(x, copy=True)
    x[1, 2] = -1
    assert shared[1, 2].item() == -1 and nocopy[1, 2].item() == -1
    assert copied[1, 2].item() == 5
    # Negative strides are adopted too, not copied.
    r = np.arange(5, dtype=np.int64)
    rev = mx.from_dlpack(r[::-1])
    r[0] = 40
    assert rev.tolist() == [4, 3, 2, 1, 40]
    assert memoryview(rev).strides == (-8,)
    # The round trip mlxc -> numpy -> mlxc is the same memory.
    a = mx.arange(3)
    back = mx.from_dlpack(np.from_dlpack(a))
    np.from_dlpack(a)[0] = 9
    assert back.tolist() == [9, 1, 2]


@pytest.mark.mlxc_only
def test_from_dlpack_copy_false_raises_when_a_copy_is_needed():
    with pytest.raises(ValueError, match="without a copy"):
        mx.from_dlpack(np.arange(3.0), copy=False)              # float64 -> float32
    with pytest.raises(ValueError, match="without a copy"):
        mx.from_dlpack(np.arange(3, dtype=np.complex128), copy=False)
    raw = np.arange(40, dtype=np.uint8)
    unaligned = np.frombuffer(raw.data, np.float32, count=4, offset=1)
    with pytest.raises(ValueError, match="not aligned"):
        mx.from_dlpack(unaligned, copy=False)


@pytest.mark.mlxc_only
@pytest.mark.parametrize("np_dtype", [np.float32, np.int64, np.complex128, np.float16])
def test_from_dlpack_unaligned_data_is_copied(np_dtype):
    vals = (np.arange(6) * 1.25 - 2).astype(np_dtype)
    raw = np.zeros(vals.nbytes + 1, np.uint8)
    raw[1:] = vals.view(np.uint8)
    u = np.frombuffer(raw.data, np_dtype, count=6, offset=1)
    assert u.ctypes.data % np.dtype(np_dtype).alignment != 0
    a = mx.from_dlpack(u[::-1])
    expect = vals[::-1].astype(np.complex64 if np_dtype == np.complex128 else np_dtype)
    np.testing.assert_array_equal(np.array(a), expect)


@pytest.mark.mlxc_only
def test_import_lifetime_and_no_leak():
    x = np.arange(1000, dtype=np.float32)
    base = sys.getrefcount(x)
    a = mx.from_dlpack(x)
    assert sys.getrefcount(x) == base + 1      # the consumed capsule keeps x alive
    v = a[10:20]
    del a
    assert sys.getrefcount(x) == base + 1      # ... as long as any view uses the memory
    r = mx.sum(v)
    del v
    assert r.item() == sum(range(10, 20))
    gc.collect()
    assert sys.getrefcount(x) == base          # ... and is released after
    for _ in range(200):
        mx.eval(mx.from_dlpack(x) + 1)
        mx.from_dlpack(x, copy=True)
    gc.collect()
    assert sys.getrefcount(x) == base
    del x
    y = mx.from_dlpack(np.arange(4, dtype=np.int32))    # only mlxc holds the data now
    gc.collect()
    assert y.tolist() == [0, 1, 2, 3]


@pytest.mark.mlxc_only
def test_read_only_producer_memory_stays_read_only():
    x = np.arange(3, dtype=np.float32)
    x.flags.writeable = False
    a = mx.from_dlpack(x)
    assert memoryview(a).readonly
    assert not np.asarray(a).flags.writeable
    assert not np.from_dlpack(a).flags.writeable       # versioned capsule: READ_ONLY flag
    with pytest.raises(BufferError):
        a.__dlpack__(copy=False)               # a legacy capsule cannot say read-only
    legacy = np.from_dlpack(_Legacy(a))         # ... so it gets a copy
    assert legacy.tolist() == [0.0, 1.0, 2.0]
    assert (a + 1).tolist() == [1.0, 2.0, 3.0]


@pytest.mark.mlxc_only
def test_bad_capsules_raise():
    class NotCapsule:
        def __dlpack__(self, **kw):
            return 42

    with pytest.raises(TypeError, match="capsule"):
        mx.from_dlpack(NotCapsule())

    class UsedCapsule:
        def __init__(self):
            self.cap = np.arange(3).__dlpack__(max_version=(1, 0))
            np.from_dlpack(_Cap(self.cap))      # consumes it

        def __dlpack__(self, **kw):
            return self.cap

    with pytest.raises(TypeError, match="capsule"):
        mx.from_dlpack(UsedCapsule())

    class OnGpu:
        def __dlpack_device__(self):
            return (2, 0)

        def __dlpack__(self, **kw):
            raise BufferError("no copy to the host here")

    with pytest.raises(ValueError, match="needs a copy"):
        mx.from_dlpack(OnGpu(), copy=False)
    with pytest.raises(BufferError):
        mx.from_dlpack(OnGpu())


class _Cap:
    def __init__(self, cap):
        self.cap = cap

    def __dlpack__(self, **kw):
        return self.cap

    def __dlpack_device__(self):
        return (1, 0)


# ---------------------------------------------------------------------- torch --
torch_dtypes = {
    "bool_": "bool", "uint8": "uint8", "uint16": "uint16", "uint32": "uint32",
    "uint64": "uint64", "int8": "int8", "int16": "int16", "int32": "int32",
    "int64": "int64", "float16": "float16", "bfloat16": "bfloat16", "float32": "float32",
    "float64": "float64", "complex64": "complex64",
}


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_torch_round_trip_every_dtype(name):
    torch = pytest.importorskip("torch")
    vals = _values(name)
    a = mx.array(vals, dt(name))
    t = torch.from_dlpack(a)
    assert t.dtype == getattr(torch, torch_dtypes[name]) and tuple(t.shape) == (2, 3)
    np.testing.assert_array_equal(t.to(torch.float32 if name == "bfloat16" else t.dtype)
                                  .numpy(), vals)
    b = mx.from_dlpack(t)
    expect = "float32" if name == "float64" else name
    assert b.dtype == dt(expect)
    assert mx.array_equal(b, a.astype(dt(expect))).item()


def test_torch_export_is_zero_copy():
    torch = pytest.importorskip("torch")
    a = mx.arange(6, dtype=mx.float32).reshape(2, 3)
    t = torch.from_dlpack(a)
    t[0, 0] = 42
    assert a[0, 0].item() == 42
    tt = torch.from_dlpack(a.T)
    assert tt.stride() == (1, 3) and tt[2, 1].item() == 5


@pytest.mark.mlxc_only
def test_torch_import_zero_copy_and_strided():
    torch = pytest.importorskip("torch")
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    for v in (t, t.T, t[:, ::2], t[1:, 1:3], t.expand(2, 3, 4)):
        a = mx.from_dlpack(v)
        np.testing.assert_array_equal(np.array(a), v.numpy())
    a = mx.from_dlpack(t.T)
    t[0, 1] = -5
    assert a[1, 0].item() == -5
    bf = torch.tensor([1.5, -2.25, 3.0], dtype=torch.bfloat16)
    b = mx.from_dlpack(bf)
    bf[0] = 8
    assert b.dtype == mx.bfloat16 and b.tolist() == [8.0, -2.25, 3.0]
    del t, bf
    gc.collect()
    assert a[1, 0].item() == -5 and b.tolist()[0] == 8.0


def test_torch_into_array_copies_and_errors_propagate():
    torch = pytest.importorskip("torch")
    t = torch.arange(3, dtype=torch.int32)
    a = mx.array(t)
    t[0] = 7
    assert a.tolist() == [0, 1, 2] and a.dtype == mx.int32
    assert mx.array(t, mx.float32).dtype == mx.float32
    with pytest.raises((RuntimeError, BufferError)):     # torch's own refusal
        mx.from_dlpack(torch.ones(2, requires_grad=True))


@pytest.mark.mlxc_only
def test_torch_unsupported_dtype():
    torch = pytest.importorskip("torch")
    if not hasattr(torch, "float8_e4m3fn"):
        pytest.skip("no float8 in this torch")
    with pytest.raises(ValueError, match="Unsupported DLPack dtype"):
        mx.from_dlpack(torch.zeros(2, dtype=torch.float8_e4m3fn))


# ------------------------------------------------------------------------ jax --
@pytest.mark.parametrize("name", ["bool_", "int32", "float16", "bfloat16", "float32",
                                  "complex64", "uint8"])
def test_jax_round_trip(name):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    vals = _values(name)
    a = mx.array(vals, dt(name))
    j = jax.dlpack.from_dlpack(a)
    np.testing.assert_array_equal(np.asarray(j.astype(jnp.float32) if name == "bfloat16"
                                             else j), vals)
    b = mx.from_dlpack(j)
    assert b.dtype == a.dtype and mx.array_equal(a, b).item()
    c = mx.array(jnp.asarray(vals))
    assert mx.array_equal(c, a.astype(c.dtype)).item()


def test_jax_transposed_export():
    jax = pytest.importorskip("jax")
    a = mx.arange(6, dtype=mx.float32).reshape(2, 3)
    np.testing.assert_array_equal(np.asarray(jax.dlpack.from_dlpack(a.T)),
                                  np.arange(6).reshape(2, 3).T)
