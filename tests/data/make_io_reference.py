"""Write small reference files with real MLX 0.32.4 and record what MLX loads from them.

Run with the MLX virtualenv:  /work/mlxref/bin/python tests/data/make_io_reference.py
It writes tests/data/io_ref/*.{npy,npz,safetensors,gguf} (MLX's own writers, plus a
hand-built gguf with the quantized tensor types MLX reads but cannot write) and
tests/data/io_ref/expected.json: for every file, what mx.load returned (dtype, shape,
raw bytes in hex) and the metadata.  tests/test_io.py loads the same files with mlxc.
"""
import json
import os
import struct

import mlx.core as mx
import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "io_ref")

DTYPES = ["bool_", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
          "int64", "float16", "bfloat16", "float32", "float64", "complex64"]


def sample(name, shape=(2, 3)):
    """Deterministic values that exercise sign, fractions and the dtype's range."""
    n = int(np.prod(shape))
    base = mx.array(np.linspace(-3.25, 7.5, n).astype(np.float32)).reshape(shape)
    dt = getattr(mx, name)
    if name == "bool_":
        return base > 0
    if name.startswith("uint"):
        return (mx.abs(base) * 9).astype(dt)
    if name == "complex64":
        return base.astype(dt) + 1j * mx.flip(base.astype(dt))
    return (base * (3 if name.startswith("int") else 1)).astype(dt)


def record(value):
    """JSON form of what mx.load returned."""
    if isinstance(value, mx.array):
        raw = value
        if value.dtype == mx.bfloat16:
            raw = value.view(mx.uint16)
        return {"dtype": str(value.dtype).split(".")[-1], "shape": list(value.shape),
                "hex": np.array(raw).tobytes().hex()}
    if isinstance(value, dict):
        return {k: record(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [record(v) for v in value]
    return value


def load_record(path, **kw):
    try:
        out = mx.load(path, **kw)
    except Exception as e:                     # noqa: BLE001 (recorded as MLX's answer)
        return {"error": type(e).__name__, "message": str(e)}
    if isinstance(out, tuple):
        return {"arrays": record(out[0]), "metadata": record(out[1])}
    if isinstance(out, dict):
        return {"arrays": record(out)}
    return {"array": record(out)}


# ------------------------------------------------------------ hand-built gguf
GGUF_F32, GGUF_F16, GGUF_Q4_0, GGUF_Q4_1, GGUF_Q8_0 = 0, 1, 2, 3, 8
GGUF_I8, GGUF_I16, GGUF_I32, GGUF_I64, GGUF_F64, GGUF_BF16 = 24, 25, 26, 27, 28, 30
GGUF_Q2_K, GGUF_Q4_K, GGUF_Q6_K = 10, 12, 14
# K-quant super-blocks of 256 values: (bytes, [(byte offset of an f16 scale), ...]).
K_BLOCKS = {GGUF_Q2_K: (84, [80, 82]), GGUF_Q4_K: (144, [0, 2]), GGUF_Q6_K: (210, [208])}


def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def write_gguf(path, tensors, kvs=b"", n_kv=0, align=32):
    """tensors: list of (name, dims in MLX order, ggml type code, raw bytes)."""
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), n_kv) + kvs
    infos, blobs, off = b"", b"", 0
    for name, dims, typ, raw in tensors:
        infos += gguf_str(name) + struct.pack("<I", len(dims))
        infos += b"".join(struct.pack("<Q", d) for d in reversed(dims))
        infos += struct.pack("<IQ", typ, off)
        pad = (-len(raw)) % align
        blobs += raw + b"\0" * pad
        off += len(raw) + pad
    body = head + infos
    body += b"\0" * ((-len(body)) % align)
    with open(path, "wb") as f:
        f.write(body + blobs)


def q4_0_blocks(rng, nblocks):
    out = b""
    for _ in range(nblocks):
        d = np.float16(rng.uniform(0.01, 0.5))
        out += d.tobytes() + rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
    return out


def q4_1_blocks(rng, nblocks):
    out = b""
    for _ in range(nblocks):
        d, m = np.float16(rng.uniform(0.01, 0.5)), np.float16(rng.uniform(-2, 2))
        out += d.tobytes() + m.tobytes() + rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
    return out


def q8_0_blocks(rng, nblocks):
    out = b""
    for _ in range(nblocks):
        d = np.float16(rng.uniform(0.01, 0.5))
        out += d.tobytes() + rng.integers(-128, 128, 32, dtype=np.int8).tobytes()
    return out


