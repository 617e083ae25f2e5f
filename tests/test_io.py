"""mx.save / savez / savez_compressed / save_safetensors / save_gguf / load.

Oracles: files written by real MLX 0.32.4 with what MLX loaded from them
(tests/data/make_io_reference.py -> tests/data/io_ref/expected.json); numpy's own
.npy/.npz reader and writer; independent numpy parsers of safetensors and gguf
written here from the format specs; and the quantization formulas of the gguf spec.
Corrupted files (truncated, flipped bytes, absurd headers) must raise a clean
RuntimeError/ValueError naming the file, never crash or hang.
"""
import io
import json
import os
import pathlib
import struct
import zipfile

import numpy as np
import pytest

import mlxc.core as mx
from helpers import DTYPE_NAMES, dt

REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "io_ref")
CLEAN = (RuntimeError, ValueError)
# Under MLXC_TEST_REFERENCE=mlx: MLX's messages do not name the file.
REFERENCE = bool(os.environ.get("MLXC_TEST_REFERENCE", "").strip())


def raises_naming(path, err=RuntimeError):
    """pytest.raises(err) that also checks (on mlxc) that the message names the file."""
    stem = os.path.basename(str(path)).split(".")[0]
    return pytest.raises(err, match=None if REFERENCE else stem)

ST_DTYPES = [n for n in DTYPE_NAMES if n != "float64"]
GGUF_DTYPES = ["int8", "int16", "int32", "float16", "float32"]


def sample(name, shape=(3, 4)):
    n = int(np.prod(shape))
    base = mx.array(np.linspace(-5.5, 9.25, n).astype(np.float32)).reshape(shape)
    if name == "bool_":
        return base > 0
    if name.startswith("uint"):
        return mx.abs(base * 7).astype(dt(name))
    if name == "complex64":
        return base.astype(dt(name)) + 1j * (base * 2).astype(dt(name))
    return (base * (5 if name.startswith("int") else 1)).astype(dt(name))


def raw(a):
    """(dtype name, shape, bytes in row-major order) of an mlxc array."""
    a = mx.contiguous(a)
    v = a.view(mx.uint16) if a.dtype == mx.bfloat16 else a
    return str(a.dtype).split(".")[-1], tuple(a.shape), np.array(v).tobytes()


def same(a, b):
    assert raw(a) == raw(b)


def record(value):
    """The JSON form make_io_reference.py recorded from MLX."""
    if isinstance(value, mx.array):
        name, shape, data = raw(value)
        return {"dtype": name, "shape": list(shape), "hex": data.hex()}
    if isinstance(value, dict):
        return {k: record(v) for k, v in value.items()}
    if isinstance(value, list):
        return [record(v) for v in value]
    return value


# ------------------------------------------------------------ MLX-written files

with open(os.path.join(REF, "expected.json")) as _fh:
    EXPECTED = json.load(_fh)


@pytest.mark.parametrize("fname", sorted(EXPECTED))
def test_files_written_by_mlx_load_as_in_mlx(fname):
    want = EXPECTED[fname]
    path = os.path.join(REF, fname)
    kw = {"return_metadata": True} if fname.endswith((".gguf", ".safetensors")) else {}
    if "error" in want:
        with pytest.raises(getattr(__builtins__, want["error"], None)
                           or {"RuntimeError": RuntimeError,
                               "ValueError": ValueError}[want["error"]]) as e:
            mx.load(path, **kw)
        assert want["message"].split(":")[0] in str(e.value)
        return
    out = mx.load(path, **kw)
    if isinstance(out, tuple):
        got = {"arrays": record(out[0]), "metadata": record(out[1])}
    elif isinstance(out, dict):
        got = {"arrays": record(out)}
    else:
        got = {"array": record(out)}
    assert got == want


# ------------------------------------------------------------ round trips

@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_npy_round_trip_every_dtype_and_layout(tmp_path, name):
    a = sample(name)
    for label, x in [("row", a), ("transposed", a.T), ("strided", a[:, ::2]),
                     ("0-d", a[1, 2]), ("empty", a[:0]), ("1-d", a[1])]:
        mx.save(tmp_path / label, x)             # pathlib.Path, extension added
        same(mx.load(str(tmp_path / f"{label}.npy")), x)


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_npy_written_by_mlxc_loads_in_numpy(tmp_path, name):
    a = sample(name)
    for x in (a, a.T, a[::2, 1:]):
        path = str(tmp_path / "x.npy")
        mx.save(path, x)
        got = np.load(path)
        dname, shape, data = raw(x)
        assert got.shape == shape
        if name == "bfloat16":                   # numpy has no bfloat16: MLX writes V2
            assert got.dtype == np.dtype("V2")
        else:
            assert got.dtype == np.dtype(dname if name != "bool_" else "bool")
        assert np.ascontiguousarray(got).tobytes() == data


