"""The training examples (examples/*.py) run briefly and learn: each main() with
a few steps/epochs, in this process; the MLP example through its command line;
and each example unchanged on real MLX with only the imports swapped (when
the reference interpreter is installed)."""
import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest

import mlxc.core as mx
import mlxc.nn as nn

from helpers import CHILD_CWD, child_env

EXAMPLES = os.path.join(os.path.dirname(CHILD_CWD), "examples")
MLX_PYTHON = "/work/mlxref/bin/python"

# What each example needs from mlxc.nn / mlxc.core.
NEEDS = {
    "mlp_classifier": (["Module", "Linear", "relu", "value_and_grad"], []),
    "cnn_classifier": (["Module", "Linear", "Conv2d", "MaxPool2d", "relu", "value_and_grad"],
                       ["conv2d"]),
    "transformer_lm": (["Module", "Linear", "Embedding", "TransformerEncoder",
                        "MultiHeadAttention", "value_and_grad"], ["fast"]),
}


def _load(name):
    layers, ops = NEEDS[name]
    missing = [n for n in layers if not hasattr(nn, n)] + [n for n in ops if not hasattr(mx, n)]
    if missing:
        pytest.skip("this build lacks " + ", ".join(missing))
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mlp_classifier_learns(capsys):
    acc = _load("mlp_classifier").main(epochs=4)
    out = capsys.readouterr().out
    assert out.count("Epoch") == 4
    assert acc > 0.6, out   # chance is 1/3


def test_cnn_classifier_learns(capsys):
    acc = _load("cnn_classifier").main(epochs=1, train_size=512)
    out = capsys.readouterr().out
    assert out.count("Epoch") == 1
    assert acc > 0.45, out   # chance is 1/3


def test_transformer_lm_learns(capsys):
    loss = _load("transformer_lm").main(steps=50, sample_length=20)
    out = capsys.readouterr().out
    assert "Step 50" in out and "Sample:\nShall I " in out
    assert loss < 3.3, out   # log(52) = 3.95 for a uniform guess


@pytest.mark.mlxc_only  # runs this build's mlxc in a child interpreter
def test_mlp_classifier_command_line():
    _load("mlp_classifier")  # skips without the layers
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, "mlp_classifier.py"),
                        "--epochs", "1"], capture_output=True, text=True,
                       env=child_env(), cwd=CHILD_CWD, timeout=300)
    assert r.returncode == 0, r.stderr
    assert re.search(r"Epoch 0: train loss [\d.]+, test accuracy [\d.]+", r.stdout)


@pytest.mark.skipif(not os.path.exists(MLX_PYTHON), reason="no reference MLX interpreter")
@pytest.mark.parametrize("name,args", [
    ("mlp_classifier", ["--epochs", "1"]),
    ("cnn_classifier", ["--epochs", "1", "--train-size", "128"]),
    ("transformer_lm", ["--steps", "2", "--sample-length", "4"]),
])
def test_example_runs_unchanged_on_mlx(tmp_path, name, args):
    """Swapping the imports is the only change an example needs to run on MLX."""
    with open(os.path.join(EXAMPLES, name + ".py")) as f:
        source = f.read()
    swapped = source.replace("import mlxc.", "import mlx.")
    assert swapped.count("import mlx.") == 3 and "mlxc" not in swapped.replace(
        "replace ``mlxc`` by ``mlx``", "")
    shutil.copytree(os.path.join(EXAMPLES, "data"), tmp_path / "data")  # the text
    script = tmp_path / (name + ".py")
    script.write_text(swapped)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([MLX_PYTHON, str(script)] + args, capture_output=True, text=True,
                       env=env, cwd=str(tmp_path), timeout=300)
    assert r.returncode == 0, r.stderr
    assert ("Epoch 0" in r.stdout) or ("Step 2" in r.stdout), r.stdout
