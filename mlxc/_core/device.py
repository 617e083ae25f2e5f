"""Devices and streams.

The CPU runs everything unless a GPU backend is present (mlxc._core.metal.backend: Metal on
macOS, or the test suite's emulated Metal device with MLXC_METAL_EMULATE=1); without one the
GPU exists as in MLX's CPU-only build.  Each graph node records the device it was created
on (the stream context, the thread's default stream, else the default device); eval runs
GPU nodes through Primitive.eval_gpu.  The default device stays the CPU even with a GPU
present (unlike MLX on a Mac): under emulation the GPU is a slow test tool, and on macOS
not every primitive has a Metal kernel yet; ask for it with set_default_device(gpu),
stream(gpu) or stream=gpu.
"""
import enum
import os
import platform
import threading


class DeviceType(enum.Enum):
    cpu = 0
    gpu = 1

    def __repr__(self):
        return "DeviceType." + self.name

    __str__ = __repr__


cpu = DeviceType.cpu
gpu = DeviceType.gpu


class Device:
    """A device: a type and an index."""

    def __init__(self, type, index=0):
        if isinstance(type, Device):
            type, index = type.type, type.index
        if not isinstance(type, DeviceType):
            raise TypeError(f"Device: expected a DeviceType, got {type!r}.")
        self.type = type
        self.index = int(index)

    def __repr__(self):
        return f"Device({self.type.name}, {self.index})"

    def __eq__(self, other):
        if isinstance(other, DeviceType):
            other = Device(other)
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


class Stream:
    """A queue of work on a device."""

    def __init__(self, device, index=0):
        self.device = Device(device)
        self.index = index

    def __repr__(self):
        return f"Stream({self.device!r}, {self.index})"

    def __eq__(self, other):
        return isinstance(other, Stream) and (self.device, self.index) == (other.device,
                                                                           other.index)

    def __hash__(self):
        return hash((self.device, self.index))


class ThreadLocalStream:
    """A stream that will be unique per thread and can be used to run operations on a
    given device: each thread that uses it gets a stream of its own."""
    __slots__ = ("device", "_index", "_local", "__weakref__")

    def __init__(self, *args, **kwargs):
        raise TypeError("mlxc.core.ThreadLocalStream: no constructor defined!")

    def __repr__(self):
        return f"ThreadLocalStream({self.device!r}, {self._index})"

    def __reduce__(self):
        raise TypeError("cannot pickle 'ThreadLocalStream' object")

    def _resolve(self):
        """This thread's stream (made on its first use here)."""
        s = getattr(self._local, "stream", None)
        if s is None:
            s = self._local.stream = new_stream(self.device)
        return s


_thread_local_count = 0


# As in MLX, the default stream is per thread: the main thread's is stream 0, another
# thread gets a new stream the first time it asks; set_default_stream and the stream
# context change only the calling thread's.  Stream indices come from one counter.
_state = threading.local()
_main_stream = Stream(Device(cpu), 0)
_index_lock = threading.Lock()
_next_index = 1
_default_device = Device(cpu)
_gpu_stream = None


def _next_stream(device):
    global _next_index
    with _index_lock:
        i = _next_index
        _next_index += 1
    return Stream(device, i)


def _thread_default():
    s = getattr(_state, "default", None)
    if s is None:
        if threading.current_thread() is threading.main_thread():
            s = _main_stream
        else:
            s = _next_stream(Device(cpu))
        _state.default = s
    return s


def _gpu():
    """Whether a GPU backend is present (imports the backend module only when asked for)."""
    from mlxc._core.metal import backend
    return backend.available()


def _set_node_device(thread_device, default_device):
    from mlxc._core.array import _set_node_device as set_
    set_(thread_device, default_device)


def is_available(device):
    """is_available(device: Device | DeviceType) -> bool"""
    return Device(device).type == cpu or _gpu()


def device_count(device_type):
    """device_count(device_type: DeviceType) -> int"""
    return 1 if DeviceType(device_type) == cpu or _gpu() else 0


def device_info(d=None):
    """device_info(d: None | Device | DeviceType = None) -> dict"""
    d = default_device() if d is None else Device(d)
    if d.type == gpu:
        _check_device(d, "device_info")
        from mlxc._core.metal import backend
        return backend.device_info()
    return {"architecture": platform.machine(), "device_name": platform.processor() or "cpu"}


def _check_device(device, where):
    d = Device(device)
    if d.type != cpu and not _gpu():
        raise ValueError(f"[{where}] Cannot use gpu device without gpu backend.")
    return d


def default_device():
    """default_device() -> Device"""
    return getattr(_state, "device", None) or _default_device


def set_default_device(device):
    """set_default_device(device: Device | DeviceType) -> None"""
    global _default_device
    d = Device(device)
    if d.type != cpu and not _gpu():
        raise ValueError("[set_default_device] Cannot set gpu device without gpu backend.")
    _default_device = d
    _set_node_device(-2, 1 if d.type == gpu else 0)


def default_stream(device):
    """default_stream(device: Device | DeviceType) -> Stream"""
    global _gpu_stream
    d = Device(device)
    if d.type != cpu:
        if not _gpu():
            raise ValueError("[default_stream] Cannot get gpu stream without gpu backend.")
        s = getattr(_state, "stream", None) or getattr(_state, "default", None)
        if s is not None and s.device.type == gpu:
            return s
        if _gpu_stream is None:
            _gpu_stream = _next_stream(Device(gpu))
        return _gpu_stream
    s = getattr(_state, "stream", None)
    if s is None or s.device.type != cpu:
        s = _thread_default()
    return s if s.device.type == cpu else _main_stream


