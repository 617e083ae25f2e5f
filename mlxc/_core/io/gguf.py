"""The GGUF format (version 2/3): key-value metadata, tensor infos, aligned data.

As MLX 0.32.4: writes float32/float16/int8/int16/int32 tensors and metadata of
strings, lists of strings and 0-d/1-d arrays; reads F32, F16, I8, I16, I32, BF16 (as
float16, like MLX) and the quantized Q4_0, Q4_1, Q8_0 tensors as MLX's quantized
triples: `name` (packed uint32), `name[:-7] + ".scales"` and `... + ".biases"`
(float16, groups of 32); Q2_K, Q4_K and Q6_K dequantized to float16 (bit for bit
what MLX returns).  Unlike MLX, a corrupted file raises instead of crashing:
every count, length, shape and offset is checked against the file's size first."""
import struct

import numpy as np

from mlxc._core.array import array, _empty, _raw_bytes
from mlxc._core.dtype import (
    bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float16, bfloat16,
    float32, float64,
)
from .common import DTYPE_NAMES, Source, check_array, corrupt, read_array, row_bytes, write_all

MAGIC = b"GGUF"
DEFAULT_ALIGN = 32
MAX_DIMS = 32
# Metadata value types.
T_STRING, T_ARRAY = 8, 9
_META_DTYPES = {0: uint8, 1: int8, 2: uint16, 3: int16, 4: uint32, 5: int32, 6: float32,
                7: bool_, 10: uint64, 11: int64, 12: float64}
_META_CODES = {v: k for k, v in _META_DTYPES.items() if v is not float64}
# Tensor types (ggml_type) MLX writes, and the names of all for messages.
_TENSOR_CODES = {float32: 0, float16: 1, int8: 24, int16: 25, int32: 26}
_PLAIN = {0: float32, 1: float16, 24: int8, 25: int16, 26: int32, 30: bfloat16}
_QUANT = {2: ("Q4_0", 18), 3: ("Q4_1", 20), 8: ("Q8_0", 34)}   # bytes per block of 32
# K-quants MLX dequantizes to float16: bytes per super-block of 256.
_KQUANT = {10: ("Q2_K", 84), 12: ("Q4_K", 144), 14: ("Q6_K", 210)}
_TYPE_NAMES = ["F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0",
               "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS",
               "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8",
               "I16", "I32", "I64", "F64", "IQ1_M", "BF16"]


# ---------------------------------------------------------------- writing

def _str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def _meta_value(k, v):
    """The type code and bytes of one metadata value."""
    if isinstance(v, str):
        return struct.pack("<I", T_STRING) + _str(v)
    if isinstance(v, (list, tuple)):
        if not all(isinstance(s, str) for s in v):
            raise TypeError(f"[save_gguf] metadata {k!r}: lists may hold only strings.")
        return (struct.pack("<IIQ", T_ARRAY, T_STRING, len(v))
                + b"".join(_str(s) for s in v))
    if isinstance(v, array):
        if v.ndim > 1:
            raise RuntimeError("[save_gguf] Cannot save arrays with more than one dimension.")
        if v.size == 0:
            raise RuntimeError("[save_gguf] Cannot save empty arrays.")
        code = _META_CODES.get(v.dtype)
        if code is None:
            raise ValueError(f"[save_gguf] array type {DTYPE_NAMES[v.dtype]} not support "
                             "for metadata.")
        data = bytes(row_bytes(v))
        if v.ndim == 0:
            return struct.pack("<I", code) + data
        return struct.pack("<IIQ", T_ARRAY, code, v.size) + data
    raise TypeError(f"[save_gguf] metadata {k!r}: expected str, list of str or array, got "
                    f"{type(v).__name__}.")


def write(path, arrays, metadata):
    if not isinstance(arrays, dict):
        raise TypeError("[save_gguf] arrays must be a dict of str to array.")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise TypeError("[save_gguf] metadata must be a dict.")
    for k, a in arrays.items():
        if not isinstance(k, str):
            raise TypeError(f"[save_gguf] array names must be str, got {k!r}.")
        check_array(a, "save_gguf", f"arrays[{k!r}]")
        if a.dtype not in _TENSOR_CODES:
            raise RuntimeError(f"[save_gguf] dtype {DTYPE_NAMES[a.dtype]} is not supported")
    kvs = []
    for k, v in metadata.items():
        if not isinstance(k, str):
            raise TypeError(f"[save_gguf] metadata keys must be str, got {k!r}.")
        kvs.append(_str(k) + _meta_value(k, v))
    head = [MAGIC, struct.pack("<IQQ", 3, len(arrays), len(kvs))] + kvs
    off = 0
    for k, a in arrays.items():
        head.append(_str(k) + struct.pack("<I", a.ndim)
                    + b"".join(struct.pack("<Q", d) for d in reversed(a.shape))
                    + struct.pack("<IQ", _TENSOR_CODES[a.dtype], off))
        off += a.nbytes + (-a.nbytes) % DEFAULT_ALIGN
    head = b"".join(head)
    with open(path, "wb") as f:
        f.write(head + b"\0" * ((-len(head)) % DEFAULT_ALIGN))
        last = len(arrays) - 1
        for i, a in enumerate(arrays.values()):
            if a.size:
                write_all(f, row_bytes(a))
            if i < last:          # MLX pads between tensors, not after the last
                f.write(b"\0" * ((-a.nbytes) % DEFAULT_ALIGN))


