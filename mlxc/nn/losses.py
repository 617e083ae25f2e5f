"""Loss functions, as ``mlx.nn.losses``.

Every loss computes an elementwise (or per-sample) loss and then applies
``reduction``: ``"none"`` returns it as is, ``"mean"`` and ``"sum"`` reduce
it over all elements. Losses are plain compositions of ``mlxc.core`` ops, so
they are lazy and differentiable.
"""

import math
from typing import Literal, Optional, get_args

import mlxc.core as mx

Reduction = Literal["none", "mean", "sum"]

_LOG_2 = math.log(2)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _reduce(loss: mx.array, reduction: Reduction = "none"):
    if reduction not in get_args(Reduction):
        raise ValueError(f"Invalid reduction. Must be one of {get_args(Reduction)}.")
    if reduction == "mean":
        return mx.mean(loss)
    if reduction == "sum":
        return mx.sum(loss)
    return loss


def _check_same_shape(first_name, first, second_name, second):
    if first.shape != second.shape:
        raise ValueError(
            f"{first_name} shape {first.shape} does not match "
            f"{second_name} shape {second.shape}."
        )


def _apply_weights(loss, weights):
    if weights is None:
        return loss
    if weights.shape != loss.shape:
        raise ValueError(
            f"Weights with shape {weights.shape} is not the same as "
            f"output loss with shape {loss.shape}."
        )
    return loss * weights


def _pick_along(values, indices, axis):
    """``values[..., indices, ...]`` along ``axis``, that axis removed."""
    picked = mx.take_along_axis(values, mx.expand_dims(indices, axis), axis)
    return picked.squeeze(axis)


def cross_entropy(
    logits: mx.array,
    targets: mx.array,
    weights: Optional[mx.array] = None,
    axis: int = -1,
    label_smoothing: float = 0.0,
    reduction: Reduction = "none",
) -> mx.array:
    """Computes the cross entropy loss.

    Args:
        logits (array): The unnormalized logits.
        targets (array): Class indices (``logits``' shape without ``axis``)
            or probabilities (``logits``' shape).
        weights (array, optional): Optional weights for each target. Default: ``None``.
        axis (int, optional): The class axis. Default: ``-1``.
        label_smoothing (float, optional): Label smoothing factor. Default: ``0``.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'none'``.

    Returns:
        array: The computed cross entropy loss.

    Examples:
        >>> logits = mx.array([[2.0, -1.0], [-1.0, 2.0]])
        >>> nn.losses.cross_entropy(logits, mx.array([0, 1]))
        array([0.0485873, 0.0485873], dtype=float32)
    """
    if label_smoothing < 0 or label_smoothing >= 1:
        raise ValueError(f"Label smoothing must be in [0, 1), got {label_smoothing}.")

    targets_are_probs = targets.ndim == logits.ndim
    if targets_are_probs:
        expected = tuple(logits.shape)
    else:
        expected = list(logits.shape)
        expected.pop(axis)
        expected = tuple(expected)
    if tuple(targets.shape) != expected:
        raise ValueError(
            f"Targets shape {targets.shape} does not match logits shape {logits.shape}."
        )

    # Shifting by the (constant) max keeps exp in range without changing the loss.
    logits = logits - mx.stop_gradient(mx.max(logits, axis=axis, keepdims=True))
    if targets_are_probs:
        score = mx.sum(logits * targets, axis=axis)
    else:
        score = _pick_along(logits, targets, axis)

    log_normalizer = mx.logsumexp(logits, axis=axis)
    if label_smoothing > 0:
        # Mix the one-hot target with a uniform one: the uniform part
        # contributes -mean(logits).
        smoothing_term = -logits.mean(axis=axis) * label_smoothing
        loss = log_normalizer - (1 - label_smoothing) * score + smoothing_term
    else:
        loss = log_normalizer - score

    return _reduce(_apply_weights(loss, weights), reduction)


def binary_cross_entropy(
    inputs: mx.array,
    targets: mx.array,
    weights: Optional[mx.array] = None,
    with_logits: bool = True,
    reduction: Reduction = "mean",
) -> mx.array:
    """Computes the binary cross entropy loss.

    With ``with_logits`` (the default, faster and more precise) ``inputs``
    are pre-sigmoid logits; otherwise they are probabilities, whose logs are
    clipped below at ``-100``.

    Args:
        inputs (array): Logits or probabilities.
        targets (array): The binary targets in {0, 1}.
        weights (array, optional): Optional weights for each target. Default: ``None``.
        with_logits (bool, optional): Whether ``inputs`` are logits. Default: ``True``.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'mean'``.

    Returns:
        array: The computed binary cross entropy loss.
    """
    _check_same_shape("Inputs", inputs, "targets", targets)

    if with_logits:
        # -log sigmoid(x) = log(1 + e^x) - x, written stably.
        loss = mx.logaddexp(0.0, inputs) - inputs * targets
    else:
        log_p = mx.clip(mx.log(inputs), a_min=-100, a_max=None)
        log_not_p = mx.clip(mx.log(1 - inputs), a_min=-100, a_max=None)
        loss = -(targets * log_p + (1 - targets) * log_not_p)

    return _reduce(_apply_weights(loss, weights), reduction)


