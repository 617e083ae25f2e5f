"""Where nodes run: an op's stream= argument, the stream context and the default device.

Each op resolves its stream once, at its entry (mlxc/_core/ops/common.pyx), and every node
it builds, also through the ops it is composed of, records that device; eval dispatched
eval_gpu or eval_cpu from it.  Oracles: the recorded device of every node of the built
graph (walked through its inputs), the emulated executor's dispatch count (a GPU node
dispatched at least one kernel, a CPU node none), and the CPU's values for the GPU's.
"""
import threading

import numpy as np
import pytest

import mlxc.core as mx
from helpers import internal

_node_device = internal("mlxc._core.array", "_node_device")
_node_inputs = internal("mlxc._core.array", "_node_inputs")


def graph_devices(outs):
    """The device codes of every unevaluated node reachable from outs."""
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    seen, stack, devices = set(), list(outs), []
    while stack:
        a = stack.pop()
        if id(a) in seen:
            continue
        seen.add(id(a))
        inputs = _node_inputs(a)
        if inputs is None:                       # evaluated: a leaf
            continue
        devices.append(_node_device(a))
        stack.extend(inputs)
    return devices


def _inputs():
    """The ops' operands, evaluated (leaves of the graphs built from them)."""
    rng = np.random.default_rng(0)
    d = {"x": rng.standard_normal((4, 6)), "y": rng.standard_normal((6, 4)),
         "v": rng.standard_normal(16), "w": rng.standard_normal((2, 3, 6)),
         "q": rng.standard_normal((4, 64)), "c3": rng.standard_normal((4, 3)),
         "d3": rng.standard_normal((4, 3))}
    d = {k: mx.array(a.astype(np.float32)) for k, a in d.items()}
    d["x3"] = d["x"][None]
    d["i"] = mx.array([0, 3, 1], dtype=mx.uint32)
    d["labels"] = mx.array([0, 1, 2, 3])
    d["key"] = mx.random.key(1)
    mx.eval(list(d.values()))
    return d