def set_default_stream(stream):
    """set_default_stream(stream: Stream) -> None: for the calling thread."""
    if not isinstance(stream, Stream):
        raise TypeError(f"[set_default_stream] Expected a Stream, got {stream!r}.")
    _check_device(stream.device, "set_default_stream")
    _state.default = stream
    _state.node_device = 1 if stream.device.type == gpu else 0
    _set_node_device(_state.node_device, -1)


def new_stream(device):
    """new_stream(device: Device | DeviceType) -> Stream"""
    return _next_stream(_check_device(device, "new_stream"))


def new_thread_local_stream(device):
    """new_thread_local_stream(device: Device | DeviceType) -> ThreadLocalStream

    Make a new stream that will be unique per thread (each thread's own stream is made
    when that thread first uses it)."""
    global _thread_local_count
    if not isinstance(device, (Device, DeviceType)):
        raise TypeError(f"[new_thread_local_stream] Expected a Device or DeviceType, got "
                        f"{device!r}.")
    s = object.__new__(ThreadLocalStream)
    s.device = Device(device)
    with _index_lock:
        s._index = _thread_local_count
        _thread_local_count += 1
    s._local = threading.local()
    return s


def new_thread_unsafe_stream(device):
    """new_thread_unsafe_stream(device: Device | DeviceType) -> Stream

    Make a new stream that can be used in any thread (the CPU runs a graph's nodes in
    sequence on the evaluating thread, so any stream may be used anywhere)."""
    if not isinstance(device, (Device, DeviceType)):
        raise TypeError(f"[new_thread_unsafe_stream] Expected a Device or DeviceType, got "
                        f"{device!r}.")
    if Device(device).type != cpu and not _gpu():
        raise ValueError("[new_thread_unsafe_stream] Cannot make gpu stream without gpu "
                         "backend.")
    return new_stream(device)


def clear_streams():
    """clear_streams() -> None: the CPU keeps no per-stream state; indices keep counting,
    as in MLX."""
    return None


def synchronize(stream=None):
    """synchronize(stream=None) -> None: work on the CPU has finished when an eval returns."""
    return None


class StreamContext:
    """Context manager that makes a stream (or device) the default inside a with block."""

    def __init__(self, s):
        if isinstance(s, ThreadLocalStream):
            _check_device(s.device, "stream")
            s = s._resolve()
        if isinstance(s, (Device, DeviceType)):
            self._stream = None
            self._device = _check_device(s, "stream")
        elif isinstance(s, Stream):
            self._stream = s
            self._device = s.device
        else:
            raise TypeError(f"[stream] Expected a Stream, ThreadLocalStream or Device, got "
                            f"{s!r}.")

    def __enter__(self):
        self._saved = (getattr(_state, "device", None), getattr(_state, "stream", None),
                       getattr(_state, "node_device", -1))
        _state.device = self._device
        _state.stream = self._stream
        _state.node_device = 1 if self._device.type == gpu else 0
        _set_node_device(_state.node_device, -1)
        return self

    def __exit__(self, *exc):
        _state.device, _state.stream, _state.node_device = self._saved
        _set_node_device(_state.node_device, -1)
        return False


def stream(s):
    """stream(s: Stream | Device | DeviceType) -> StreamContext"""
    return StreamContext(s)


def _routed(f, pos):
    """f with its `stream` argument applied as a stream context around the call, so every
    node the op creates (its own and those of the ops it is built from) records that
    stream's device.  pos: the argument's position, or -1 when it is keyword-only."""
    import functools

    @functools.wraps(f)
    def op(*args, **kwargs):
        s = kwargs.get("stream")
        if s is None and 0 <= pos < len(args):
            s = args[pos]
        if s is None:
            return f(*args, **kwargs)
        with StreamContext(s):
            return f(*args, **kwargs)
    return op


_routing_saved = []      # (namespace, name, original function) while routing is installed


def set_stream_routing(on):
    """Install (or remove) the stream= routing on mlxc.core and its op submodules."""
    import sys
    if bool(on) == bool(_routing_saved):
        return
    if not on:
        for ns, name, f in _routing_saved:
            ns[name] = f
        _routing_saved.clear()
        return
    mx = sys.modules["mlxc.core"]
    for m in (mx, mx.fft, mx.linalg, mx.random, mx.fast):
        ns = vars(m)
        before = dict(ns)
        route_stream_keywords(ns)
        _routing_saved.extend((ns, k, f) for k, f in before.items() if ns[k] is not f)


def route_stream_keywords(namespace):
    """Wrap each public function of a module namespace (a dict) that has a `stream`
    parameter (see _routed).  Called only when a GPU backend may be present: on the CPU
    path nothing is wrapped, so ops cost what they did (an explicit CPU stream already
    means the CPU)."""
    import inspect
    for name, f in list(namespace.items()):
        if name.startswith("_") or not callable(f) or isinstance(f, type):
            continue
        try:
            params = list(inspect.signature(f).parameters.values())
        except (TypeError, ValueError):
            continue
        for i, p in enumerate(params):
            if p.name == "stream":
                pos = i if p.kind == p.POSITIONAL_OR_KEYWORD else -1
                namespace[name] = _routed(f, pos)
                break
