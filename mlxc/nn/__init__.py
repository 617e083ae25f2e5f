"""Neural-network layers, initializers and helpers, as ``mlx.nn``."""

from mlxc.nn import init
# TODO(lead merge): `from mlxc.nn import losses` — mlxc/nn/losses.py is written
# by the losses helper on its own branch; enable this import when merging.
# from mlxc.nn import losses
from mlxc.nn.layers import *  # noqa: F401,F403
from mlxc.nn.utils import average_gradients, value_and_grad