def k_blocks(rng, typ, nblocks):
    """Random K-quant super-blocks whose f16 scales are small finite numbers."""
    size, scale_at = K_BLOCKS[typ]
    out = b""
    for _ in range(nblocks):
        b = bytearray(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        for at in scale_at:
            b[at:at + 2] = np.float16(rng.uniform(-0.05, 0.05)).tobytes()
        out += bytes(b)
    return out


def main():
    os.makedirs(HERE, exist_ok=True)
    for f in os.listdir(HERE):
        os.remove(os.path.join(HERE, f))
    expected = {}
    arrays = {name: sample(name) for name in DTYPES}
    # npy: every dtype, plus a 0-d, an empty and a column-major (transposed) array.
    for name, a in arrays.items():
        mx.save(os.path.join(HERE, f"{name}.npy"), a)
    mx.save(os.path.join(HERE, "scalar.npy"), mx.array(2.5))
    mx.save(os.path.join(HERE, "empty.npy"), mx.zeros((2, 0, 3), mx.int16))
    mx.save(os.path.join(HERE, "transposed.npy"), sample("int32", (3, 4)).T)
    # npz: positional and keyword arrays, stored and compressed.
    rest = {k: v for k, v in arrays.items() if k != "float32"}
    mx.savez(os.path.join(HERE, "all.npz"), arrays["float32"], **rest)
    mx.savez_compressed(os.path.join(HERE, "all_compressed.npz"), arrays["int8"],
                        arrays["float32"], x=arrays["bfloat16"], y=arrays["bool_"])
    # safetensors: everything MLX writes there (no float64), with metadata.
    st = {k: v for k, v in arrays.items() if k != "float64"}
    st["scalar"] = mx.array(1.5, mx.float16)
    st["empty"] = mx.zeros((0, 4), mx.float32)
    mx.save_safetensors(os.path.join(HERE, "all.safetensors"), st,
                        {"format": "mlx", "note": "reference"})
    # gguf: the dtypes MLX writes, and each metadata kind it accepts.
    gg = {k: arrays[k] for k in ("int8", "int16", "int32", "float16", "float32")}
    gg["scalar"] = mx.array(4.0)
    gg["rank4"] = mx.arange(24, dtype=mx.float32).reshape(1, 2, 3, 4)
    meta = {"general.name": "ref", "tokens": ["a", "bc", ""], "ids": mx.array([1, 2, 3]),
            "scale": mx.array(0.5), "u8s": mx.array([1, 255], mx.uint8),
            "flags": mx.array([True, False]), "i64": mx.array([-5], mx.int64),
            "u16": mx.array(7, mx.uint16)}
    mx.save_gguf(os.path.join(HERE, "all.gguf"), gg, meta)
    # Hand-built gguf with the tensor types MLX reads but does not write.
    rng = np.random.default_rng(0)
    f16 = np.linspace(-1, 1, 6).astype(np.float16).tobytes()
    bf16 = (np.linspace(-2, 2, 6).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    write_gguf(os.path.join(HERE, "types.gguf"), [
        ("q40.weight", (2, 64), GGUF_Q4_0, q4_0_blocks(rng, 4)),
        ("q41.weight", (2, 32), GGUF_Q4_1, q4_1_blocks(rng, 2)),
        ("q80.weight", (3, 32), GGUF_Q8_0, q8_0_blocks(rng, 3)),
        ("q40_noweight", (1, 32), GGUF_Q4_0, q4_0_blocks(rng, 1)),
        ("h", (2, 3), GGUF_F16, f16),
        ("bf", (6,), GGUF_BF16, bf16.tobytes()),
    ])
    # K-quants: MLX dequantizes these to float16.
    write_gguf(os.path.join(HERE, "kquants.gguf"), [
        ("q2k", (2, 256), GGUF_Q2_K, k_blocks(rng, GGUF_Q2_K, 2)),
        ("q4k", (2, 256), GGUF_Q4_K, k_blocks(rng, GGUF_Q4_K, 2)),
        ("q6k", (1, 512), GGUF_Q6_K, k_blocks(rng, GGUF_Q6_K, 2)),
    ])
    for name, typ, raw in [("i64", GGUF_I64, np.arange(3, dtype=np.int64).tobytes()),
                           ("f64", GGUF_F64, np.arange(3, dtype=np.float64).tobytes())]:
        write_gguf(os.path.join(HERE, f"type_{name}.gguf"), [(name, (3,), typ, raw)])
    for f in sorted(os.listdir(HERE)):
        path = os.path.join(HERE, f)
        kw = {"return_metadata": True} if f.endswith((".gguf", ".safetensors")) else {}
        expected[f] = load_record(path, **kw)
    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump(expected, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