def test_npy_header_bytes_match_mlx_layout(tmp_path):
    # MLX's header for (2, 3) int16 and for a transposed (fortran) array, recorded.
    mx.save(tmp_path / "a", mx.zeros((2, 3), mx.int16))
    head = (tmp_path / "a.npy").read_bytes()[:78]
    assert head == (b"\x93NUMPY\x01\x00D\x00{'descr': '<i2', 'fortran_order': False, "
                    b"'shape': (2, 3, )}        \n")
    assert open(os.path.join(REF, "transposed.npy"), "rb").read()[:10] == \
        b"\x93NUMPY\x01\x00B\x00"
    x = mx.array(np.arange(12, dtype=np.int32).reshape(3, 4) * 3 - 9).T
    mx.save(tmp_path / "t", x)
    assert b"'fortran_order': True" in (tmp_path / "t.npy").read_bytes()


def test_npy_files_written_by_numpy(tmp_path):
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
    cases = {"big": x.astype(">f4"), "fortran": np.asfortranarray(x),
             "bigc": (x + 1j * x).astype(">c8"), "bool": x > 1, "scalar": np.float64(2.5),
             "i8": (x * 100).astype(np.int64), "empty": np.zeros((0, 3), np.uint16)}
    for k, v in cases.items():
        np.save(tmp_path / f"{k}.npy", v)
        got = np.array(mx.load(str(tmp_path / f"{k}.npy")))
        np.testing.assert_array_equal(got, np.asarray(v).astype(np.asarray(v).dtype.newbyteorder("=")))
        assert got.dtype == np.asarray(v).dtype.newbyteorder("=")
    with open(tmp_path / "v2.npy", "wb") as f:
        np.lib.format.write_array(f, x, version=(2, 0))
    np.testing.assert_array_equal(np.array(mx.load(str(tmp_path / "v2.npy"))), x)


@pytest.mark.parametrize("v", [np.zeros(2, np.longdouble), np.array(["ab"]),
                               np.zeros(2, np.complex128), np.zeros(2, [("a", "<i4")])],
                         ids=["longdouble", "unicode", "complex128", "struct"])
def test_npy_unsupported_descr_is_a_value_error(tmp_path, v):
    np.save(tmp_path / "u.npy", v)
    with pytest.raises(ValueError):
        mx.load(str(tmp_path / "u.npy"))


def test_npy_version_3_is_refused(tmp_path):
    with open(tmp_path / "v3.npy", "wb") as f:
        np.lib.format.write_array(f, np.arange(3, dtype=np.int16), version=(3, 0))
    with pytest.raises(RuntimeError, match="v3.npy"):
        mx.load(str(tmp_path / "v3.npy"))


@pytest.mark.parametrize("compressed", [False, True])
def test_npz_round_trip_and_numpy_interop(tmp_path, compressed):
    arrays = {n: sample(n) for n in DTYPE_NAMES}
    save = mx.savez_compressed if compressed else mx.savez
    save(tmp_path / "z", arrays["int8"], arrays["float32"].T,
         **{k: v for k, v in arrays.items() if k not in ("int8",)})
    path = str(tmp_path / "z.npz")
    got = mx.load(path)
    assert set(got) == {"arr_0", "arr_1"} | (set(arrays) - {"int8"})
    same(got["arr_0"], arrays["int8"])
    same(got["arr_1"], arrays["float32"].T)
    for k in set(arrays) - {"int8"}:
        same(got[k], arrays[k])
    with zipfile.ZipFile(path) as zf:
        kinds = {i.compress_type for i in zf.infolist()}
    assert kinds == {zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED}
    with np.load(path) as z:                   # numpy reads mlxc's archive
        np.testing.assert_array_equal(z["arr_1"], np.array(arrays["float32"]).T)
        np.testing.assert_array_equal(z["int64"], np.array(arrays["int64"]))
    np.savez(tmp_path / "np.npz", np.arange(5.0), w=np.ones((2, 2), np.int16))
    got = mx.load(str(tmp_path / "np.npz"))        # mlxc reads numpy's archive
    np.testing.assert_array_equal(np.array(got["arr_0"]), np.arange(5.0))
    np.testing.assert_array_equal(np.array(got["w"]), np.ones((2, 2), np.int16))


