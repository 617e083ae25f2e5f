"""Module.save_weights / load_weights: files written by MLX 0.32.4 load here
(data/nn_weights_mlx.*, written by data/gen_nn_weights.py) and files written here have
MLX's names and values, checked with independent readers (numpy for .npz, a JSON
header parse for .safetensors)."""
import json
import os
import struct

import numpy as np
import pytest

import mlxc.core as mx
import mlxc.nn as nn
from mlxc.utils import tree_flatten

DATA = os.path.join(os.path.dirname(__file__), "data")


def _model(seed):
    mx.random.seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.LayerNorm(4), nn.Linear(4, 2))


def _expected():
    # The model MLX saved: seed 42 (same draws here) with the first weight tripled.
    m = _model(42)
    m.update({"layers": [{"weight": m.layers[0].weight * 3}]})
    return dict(tree_flatten(m.parameters()))


@pytest.mark.parametrize("ext", ["npz", "safetensors"])
def test_mlx_file_loads(ext):
    m = _model(0)
    m.load_weights(os.path.join(DATA, f"nn_weights_mlx.{ext}"))
    got = dict(tree_flatten(m.parameters()))
    want = _expected()
    assert sorted(got) == sorted(want)
    for k in want:
        np.testing.assert_array_equal(np.array(got[k]), np.array(want[k]), err_msg=k)


def _read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    out = {}
    for k, info in header.items():
        assert info["dtype"] == "F32"
        lo, hi = info["data_offsets"]
        out[k] = np.frombuffer(raw[8 + n + lo : 8 + n + hi], np.float32).reshape(info["shape"])
    return out


def test_saved_files_have_mlx_names_and_values(tmp_path):
    want = {k: np.array(v) for k, v in _expected().items()}
    m = _model(42)
    m.update({"layers": [{"weight": m.layers[0].weight * 3}]})
    m.save_weights(str(tmp_path / "w.npz"))
    m.save_weights(str(tmp_path / "w.safetensors"))
    with np.load(tmp_path / "w.npz") as z:
        from_npz = {k: z[k] for k in z.files}
    from_st = _read_safetensors(tmp_path / "w.safetensors")
    for got in (from_npz, from_st):
        assert sorted(got) == sorted(want)
        for k in want:
            np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    # And back in: a differently seeded model becomes the saved one.
    for name in ("w.npz", "w.safetensors"):
        other = _model(7).load_weights(str(tmp_path / name))
        for k, v in tree_flatten(other.parameters()):
            np.testing.assert_array_equal(np.array(v), want[k], err_msg=k)


def test_strict_file_load_names_the_problem(tmp_path):
    small = nn.Sequential(nn.Linear(3, 4))
    small.save_weights(str(tmp_path / "small.safetensors"))
    with pytest.raises(ValueError, match=r"Missing 4 parameters: \nlayers.2.bias,\n"):
        _model(0).load_weights(str(tmp_path / "small.safetensors"))
    with pytest.raises(ValueError, match="Received 6 parameters not in model: \\nlayers.0.bias,"):
        nn.Sequential(nn.ReLU()).load_weights(os.path.join(DATA, "nn_weights_mlx.npz"))
    wide = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.LayerNorm(4), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=r"Expected shape \(4, 5\) but received shape "
                                         r"\(4, 3\) for parameter layers.0.weight"):
        wide.load_weights(os.path.join(DATA, "nn_weights_mlx.safetensors"))
    # Not strict: the matching names are set, the rest ignored.
    m = nn.Sequential(nn.Linear(3, 4)).load_weights(
        os.path.join(DATA, "nn_weights_mlx.npz"), strict=False)
    np.testing.assert_array_equal(np.array(m.layers[0].weight),
                                  np.array(_expected()["layers.0.weight"]))