# ---------------------------------------------------------------- reading

class _Reader:
    """Little-endian fields from a Source, each checked against the bytes left."""

    def __init__(self, src):
        self.src = src
        self.total = src.remaining

    @property
    def pos(self):
        return self.total - self.src.remaining

    def u32(self, what):
        return struct.unpack("<I", self.src.read(4, what))[0]

    def u64(self, what):
        return struct.unpack("<Q", self.src.read(8, what))[0]

    def string(self, what):
        n = self.u64(what)
        raw = self.src.read(n, what)        # checks n against the file first
        try:
            return raw.decode()
        except UnicodeDecodeError:
            raise corrupt("load_gguf", self.src.name, f"{what} is not UTF-8") from None

    def bad(self, what):
        return corrupt("load_gguf", self.src.name, what)


def _read_value(r, vtype, key):
    if vtype == T_STRING:
        return r.string(f"metadata {key!r}")
    if vtype in _META_DTYPES:
        return read_array(r.src, _META_DTYPES[vtype], (), f"metadata {key!r}")
    if vtype != T_ARRAY:
        raise r.bad(f"metadata {key!r} has unknown value type {vtype}")
    etype = r.u32(f"metadata {key!r}")
    count = r.u64(f"metadata {key!r}")
    if etype == T_STRING:
        r.src.check_left(8 * count, f"metadata {key!r} ({count} strings)")
        return [r.string(f"metadata {key!r}") for _ in range(count)]
    if etype not in _META_DTYPES:
        raise r.bad(f"metadata {key!r}: arrays of value type {etype} are not supported")
    return read_array(r.src, _META_DTYPES[etype], (count,), f"metadata {key!r}")


def _tensor_bytes(r, name, ttype, shape):
    """Bytes of a tensor's data, or a clear error for a type mlxc (like MLX) cannot load."""
    count = 1
    for d in shape:
        count *= d
    if ttype in _PLAIN:
        return count * _PLAIN[ttype].size
    if ttype in (27, 28):         # I64, F64: sized here, refused (as by MLX) once checked
        return count * 8
    if ttype in _QUANT:
        tname, block = _QUANT[ttype]
        if not shape or shape[-1] % 32:
            raise r.bad(f"tensor {name!r} of type {tname} has shape {shape}: the last "
                        "dimension must be a multiple of 32")
        return count // 32 * block
    if ttype in _KQUANT:
        tname, block = _KQUANT[ttype]
        if not shape or shape[-1] % 256:
            raise r.bad(f"tensor {name!r} of type {tname} has shape {shape}: the last "
                        "dimension must be a multiple of 256")
        return count // 256 * block
    tname = _TYPE_NAMES[ttype] if ttype < len(_TYPE_NAMES) else f"unknown ({ttype})"
    raise RuntimeError(f"[load_gguf] tensor {name!r} has type {tname}, which is not "
                       f"supported (file {r.src.name})")


def _fill(out, values):
    """Copy a numpy array into the new array out's buffer."""
    np.frombuffer(_raw_bytes(out), dtype=values.dtype).reshape(values.shape)[...] = values
    return out


def _read_blocks(src, name, nblocks, block):
    raw = np.empty((nblocks, block), np.uint8)
    if raw.size:
        src.readinto(memoryview(raw.reshape(-1)), f"tensor {name!r}")
    return raw


