"""Optimizers and learning-rate schedules, as ``mlx.optimizers``."""

from mlxc.optimizers.optimizers import *  # noqa: F401,F403
from mlxc.optimizers.schedulers import *  # noqa: F401,F403
