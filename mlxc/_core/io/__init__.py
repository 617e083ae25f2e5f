"""mx.save / savez / savez_compressed / save_safetensors / save_gguf / load.

One module per format (npy, npz, safetensors, gguf) over the buffer protocol: saving
writes each array's buffer as is when its layout allows; loading reads file bytes
straight into a new array's buffer.  Every header field is checked before any
allocation, and a bad file raises an exception that names it."""
import os

from .common import Source, is_path, open_for_write, with_extension
from . import gguf, npy, npz, safetensors

__all__ = ["save", "savez", "savez_compressed", "save_safetensors", "save_gguf", "load"]

_FORMATS = ("npy", "npz", "safetensors", "gguf")


def save(file, arr):
    """save(file: file | str | pathlib.Path, arr: array) -> None

    Save the array to a binary file in ``.npy`` format."""
    from mlxc._core.array import array
    if not isinstance(arr, array):
        raise TypeError(f"save(): arr must be an array, got {type(arr).__name__}.")
    f, owned = open_for_write(file, ".npy", "save")
    try:
        npy.write(f, arr)
    finally:
        if owned:
            f.close()


def _savez(file, args, kwargs, compressed):
    writer = "savez_compressed" if compressed else "savez"
    if is_path(file):
        file = with_extension(file, ".npz")
    elif not hasattr(file, "write"):
        raise ValueError(f"[{writer}] Input must be a file-like object, or string")
    npz.write(file, args, kwargs, compressed, writer)


def savez(file, *args, **kwargs):
    """savez(file: file | str | pathlib.Path, *args, **kwargs)

    Save several arrays to a binary file in uncompressed ``.npz`` format; positional
    arrays are named ``arr_0``, ``arr_1``, ...; keyword arrays by their keyword."""
    _savez(file, args, kwargs, False)


def savez_compressed(file, *args, **kwargs):
    """savez_compressed(file: file | str | pathlib.Path, *args, **kwargs)

    Save several arrays to a binary file in compressed ``.npz`` format."""
    _savez(file, args, kwargs, True)


def save_safetensors(file, arrays, metadata=None):
    """save_safetensors(file: file | str | pathlib.Path, arrays: dict[str, array], metadata: dict[str, str] | None = None)

    Save array(s) to a binary file in ``.safetensors`` format."""
    if not is_path(file) and not hasattr(file, "write"):
        raise ValueError("[save_safetensors] Input must be a file-like object, or string")
    f, owned = open_for_write(file, ".safetensors", "save_safetensors")
    try:
        safetensors.write(f, arrays, metadata)
    finally:
        if owned:
            f.close()


def save_gguf(file, arrays, metadata=None):
    """save_gguf(file: file | str | pathlib.Path, arrays: dict[str, array], metadata: dict[str, array | str | list[str]])

    Save array(s) to a binary file in ``.gguf`` format."""
    if not is_path(file):
        raise ValueError("[save_gguf] Input must be a string")
    gguf.write(with_extension(file, ".gguf"), arrays, metadata)


def load(file, /, format=None, return_metadata=False, *, stream=None):
    """load(file: file | str | pathlib.Path, /, format: str | None = None, return_metadata: bool = False, *, stream: StreamOrDevice = None) -> array | dict[str, array] | tuple[dict[str, array], dict[str, Any]]

    Load array(s) from a binary file: ``.npy`` gives an array; ``.npz``,
    ``.safetensors`` and ``.gguf`` give a dict of arrays.  The format comes from the
    extension unless ``format`` is given; ``return_metadata=True`` also returns the
    metadata of a ``.safetensors`` or ``.gguf`` file."""
    if not is_path(file) and not hasattr(file, "read"):
        raise ValueError("[load] Input must be a file-like object opened in binary mode, "
                         "or string")
    if format is None:
        name = os.fspath(file) if is_path(file) else getattr(file, "name", None)
        if not isinstance(name, str):
            raise ValueError("[load] Could not infer file format from a file object without "
                             "a name; pass format=")
        if "." not in name:
            raise ValueError("[load] Could not infer file format from extension")
        format = name.rsplit(".", 1)[1]
    if format not in _FORMATS:
        raise ValueError(f"[load] Unknown file format {format}")
    if return_metadata and format in ("npy", "npz"):
        raise ValueError(f"[load] metadata not supported for format {format}")
    if format == "npy":
        with Source(file, "load") as src:
            return npy.read(src)
    if format == "npz":
        return npz.read(os.fspath(file) if is_path(file) else file)
    if format == "safetensors":
        with Source(file, "load_safetensors") as src:
            arrays, meta = safetensors.read(src)
    else:
        if not is_path(file):
            raise ValueError("[load_gguf] Input must be a string")
        arrays, meta = gguf.read(file)
    return (arrays, meta) if return_metadata else arrays