def l1_loss(
    predictions: mx.array, targets: mx.array, reduction: Reduction = "mean"
) -> mx.array:
    """Computes the L1 loss ``|predictions - targets|``.

    Args:
        predictions (array): The predicted values.
        targets (array): The target values.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'mean'``.
    """
    _check_same_shape("Predictions", predictions, "targets", targets)
    return _reduce(mx.abs(predictions - targets), reduction)


def mse_loss(
    predictions: mx.array, targets: mx.array, reduction: Reduction = "mean"
) -> mx.array:
    """Computes the mean squared error loss ``(predictions - targets)**2``.

    Args:
        predictions (array): The predicted values.
        targets (array): The target values.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'mean'``.
    """
    _check_same_shape("Predictions", predictions, "targets", targets)
    return _reduce(mx.square(predictions - targets), reduction)


def nll_loss(
    inputs: mx.array, targets: mx.array, axis: int = -1, reduction: Reduction = "none"
) -> mx.array:
    """Computes the negative log likelihood loss.

    Args:
        inputs (array): The predicted distribution in log space.
        targets (array): The target class indices.
        axis (int, optional): The distribution axis. Default: ``-1``.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'none'``.
    """
    return _reduce(-_pick_along(inputs, targets, axis), reduction)


def gaussian_nll_loss(
    inputs: mx.array,
    targets: mx.array,
    vars: mx.array,
    full: bool = False,
    eps: float = 1e-6,
    reduction: Reduction = "mean",
) -> mx.array:
    r"""Computes the negative log likelihood of ``targets`` under Gaussians
    of mean ``inputs`` and variance ``vars``:

    .. math::
        \frac{1}{2}\left(\log\left(\max\left(\text{vars},
        \ \epsilon\right)\right) + \frac{\left(\text{inputs} - \text{targets} \right)^2}
        {\max\left(\text{vars}, \ \epsilon \right)}\right) + \text{const.}

    Args:
        inputs (array): The predicted means.
        targets (array): The samples.
        vars (array): The predicted variances.
        full (bool, optional): Include the constant term. Default: ``False``.
        eps (float, optional): The smallest variance used. Default: ``1e-6``.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'mean'``.
    """
    _check_same_shape("Inputs", inputs, "targets", targets)
    _check_same_shape("Inputs", inputs, "vars", vars)

    vars = mx.maximum(vars, eps)
    loss = 0.5 * (mx.log(vars) + mx.square(targets - inputs) / vars)
    if full:
        loss = loss + _HALF_LOG_2PI
    return _reduce(loss, reduction)


def kl_div_loss(
    inputs: mx.array, targets: mx.array, axis: int = -1, reduction: Reduction = "none"
) -> mx.array:
    """Computes the Kullback-Leibler divergence from log-probabilities
    ``inputs`` to log-probabilities ``targets``, i.e. with ``'none'``:
    ``(mx.exp(targets) * (targets - inputs)).sum(axis)``.

    Args:
        inputs (array): Log probabilities of the predicted distribution.
        targets (array): Log probabilities of the target distribution.
        axis (int, optional): The distribution axis. Default: ``-1``.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'none'``.
    """
    loss = mx.sum(mx.exp(targets) * (targets - inputs), axis)
    return _reduce(loss, reduction)


def smooth_l1_loss(
    predictions: mx.array,
    targets: mx.array,
    beta: float = 1.0,
    reduction: Reduction = "mean",
) -> mx.array:
    r"""Computes the smooth L1 loss: squared below ``beta``, absolute above.

    .. math::

      l = \begin{cases}
            0.5 (x - y)^2 / \beta, & \text{if } |x - y| < \beta \\
            |x - y| - 0.5 \beta, & \text{otherwise}
          \end{cases}

    Args:
        predictions (array): Predicted values.
        targets (array): Ground truth values.
        beta (float, optional): The threshold. Default: ``1.0``.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'mean'``.
    """
    _check_same_shape("Predictions", predictions, "targets", targets)

    diff = mx.abs(predictions - targets)
    loss = mx.where(diff < beta, 0.5 * mx.square(diff) / beta, diff - 0.5 * beta)
    return _reduce(loss, reduction)


