"""The exported-function file format: a framed, checksummed tree of plain values.

Layout (little-endian):
    magic    8 bytes  b"MLXCFUN\\0"
    version  uint32   FORMAT_VERSION
    length   uint64   payload length in bytes
    crc32    uint32   zlib.crc32 of the payload
    payload           one encoded value (below)

A value is a one-byte tag and its body: N None, T/F booleans, i a signed integer
(uint32 length + two's-complement bytes), f float64, s str (uint32 length + utf-8),
b bytes (uint64 length), l list (uint32 count + items), t tuple (same), d dict
(uint32 count + str key/value pairs).  Nothing else is stored, and loading never runs
code from the file: every length is checked against what is left before it is used.
"""
import struct
import zlib

MAGIC = b"MLXCFUN\0"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sIQI")
_MAX_DEPTH = 64


def _fail(path, what):
    raise ValueError(f"[import_function] {path!s} is not a valid exported function: {what}.")


# ------------------------------------------------------------------ encoding

def _encode(v, out, depth):
    if depth > _MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if v is None:
        out.append(b"N")
    elif v is True:
        out.append(b"T")
    elif v is False:
        out.append(b"F")
    elif isinstance(v, int):
        n = (v.bit_length() + 8) // 8
        out.append(b"i" + struct.pack("<I", n) + v.to_bytes(n, "little", signed=True))
    elif isinstance(v, float):
        out.append(b"f" + struct.pack("<d", v))
    elif isinstance(v, str):
        raw = v.encode("utf-8")
        out.append(b"s" + struct.pack("<I", len(raw)) + raw)
    elif isinstance(v, (bytes, bytearray, memoryview)):
        raw = bytes(v)
        out.append(b"b" + struct.pack("<Q", len(raw)))
        out.append(raw)
    elif isinstance(v, (list, tuple)):
        out.append((b"l" if isinstance(v, list) else b"t") + struct.pack("<I", len(v)))
        for x in v:
            _encode(x, out, depth + 1)
    elif isinstance(v, dict):
        out.append(b"d" + struct.pack("<I", len(v)))
        for k, x in v.items():
            if not isinstance(k, str):
                raise ValueError(f"dict key {k!r} is not a string")
            _encode(k, out, depth + 1)
            _encode(x, out, depth + 1)
    else:
        raise ValueError(f"cannot store a value of type {type(v).__name__}")


def is_storable(v, depth=0):
    """Whether v is made only of the value types the format stores."""
    if depth > _MAX_DEPTH:
        return False
    if v is None or isinstance(v, (bool, int, float, str, bytes)):
        return True
    if isinstance(v, (list, tuple)):
        return all(is_storable(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and is_storable(x, depth + 1) for k, x in v.items())
    return False


def dumps(value):
    parts = []
    _encode(value, parts, 0)
    payload = b"".join(parts)
    return _HEADER.pack(MAGIC, FORMAT_VERSION, len(payload), zlib.crc32(payload)) + payload


# ------------------------------------------------------------------ decoding

class _Reader:
    def __init__(self, data, path):
        self.data = data
        self.pos = 0
        self.path = path

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            _fail(self.path, "the payload is truncated")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def value(self, depth):
        if depth > _MAX_DEPTH:
            _fail(self.path, "values nested too deeply")
        tag = self.take(1)
        if tag == b"N":
            return None
        if tag == b"T":
            return True
        if tag == b"F":
            return False
        if tag == b"i":
            return int.from_bytes(self.take(self.u32()), "little", signed=True)
        if tag == b"f":
            return struct.unpack("<d", self.take(8))[0]
        if tag == b"s":
            try:
                return bytes(self.take(self.u32())).decode("utf-8")
            except UnicodeDecodeError:
                _fail(self.path, "a string is not valid utf-8")
        if tag == b"b":
            return bytes(self.take(struct.unpack("<Q", self.take(8))[0]))
        if tag == b"l" or tag == b"t":
            n = self.u32()
            if n > len(self.data) - self.pos:      # every item takes at least one byte
                _fail(self.path, "the payload is truncated")
            items = [self.value(depth + 1) for _ in range(n)]
            return items if tag == b"l" else tuple(items)
        if tag == b"d":
            n = self.u32()
            if n > len(self.data) - self.pos:
                _fail(self.path, "the payload is truncated")
            out = {}
            for _ in range(n):
                k = self.value(depth + 1)
                if not isinstance(k, str):
                    _fail(self.path, "a dictionary key is not a string")
                out[k] = self.value(depth + 1)
            return out
        _fail(self.path, f"unknown value tag {tag!r} at byte {self.pos - 1}")


def loads(data, path):
    """The value stored in data (the bytes of the file at path, named in errors)."""
    if len(data) < len(MAGIC) or data[:len(MAGIC)] != MAGIC:
        _fail(path, "bad magic header (not an mlxc function file)")
    if len(data) < _HEADER.size:
        _fail(path, "the header is truncated")
    _, version, length, crc = _HEADER.unpack_from(data)
    if version != FORMAT_VERSION:
        _fail(path, f"unsupported format version {version} (this build reads version "
                    f"{FORMAT_VERSION})")
    payload = data[_HEADER.size:]
    if len(payload) < length:
        _fail(path, f"the file is truncated ({len(payload)} of {length} payload bytes)")
    if len(payload) > length:
        _fail(path, f"{len(payload) - length} unexpected bytes after the payload")
    if zlib.crc32(payload) != crc:
        _fail(path, "the checksum does not match (corrupted content)")
    r = _Reader(memoryview(payload), path)
    value = r.value(0)
    if r.pos != len(payload):
        _fail(path, "unexpected bytes after the stored value")
    return value
