"""The .npz format: a zip archive of .npy members (stored or deflated).

A stored member of an archive on disk is read straight from the file into the
array's buffer (CRC-32 checked on the way); deflated members go through zipfile."""
import os
import struct
import zipfile

from .common import Source, check_array, corrupt, file_name
from . import npy

# MLX stamps every member with the zip epoch; so do we (reproducible archives).
_EPOCH = (1980, 1, 1, 0, 0, 0)


def write(f, args, kwargs, compressed, writer):
    arrays = {}
    for i, a in enumerate(args):
        arrays[f"arr_{i}"] = check_array(a, writer, f"positional argument {i}")
    for k, a in kwargs.items():
        if k in arrays:
            raise ValueError(f"[{writer}] Cannot use un-named variables and keyword {k}")
        arrays[k] = check_array(a, writer, f"keyword argument {k!r}")
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(f, "w", compression=method) as zf:
        for k, a in arrays.items():
            info = zipfile.ZipInfo(k + ".npy", date_time=_EPOCH)
            info.compress_type = method
            with zf.open(info, "w", force_zip64=True) as member:    # as MLX (any size)
                npy.write(member, a, writer)


def _stored(raw, info, name):
    """A stored (uncompressed) member read in place from the archive file raw."""
    raw.seek(info.header_offset)
    local = raw.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise corrupt("load_npz", name, f"member {info.filename!r}: bad local header")
    n, extra = struct.unpack("<HH", local[26:30])
    raw.seek(info.header_offset + 30 + n + extra)
    src = Source(raw, "load_npz", name, info.file_size)
    src.crc = 0
    out = npy.read(src)
    if src.remaining:                       # bytes after the array still count for the CRC
        src.read(src.remaining, "the rest of the member")
    if src.crc != info.CRC:
        raise corrupt("load_npz", name, f"member {info.filename!r}: bad CRC-32")
    return out


def read(f):
    name = file_name(f)
    if isinstance(f, (str, os.PathLike)):
        try:
            raw = open(f, "rb", buffering=0)
        except OSError:
            raise RuntimeError(f"[load] Failed to open file {name}") from None
        with raw:
            return _read(raw, name, raw)
    return _read(f, name, None)


def _read(f, name, raw):
    try:
        zf = zipfile.ZipFile(f)
    except Exception as e:         # BadZipFile, OSError, NotImplementedError (version) ...
        if isinstance(e, FileNotFoundError):
            raise RuntimeError(f"[load] Failed to open file {name}") from None
        raise ValueError(f"[load_npz] Input must be a zip file or a file-like object that "
                         f"can be opened with zipfile.ZipFile ({name}: {e})") from None
    out = {}
    with zf:
        for info in zf.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            member_name = f"{name}[{info.filename}]"
            if (raw is not None and info.compress_type == zipfile.ZIP_STORED
                    and not info.flag_bits & 1):
                out[key] = _stored(raw, info, member_name)
                continue
            try:
                member = zf.open(info)
            except Exception as e:      # BadZipFile, unsupported compression, ...
                raise corrupt("load_npz", name, f"member {info.filename!r}: {e}") from None
            with member:
                # The member's declared size bounds every header field (CRC-checked).
                src = Source(member, "load_npz", member_name, info.file_size)
                out[key] = npy.read(src)
    return out
