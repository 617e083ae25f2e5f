"""Loading 256 MiB of float32 from .npy and .safetensors (page cache warm; the file
is written to a temp dir in setup)."""

from .common import W, _MemoryBound


class Load(_MemoryBound):
    params = [["npy", "safetensors"]]
    param_names = ["format"]

    def case(self, fmt):
        return (W.load_npy if fmt == "npy" else W.load_safetensors), {"n": 64 << 20}