def test_savez_positional_and_keyword_clash():
    with pytest.raises(ValueError, match="arr_0"):
        mx.savez(io.BytesIO(), mx.zeros(2), arr_0=mx.zeros(2))


# ------------------------------------------------------------ safetensors

def parse_safetensors(blob):
    """Independent reader: the spec is an 8-byte length, a JSON header and the data."""
    n = struct.unpack("<Q", blob[:8])[0]
    head = json.loads(blob[8:8 + n])
    meta = head.pop("__metadata__", None)
    np_types = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16,
                "I16": np.int16, "U32": np.uint32, "I32": np.int32, "U64": np.uint64,
                "I64": np.int64, "F16": np.float16, "BF16": np.uint16, "F32": np.float32,
                "C64": np.complex64}
    out = {}
    for k, e in head.items():
        b, end = e["data_offsets"]
        out[k] = (e["dtype"], np.frombuffer(blob[8 + n + b:8 + n + end],
                                            np_types[e["dtype"]]).reshape(e["shape"]))
    return out, meta


def test_safetensors_round_trip_and_independent_reader(tmp_path):
    arrays = {n: sample(n) for n in ST_DTYPES}
    arrays["T"] = sample("float32").T
    arrays["scalar"] = mx.array(3, mx.uint16)
    arrays["empty"] = mx.zeros((0, 5), mx.bfloat16)
    mx.save_safetensors(tmp_path / "s", arrays, {"who": "mlxc", "v": "1"})
    path = tmp_path / "s.safetensors"
    got, meta = mx.load(path, return_metadata=True)
    assert meta == {"who": "mlxc", "v": "1"}
    assert set(got) == set(arrays)
    for k in arrays:
        same(got[k], arrays[k])
    assert mx.load(str(path)).keys() == got.keys()       # no metadata without asking
    ind, imeta = parse_safetensors(path.read_bytes())
    assert imeta == {"who": "mlxc", "v": "1"}
    for k, a in arrays.items():
        dname, shape, data = raw(a)
        assert ind[k][1].shape == shape and ind[k][1].tobytes() == data
    assert ind["bfloat16"][0] == "BF16" and ind["complex64"][0] == "C64"


def test_safetensors_metadata_none_and_empty_dict(tmp_path):
    mx.save_safetensors(str(tmp_path / "e"), {})
    assert mx.load(str(tmp_path / "e.safetensors"), return_metadata=True) == ({}, {})


