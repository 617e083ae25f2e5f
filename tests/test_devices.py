"""Devices and streams."""
import pytest

import mlxc.core as mx


def test_device_types():
    assert mx.cpu == mx.DeviceType.cpu
    assert mx.gpu == mx.DeviceType.gpu
    assert mx.cpu != mx.gpu
    assert hash(mx.cpu) == hash(mx.DeviceType.cpu)


def test_device_objects():
    d = mx.Device(mx.cpu)
    assert d.type == mx.cpu
    assert d == mx.Device(mx.cpu, 0)
    assert mx.Device(mx.gpu) != mx.Device(mx.cpu)
    assert repr(d) == "Device(cpu, 0)" and str(d) == "Device(cpu, 0)"
    assert repr(mx.Device(mx.gpu)) == "Device(gpu, 0)"
    with pytest.raises(TypeError):
        mx.Device("cpu")


def test_default_device():
    d = mx.default_device()
    assert isinstance(d, mx.Device)
    assert mx.is_available(d)
    # a Device compares equal to its DeviceType
    assert d == d.type


def test_is_available():
    assert mx.is_available(mx.cpu) is True
    assert isinstance(mx.is_available(mx.gpu), bool)
    assert mx.is_available(mx.Device(mx.cpu))


def test_set_default_device_cpu():
    mx.set_default_device(mx.cpu)
    assert mx.default_device() == mx.Device(mx.cpu)
    assert (mx.array([1, 2]) * 2).tolist() == [2, 4]
    mx.set_default_device(mx.Device(mx.cpu))
    assert mx.default_device() == mx.cpu


def test_set_default_device_gpu_when_unavailable():
    if mx.is_available(mx.gpu):
        mx.set_default_device(mx.gpu)
        assert mx.default_device() == mx.gpu
        assert (mx.array([1.0, 2.0]) + 1).tolist() == [2.0, 3.0]
    else:
        with pytest.raises(ValueError):
            mx.set_default_device(mx.gpu)


def test_streams():
    s = mx.default_stream(mx.cpu)
    assert isinstance(s, mx.Stream)
    assert s.device == mx.cpu
    assert s == mx.default_stream(mx.cpu)
    assert s == mx.default_stream(mx.Device(mx.cpu))
    assert repr(s).startswith("Stream(Device(cpu, 0), ")
    n1, n2 = mx.new_stream(mx.cpu), mx.new_stream(mx.cpu)
    assert isinstance(n1, mx.Stream) and n1 != n2 and n1 != s
    assert n1.device == mx.cpu


def test_stream_keyword_on_ops():
    a, b = mx.array([1, 2]), mx.array([3, 4])
    s = mx.new_stream(mx.cpu)
    for st in (mx.cpu, mx.Device(mx.cpu), mx.default_stream(mx.cpu), s):
        assert mx.add(a, b, stream=st).tolist() == [4, 6]
        assert mx.sum(a, stream=st).item() == 3
        assert mx.zeros((2,), stream=st).tolist() == [0.0, 0.0]
        assert mx.reshape(a, (2, 1), stream=st).shape == (2, 1)
        assert mx.matmul(mx.ones((2, 2)), mx.ones((2, 2)), stream=st).tolist() == [[2, 2], [2, 2]]
    with pytest.raises(TypeError):
        mx.add(a, b, stream="cpu")


def test_stream_gpu_unavailable_raises():
    if not mx.is_available(mx.gpu):
        with pytest.raises(ValueError):
            mx.add(mx.array(1), mx.array(2), stream=mx.gpu)


def test_stream_context_manager():
    s = mx.new_stream(mx.cpu)
    before = mx.default_stream(mx.cpu)
    with mx.stream(s):
        assert mx.default_stream(mx.cpu) == s
        r = mx.array([1, 2]) * 2
        assert r.tolist() == [2, 4]
    assert mx.default_stream(mx.cpu) == before
    with mx.stream(mx.cpu):
        assert mx.default_device() == mx.cpu
        assert (mx.array([3]) + 1).tolist() == [4]


def test_synchronize():
    a = mx.array([1.0]) + 1
    mx.async_eval(a)
    assert mx.synchronize() is None
    assert mx.synchronize(mx.default_stream(mx.cpu)) is None
    assert a.tolist() == [2.0]


def test_results_from_different_streams_combine():
    s1, s2 = mx.new_stream(mx.cpu), mx.new_stream(mx.cpu)
    x = mx.add(mx.arange(4), 1, stream=s1)
    y = mx.multiply(x, 2, stream=s2)
    assert y.tolist() == [2, 4, 6, 8]
