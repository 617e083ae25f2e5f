"""mx.metal, mx.cuda and mx.distributed as MLX 0.32.4's CPU-only build has them.

Behaviour recorded from MLX (run with MLXC_TEST_REFERENCE=mlx): Metal and CUDA are not
available; mx.metal's memory functions are deprecated aliases of the top-level ones;
distributed.init() gives a group of one process over which every collective is the
identity (under grad/vjp/jvp/vmap too) and send/recv raise ValueError.
"""
import importlib

import numpy as np
import pytest

import mlxc.core as mx

D = mx.distributed
COLLECTIVES = ["all_sum", "all_max", "all_min", "all_gather", "sum_scatter"]


# ---------------------------------------------------------------------- metal --
def test_metal_and_cuda_are_not_available():
    assert mx.metal.is_available() is False
    assert mx.cuda.is_available() is False
    assert mx.metal.device_info() == {}


def test_submodules_import_by_name():
    for name in ("metal", "cuda", "distributed"):
        mod = importlib.import_module(f"{mx.__name__}.{name}")
        assert mod is getattr(mx, name)


def test_metal_memory_functions_answer_from_the_allocator():
    M = mx.metal
    a = mx.zeros((1 << 18,))
    mx.eval(a)
    assert M.get_active_memory() == mx.get_active_memory() >= 1 << 20
    assert M.get_peak_memory() == mx.get_peak_memory() >= M.get_active_memory()
    assert M.get_cache_memory() == mx.get_cache_memory()
    M.reset_peak_memory()
    assert mx.get_peak_memory() <= mx.get_active_memory() + (1 << 20)
    del a
    M.clear_cache()
    assert mx.get_cache_memory() == 0
    # Limits: the previous value comes back, and the top-level setter sees the change.
    prev = M.set_cache_limit(1 << 20)
    assert mx.set_cache_limit(prev) == 1 << 20
    prev = M.set_memory_limit(1 << 30)
    assert mx.set_memory_limit(prev) == 1 << 30
    assert isinstance(M.set_wired_limit(0), int)


@pytest.mark.mlxc_only  # MLX prints the same notice from C++ (not capturable by capsys)
def test_metal_deprecation_notice_once_per_function(capsys):
    import mlxc.core.metal as metal
    metal._warned.discard("get_peak_memory")
    metal.get_peak_memory()
    metal.get_peak_memory()
    err = capsys.readouterr().err
    assert err.count("mx.metal.get_peak_memory is deprecated") == 1
    assert "Use mx.get_peak_memory instead." in err
    metal.is_available()
    assert capsys.readouterr().err == ""


def test_metal_capture_is_a_no_op_without_metal():
    assert mx.metal.start_capture("trace.gputrace") is None
    assert mx.metal.stop_capture() is None
    with pytest.raises(TypeError):
        mx.metal.start_capture(3)


# ---------------------------------------------------------------- distributed --
def test_init_gives_the_singleton_group():
    g = D.init()
    assert isinstance(g, D.Group)
    assert g.rank() == 0 and g.size() == 1
    assert D.init(False, "any").size() == 1
    for backend in ("mpi", "ring", "nccl", "jaccl"):
        assert D.init(backend=backend).size() == 1
    with pytest.raises(TypeError):
        D.Group()
    with pytest.raises(RuntimeError, match="Cannot split"):
        g.split(0)
    with pytest.raises(RuntimeError, match="Cannot split"):
        g.split(1, key=3)


def test_init_errors():
    for backend in ("any", "mpi", "ring", "nccl", "jaccl"):
        with pytest.raises(RuntimeError):
            D.init(strict=True, backend=backend)
    with pytest.raises(ValueError, match="bogus"):
        D.init(backend="bogus")
    with pytest.raises(ValueError, match="jaccl"):
        D.init(all_gather_factory=lambda rank, size: None)
    with pytest.raises(TypeError):
        D.is_available(3)
    assert D.is_available("bogus") is False


@pytest.mark.mlxc_only  # MLX reports its ring backend (compiled in) as available
def test_no_backend_is_available():
    for backend in ("any", "mpi", "ring", "nccl", "jaccl"):
        assert D.is_available(backend) is False


@pytest.mark.parametrize("op", COLLECTIVES)
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool_", "bfloat16", "complex64"])
def test_collectives_are_the_identity_in_one_process(op, dtype):
    x = mx.array([[1, 0, 3], [4, 5, 0]], getattr(mx, dtype))
    for kw in ({}, {"group": None}, {"group": D.init()}, {"stream": mx.cpu}):
        y = getattr(D, op)(x, **kw)
        assert y.dtype == x.dtype and y.shape == x.shape
        assert mx.array_equal(y, x).item()
    assert getattr(D, op)(mx.array(2.5)).item() == 2.5     # 0-d
    assert getattr(D, op)(1.0).item() == 1.0                # Python scalar


@pytest.mark.parametrize("op", COLLECTIVES)
def test_collective_result_is_a_new_array(op):
    x = mx.array([1.0, 2.0])
    y = getattr(D, op)(x)
    y += 1
    assert x.tolist() == [1.0, 2.0] and y.tolist() == [2.0, 3.0]


