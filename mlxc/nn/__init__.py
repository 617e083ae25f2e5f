"""Neural-network layers, initializers and helpers, as ``mlx.nn``."""

from mlxc.nn import init
from mlxc.nn import losses
from mlxc.nn.layers import *  # noqa: F401,F403
from mlxc.nn.utils import average_gradients, value_and_grad
