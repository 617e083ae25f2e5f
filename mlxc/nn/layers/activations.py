"""Activation functions and their Module classes, as ``mlx.nn``.

Each function is written with the same mlxc ops MLX uses, so values and
gradients (including at the kinks, e.g. relu at 0) agree with MLX.
"""

import math
from typing import Any

import mlxc.core as mx
from mlxc.nn.layers.base import Module


def sigmoid(x):
    r"""Element-wise logistic sigmoid :math:`1 / (1 + e^{-x})`."""
    return mx.sigmoid(x)


def relu(x):
    """Rectified linear unit, ``max(x, 0)``."""
    return mx.maximum(x, 0)


def relu2(x):
    """Squared ReLU, ``max(x, 0) ** 2``."""
    return mx.square(mx.maximum(x, 0))


def relu6(x):
    """ReLU clipped at 6, ``min(max(x, 0), 6)``."""
    return mx.minimum(mx.maximum(x, 0), 6.0)


def leaky_relu(x, negative_slope=0.01):
    """``max(negative_slope * x, x)``."""
    return mx.maximum(negative_slope * x, x)


def log_softmax(x, axis=-1):
    """Log of the softmax along ``axis``, shifted by the maximum for stability."""
    x = x - mx.stop_gradient(mx.max(x, axis=axis, keepdims=True))
    return x - mx.logsumexp(x, axis=axis, keepdims=True)


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` else."""
    return mx.where(x > 0, x, alpha * (mx.exp(x) - 1))


def softmax(x, axis=-1):
    """Softmax along ``axis``."""
    return mx.softmax(x, axis=axis)


def softplus(x):
    """``log(1 + exp(x))``."""
    return mx.logaddexp(x, 0)


def softsign(x):
    """``x / (1 + |x|)``."""
    return mx.divide(x, 1 + mx.abs(x))


def softshrink(x, lambd: float = 0.5):
    """``x - sign(x) * lambd`` where ``|x| > lambd``, 0 elsewhere."""
    return mx.where(mx.abs(x) > lambd, x - mx.sign(x) * lambd, 0)


def celu(x, alpha=1.0):
    """``max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)``."""
    return mx.maximum(x, 0.0) + alpha * (mx.exp(mx.minimum(x, 0.0) / alpha) - 1)


def silu(x):
    """Sigmoid linear unit (swish), ``x * sigmoid(x)``."""
    return x * mx.sigmoid(x)


def log_sigmoid(x):
    """``log(sigmoid(x))`` computed as ``-softplus(-x)``."""
    return -softplus(-x)


def gelu(x) -> mx.array:
    r"""Gaussian error linear unit, ``x * Phi(x)`` with the exact erf."""
    return x * (1 + mx.erf(x / math.sqrt(2))) / 2


def gelu_approx(x):
    """GELU with the tanh approximation."""
    inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
    return 0.5 * x * (1 + mx.tanh(inner))


def gelu_fast_approx(x):
    """GELU approximated by ``x * sigmoid(1.702 * x)``."""
    return x * mx.sigmoid(1.702 * x)


def glu(x: mx.array, axis: int = -1) -> mx.array:
    """Gated linear unit: split ``x`` in two halves ``a, b`` along ``axis``
    and return ``a * sigmoid(b)``."""
    a, b = mx.split(x, indices_or_sections=2, axis=axis)
    return a * mx.sigmoid(b)


def step(x: mx.array, threshold: float = 0.0):
    """1 where ``x >= threshold``, 0 elsewhere."""
    return mx.where(x >= threshold, 1, 0)


def selu(x):
    """Scaled ELU with the self-normalising constants."""
    return elu(x, 1.67326) * 1.0507


def prelu(x: mx.array, alpha: mx.array) -> mx.array:
    """Parametric ReLU, ``max(0, x) + alpha * min(0, x)``."""
    return mx.maximum(0, x) + alpha * mx.minimum(0, x)


def mish(x: mx.array) -> mx.array:
    """``x * tanh(softplus(x))``."""
    return x * mx.tanh(softplus(x))


def hardswish(x):
    """``x * min(max(x + 3, 0), 6) / 6``."""
    return x * mx.minimum(mx.maximum(x + 3, 0), 6) / 6


def hard_tanh(x, min_val=-1.0, max_val=1.0):
    """``x`` clipped to ``[min_val, max_val]``."""
    return mx.minimum(mx.maximum(x, min_val), max_val)


def hard_shrink(x, lambd=0.5):
    """``x`` where ``|x| > lambd``, 0 elsewhere."""
    return mx.where(mx.abs(x) > lambd, x, 0)


def softmin(x, axis=-1):
    """Softmax of ``-x`` along ``axis``."""
    return mx.softmax(-x, axis=axis)


def tanh(x):
    """Hyperbolic tangent."""
    return mx.tanh(x)


def _stateless(fn, doc):
    """A Module class with no parameters whose call is ``fn(x)``."""

    def __call__(self, x):
        return fn(x)

    return {"__call__": __call__, "__doc__": doc}


Sigmoid = type("Sigmoid", (Module,), _stateless(sigmoid, "Applies the sigmoid."))
Mish = type("Mish", (Module,), _stateless(mish, "Applies Mish."))
ReLU = type("ReLU", (Module,), _stateless(relu, "Applies the ReLU."))
ReLU2 = type("ReLU2", (Module,), _stateless(relu2, "Applies the squared ReLU."))
ReLU6 = type("ReLU6", (Module,), _stateless(relu6, "Applies ReLU6."))
Softmax = type("Softmax", (Module,), _stateless(softmax, "Softmax on the last axis."))
Softplus = type("Softplus", (Module,), _stateless(softplus, "Applies softplus."))
Softsign = type("Softsign", (Module,), _stateless(softsign, "Applies softsign."))
SiLU = type("SiLU", (Module,), _stateless(silu, "Applies SiLU."))
LogSoftmax = type(
    "LogSoftmax", (Module,), _stateless(log_softmax, "Log-softmax on the last axis.")
)
LogSigmoid = type(
    "LogSigmoid", (Module,), _stateless(log_sigmoid, "Applies log-sigmoid.")
)
Tanh = type("Tanh", (Module,), _stateless(tanh, "Applies tanh."))
Hardswish = type("Hardswish", (Module,), _stateless(hardswish, "Applies hardswish."))
SELU = type("SELU", (Module,), _stateless(selu, "Applies SELU."))
HardTanh = type("HardTanh", (Module,), _stateless(hard_tanh, "Applies hard tanh."))
Softmin = type("Softmin", (Module,), _stateless(softmin, "Softmin on the last axis."))
for _cls in (Sigmoid, Mish, ReLU, ReLU2, ReLU6, Softmax, Softplus, Softsign, SiLU,
             LogSoftmax, LogSigmoid, Tanh, Hardswish, SELU, HardTanh, Softmin):
    _cls.__module__ = __name__
del _cls


class GLU(Module):
    """Gated linear unit along ``axis``."""

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = axis

    def __call__(self, x) -> Any:
        return glu(x=x, axis=self.axis)


class LeakyReLU(Module):
    """Leaky ReLU with slope ``negative_slope`` below zero."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self._negative_slope = negative_slope

    def __call__(self, x):
        return leaky_relu(x, self._negative_slope)


class ELU(Module):
    """Exponential linear unit."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self._alpha = alpha

    def __call__(self, x):
        return elu(x, self._alpha)


class CELU(Module):
    """Continuously differentiable ELU."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self._alpha = alpha

    def __call__(self, x):
        return celu(x, self._alpha)


class Softshrink(Module):
    """Soft shrinkage by ``lambd``."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def __call__(self, x):
        return softshrink(x, self.lambd)


class HardShrink(Module):
    """Hard shrinkage at ``lambd``."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def __call__(self, x):
        return hard_shrink(x, self.lambd)


class PReLU(Module):
    """Parametric ReLU with a learned slope per channel (``weight``)."""

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.weight = mx.full([num_parameters], init)

    def __call__(self, x: mx.array):
        return prelu(x, self.weight)


class GELU(Module):
    """GELU; ``approx`` is 'none' (erf), 'precise'/'tanh' or 'fast' (sigmoid)."""

    _APPROX = ["none", "precise", "tanh", "fast"]

    def __init__(self, approx="none"):
        super().__init__()
        if approx not in self._APPROX:
            raise ValueError(
                f"The approximation should be in {self._APPROX} but '{approx}' was given"
            )
        self._approx = approx

    def __call__(self, x):
        if self._approx == "none":
            return gelu(x)
        if self._approx in ("precise", "tanh"):
            return gelu_approx(x)
        return gelu_fast_approx(x)


class Step(Module):
    """Binary step at ``threshold``."""

    def __init__(self, threshold: float = 0.0):
        super().__init__()
        self.threshold = threshold

    def __call__(self, x: mx.array):
        return step(x, self.threshold)
