"""The .npy format: a magic string, a version, a Python-dict header and raw data.

Writing follows MLX byte for byte (header text, padding, fortran_order for a
column-contiguous array, '<V2' for bfloat16).  Reading validates the header fully
(literal dict, known descr, non-negative shape, data within the file) before it
allocates, then reads the data straight into the new array."""
import ast
import sys

from mlxc._core.array import _layout, _raw_bytes
from mlxc._core.dtype import (
    bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float16, bfloat16,
    float32, float64, complex64,
)
from .common import check_array, corrupt, read_array, write_all

MAGIC = b"\x93NUMPY"
_NATIVE = "<" if sys.byteorder == "little" else ">"
# dtype -> (kind, itemsize); bfloat16 has no numpy type: MLX writes it as 2-byte void.
_KINDS = {bool_: "b1", uint8: "u1", uint16: "u2", uint32: "u4", uint64: "u8", int8: "i1",
          int16: "i2", int32: "i4", int64: "i8", float16: "f2", bfloat16: "V2",
          float32: "f4", float64: "f8", complex64: "c8"}
_FROM_KIND = {v: k for k, v in _KINDS.items()}
# numpy spells bool as 'b1' or '?'.
_FROM_KIND["?1"] = bool_
MAX_HEADER = 1 << 20      # numpy's own headers are < 100 bytes; anything huge is corrupt


def descr(dtype):
    kind = _KINDS[dtype]
    return ("|" if dtype.size == 1 else _NATIVE) + kind


def header(dtype, shape, fortran):
    """The full header bytes (magic to newline) as MLX writes them."""
    text = (f"{{'descr': '{descr(dtype)}', 'fortran_order': {fortran}, 'shape': ("
            + "".join(f"{d}, " for d in shape) + ")}")
    v1 = len(text) + 15 < 65535
    text += " " * ((6 + 2 + (2 + 2 * v1) + len(text) + 1) % 16) + "\n"
    if v1:
        return MAGIC + b"\x01\x00" + len(text).to_bytes(2, "little") + text.encode()
    return MAGIC + b"\x02\x00" + len(text).to_bytes(4, "little") + text.encode()


def write(f, a, writer="save"):
    """Write array a as .npy to the open binary file f."""
    check_array(a, writer, "arr")
    row, col = _layout(a)
    if not (row or col):
        from mlxc._core.ops.shape import contiguous
        a = contiguous(a)
        row, col = _layout(a)
    # MLX marks every column-contiguous array (1-d and 0-d ones too) fortran_order.
    f.write(header(a.dtype, a.shape, col))
    if a.size:
        write_all(f, _raw_bytes(a))


def _parse_header(text, src):
    """descr, fortran_order and shape from the header dict text, fully validated."""
    bad = lambda what: corrupt(src.reader, src.name, f"invalid npy header: {what}")  # noqa: E731
    try:
        d = ast.literal_eval(text)
    except Exception:          # SyntaxError, ValueError, MemoryError, RecursionError ...
        raise bad(f"not a Python literal: {text[:80]!r}") from None
    if not isinstance(d, dict) or set(d) != {"descr", "fortran_order", "shape"}:
        raise bad(f"expected a dict with keys descr, fortran_order, shape: {text[:80]!r}")
    descr_, fortran, shape = d["descr"], d["fortran_order"], d["shape"]
    if not isinstance(fortran, bool):
        raise bad(f"fortran_order {fortran!r}")
    if (not isinstance(shape, tuple)
            or not all(type(s) is int and 0 <= s < 2**63 for s in shape)):
        raise bad(f"shape {shape!r}")
    if not isinstance(descr_, str) or len(descr_) < 2 or descr_[0] not in "<>|=":
        raise ValueError(f"[load] Unsupported array protocol type-string {descr_!r} "
                         f"in file {src.name}")
    dtype = _FROM_KIND.get(descr_[1:])
    if dtype is None:
        raise ValueError(f"[load] Unsupported array protocol type-string {descr_!r} "
                         f"in file {src.name}")
    swap = dtype.size > 1 and descr_[0] in "<>" and descr_[0] != _NATIVE
    size = 1
    for s in shape:
        size *= s
    if size * dtype.size >= 2**63:
        raise bad(f"shape {shape!r} is too large")
    return dtype, fortran, shape, swap


def read(src):
    """Read one .npy array from the Source src."""
    start = src.read(8, "the npy magic and version")
    if start[:6] != MAGIC:
        raise corrupt(src.reader, src.name, "Invalid header: not an npy file (bad magic)")
    major = start[6]
    if major == 1:
        hlen = int.from_bytes(src.read(2, "the npy header length"), "little")
    elif major == 2:
        hlen = int.from_bytes(src.read(4, "the npy header length"), "little")
    else:
        raise corrupt(src.reader, src.name, f"Unsupported npy format version {major}")
    if hlen > MAX_HEADER:
        raise corrupt(src.reader, src.name, f"npy header length {hlen} is absurd")
    raw = src.read(hlen, "the npy header")
    try:
        text = raw.decode("latin1")
    except UnicodeDecodeError:   # latin1 decodes everything; kept for clarity
        raise corrupt(src.reader, src.name, "npy header is not text") from None
    dtype, fortran, shape, swap = _parse_header(text, src)
    if fortran and len(shape) > 1:
        out = read_array(src, dtype, tuple(reversed(shape)), "the npy data")
        from mlxc._core.ops.shape import transpose
        out = transpose(out)
    else:
        out = read_array(src, dtype, shape, "the npy data")
    if swap:
        _byteswap(out)
    return out


def _byteswap(a):
    """Swap the bytes of each scalar in place (big-endian files on a little-endian host)."""
    import numpy as np
    width = a.dtype.size // (2 if a.dtype == complex64 else 1)
    view = np.frombuffer(_raw_bytes(a), dtype=np.dtype(f"u{width}"))
    view.byteswap(inplace=True)