def test_safetensors_dtype_support_as_mlx(tmp_path):
    with pytest.raises(RuntimeError, match="invalid dtype"):
        mx.save_safetensors(str(tmp_path / "f"), {"a": mx.zeros(2, mx.float64)})
    with pytest.raises(ValueError, match="Metadata"):
        mx.save_safetensors(str(tmp_path / "m"), {"a": mx.zeros(2)}, {"k": 1})
    # F8_E4M3 loads as raw uint8; F64 is refused (MLX 0.32.4).
    write_st(tmp_path / "f8.safetensors",
             {"x": {"dtype": "F8_E4M3", "shape": [3], "data_offsets": [0, 3]}}, b"\x38\x40\xb8")
    x = mx.load(str(tmp_path / "f8.safetensors"))["x"]
    assert x.dtype == mx.uint8 and x.tolist() == [0x38, 0x40, 0xB8]
    write_st(tmp_path / "f64.safetensors",
             {"x": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8)
    with pytest.raises(RuntimeError, match="F64"):
        mx.load(str(tmp_path / "f64.safetensors"))


def write_st(path, head, data=b"", raw_head=None):
    h = raw_head if raw_head is not None else json.dumps(head).encode()
    pathlib.Path(path).write_bytes(struct.pack("<Q", len(h)) + h + data)


def _f32(shape, offs):
    return {"dtype": "F32", "shape": shape, "data_offsets": offs}


BAD_SAFETENSORS = {
    "short_data": ({"x": _f32([2], [0, 8])}, b"\0" * 4),
    "shape_mismatch": ({"x": _f32([3], [0, 8])}, b"\0" * 8),
    "unknown_dtype": ({"x": {"dtype": "Q32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8),
    "no_offsets": ({"x": {"dtype": "F32", "shape": [2]}}, b"\0" * 8),
    "negative_shape": ({"x": _f32([-2], [0, 8])}, b"\0" * 8),
    "huge_shape": ({"x": _f32([2**40, 2**40], [0, 8])}, b"\0" * 8),
    "offset_past_end": ({"x": _f32([2], [8, 16])}, b"\0" * 8),
    "negative_offset": ({"x": _f32([2], [-8, 0])}, b"\0" * 8),
    "reversed_offsets": ({"x": _f32([0], [8, 0])}, b"\0" * 8),
    "meta_not_str": ({"__metadata__": {"k": 1}, "x": _f32([2], [0, 8])}, b"\0" * 8),
    "entry_not_object": ({"x": [1, 2]}, b""),
    "header_not_object": ([], b""),
}


@pytest.mark.parametrize("case", sorted(BAD_SAFETENSORS))
def test_safetensors_bad_headers_raise_naming_the_file(tmp_path, case):
    head, data = BAD_SAFETENSORS[case]
    path = tmp_path / f"{case}.safetensors"
    write_st(path, head, data)
    with raises_naming(path):
        mx.load(str(path))


@pytest.mark.mlxc_only
def test_safetensors_corruptions_mlx_lets_through_or_words_differently(tmp_path):
    # MLX loads overlapping tensors; the format (and its reference reader) forbids them.
    path = tmp_path / "overlap.safetensors"
    write_st(path, {"x": _f32([2], [0, 8]), "y": _f32([2], [4, 12])}, b"\0" * 12)
    with pytest.raises(RuntimeError, match="overlap"):
        mx.load(str(path))
    path = tmp_path / "float_offset.safetensors"        # MLX takes 0.0 for 0
    write_st(path, {"x": _f32([2], [0.0, 8.0])}, b"\0" * 8)
    with pytest.raises(RuntimeError, match="float_offset"):
        mx.load(str(path))
    for name, raw_head in [("badjson", b"{not json"), ("badutf8", b'{"\xff": 1}')]:
        path = tmp_path / f"{name}.safetensors"
        write_st(path, None, raw_head=raw_head)
        with pytest.raises(RuntimeError, match=name):
            mx.load(str(path))
    path = tmp_path / "hugelen.safetensors"
    path.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    with pytest.raises(RuntimeError, match="hugelen"):
        mx.load(str(path))


# ------------------------------------------------------------ gguf

GGUF_NP = {0: np.float32, 1: np.float16, 24: np.int8, 25: np.int16, 26: np.int32, 30: np.uint16}
KV_NP = {0: np.uint8, 1: np.int8, 2: np.uint16, 3: np.int16, 4: np.uint32, 5: np.int32,
         6: np.float32, 7: np.bool_, 10: np.uint64, 11: np.int64, 12: np.float64}


def parse_gguf(blob):
    """Independent reader of GGUF v3: returns (tensors {name: (type, shape, bytes)}, kv)."""
    pos = 0

    def take(n):
        nonlocal pos
        out = blob[pos:pos + n]
        assert len(out) == n
        pos += n
        return out

    def u(fmt):
        return struct.unpack("<" + fmt, take(struct.calcsize(fmt)))[0]

    def s():
        return take(u("Q")).decode()

    assert take(4) == b"GGUF" and u("I") == 3
    nt, nkv = u("Q"), u("Q")
    kv = {}
    for _ in range(nkv):
        key, t = s(), u("I")
        if t == 8:
            kv[key] = s()
        elif t == 9:
            et, n = u("I"), u("Q")
            kv[key] = [s() for _ in range(n)] if et == 8 else \
                np.frombuffer(take(n * np.dtype(KV_NP[et]).itemsize), KV_NP[et])
        else:
            kv[key] = np.frombuffer(take(np.dtype(KV_NP[t]).itemsize), KV_NP[t])[0]
    infos = []
    for _ in range(nt):
        name, nd = s(), u("I")
        dims = [u("Q") for _ in range(nd)]
        infos.append((name, tuple(reversed(dims)), u("I"), u("Q")))
    start = pos + (-pos) % 32
    tensors = {}
    for name, shape, t, off in infos:
        n = int(np.prod(shape))
        nbytes = {2: n // 32 * 18, 3: n // 32 * 20, 8: n // 32 * 34}.get(t)
        if nbytes is None:
            nbytes = n * np.dtype(GGUF_NP[t]).itemsize
        assert (start + off) % 32 == 0
        tensors[name] = (t, shape, blob[start + off:start + off + nbytes])
    return tensors, kv


def test_gguf_round_trip_and_independent_reader(tmp_path):
    arrays = {n: sample(n) for n in GGUF_DTYPES}
    arrays["T"] = sample("float32").T
    arrays["scalar"] = mx.array(1.25)
    arrays["empty"] = mx.zeros((0, 3))
    arrays["rank5"] = mx.arange(32, dtype=mx.int16).reshape(2, 2, 2, 2, 2)
    meta = {"general.name": "m", "toks": ["a", "", "ccc"], "ids": mx.array([1, -2, 3]),
            "s": mx.array(0.5), "u": mx.array(9, mx.uint64), "b": mx.array([True, False]),
            "empty_list": []}
    mx.save_gguf(tmp_path / "g", arrays, meta)
    path = tmp_path / "g.gguf"
    got, gmeta = mx.load(str(path), return_metadata=True)
    for k in arrays:
        same(got[k], arrays[k])
    assert gmeta["general.name"] == "m" and gmeta["toks"] == ["a", "", "ccc"]
    assert gmeta["empty_list"] == []
    for k in ("ids", "s", "u", "b"):
        same(gmeta[k], meta[k])
    ten, kv = parse_gguf(path.read_bytes())
    for k, a in arrays.items():
        dname, shape, data = raw(a)
        assert ten[k][1] == shape and ten[k][2] == data
    assert kv["toks"] == ["a", "", "ccc"] and kv["s"] == np.float32(0.5)
    np.testing.assert_array_equal(kv["ids"], [1, -2, 3])
    assert mx.load(str(path)).keys() == got.keys()


def test_gguf_dtype_and_metadata_support_as_mlx(tmp_path):
    p = str(tmp_path / "x")
    for name in set(DTYPE_NAMES) - set(GGUF_DTYPES):
        with pytest.raises(RuntimeError, match="not supported"):
            mx.save_gguf(p, {"a": mx.zeros(2, dt(name))}, {})
    for value, err in [(mx.zeros((2, 2), mx.int32), RuntimeError),
                       (mx.zeros((0,), mx.int32), RuntimeError),
                       (mx.zeros(2, mx.float16), ValueError),
                       (mx.zeros(2, mx.float64), ValueError)]:
        with pytest.raises(err):
            mx.save_gguf(p, {"a": mx.zeros(2)}, {"k": value})
    with pytest.raises(ValueError, match="string"):
        mx.save_gguf(io.BytesIO(), {"a": mx.zeros(2)}, {})
    mx.save_gguf(p, {"a": mx.zeros(2)}, {"t": ("x", "y")})
    assert mx.load(p + ".gguf", return_metadata=True)[1] == {"t": ["x", "y"]}
    with pytest.raises(ValueError, match="string"):
        mx.load(open(p + ".gguf", "rb"))


def _dequantize_spec(t, data, shape):
    """GGUF's block formulas, straight from the spec (float32 result)."""
    block = {2: 18, 3: 20, 8: 34}[t]
    b = np.frombuffer(data, np.uint8).reshape(-1, block)
    d = b[:, :2].copy().view(np.float16).astype(np.float32)
    if t == 8:
        q = b[:, 2:].view(np.int8).astype(np.float32)
        return (q * d).reshape(shape)
    qs = b[:, 2:] if t == 2 else b[:, 4:]
    q = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.float32)
    if t == 2:
        return ((q - 8) * d).reshape(shape)
    m = b[:, 2:4].copy().view(np.float16).astype(np.float32)
    return (q * d + m).reshape(shape)


def test_gguf_quantized_tensors_load_as_mlx_triples_of_the_spec_values():
    path = os.path.join(REF, "types.gguf")
    with open(path, "rb") as fh:
        ten, _ = parse_gguf(fh.read())
    got = mx.load(path)
    for name, prefix, bits in [("q40.weight", "q40", 4), ("q41.weight", "q41", 4),
                               ("q80.weight", "q80", 8), ("q40_noweight", "q40_n", 4)]:
        t, shape, data = ten[name]
        w = got[name]
        assert w.dtype == mx.uint32 and w.shape == shape[:-1] + (shape[-1] * bits // 32,)
        words = np.array(w).reshape(-1)
        per = 32 // bits
        q = (words[:, None] >> (np.arange(per, dtype=np.uint32) * bits)) & ((1 << bits) - 1)
        q = q.reshape(shape).astype(np.float32)
        scales = np.repeat(np.array(got[prefix + ".scales"]).astype(np.float32), 32, -1)
        biases = np.repeat(np.array(got[prefix + ".biases"]).astype(np.float32), 32, -1)
        np.testing.assert_allclose(q * scales + biases, _dequantize_spec(t, data, shape),
                                   rtol=1e-3, atol=1e-3)


def _gguf_str(s):
    return struct.pack("<Q", len(s)) + s


def _gguf(n_tensors=1, n_kv=0, kv=b"", infos=None, data=b"\0" * 64, version=3):
    if infos is None:
        infos = _gguf_str(b"t") + struct.pack("<IQIQ", 1, 4, 0, 0)
    head = b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv) + kv + infos
    return head + b"\0" * ((-len(head)) % 32) + data


BAD_GGUF = {
    "magic": b"GGUG" + _gguf()[4:],
    "version": _gguf(version=7),
    "huge_tensor_count": _gguf(n_tensors=2**62),
    "huge_kv_count": _gguf(n_kv=2**62),
    "huge_key_len": _gguf(n_kv=1, kv=struct.pack("<Q", 2**60) + b"k"),
    "bad_value_type": _gguf(n_kv=1, kv=_gguf_str(b"k") + struct.pack("<I", 99)),
    "huge_array": _gguf(n_kv=1, kv=_gguf_str(b"k") + struct.pack("<IIQ", 9, 6, 2**61)),
    "huge_str_array": _gguf(n_kv=1, kv=_gguf_str(b"k") + struct.pack("<IIQ", 9, 8, 2**40)),
    "nested_array": _gguf(n_kv=1, kv=_gguf_str(b"k") + struct.pack("<IIQ", 9, 9, 1)),
    "bad_alignment": _gguf(n_kv=1, kv=_gguf_str(b"general.alignment")
                           + struct.pack("<II", 4, 0)),
    "huge_ndim": _gguf(infos=_gguf_str(b"t") + struct.pack("<I", 2**31)),
    "huge_dims": _gguf(infos=_gguf_str(b"t") + struct.pack("<IQQIQ", 2, 2**62, 2**62, 0, 0)),
    "past_end": _gguf(infos=_gguf_str(b"t") + struct.pack("<IQIQ", 1, 1000, 0, 0)),
    "offset_past_end": _gguf(infos=_gguf_str(b"t") + struct.pack("<IQIQ", 1, 4, 0, 2**63)),
    "unknown_type": _gguf(infos=_gguf_str(b"t") + struct.pack("<IQIQ", 1, 4, 77, 0)),
    "q5_k_unsupported": _gguf(infos=_gguf_str(b"t") + struct.pack("<IQIQ", 1, 256, 13, 0)),
    "q4_k_not_256": _gguf(infos=_gguf_str(b"t") + struct.pack("<IQIQ", 1, 32, 12, 0)),
    "quant_not_32": _gguf(infos=_gguf_str(b"t") + struct.pack("<IQIQ", 1, 20, 2, 0)),
    "overlap": _gguf(n_tensors=2, infos=_gguf_str(b"t") + struct.pack("<IQIQ", 1, 8, 0, 0)
                     + _gguf_str(b"u") + struct.pack("<IQIQ", 1, 8, 0, 16)),
    "bad_utf8": _gguf(infos=_gguf_str(b"\xff\xfe") + struct.pack("<IQIQ", 1, 4, 0, 0)),
}


@pytest.mark.mlxc_only          # MLX crashes or misreads on several of these
@pytest.mark.parametrize("case", sorted(BAD_GGUF))
def test_gguf_bad_headers_raise_naming_the_file(tmp_path, case):
    path = tmp_path / f"{case}.gguf"
    path.write_bytes(BAD_GGUF[case])
    with pytest.raises(RuntimeError, match=case):
        mx.load(str(path))


def test_gguf_good_hand_built_file_loads(tmp_path):
    # The fixture the corruptions above start from is itself valid.
    path = tmp_path / "good.gguf"
    path.write_bytes(_gguf())
    assert mx.load(str(path))["t"].tolist() == [0.0] * 4


# ------------------------------------------------------------ paths, file objects, formats

def test_paths_extensions_and_file_objects(tmp_path):
    a = sample("int32")
    for fn, ext in [(lambda p: mx.save(p, a), ".npy"), (lambda p: mx.savez(p, a), ".npz"),
                    (lambda p: mx.save_safetensors(p, {"a": a}), ".safetensors"),
                    (lambda p: mx.save_gguf(p, {"a": a}, {}), ".gguf")]:
        fn(str(tmp_path / "noext"))
        fn(tmp_path / f"has{ext}")
        fn(str(tmp_path / "other.txt"))
        for f in (f"noext{ext}", f"has{ext}", f"other.txt{ext}"):
            assert (tmp_path / f).exists(), f
        assert not (tmp_path / f"has{ext}{ext}").exists()
    buf = io.BytesIO()
    mx.save(buf, a)
    buf.seek(0)
    same(mx.load(buf, format="npy"), a)
    for fmt, writer in [("npz", lambda f: mx.savez(f, x=a)),
                        ("safetensors", lambda f: mx.save_safetensors(f, {"x": a}))]:
        buf = io.BytesIO()
        writer(buf)
        buf.seek(0)
        same(mx.load(buf, format=fmt)["x"], a)
        with open(tmp_path / f"fo.{fmt}", "wb") as fh:
            writer(fh)
        with open(tmp_path / f"fo.{fmt}", "rb") as fh:     # format from the file's name
            same(mx.load(fh)["x"], a)


def test_load_argument_errors(tmp_path):
    mx.save(str(tmp_path / "a"), mx.zeros(2))
    with pytest.raises(ValueError, match="infer"):
        mx.load(str(tmp_path / "noextension"))
    with pytest.raises(ValueError, match="Unknown file format txt"):
        mx.load(str(tmp_path / "a.txt"))
    with pytest.raises(ValueError, match="Unknown file format"):
        mx.load(str(tmp_path / "a.npy"), format="txt")
    with pytest.raises(ValueError, match="metadata not supported"):
        mx.load(str(tmp_path / "a.npy"), return_metadata=True)
    with pytest.raises(RuntimeError, match="missing.npy"):
        mx.load(str(tmp_path / "missing.npy"))
    with pytest.raises(ValueError):
        mx.load(3)
    with pytest.raises(ValueError):
        mx.save(3, mx.zeros(2))
    with pytest.raises(TypeError):
        mx.save(str(tmp_path / "b"), [1, 2])


@pytest.mark.mlxc_only
def test_load_from_unseekable_stream_and_nameless_file_object(tmp_path):
    a = sample("float16")
    buf = io.BytesIO()
    mx.save(buf, a)

    class Pipe(io.RawIOBase):           # readinto only, no seek, no name
        def __init__(self, data):
            self.src = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self.src.readinto(b)

    same(mx.load(Pipe(buf.getvalue()), format="npy"), a)
    with pytest.raises(RuntimeError):
        mx.load(Pipe(buf.getvalue()[:-3]), format="npy")
    with pytest.raises(ValueError, match="format"):
        mx.load(io.BytesIO(buf.getvalue()))


# ------------------------------------------------------------ fuzz: truncation, flips

def _valid_files(tmp_path):
    a = {n: sample(n, (2, 3)) for n in ("int8", "float32", "float16")}
    mx.save(tmp_path / "f", a["float32"])
    mx.savez(tmp_path / "z", a["int8"], k=a["float16"])
    mx.savez_compressed(tmp_path / "c", a["int8"], k=a["float16"])
    mx.save_safetensors(tmp_path / "s", a, {"m": "v"})
    mx.save_gguf(tmp_path / "g", a, {"s": "v", "l": ["a", "b"], "n": mx.array([1, 2])})
    return {ext: (tmp_path / f"{stem}.{ext}").read_bytes()
            for stem, ext in [("f", "npy"), ("z", "npz"), ("c", "npz"),
                              ("s", "safetensors"), ("g", "gguf")]} | \
        {"cnpz": (tmp_path / "c.npz").read_bytes(),
         "qgguf": pathlib.Path(REF, "types.gguf").read_bytes(),
         "kgguf": pathlib.Path(REF, "kquants.gguf").read_bytes()}


def _load_bytes(tmp_path, ext, data):
    path = tmp_path / f"fuzzed.{ {'cnpz': 'npz', 'qgguf': 'gguf', 'kgguf': 'gguf'}.get(ext, ext)}"
    path.write_bytes(data)
    return mx.load(str(path))


@pytest.mark.mlxc_only
@pytest.mark.parametrize("ext", ["npy", "npz", "cnpz", "safetensors", "gguf", "qgguf",
                                 "kgguf"])
def test_truncated_files_raise_cleanly(tmp_path, ext):
    data = _valid_files(tmp_path)[ext]
    if ext in ("qgguf", "kgguf"):      # hand-built: padding after the last tensor
        data = data.rstrip(b"\0")
    _load_bytes(tmp_path, ext, data)                     # the intact file loads
    for n in sorted(set(range(0, len(data), max(1, len(data) // 97))) | {len(data) - 1}):
        with pytest.raises(CLEAN) as e:
            _load_bytes(tmp_path, ext, data[:n])
        assert "fuzzed" in str(e.value), (n, str(e.value))


@pytest.mark.mlxc_only
@pytest.mark.parametrize("ext", ["npy", "npz", "cnpz", "safetensors", "gguf", "qgguf",
                                 "kgguf"])
def test_flipped_bytes_load_or_raise_cleanly(tmp_path, ext):
    data = _valid_files(tmp_path)[ext]
    rng = np.random.default_rng(len(data))
    head = min(len(data), 400)            # the header region, where parsing happens
    for _ in range(150):
        b = bytearray(data)
        for pos in rng.integers(0, head, rng.integers(1, 4)):
            b[pos] ^= int(rng.integers(1, 256))
        try:
            out = _load_bytes(tmp_path, ext, bytes(b))
        except CLEAN as e:
            assert "fuzzed" in str(e), str(e)
            continue
        mx.eval(out if isinstance(out, mx.array) else list(out.values()))


@pytest.mark.mlxc_only           # MLX: IndexError from its integer parser
def test_absurd_npy_shape_raises_before_allocating(tmp_path):
    path = tmp_path / "absurd.npy"
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"
    text += " " * ((-(len(text) + 11)) % 16) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode() + b"\0" * 16)
    with pytest.raises(RuntimeError, match="absurd.npy"):
        mx.load(str(path))


@pytest.mark.mlxc_only
@pytest.mark.parametrize("fmt", ["npy", "safetensors"])
def test_loading_holds_one_copy(tmp_path, fmt):
    # The data goes from the file into the result's buffer: the engine's peak memory
    # grows by the array's size, not twice it.
    n = 1 << 21
    x = mx.arange(n, dtype=mx.float32)
    if fmt == "npy":
        mx.save(tmp_path / "big", x)
    else:
        mx.save_safetensors(tmp_path / "big", {"x": x})
    del x
    mx.clear_cache()
    mx.reset_peak_memory()
    before = mx.get_active_memory()
    out = mx.load(str(tmp_path / f"big.{fmt}"))
    out = out if fmt == "npy" else out["x"]
    mx.eval(out)
    assert mx.get_peak_memory() - before <= 4 * n + (1 << 16)
    assert out[n - 1].item() == n - 1


def test_safetensors_package_reads_mlxc_files(tmp_path):
    # The format's reference reader (validates offsets, coverage, dtypes), if installed.
    st = pytest.importorskip("safetensors")
    from safetensors.numpy import load_file
    arrays = {n: sample(n) for n in ST_DTYPES if n != "bfloat16"}   # numpy lacks bfloat16
    arrays["T"] = sample("int16").T
    mx.save_safetensors(str(tmp_path / "p"), arrays, {"k": "v"})
    got = load_file(str(tmp_path / "p.safetensors"))
    with st.safe_open(str(tmp_path / "p.safetensors"), "np") as f:
        assert f.metadata() == {"k": "v"}
    for k, a in arrays.items():
        assert got[k].tobytes() == raw(a)[2] and got[k].shape == a.shape


@pytest.mark.mlxc_only
def test_npz_stored_member_read_in_place_checks_the_crc(tmp_path):
    x = sample("float32")
    mx.savez(tmp_path / "crc", x=x)
    path = tmp_path / "crc.npz"
    same(mx.load(str(path))["x"], x)
    with open(path, "rb") as fh:           # find the data: the npy magic, then its length
        blob = bytearray(fh.read())
    at = blob.index(b"\x93NUMPY") + 10 + struct.unpack("<H", blob[blob.index(b"\x93NUMPY")
                                                                 + 8:][:2])[0]
    blob[at + 5] ^= 0x40                   # one data bit
    path.write_bytes(bytes(blob))
    with pytest.raises(RuntimeError, match="CRC"):
        mx.load(str(path))
    with pytest.raises(RuntimeError, match="CRC"):   # the file-object path (zipfile) too
        with open(path, "rb") as fh:
            mx.load(fh)
