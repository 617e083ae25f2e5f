"""The safetensors format: an 8-byte little-endian header length, a JSON header
(name -> dtype, shape, data_offsets; optional __metadata__ of strings) and the data.

Dtypes and errors follow MLX 0.32.4: no F64 either way, F8_E4M3 loads as raw uint8.
Beyond MLX, overlapping tensors are rejected, as the format's own reader does."""
import json

from mlxc._core.dtype import (
    bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float16, bfloat16,
    float32, complex64,
)
from .common import check_array, corrupt, read_array, row_bytes, write_all

_TO_ST = {bool_: "BOOL", uint8: "U8", uint16: "U16", uint32: "U32", uint64: "U64",
          int8: "I8", int16: "I16", int32: "I32", int64: "I64", float16: "F16",
          bfloat16: "BF16", float32: "F32", complex64: "C64"}
_FROM_ST = {v: k for k, v in _TO_ST.items()}
_FROM_ST["F8_E4M3"] = uint8
MAX_HEADER = 100 << 20     # the format's reference reader caps headers at 100 MB


def write(f, arrays, metadata):
    if not isinstance(arrays, dict):
        raise TypeError("[save_safetensors] arrays must be a dict of str to array, got "
                        f"{type(arrays).__name__}.")
    if metadata is not None and (not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise ValueError("[save_safetensors] Metadata must be a dictionary with string "
                         "keys and values")
    for k, a in arrays.items():
        if not isinstance(k, str):
            raise TypeError(f"[save_safetensors] array names must be str, got {k!r}.")
        check_array(a, "save_safetensors", f"arrays[{k!r}]")
        if a.dtype not in _TO_ST:
            raise RuntimeError("[save_safetensors] received invalid dtype.")
    head = {"__metadata__": metadata if metadata else None}
    names = sorted(arrays)
    off = 0
    for k in names:
        a = arrays[k]
        head[k] = {"data_offsets": [off, off + a.nbytes], "dtype": _TO_ST[a.dtype],
                   "shape": list(a.shape)}
        off += a.nbytes
    text = json.dumps(head, separators=(",", ":"), ensure_ascii=False).encode()
    f.write(len(text).to_bytes(8, "little") + text)
    for k in names:
        if arrays[k].size:
            write_all(f, row_bytes(arrays[k]))


def _is_int(x):
    return type(x) is int


def _entries(head, src, data_size):
    """[(name, dtype, shape, begin, end)] from the parsed header, every field checked."""
    bad = lambda what: corrupt("load_safetensors", src.name, what)  # noqa: E731
    out = []
    for k, e in head.items():
        if k == "__metadata__":
            continue
        if not isinstance(e, dict):
            raise bad(f"Tensor {k!r}: entry is not an object")
        dt, shape, offs = e.get("dtype"), e.get("shape"), e.get("data_offsets")
        if dt not in _FROM_ST:
            raise bad(f"unsupported dtype {dt} for tensor {k!r}")
        if not isinstance(shape, list) or not all(_is_int(s) and 0 <= s < 2**63
                                                  for s in shape):
            raise bad(f"Tensor {k!r} invalid shape {shape!r}")
        if (not isinstance(offs, list) or len(offs) != 2
                or not all(_is_int(o) and o >= 0 for o in offs) or offs[0] > offs[1]):
            raise bad(f"Tensor {k!r} invalid data offsets {offs!r}")
        dtype = _FROM_ST[dt]
        n = dtype.size
        for s in shape:
            n *= s
        if offs[1] - offs[0] != n:
            raise bad(f"Tensor {k!r} invalid data offsets ({offs[0]}, {offs[1]}). "
                      f"Expecting {n} bytes.")
        if data_size is not None and offs[1] > data_size:
            raise bad(f"Tensor {k!r} invalid data offsets ({offs[0]}, {offs[1]}) exceeding "
                      "the size of the file. Perhaps an incomplete download or corrupt file?")
        out.append((k, dtype, tuple(shape), offs[0], offs[1]))
    last_end, last = 0, None
    for k, _, _, b, e in sorted(out, key=lambda t: (t[3], t[4])):
        if b < last_end and e > b:
            raise bad(f"Tensors {last!r} and {k!r} overlap in the file")
        if e > b:
            last_end, last = e, k
    return out


def read(src):
    """(arrays, metadata) from the Source src."""
    n = int.from_bytes(src.read(8, "the safetensors header length"), "little")
    if n > MAX_HEADER or (src.remaining is not None and n > src.remaining):
        raise corrupt("load_safetensors", src.name, f"Invalid json header length {n}")
    raw = src.read(n, "the safetensors header")
    try:
        head = json.loads(raw)
    except (ValueError, RecursionError) as e:       # JSONDecodeError, bad UTF-8
        raise corrupt("load_safetensors", src.name, f"Invalid json header: {e}") from None
    if not isinstance(head, dict):
        raise corrupt("load_safetensors", src.name, "Invalid json metadata: not an object")
    meta = head.get("__metadata__")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise corrupt("load_safetensors", src.name,
                      "__metadata__ must be an object of string values")
    entries = _entries(head, src, src.remaining)
    # Read in file order (sequential I/O); return in header order.
    arrays, pos = {}, 0
    for k, dtype, shape, b, e in sorted(entries, key=lambda t: t[3]):
        if b < pos:                       # zero-size entries may sit anywhere
            arrays[k] = read_array(src, dtype, shape, f"tensor {k!r}")
            continue
        src.skip(b - pos, f"the gap before tensor {k!r}")
        arrays[k] = read_array(src, dtype, shape, f"tensor {k!r}")
        pos = e
    return {k: arrays[k] for k, *_ in entries}, dict(meta)
