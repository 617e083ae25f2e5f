"""Records MLX 0.32.4's Module semantics and nn error messages for
tests/nn_module_cases.py into mlx_nn_module.json. Run with the reference build:
    /work/mlxref/bin/python tests/data/gen_nn_module.py"""
import json
import os
import sys

import mlx.core as mx
import mlx.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(here))
from nn_module_cases import CASES, run  # noqa: E402

result = {name: run(mx, nn, fn) for name, fn in CASES.items()}
with open(os.path.join(here, "mlx_nn_module.json"), "w") as f:
    json.dump(result, f, indent=1, sort_keys=True)
print(len(result), "cases")
