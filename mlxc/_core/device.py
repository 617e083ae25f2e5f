"""Devices and streams.

The CPU runs everything unless a GPU backend is present (mlxc._core.metal.backend: Metal on
macOS, or the test suite's emulated Metal device with MLXC_METAL_EMULATE=1); without one the
GPU exists as in MLX's CPU-only build.  Each graph node records the device it was created
on: the op's stream= argument (resolved once, at the op's entry: mlxc/_core/ops/common.pyx),
else the thread's stream context (stream(...)), else the default device; eval runs GPU
nodes through Primitive.eval_gpu.  As in MLX, set_default_stream changes the stream
default_stream(device) answers for that stream's device, not the default device.  The
default device stays the CPU even with a GPU present (unlike MLX on a Mac): under emulation
the GPU is a slow test tool, and on macOS not every primitive has a Metal kernel yet; ask
for it with set_default_device(gpu), stream(gpu) or stream=gpu.
"""
import enum
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
    """array.pyx's node device (see set_node_device there): returns the thread's previous."""
    from mlxc._core.array import _set_node_device as set_
    return set_(thread_device, default_device)


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
        s = getattr(_state, "stream", None)
        if s is not None and s.device.type == gpu:
            return s
        s = getattr(_state, "gpu_default", None)
        if s is not None:
            return s
        if _gpu_stream is None:
            _gpu_stream = _next_stream(Device(gpu))
        return _gpu_stream
    s = getattr(_state, "stream", None)
    if s is not None and s.device.type == cpu:
        return s
    return _thread_default()


def set_default_stream(stream):
    """set_default_stream(stream: Stream) -> None: for the calling thread."""
    if not isinstance(stream, Stream):
        raise TypeError(f"[set_default_stream] Expected a Stream, got {stream!r}.")
    _check_device(stream.device, "set_default_stream")
    if stream.device.type == gpu:
        _state.gpu_default = stream
    else:
        _state.default = stream


def new_stream(device):
    """new_stream(device: Device | DeviceType) -> Stream"""
    d = Device(device)
    if d.type != cpu and not _gpu():
        raise ValueError("[new_stream] Cannot make gpu stream without gpu backend.")
    return _next_stream(d)


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
        # the thread's node device (array.pyx) follows the context's device
        code = 1 if self._device.type == gpu else 0
        self._saved = (getattr(_state, "device", None), getattr(_state, "stream", None),
                       _set_node_device(code, -1))
        _state.device = self._device
        _state.stream = self._stream
        return None

    def __exit__(self, *exc):
        _state.device, _state.stream, code = self._saved
        _set_node_device(code, -1)
        return False


def stream(s):
    """stream(s: Stream | Device | DeviceType) -> StreamContext"""
    return StreamContext(s)