def triplet_loss(
    anchors: mx.array,
    positives: mx.array,
    negatives: mx.array,
    axis: int = -1,
    p: int = 2,
    margin: float = 1.0,
    eps: float = 1e-6,
    reduction: Reduction = "none",
) -> mx.array:
    r"""Computes the triplet loss of anchor, positive and negative samples:

    .. math::

       \max\left(\|A - P\|_p - \|A - N\|_p + \alpha, 0\right)

    Args:
        anchors (array): The anchor samples.
        positives (array): The positive samples.
        negatives (array): The negative samples.
        axis (int, optional): The distribution axis. Default: ``-1``.
        p (int, optional): The norm degree for pairwise distance. Default: ``2``.
        margin (float, optional): Margin :math:`\alpha`. Default: ``1.0``.
        eps (float, optional): Added to the p-norm's sum before the ``1 / p``
          power. Default: ``1e-6``.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'none'``.
    """

    def distance(other):
        summed = mx.power(mx.abs(anchors - other), p).sum(axis)
        return mx.power(summed + eps, 1.0 / p)

    loss = mx.maximum(distance(positives) - distance(negatives) + margin, 0)
    return _reduce(loss, reduction)


def hinge_loss(
    inputs: mx.array, targets: mx.array, reduction: Reduction = "none"
) -> mx.array:
    r"""Computes the hinge loss :math:`\max(0, 1 - y \cdot y_{\text{pred}})`.

    Args:
        inputs (array): The predicted values.
        targets (array): The target values, -1 or 1.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'none'``.
    """
    return _reduce(mx.maximum(1 - inputs * targets, 0), reduction)


def huber_loss(
    inputs: mx.array,
    targets: mx.array,
    delta: float = 1.0,
    reduction: Reduction = "none",
) -> mx.array:
    r"""Computes the Huber loss: :math:`\frac{1}{2} a^2` for
    :math:`|a| \leq \delta`, :math:`\delta (|a| - \frac{1}{2} \delta)` beyond.

    Args:
        inputs (array): The predicted values.
        targets (array): The target values.
        delta (float, optional): The threshold. Default: ``1.0``.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'none'``.
    """
    abs_errors = mx.abs(inputs - targets)
    # Split |a| into its part inside the quadratic zone and the rest.
    inside = mx.minimum(abs_errors, delta)
    outside = abs_errors - inside
    loss = 0.5 * inside**2 + delta * outside
    return _reduce(loss, reduction)


def log_cosh_loss(
    inputs: mx.array, targets: mx.array, reduction: Reduction = "none"
) -> mx.array:
    r"""Computes :math:`\log(\cosh(y_{\text{pred}} - y_{\text{true}}))`: like
    L2 for small errors and like L1 for large ones.

    Args:
        inputs (array): The predicted values.
        targets (array): The target values.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'none'``.
    """
    errors = inputs - targets
    # log cosh(x) = log(e^x + e^-x) - log 2, without overflow.
    loss = mx.logaddexp(errors, -errors) - _LOG_2
    return _reduce(loss, reduction)


def cosine_similarity_loss(
    x1: mx.array,
    x2: mx.array,
    axis: int = 1,
    eps: float = 1e-8,
    reduction: Reduction = "none",
) -> mx.array:
    r"""Computes the cosine similarity of the two inputs along ``axis``:

    .. math::

        \frac{x_1 \cdot x_2}{\max(\|x_1\|  \cdot \|x_2\|, \epsilon)}

    Args:
        x1 (array): The first set of inputs.
        x2 (array): The second set of inputs.
        axis (int, optional): The embedding axis. Default: ``1``.
        eps (float, optional): The smallest denominator. Default: ``1e-8``.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'none'``.
    """
    norms = mx.linalg.norm(x1, axis=axis) * mx.linalg.norm(x2, axis=axis)
    loss = mx.sum(x1 * x2, axis=axis) / mx.maximum(norms, eps)
    return _reduce(loss, reduction)


def margin_ranking_loss(
    inputs1: mx.array,
    inputs2: mx.array,
    targets: mx.array,
    margin: float = 0.0,
    reduction: Reduction = "none",
) -> mx.array:
    r"""Computes the margin ranking loss
    :math:`\max(0, -y (x_1 - x_2) + \text{margin})` for labels :math:`y` of
    1 (``inputs1`` should rank higher) or -1.

    Args:
        inputs1 (array): Scores for the first input.
        inputs2 (array): Scores for the second input.
        targets (array): Labels, 1 or -1.
        margin (float, optional): The margin. Default: ``0.0``.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``.
            Default: ``'none'``.

    Examples:
        >>> targets = mx.array([1, 1, -1])
        >>> inputs1 = mx.array([-0.573409, -0.765166, -0.0638])
        >>> inputs2 = mx.array([0.75596, 0.225763, 0.256995])
        >>> nn.losses.margin_ranking_loss(inputs1, inputs2, targets)
        array([1.32937, 0.990929, 0], dtype=float32)
    """
    if not (inputs1.shape == inputs2.shape == targets.shape):
        raise ValueError(
            "The shapes of the arguments do not match. The provided shapes are "
            f"inputs1.shape={inputs1.shape}, inputs2.shape={inputs2.shape}, and "
            f"targets.shape={targets.shape}."
        )
    loss = mx.maximum(0, -targets * (inputs1 - inputs2) + margin)
    return _reduce(loss, reduction)
