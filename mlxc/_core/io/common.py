"""What every format shares: opening paths and file objects, exact reads straight
into an array's buffer, an array's bytes for writing, and the error types.

Errors follow MLX: a bad argument is a ValueError/TypeError; a file whose contents
are wrong (truncated, corrupted, absurd header) is a RuntimeError whose message names
the reader and the file.  Every header field is checked before anything is allocated.
"""
import io
import os
import zlib

from mlxc._core.array import array, _empty, _raw_bytes, _layout
from mlxc._core.dtype import (
    bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float16, bfloat16,
    float32, float64, complex64,
)

# Largest chunk handed to a file object's readinto when it is not a raw OS file (its
# readinto may read into a temporary first, e.g. zipfile's); raw files read in one go.
_CHUNK = 1 << 24

DTYPE_NAMES = {bool_: "bool", uint8: "uint8", uint16: "uint16", uint32: "uint32",
               uint64: "uint64", int8: "int8", int16: "int16", int32: "int32",
               int64: "int64", float16: "float16", bfloat16: "bfloat16",
               float32: "float32", float64: "float64", complex64: "complex64"}


def corrupt(reader, name, what):
    """The error for a file whose contents cannot be what they claim."""
    return RuntimeError(f"[{reader}] {what} (file {name})")


def file_name(f):
    """A printable name for a path or file object."""
    if isinstance(f, (str, os.PathLike)):
        return os.fspath(f)
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else f"<{type(f).__name__}>"


def is_path(f):
    return isinstance(f, (str, os.PathLike))


def with_extension(path, ext):
    """MLX appends the format's extension unless the path already ends with it."""
    path = os.fspath(path)
    return path if path.endswith(ext) else path + ext


class Source:
    """A readable file with its name and the number of bytes left (None if unknown)."""

    def __init__(self, f, reader, name=None, remaining=None, buffered=False):
        self.reader = reader
        self.name = name or file_name(f)
        self.owned = is_path(f)
        if self.owned:
            try:
                self.f = open(os.fspath(f), "rb", buffering=-1 if buffered else 0)
            except OSError:
                raise RuntimeError(f"[load] Failed to open file {self.name}") from None
        else:
            self.f = f
        self.crc = None          # set to 0 to keep a running CRC-32 of what is read
        self.remaining = remaining
        if remaining is not None:
            return
        try:
            if self.f.seekable():
                pos = self.f.tell()
                end = self.f.seek(0, io.SEEK_END)
                self.f.seek(pos)
                self.remaining = end - pos
        except (AttributeError, OSError, ValueError):
            self.remaining = None

    def close(self):
        if self.owned:
            self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def check_left(self, n, what):
        """Raise before reading or allocating n bytes that the file cannot hold."""
        if n < 0 or (self.remaining is not None and n > self.remaining):
            left = "?" if self.remaining is None else self.remaining
            raise corrupt(self.reader, self.name,
                          f"{what} needs {n} bytes but only {left} are left: "
                          "truncated or corrupted file")

    def read(self, n, what):
        """Exactly n bytes (small reads: headers)."""
        self.check_left(n, what)
        out = bytearray(n)
        self.readinto(memoryview(out), what)
        return bytes(out)

    def readinto(self, mv, what):
        """Fill the byte memoryview mv from the file."""
        n = len(mv)
        self.check_left(n, what)
        raw = isinstance(self.f, io.FileIO)
        pos = 0
        while pos < n:
            end = n if raw else min(n, pos + _CHUNK)
            try:
                if hasattr(self.f, "readinto"):
                    got = self.f.readinto(mv[pos:end])
                else:
                    data = self.f.read(end - pos)
                    got = len(data)
                    mv[pos:pos + got] = data
            except Exception as e:   # OSError, EOFError, zipfile's BadZipFile (CRC), zlib ...
                raise corrupt(self.reader, self.name, f"reading {what} failed: {e}") from None
            if not got:
                raise corrupt(self.reader, self.name,
                              f"unable to read {what}: the file ends {n - pos} bytes early")
            if self.crc is not None:
                self.crc = zlib.crc32(mv[pos:pos + got], self.crc)
            pos += got
        if self.remaining is not None:
            self.remaining -= n

    def skip(self, n, what):
        """Move forward n bytes (padding, gaps between tensors)."""
        self.check_left(n, what)
        if n == 0:
            return
        if self.f.seekable():
            self.f.seek(n, io.SEEK_CUR)
            if self.remaining is not None:
                self.remaining -= n
        else:
            self.read(n, what)


def read_array(src, dtype, shape, what):
    """A new evaluated row-major array of dtype/shape filled from src: the bytes go
    from the file straight into the array's buffer (the only copy)."""
    size = 1
    for d in shape:
        size *= d
    src.check_left(size * dtype.size, what)
    out = _empty(dtype, shape)
    if size:
        src.readinto(_raw_bytes(out), what)
    return out


def open_for_write(file, ext, writer):
    """(file object, whether we own it) for a path (extension added) or a file object."""
    if is_path(file):
        return open(with_extension(file, ext), "wb"), True
    if hasattr(file, "write"):
        return file, False
    raise ValueError(f"[{writer}] Input must be a file-like object, or string")


def check_array(x, writer, what):
    if not isinstance(x, array):
        raise TypeError(f"[{writer}] {what} must be an array, got {type(x).__name__}.")
    return x


def row_bytes(a):
    """a's bytes in row-major order (no copy when a is already row-contiguous)."""
    if not _layout(a)[0]:
        from mlxc._core.ops.shape import contiguous
        a = contiguous(a)
    return _raw_bytes(a)


def write_all(f, mv):
    """Write a whole buffer (some file objects write partially)."""
    n = len(mv)
    pos = 0
    while pos < n:
        got = f.write(mv[pos:])
        if got is None:           # buffered writers may return None: they wrote it all
            return
        pos += got
