"""The .npz format: a zip archive of .npy members (stored or deflated)."""
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


def read(f):
    name = file_name(f)
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
            try:
                member = zf.open(info)
            except Exception as e:      # BadZipFile, unsupported compression, ...
                raise corrupt("load_npz", name, f"member {info.filename!r}: {e}") from None
            with member:
                # The member's declared size bounds every header field (CRC-checked).
                src = Source(member, "load_npz", f"{name}[{info.filename}]", info.file_size)
                out[key] = npy.read(src)
    return out
