"""mx.distributed: MLX's communication API with its single-process semantics.

mlxc has no multi-process backend yet (the design names MPI for it), so, as MLX does when
no backend can start, init() returns a group of size one and every collective over it is
the identity.  The collectives are still graph nodes (prims/distributed.Collective) with
their transform rules, so they behave under grad, vjp, jvp and vmap as MLX's do.
"""
from mlxc._core.dtype import Dtype
from mlxc._core.ops.common import stream_scope as _stream_scope
from mlxc._core.ops.distributed import collective as _collective

__all__ = ["Group", "is_available", "init", "all_sum", "all_max", "all_min", "all_gather",
           "sum_scatter", "send", "recv", "recv_like"]

_BACKENDS = ("any", "mpi", "ring", "nccl", "jaccl")
# Op codes of prims/distributed.pxd.
_ALL_SUM, _ALL_MAX, _ALL_MIN, _ALL_GATHER, _SUM_SCATTER = range(5)


class Group:
    """An :class:`mlx.core.distributed.Group` represents a group of independent mlx
    processes that can communicate."""

    __slots__ = ("_rank", "_size")

    def __init__(self, *args, **kwargs):
        raise TypeError("mlx.core.distributed.Group: no constructor defined!")

    @classmethod
    def _make(cls, rank, size):
        g = object.__new__(cls)
        g._rank, g._size = rank, size
        return g

    def rank(self):
        """rank(self) -> int

        Get the rank of this process"""
        return self._rank

    def size(self):
        """size(self) -> int

        Get the size of the group"""
        return self._size

    def split(self, color, key=-1):
        """split(self, color: int, key: int = -1) -> Group

        Split the group to subgroups based on the provided color.  Processes that use the
        same color go to the same group; the key orders the ranks of the new group (a
        negative key keeps the current rank).  A group of one process cannot be split."""
        _check_int(color, "split", "color")
        _check_int(key, "split", "key")
        if self._size == 1:
            raise RuntimeError("Cannot split the distributed group further.")
        raise RuntimeError("[split] No distributed backend is available.")

    def __repr__(self):
        return f"<mlx.core.distributed.Group rank={self._rank} size={self._size}>"


_WORLD = Group._make(0, 1)


def _check_int(v, op, what):
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"[{op}] {what} must be an int, got {type(v).__name__}.")


def _check_backend(backend, op):
    if not isinstance(backend, str):
        raise TypeError(f"[{op}] backend must be a str, got {type(backend).__name__}.")
    if backend not in _BACKENDS:
        raise ValueError(f"[distributed] The only valid values for backend are 'any', 'mpi', "
                         f"'nccl', 'jaccl' and 'ring' but '{backend}' was provided.")


def is_available(backend="any"):
    """is_available(backend: str = 'any') -> bool

    Whether a communication backend is available.  mlxc has none yet (MPI is planned),
    so this is False for every backend; init() still returns a group of size one."""
    if not isinstance(backend, str):
        raise TypeError(f"[is_available] backend must be a str, got {type(backend).__name__}.")
    return False


def init(strict=False, backend="any", *, all_gather_factory=None):
    """init(strict: bool = False, backend: str = 'any', *, all_gather_factory=None) -> Group

    The global communication group.  Without a backend (always, in mlxc for now) it is the
    singleton group (rank 0, size 1); strict=True raises RuntimeError instead."""
    _check_backend(backend, "init")
    if all_gather_factory is not None and backend != "jaccl":
        raise ValueError("all_gather_factory is only supported with backend='jaccl'.")
    if strict:
        if backend == "any":
            raise RuntimeError("[distributed] Couldn't initialize any backend")
        raise RuntimeError(f"Cannot initialize {backend} distributed backend: mlxc has no "
                           f"multi-process backend.")
    return _WORLD


def _group(group, op):
    if group is None:
        return _WORLD
    if not isinstance(group, Group):
        raise TypeError(f"[{op}] group must be a Group or None, got {type(group).__name__}.")
    return group


def all_sum(x, *, group=None, stream=None):
    """all_sum(x: array, *, group: Group | None = None, stream=None) -> array

    The sum of x over every process of the group (x itself in one process)."""
    with _stream_scope(stream, "all_sum"):
        return _collective(x, _ALL_SUM, _group(group, "all_sum"))


def all_max(x, *, group=None, stream=None):
    """all_max(x: array, *, group: Group | None = None, stream=None) -> array

    The elementwise maximum of x over every process of the group."""
    with _stream_scope(stream, "all_max"):
        return _collective(x, _ALL_MAX, _group(group, "all_max"))


def all_min(x, *, group=None, stream=None):
    """all_min(x: array, *, group: Group | None = None, stream=None) -> array

    The elementwise minimum of x over every process of the group."""
    with _stream_scope(stream, "all_min"):
        return _collective(x, _ALL_MIN, _group(group, "all_min"))


def all_gather(x, *, group=None, stream=None):
    """all_gather(x: array, *, group: Group | None = None, stream=None) -> array

    The x of every process concatenated along the first axis, in rank order."""
    with _stream_scope(stream, "all_gather"):
        return _collective(x, _ALL_GATHER, _group(group, "all_gather"))


def sum_scatter(x, *, group=None, stream=None):
    """sum_scatter(x: array, *, group: Group | None = None, stream=None) -> array

    The sum of x over the group, of which each process keeps its block of the first axis."""
    with _stream_scope(stream, "sum_scatter"):
        return _collective(x, _SUM_SCATTER, _group(group, "sum_scatter"))


def send(x, dst, *, group=None, stream=None):
    """send(x: array, dst: int, *, group: Group | None = None, stream=None) -> array

    Send x to process dst of the group.  A group of one process has no other to send to:
    ValueError, as in MLX."""
    with _stream_scope(stream, "send"):
        _check_int(dst, "send", "dst")
        g = _group(group, "send")
        if g.size() == 1:
            raise ValueError("Cannot send to a singleton group")
        raise RuntimeError("[send] No distributed backend is available.")


def recv(shape, dtype, src, *, group=None, stream=None):
    """recv(shape: Sequence[int], dtype: Dtype, src: int, *, group=None, stream=None) -> array

    Receive an array of shape and dtype from process src.  A group of one process has no
    other to receive from: ValueError, as in MLX."""
    with _stream_scope(stream, "recv"):
        try:
            shape = tuple(shape)
        except TypeError:
            raise TypeError(f"[recv] shape must be a sequence of ints, got "
                            f"{type(shape).__name__}.") from None
        for d in shape:
            _check_int(d, "recv", "shape")
        if not isinstance(dtype, Dtype):
            raise TypeError(f"[recv] dtype must be a Dtype, got {type(dtype).__name__}.")
        _check_int(src, "recv", "src")
        g = _group(group, "recv")
        if g.size() == 1:
            raise ValueError("Cannot recv from a singleton group")
        raise RuntimeError("[recv] No distributed backend is available.")


def recv_like(x, src, *, group=None, stream=None):
    """recv_like(x: array, src: int, *, group=None, stream=None) -> array

    recv with the shape and dtype of x."""
    with _stream_scope(stream, "recv_like"):
        from mlxc._core.array import array
        if not isinstance(x, array):
            raise TypeError(f"[recv_like] x must be an array, got {type(x).__name__}.")
        return recv(x.shape, x.dtype, src, group=group)
