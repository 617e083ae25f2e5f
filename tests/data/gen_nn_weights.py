"""Writes weights saved by MLX 0.32.4's Module.save_weights for the model of
tests/test_nn_weights.py (nn_weights_mlx.npz / .safetensors). Run with:
    /work/mlxref/bin/python tests/data/gen_nn_weights.py"""
import os

import mlx.core as mx
import mlx.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
mx.random.seed(42)
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.LayerNorm(4), nn.Linear(4, 2))
model.update({"layers": [{"weight": model.layers[0].weight * 3}]})  # not the seeded draw
model.save_weights(os.path.join(here, "nn_weights_mlx.npz"))
model.save_weights(os.path.join(here, "nn_weights_mlx.safetensors"))