# Ops of every namespace, built with a stream argument s; composites (kron, diff, einsum,
# stft, norm, cross, categorical, cross_entropy, hanning, ...) make several nodes each.
OPS = {
    "add": lambda s, a: mx.add(a["x"], 1.5, stream=s),
    "exp": lambda s, a: mx.exp(a["x"], stream=s),
    "method": lambda s, a: a["x"].exp(stream=s),
    "astype_method": lambda s, a: a["x"].astype(mx.float16, stream=s),
    "divmod": lambda s, a: mx.divmod(a["x"], 2.0, stream=s),
    "sum": lambda s, a: mx.sum(a["x"], axis=1, stream=s),
    "logsumexp": lambda s, a: mx.logsumexp(a["x"], axis=0, stream=s),
    "softmax": lambda s, a: mx.softmax(a["x"], axis=-1, stream=s),
    "topk": lambda s, a: mx.topk(a["v"], 3, stream=s),
    "transpose": lambda s, a: mx.transpose(a["x"], stream=s),
    "zeros": lambda s, a: mx.zeros((3, 2), stream=s),
    "arange": lambda s, a: mx.arange(5, stream=s),
    "take": lambda s, a: mx.take(a["x"], a["i"], axis=1, stream=s),
    "concatenate": lambda s, a: mx.concatenate([a["x"], a["x"]], axis=0, stream=s),
    "pad": lambda s, a: mx.pad(a["x"], 1, stream=s),
    "matmul": lambda s, a: mx.matmul(a["x"], a["y"], stream=s),
    "conv1d": lambda s, a: mx.conv1d(a["x3"], a["w"], stream=s),
    "kron": lambda s, a: mx.kron(a["x"], a["y"], stream=s),
    "diff": lambda s, a: mx.diff(a["v"], n=2, stream=s),
    "einsum": lambda s, a: mx.einsum("ij,jk->ik", a["x"], a["y"], stream=s),
    "gather_mm": lambda s, a: mx.gather_mm(a["x"], a["y"], stream=s),
    "hanning": lambda s, a: mx.hanning(8, stream=s),
    "fft": lambda s, a: mx.fft.rfft(a["v"], stream=s),
    "rfftfreq": lambda s, a: mx.fft.rfftfreq(8, stream=s),
    "stft": lambda s, a: mx.fft.stft(a["v"], n_fft=8, hop_length=4, stream=s),
    "linalg_norm": lambda s, a: mx.linalg.norm(a["x"], stream=s),
    "linalg_cross": lambda s, a: mx.linalg.cross(a["c3"], a["d3"], stream=s),
    "random_normal": lambda s, a: mx.random.normal((3,), key=a["key"], stream=s),
    "random_categorical": lambda s, a: mx.random.categorical(a["x"], key=a["key"], stream=s),
    "rms_norm": lambda s, a: mx.fast.rms_norm(a["x"], None, 1e-5, stream=s),
    "cross_entropy": lambda s, a: mx.fast.cross_entropy(a["x"], a["labels"], stream=s),
    "quantize": lambda s, a: mx.quantize(a["q"], stream=s),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_node_of_an_op_records_its_stream(name, gpu):
    f, a = OPS[name], _inputs()
    on_gpu = graph_devices(f(mx.gpu, a))
    assert on_gpu and set(on_gpu) == {1}, on_gpu
    assert set(graph_devices(f(mx.new_stream(mx.gpu), a))) == {1}
    with mx.stream(mx.gpu):
        assert set(graph_devices(f(None, a))) == {1}
        assert set(graph_devices(f(mx.cpu, a))) == {0}      # the argument wins
    mx.set_default_device(mx.gpu)
    try:
        assert set(graph_devices(f(mx.cpu, a))) == {0}
        assert set(graph_devices(f(None, a))) == {1}
    finally:
        mx.set_default_device(mx.cpu)
    assert set(graph_devices(f(None, a))) == {0}             # nothing left behind


def test_gpu_stream_dispatched_and_cpu_stream_does_not(dispatched):
    x = mx.array([0.5, -1.0, 2.0])
    cpu = mx.exp(x)
    mx.eval(cpu)
    assert dispatched == []
    g = mx.exp(x, stream=mx.gpu)
    mx.eval(g)
    assert len(dispatched) == 1
    np.testing.assert_allclose(np.array(g), np.array(cpu), rtol=1e-6)
    with mx.stream(mx.gpu):
        g = mx.exp(x)
    mx.eval(g)
    assert len(dispatched) == 2
    mx.set_default_device(mx.gpu)
    try:
        c = mx.exp(x, stream=mx.cpu)                 # a CPU op under a GPU default
        with mx.stream(mx.cpu):
            c2 = mx.exp(x) * 2
        mx.eval(c, c2)
        assert len(dispatched) == 2
        g = mx.exp(x) * 2                            # the default: the GPU
        mx.eval(g)
        assert len(dispatched) == 4
    finally:
        mx.set_default_device(mx.cpu)
    np.testing.assert_allclose(np.array(c2), np.array(g), rtol=1e-6)


def test_composite_op_on_the_gpu_runs_every_node_there(dispatched):
    a = mx.array(np.arange(6, dtype=np.float32).reshape(2, 3))
    b = mx.array(np.array([[1.0, -1.0], [2.0, 0.5]], dtype=np.float32))
    c = mx.kron(a, b)
    mx.eval(c)
    assert dispatched == []
    g = mx.kron(a, b, stream=mx.gpu)
    devices = graph_devices(g)
    assert len(devices) >= 2 and set(devices) == {1}
    mx.eval(g)
    assert len(dispatched) >= 1                  # (its reshapes are views: no kernel)
    np.testing.assert_array_equal(np.array(g), np.kron(np.array(a), np.array(b)))


def test_scope_ends_when_the_op_raises(gpu):
    x = mx.array([1.0, 2.0])
    with pytest.raises(ValueError):
        mx.add(mx.zeros(2), mx.zeros(3), stream=mx.gpu)          # a Cython op
    assert _node_device(mx.exp(x)) == 0
    with pytest.raises(ValueError):
        mx.linalg.norm(x, ord="bad", stream=mx.gpu)              # a Python composite
    assert _node_device(mx.exp(x)) == 0
    with pytest.raises(ValueError):
        mx.diff(x, n=-1, stream=mx.gpu)                          # a composite in composite.py
    assert _node_device(mx.exp(x)) == 0
    with mx.stream(mx.gpu):
        with pytest.raises(ValueError):
            mx.add(mx.zeros(2), mx.zeros(3), stream=mx.cpu)
        assert _node_device(mx.exp(x)) == 1                      # the context's device again
    with pytest.raises(TypeError, match=r"\[exp\] stream must be"):
        mx.exp(x, stream="gpu")


def test_stream_context_is_per_thread(gpu):
    x = mx.array([1.0, 2.0])
    seen = []
    with mx.stream(mx.gpu):
        t = threading.Thread(target=lambda: seen.append(_node_device(mx.exp(x))))
        t.start()
        t.join()
        assert _node_device(mx.exp(x)) == 1
    assert seen == [0]


def test_default_stream_api_as_mlx(gpu):
    # MLX: set_default_stream makes the stream the default of its device, and does not
    # change the default device; the stream context sets both for its block.
    s = mx.new_stream(mx.gpu)
    assert s.device == mx.gpu and s != mx.default_stream(mx.gpu)
    before_gpu, before_cpu = mx.default_stream(mx.gpu), mx.default_stream(mx.cpu)
    x = mx.array([1.0])
    mx.set_default_stream(s)
    try:
        assert mx.default_stream(mx.gpu) == s
        assert mx.default_stream(mx.cpu) == before_cpu
        assert mx.default_device() == mx.cpu
        assert _node_device(mx.exp(x)) == 0
    finally:
        mx.set_default_stream(before_gpu)
    assert mx.default_stream(mx.gpu) == before_gpu
    s2 = mx.new_stream(mx.gpu)
    with mx.stream(s2) as ctx:
        assert ctx is None
        assert mx.default_device() == mx.gpu and mx.default_stream(mx.gpu) == s2
        assert _node_device(mx.exp(x)) == 1
    assert mx.default_device() == mx.cpu and mx.default_stream(mx.gpu) == before_gpu


def _f(x):
    return mx.sum(mx.sin(x) * mx.exp(x) + x * x)


def test_grad_and_vmap_under_a_gpu_stream(dispatched):
    x = mx.array(np.linspace(-1, 1, 7).astype(np.float32))
    xs = mx.array(np.linspace(-1, 1, 12).astype(np.float32).reshape(3, 4))
    g_cpu = mx.grad(_f)(x)
    v_cpu = mx.vmap(_f)(xs)
    mx.eval(g_cpu, v_cpu)
    assert dispatched == []
    with mx.stream(mx.gpu):
        g = mx.grad(_f)(x)
        v = mx.vmap(_f)(xs)
    assert set(graph_devices([g, v])) == {1}
    mx.eval(g, v)
    assert len(dispatched) > 0
    np.testing.assert_allclose(np.array(g), np.array(g_cpu), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.array(v), np.array(v_cpu), rtol=1e-5, atol=1e-6)
    xn = np.array(x).astype(np.float64)
    np.testing.assert_allclose(np.array(g), np.cos(xn) * np.exp(xn) + np.sin(xn) * np.exp(xn)
                               + 2 * xn, rtol=1e-5, atol=1e-6)


def test_a_rule_builds_its_nodes_on_its_nodes_device(dispatched):
    # As MLX builds a primitive's vjp/jvp/vmap on the primitive's stream: GPU ops made
    # with stream= differentiate on the GPU though grad is called outside any context,
    # and a CPU op differentiates on the CPU inside a GPU context.
    x = mx.array(np.linspace(0.1, 1, 5).astype(np.float32))
    g = mx.grad(lambda t: mx.sum(mx.exp(t, stream=mx.gpu)))(x)
    assert _node_device(g) == 1
    mx.eval(g)
    assert len(dispatched) > 0
    np.testing.assert_allclose(np.array(g), np.exp(np.array(x)), rtol=1e-6)
    with mx.stream(mx.gpu):
        g = mx.grad(lambda t: mx.sum(mx.exp(t, stream=mx.cpu), stream=mx.cpu))(x)
        _, t = mx.jvp(lambda t: mx.exp(t, stream=mx.cpu), [x], [mx.ones_like(x)])
        v = mx.vmap(lambda t: mx.exp(t, stream=mx.cpu))(x)
    assert _node_device(g) == 0 and _node_device(t[0]) == 0 and _node_device(v) == 0
    np.testing.assert_allclose(np.array(g), np.exp(np.array(x)), rtol=1e-6)