@pytest.mark.parametrize("op", COLLECTIVES)
def test_collective_bad_group(op):
    with pytest.raises(TypeError):
        getattr(D, op)(mx.array([1.0]), group=3)


@pytest.mark.parametrize("op", COLLECTIVES)
def test_collectives_differentiate_as_the_identity(op):
    f = getattr(D, op)
    xn = np.array([[1.5, -2.0], [3.0, 0.25]], np.float32)
    x = mx.array(xn)
    # d/dx sum(f(x) * x) = 2x when f is the identity.
    g = mx.grad(lambda y: mx.sum(f(y) * y))(x)
    np.testing.assert_allclose(np.array(g), 2 * xn, rtol=1e-6)
    ct = mx.array(np.array([[3.0, -1.0], [0.5, 2.0]], np.float32))
    (out,), (vj,) = mx.vjp(lambda y: f(y), [x], [ct])
    np.testing.assert_array_equal(np.array(out), xn)
    np.testing.assert_array_equal(np.array(vj), np.array(ct))
    (out,), (jv,) = mx.jvp(lambda y: f(y), [x], [ct])
    np.testing.assert_array_equal(np.array(jv), np.array(ct))
    # Second order: grad of grad goes through the rules' own collectives.
    gg = mx.grad(lambda y: mx.sum(mx.grad(lambda z: mx.sum(f(z) ** 3))(y)))(x)
    np.testing.assert_allclose(np.array(gg), 6 * xn, rtol=1e-5)


@pytest.mark.parametrize("op", COLLECTIVES)
def test_collectives_under_vmap(op):
    f = getattr(D, op)
    xn = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = mx.array(xn)
    np.testing.assert_array_equal(np.array(mx.vmap(f)(x)), xn)
    np.testing.assert_array_equal(np.array(mx.vmap(f, in_axes=1)(x)), xn.T)
    np.testing.assert_array_equal(np.array(mx.vmap(f)(mx.array([1.0, 2.0]))), [1.0, 2.0])
    # vmap of grad
    g = mx.vmap(mx.grad(lambda y: mx.sum(f(y) ** 2)))(x)
    np.testing.assert_allclose(np.array(g), 2 * xn, rtol=1e-6)


def test_all_max_gradient_with_nan_still_flows():
    x = mx.array([1.0, float("nan")])
    g = mx.grad(lambda y: mx.sum(D.all_max(y)))(x)
    assert g.tolist() == [1.0, 1.0]


def test_send_recv_raise_on_a_singleton_group():
    x = mx.array([1.0, 2.0])
    with pytest.raises(ValueError, match="Cannot send to a singleton group"):
        D.send(x, 0)
    with pytest.raises(ValueError, match="Cannot send to a singleton group"):
        D.send(x, 1, group=D.init())
    with pytest.raises(ValueError, match="Cannot recv from a singleton group"):
        D.recv((2,), mx.float32, 0)
    with pytest.raises(ValueError, match="Cannot recv from a singleton group"):
        D.recv_like(x, 0)
    with pytest.raises(TypeError):
        D.send(x, "a")
    with pytest.raises(TypeError):
        D.recv((2,), "float32", 0)


# A group of two processes cannot be formed without a backend; the internal constructor
# checks the rules' shapes and that evaluation refuses clearly.
@pytest.mark.mlxc_only
def test_two_process_group_shapes_and_eval_refusal():
    g2 = D.Group._make(0, 2)
    x = mx.ones((4, 3))
    assert D.all_gather(x, group=g2).shape == (8, 3)
    assert D.all_gather(mx.array(1.0), group=g2).shape == (2,)
    assert D.sum_scatter(x, group=g2).shape == (2, 3)
    assert D.all_sum(x, group=g2).shape == (4, 3)
    with pytest.raises(ValueError, match="divisible by the group size 2"):
        D.sum_scatter(mx.ones((3,)), group=g2)
    with pytest.raises(RuntimeError, match="No distributed backend"):
        mx.eval(D.all_sum(x, group=g2))
    # vmap moves the batch off the gathered axis: per example (3,) -> (6,).
    assert mx.vmap(lambda y: D.all_gather(y, group=g2))(x).shape == (4, 6)
    assert mx.vmap(lambda y: D.all_gather(y, group=g2), in_axes=1)(x).shape == (3, 8)
    assert mx.vmap(lambda y: D.sum_scatter(y, group=g2), in_axes=1)(x).shape == (3, 2)
    assert mx.vmap(lambda y: D.all_gather(y, group=g2))(mx.ones(5)).shape == (5, 2)
    # vjp of all_gather is a sum_scatter of the cotangent (back to the input's shape).
    (out,), (vj,) = mx.vjp(lambda y: D.all_gather(y, group=g2), [x], [mx.ones((8, 3))])
    assert out.shape == (8, 3) and vj.shape == (4, 3)
    (out,), (vj,) = mx.vjp(lambda y: D.sum_scatter(y, group=g2), [x], [mx.ones((2, 3))])
    assert out.shape == (2, 3) and vj.shape == (4, 3)
    with pytest.raises(RuntimeError, match="Cannot split|No distributed backend"):
        g2.split(0)
