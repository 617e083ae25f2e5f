"""Learning-rate schedules, as ``mlx.optimizers``' schedulers.

A schedule is a callable from the optimizer's step (a uint64 array) to a
value. The optimizer calls it with the step *before* it is incremented, so
the first update uses ``schedule(0)``. Each builder checks its arguments
eagerly and returns a closure built from array ops, so the value is a lazy
array that lives in the same graph as the update.
"""

import math
from typing import Callable, List

import mlxc.core as mx


def _require_positive(name, value):
    if value < 1:
        raise ValueError(f"{name} must be greater than 0, but got {value}.")


def exponential_decay(init: float, decay_rate: float) -> Callable:
    r"""Make an exponential decay scheduler: ``init * decay_rate ** step``.

    Args:
        init (float): Initial value.
        decay_rate (float): Multiplicative factor to decay by.

    Example:
        >>> lr_schedule = optim.exponential_decay(1e-1, 0.9)
        >>> optimizer = optim.SGD(learning_rate=lr_schedule)
        >>> optimizer.learning_rate
        array(0.1, dtype=float32)
    """

    def schedule(step):
        return init * decay_rate**step

    return schedule


def step_decay(init: float, decay_rate: float, step_size: int) -> Callable:
    r"""Make a step decay scheduler: the value is multiplied by
    ``decay_rate`` once every ``step_size`` steps.

    Args:
        init (float): Initial value.
        decay_rate (float): Multiplicative factor to decay by.
        step_size (int): Decay every ``step_size`` steps.
    """
    _require_positive("step_size", step_size)

    def schedule(step):
        return init * (decay_rate ** (step // step_size))

    return schedule


def cosine_decay(init: float, decay_steps: int, end: float = 0.0) -> Callable:
    r"""Make a cosine decay scheduler from ``init`` to ``end`` over
    ``decay_steps`` steps; the value stays at ``end`` afterwards.

    Args:
        init (float): Initial value.
        decay_steps (int): Number of steps to decay over.
        end (float, optional): Final value to decay to. Default: ``0``.
    """
    _require_positive("decay_steps", decay_steps)
    angle_per_step = math.pi / decay_steps

    def schedule(step):
        clamped = mx.minimum(step, decay_steps)
        weight = 0.5 * (1.0 + mx.cos(angle_per_step * clamped))
        return end + weight * (init - end)

    return schedule


def join_schedules(schedules: List[Callable], boundaries: List[int]) -> Callable:
    r"""Join several schedules into one.

    Schedule ``i + 1`` takes over at ``boundaries[i]`` and receives the number
    of steps since that boundary.

    Args:
        schedules (list(Callable)): The schedules, in order.
        boundaries (list(int)): ``len(schedules) - 1`` step counts at which
          the next schedule takes over.
    """
    if len(schedules) == 0:
        raise ValueError("Must provide at least 1 schedule to join.")
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(
            f"Received {len(boundaries)} boundaries but expected "
            f"{len(schedules) - 1}."
        )
    first, later = schedules[0], list(zip(boundaries, schedules[1:]))

    def schedule(step):
        # Every piece is evaluated and the right one selected, so the result
        # stays a graph of the step (the unsigned step - boundary may wrap
        # before the boundary; that value is never selected).
        value = first(step)
        for boundary, piece in later:
            value = mx.where(step < boundary, value, piece(step - boundary))
        return value

    return schedule


def linear_schedule(init: float, end: float, steps: int) -> Callable:
    r"""Make a linear scheduler from ``init`` to ``end`` over ``steps``
    steps; the value stays at ``end`` afterwards.

    Args:
        init (float): Initial value.
        end (float): Final value.
        steps (int): Number of steps to apply the schedule over.
    """
    _require_positive("steps", steps)
    slope = (end - init) / steps

    def schedule(step):
        return mx.minimum(step, steps) * slope + init

    return schedule