def _quantized(src, name, ttype, shape, arrays):
    """MLX's quantized triple for a Q4_0/Q4_1/Q8_0 tensor (groups of 32)."""
    tname, block = _QUANT[ttype]
    nblocks = 1
    for d in shape:
        nblocks *= d
    nblocks //= 32
    raw = _read_blocks(src, name, nblocks, block)
    d = raw[:, :2].copy().view(np.float16)
    if ttype == 8:      # Q8_0: int8 values; MLX stores q + 128 unsigned, bias -128 d
        packed = raw[:, 2:] ^ np.uint8(0x80)
        bias = d * np.float16(-128)
        bits = 8
    else:               # Q4_0 / Q4_1: byte j holds values j (low nibble) and j+16 (high)
        qs = raw[:, 2:] if ttype == 2 else raw[:, 4:]
        q = np.concatenate([qs & 15, qs >> 4], axis=1)
        packed = q[:, 0::2] | (q[:, 1::2] << 4)
        bias = d * np.float16(-8) if ttype == 2 else raw[:, 2:4].copy().view(np.float16)
        bits = 4
    lead = tuple(shape[:-1])
    groups = shape[-1] // 32
    w = _fill(_empty(uint32, lead + (shape[-1] * bits // 32,)),
              np.ascontiguousarray(packed).reshape(-1))
    prefix = name[:len(name) - 7] if len(name) >= 7 else name
    arrays[name] = w
    arrays[prefix + ".scales"] = _fill(_empty(float16, lead + (groups,)), d.reshape(-1))
    arrays[prefix + ".biases"] = _fill(_empty(float16, lead + (groups,)), bias.reshape(-1))


def _f16(raw, at):
    """The float16 field at byte `at` of every block, as float32 (nblocks, 1)."""
    return raw[:, at:at + 2].copy().view(np.float16).astype(np.float32)


def _q2_k(raw):
    # 16 groups of 16: 4-bit scale and 4-bit min per group; 2-bit values, four
    # per byte, cycling through 32-byte runs of qs with shifts 0, 2, 4, 6.
    sc = raw[:, :16]
    qs = raw[:, 16:80].reshape(-1, 2, 1, 32)
    d, dmin = _f16(raw, 80), _f16(raw, 82)
    q = (qs >> (np.arange(4, dtype=np.uint8) * 2)[None, None, :, None]) & 3
    q = q.reshape(-1, 16, 16).astype(np.float32)    # (half, shift, 32 bytes) -> groups
    scale = (d * (sc & 15))[:, :, None]
    low = (dmin * (sc >> 4))[:, :, None]
    return (scale * q - low).reshape(-1, 256)


def _scale_min_k4(q):
    """Q4_K's eight 6-bit scales and mins packed in 12 bytes."""
    q = q.astype(np.uint8)
    sc = np.empty((q.shape[0], 8), np.uint8)
    mn = np.empty((q.shape[0], 8), np.uint8)
    sc[:, :4] = q[:, 0:4] & 63
    mn[:, :4] = q[:, 4:8] & 63
    sc[:, 4:] = (q[:, 8:12] & 15) | ((q[:, 0:4] >> 6) << 4)
    mn[:, 4:] = (q[:, 8:12] >> 4) | ((q[:, 4:8] >> 6) << 4)
    return sc.astype(np.float32), mn.astype(np.float32)


def _q4_k(raw):
    # 8 groups of 32; each 32-byte run of qs gives a group (low nibbles) and the
    # next group (high nibbles); 6-bit scales and mins.
    d, dmin = _f16(raw, 0), _f16(raw, 2)
    sc, mn = _scale_min_k4(raw[:, 4:16])
    # MLX's gguf reader (gguflib) applies the even group's scale and min to both
    # groups of each 64-value chunk (llama.cpp uses group 2c+1's for the high
    # nibbles); we return what MLX returns.
    even = [0, 0, 2, 2, 4, 4, 6, 6]
    sc, mn = sc[:, even], mn[:, even]
    qs = raw[:, 16:144].reshape(-1, 4, 1, 32)
    q = np.concatenate([qs & 15, qs >> 4], axis=2).reshape(-1, 8, 32).astype(np.float32)
    return ((d * sc)[:, :, None] * q - (dmin * mn)[:, :, None]).reshape(-1, 256)


def _q6_k(raw):
    # Two halves of 128: 4 low bits from ql, 2 high bits from qh, minus 32; a signed
    # 8-bit scale per 16 values.
    ql = raw[:, :128].reshape(-1, 2, 2, 32)             # (half, first/second 32 bytes)
    qh = raw[:, 128:192].reshape(-1, 2, 1, 32)
    sc = raw[:, 192:208].view(np.int8).astype(np.float32).reshape(-1, 2, 8)
    d = _f16(raw, 208)[:, :, None, None]
    low = np.concatenate([ql & 15, ql >> 4], axis=2)    # quarters 0,1 (low) 2,3 (high)
    high = (qh >> (np.arange(4, dtype=np.uint8) * 2)[None, None, :, None]) & 3
    q = (low | (high << 4)).astype(np.float32) - 32     # (blocks, half, quarter, 32)
    scale = d * np.repeat(sc, 16, axis=2).reshape(-1, 2, 4, 32)
    return (scale * q).reshape(-1, 256)


_KDEQUANT = {10: _q2_k, 12: _q4_k, 14: _q6_k}


def _kquant(src, name, ttype, shape):
    """A K-quant tensor dequantized to float16, as MLX does."""
    _, block = _KQUANT[ttype]
    nblocks = 1
    for d in shape:
        nblocks *= d
    nblocks //= 256
    raw = _read_blocks(src, name, nblocks, block)
    values = _KDEQUANT[ttype](raw).astype(np.float16)
    return _fill(_empty(float16, tuple(shape)), values.reshape(-1))


def read(path):
    with Source(path, "load_gguf", buffered=True) as src:
        if src.remaining is None:
            raise ValueError("[load_gguf] Input must be a string")
        r = _Reader(src)
        if src.read(4, "the gguf magic") != MAGIC:
            raise r.bad("Invalid gguf file: bad magic")
        version = r.u32("the gguf version")
        if version not in (2, 3):
            raise r.bad(f"unsupported gguf version {version}")
        n_tensors = r.u64("the tensor count")
        n_kv = r.u64("the metadata count")
        # Each key-value takes >= 13 bytes and each tensor info >= 24: absurd counts fail here.
        src.check_left(13 * n_kv + 24 * n_tensors, f"{n_kv} metadata and {n_tensors} tensors")
        meta = {}
        for _ in range(n_kv):
            key = r.string("a metadata key")
            meta[key] = _read_value(r, r.u32(f"metadata {key!r}"), key)
        align = meta.get("general.alignment", DEFAULT_ALIGN)
        if isinstance(align, array):
            align = int(align.item()) if align.size == 1 else 0
        if not isinstance(align, int) or align <= 0 or align & (align - 1):
            raise r.bad(f"general.alignment {align!r} is not a power of two")
        infos = []
        for _ in range(n_tensors):
            name = r.string("a tensor name")
            ndim = r.u32(f"tensor {name!r}")
            if ndim > MAX_DIMS:
                raise r.bad(f"tensor {name!r} has {ndim} dimensions")
            dims = [r.u64(f"tensor {name!r}") for _ in range(ndim)]
            if any(d >= 2**63 for d in dims):
                raise r.bad(f"tensor {name!r} has an absurd dimension {max(dims)}")
            ttype = r.u32(f"tensor {name!r}")
            off = r.u64(f"tensor {name!r}")
            infos.append((name, tuple(reversed(dims)), ttype, off))
        start = r.pos + (-r.pos) % align
        checked = []
        for name, shape, ttype, off in infos:
            nbytes = _tensor_bytes(r, name, ttype, shape)
            if start + off + nbytes > r.total:
                raise r.bad(f"tensor {name!r} (offset {off}, {nbytes} bytes) lies past the "
                            f"end of the file ({r.total} bytes)")
            checked.append((off, off + nbytes, name, shape, ttype))
        checked.sort()
        for (b0, e0, n0, _, _), (b1, e1, n1, _, _) in zip(checked, checked[1:]):
            if b1 < e0 and e1 > b1:
                raise r.bad(f"tensors {n0!r} and {n1!r} overlap in the file")
        for name, shape, ttype, _ in infos:
            if ttype in (27, 28):
                raise RuntimeError(f"[load_gguf] gguf_tensor_to_f16 failed: tensor {name!r} "
                                   f"has type {_TYPE_NAMES[ttype]} (file {src.name})")
        src.skip(start - r.pos, "the padding before the tensor data")
        arrays, pos = {}, 0
        for b, e, name, shape, ttype in checked:
            if e > b:
                src.skip(b - pos, f"the gap before tensor {name!r}")
                pos = e
            if ttype in _QUANT or ttype in _KQUANT:
                # float16 overflow gives inf, as in MLX: no numpy warnings for it.
                with np.errstate(over="ignore", invalid="ignore"):
                    if ttype in _QUANT:
                        _quantized(src, name, ttype, shape, arrays)
                    else:
                        arrays[name] = _kquant(src, name, ttype, shape)
            elif ttype == 30:      # BF16: MLX hands it out as float16
                from mlxc._core.ops.elementwise import astype
                arrays[name] = astype(read_array(src, bfloat16, shape, f"tensor {name!r}"),
                                      float16)
            else:
                arrays[name] = read_array(src, _PLAIN[ttype], shape, f"tensor {name!r}")
        return arrays, meta
