"""Optimizers, as ``mlx.optimizers``.

An optimizer works leaf by leaf over a Python tree of parameters: the base
class keeps a state tree shaped like the parameters (one dict of buffers per
parameter, ``state["layers"][0]["weight"]["m"]``) next to the top-level
entries ``"step"`` (a uint64 array) and the hyper-parameters that are arrays
(``"learning_rate"``; any value given as a schedule is recomputed from the
step before every update). Because everything in the state is an array in a
plain tree, ``tree_flatten(optimizer.state)`` saves with ``mx.save_safetensors``
and ``optimizer.state = tree_unflatten(...)`` loads it back.

Subclasses implement ``init_single`` (create a parameter's buffers) and
``apply_single`` (return the updated parameter, writing the new buffers into
its state dict). All arithmetic is lazy: an update is a graph that
``mx.eval(model.parameters(), optimizer.state)`` runs.
"""

from typing import Callable, List, Optional, Tuple, Union

import mlxc.core as mx
from mlxc.utils import tree_flatten, tree_map, tree_merge, tree_reduce, tree_unflatten

try:  # mlx.optimizers exposes nn.Module (the type update() takes); optional here
    from mlxc.nn import Module  # noqa: F401
except ImportError:
    pass


def _empty_slots(params):
    """A tree shaped like ``params`` with a fresh empty dict per leaf."""
    return tree_map(lambda _: {}, params)


def _grow_slots(params, state):
    """``state`` extended so every leaf of ``params`` has a dict slot.

    Slots that already exist (a resumed or loaded state) are kept as they are;
    dicts are grown in place, sequences are rebuilt with the parameters' type.
    """
    if isinstance(params, dict):
        for key, child in params.items():
            if key in state:
                state[key] = _grow_slots(child, state[key])
            else:
                state[key] = _empty_slots(child)
        return state
    if isinstance(params, (list, tuple)):
        grown = [_grow_slots(p, s) for p, s in zip(params, state)]
        grown.extend(_empty_slots(p) for p in params[len(grown):])
        return type(params)(grown)
    return state


def _check_unit_interval(owner, betas):
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(
                f"{owner} beta{i + 1} should be in [0, 1), {beta} was "
                "provided instead"
            )


class Optimizer:
    """The base class for all optimizers: applies a per-parameter update
    (``apply_single``) over a tree of parameters.

    Args:
        schedulers (dict, optional): maps a state entry's name to a callable
          of the step that recomputes it before each update.
    """

    def __init__(self, schedulers=None):
        self._initialized = False
        self._state = {"step": mx.array(0, mx.uint64)}
        self._schedulers = dict(schedulers or {})

    def update(self, model, gradients: dict):
        """Apply ``gradients`` to the parameters of ``model`` and write the
        new parameters back with ``model.update``.

        Args:
            model (mlx.nn.Module): The module (or a dict of parameters) to update.
            gradients (dict): A tree of gradients, e.g. from ``nn.value_and_grad``.
        """
        model.update(self.apply_gradients(gradients, model))

    def init(self, parameters: dict):
        """Create the state of every parameter in ``parameters`` that has none.

        Optional (the first update initializes the state); useful to see
        :attr:`state` before the first update.

        Args:
            parameters (dict): A tree of parameters.

        Example:
            >>> optimizer = optim.SGD(learning_rate=1e-1, momentum=0.9)
            >>> model = nn.Linear(2, 2)
            >>> optimizer.init(model.trainable_parameters())
            >>> optimizer.state.keys()
            dict_keys(['step', 'learning_rate', 'weight', 'bias'])
        """
        if not isinstance(parameters, dict):
            # The state's top level is a dict holding "step" next to the
            # slots; MLX fails on other trees with an IndexError too.
            raise IndexError(
                f"{type(self).__name__}.init: the parameter tree must be a dict "
                f"at the top level, got {type(parameters).__name__}"
            )
        _grow_slots(parameters, self._state)

        def fill(parameter, slot):
            if not slot:
                self.init_single(parameter, slot)

        tree_map(fill, parameters, self._state)
        self._initialized = True

    def init_single(self, parameter: mx.array, state: dict):
        """Create the buffers of one parameter in its (empty) ``state`` dict.

        Args:
            parameter (array): A single parameter that will be optimized.
            state (dict): The parameter's optimizer state.
        """
        raise NotImplementedError()

    def apply_gradients(self, gradients: dict, parameters: dict):
        """Return the parameters after one update with ``gradients``.

        ``model.update(opt.apply_gradients(grads, model))`` is exactly
        :meth:`update`.

        Args:
            gradients (dict): A tree of gradients.
            parameters (dict): A tree of parameters; it may be a superset of
              ``gradients``, and the result has the structure of ``gradients``.
        """
        if not self._initialized:
            self.init(gradients)

        # Scheduled values use the step count before this update.
        for name, schedule in self._schedulers.items():
            self.state[name] = schedule(self.step)
        self.state["step"] = self.step + 1

        return tree_map(self.apply_single, gradients, parameters, self.state)

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict):
        """Return ``parameter`` updated with ``gradient``; store the new
        buffers in ``state``.

        Args:
            gradient (array): The ``parameter`` gradient.
            parameter (array): The ``parameter`` to update.
            state (dict): The parameter's optimizer state.
        """
        raise NotImplementedError()

    @property
    def state(self):
        """The optimizer's state dictionary."""
        return self._state

    @state.setter
    def state(self, state: dict):
        # A replaced (e.g. loaded) state may lack slots: grow it on next use.
        self._initialized = False
        self._state = state

    @property
    def step(self):
        return self.state["step"]

    @property
    def learning_rate(self):
        return self.state["learning_rate"]

    @learning_rate.setter
    def learning_rate(self, learning_rate: Union[float, mx.array]):
        self.state["learning_rate"] = mx.array(learning_rate)

    def _maybe_schedule(
        self, name: str, param: Union[float, Callable[[mx.array], mx.array]]
    ):
        """Store hyper-parameter ``name`` in the state: a callable becomes a
        schedule of the step, anything else an array."""
        if callable(param):
            self._schedulers[name] = param
            value = param(self.step)
        else:
            value = mx.array(param)
        self.state[name] = value


class MultiOptimizer(Optimizer):
    """Delegates each parameter to one of several optimizers.

    ``filters[i](path, array)`` selects the parameters of ``optimizers[i]``
    (``path`` is the dotted name, as from ``tree_flatten``); the first filter
    that accepts a parameter wins and the last optimizer takes the rest, so
    there is one filter fewer than optimizers.

    Args:
        optimizers (list[Optimizer]): The optimizers to delegate to.
        filters (list[Callable[[str, array], bool]]): ``len(optimizers) - 1``
            predicates.
    """

    def __init__(self, optimizers, filters: list = []):
        super().__init__()
        self._state = {}

        if len(filters) != len(optimizers) - 1:
            raise ValueError(
                f"Given {len(filters)} filters but {len(optimizers) - 1} needed."
            )

        self.optimizers = optimizers
        self.filters = list(filters) + [lambda *args, **kwargs: True]

    def _split_dictionary(self, gradients: dict):
        """One sub-tree of ``gradients`` per optimizer."""
        if len(self.optimizers) == 1:
            return [gradients]

        groups = [[] for _ in self.optimizers]
        for path, leaf in tree_flatten(gradients):
            owner = next(i for i, keep in enumerate(self.filters) if keep(path, leaf))
            groups[owner].append((path, leaf))
        # An empty group is an empty dict (tree_unflatten([]) would be a list).
        return [tree_unflatten(g) if g else {} for g in groups]

    def init(self, parameters: dict):
        for optimizer, part in zip(self.optimizers, self._split_dictionary(parameters)):
            optimizer.init(part)

    def apply_gradients(self, gradients: dict, parameters: dict):
        updated = {}
        parts = self._split_dictionary(gradients)
        for optimizer, part in zip(self.optimizers, parts):
            updated = tree_merge(updated, optimizer.apply_gradients(part, parameters))
        return updated

    @property
    def state(self):
        return {"states": [o.state for o in self.optimizers]}

    @state.setter
    def state(self, state: dict):
        if "states" not in state or len(state["states"]) != len(self.optimizers):
            raise ValueError("Invalid state provided")
        for optimizer, sub_state in zip(self.optimizers, state["states"]):
            optimizer.state = sub_state

    @property
    def learning_rate(self):
        return self.optimizers[0].learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate: Union[float, mx.array]):
        for optimizer in self.optimizers:
            optimizer.learning_rate = learning_rate


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum.

    .. math::

        v_{t+1} &= \mu v_t + (1 - \tau) g_t \\
        w_{t+1} &= w_t - \lambda v_{t+1}

    Args:
        learning_rate (float or callable): The learning rate :math:`\lambda`.
        momentum (float, optional): The momentum strength :math:`\mu`. Default: ``0``
        weight_decay (float, optional): The weight decay (L2 penalty). Default: ``0``
        dampening (float, optional): Dampening for momentum :math:`\tau`. Default: ``0``
        nesterov (bool, optional): Enables Nesterov momentum. Default: ``False``
    """

    def __init__(
        self,
        learning_rate: Union[float, Callable[[mx.array], mx.array]],
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
    ):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening."
            )
        super().__init__()

        self._maybe_schedule("learning_rate", learning_rate)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.dampening = dampening
        self.nesterov = nesterov

    def init_single(self, parameter: mx.array, state: dict):
        state["v"] = mx.zeros_like(parameter)

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict):
        if self.weight_decay != 0:
            gradient = gradient + self.weight_decay * parameter
        lr = self.learning_rate.astype(gradient.dtype)

        if self.momentum <= 0:
            return parameter - lr * gradient

        velocity = self.momentum * state["v"]
        if self.dampening > 0:
            velocity = velocity + (1 - self.dampening) * gradient
        else:
            velocity = velocity + gradient
        state["v"] = velocity

        if self.nesterov:
            direction = gradient + self.momentum * velocity
        else:
            direction = velocity
        return parameter - lr * direction


class RMSprop(Optimizer):
    r"""The RMSprop optimizer (Tieleman and Hinton, 2012).

    .. math::

        v_{t+1} &= \alpha v_t + (1 - \alpha) g_t^2 \\
        w_{t+1} &= w_t - \lambda \frac{g_t}{\sqrt{v_{t+1}} + \epsilon}

    Args:
        learning_rate (float or callable): The learning rate :math:`\lambda`.
        alpha (float, optional): The smoothing constant :math:`\alpha`.
          Default: ``0.99``
        eps (float, optional): Added to the denominator for numerical
          stability. Default: ``1e-8``
    """

    def __init__(
        self,
        learning_rate: Union[float, Callable[[mx.array], mx.array]],
        alpha: float = 0.99,
        eps: float = 1e-8,
    ):
        super().__init__()

        self._maybe_schedule("learning_rate", learning_rate)
        self.alpha = alpha
        self.eps = eps

        if alpha < 0.0:
            raise ValueError(
                f"RMSprop alpha should be >=0, {alpha} was provided instead"
            )
        if eps <= 0.0:
            raise ValueError(
                f"RMSprop epsilon should be >0, {eps} was provided instead"
            )

    def init_single(self, parameter: mx.array, state: dict):
        state["v"] = mx.zeros_like(parameter)

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict):
        lr = self.learning_rate.astype(gradient.dtype)
        v = self.alpha * state["v"] + (1 - self.alpha) * mx.square(gradient)
        state["v"] = v
        return parameter - lr * gradient / (mx.sqrt(v) + self.eps)


class Adagrad(Optimizer):
    r"""The Adagrad optimizer (Duchi, Hazan and Singer, 2011).

    .. math::

        v_{t+1} &= v_t + g_t^2 \\
        w_{t+1} &= w_t - \lambda \frac{g_t}{\sqrt{v_{t+1}} + \epsilon}

    Args:
        learning_rate (float or callable): The learning rate :math:`\lambda`.
        eps (float, optional): Added to the denominator for numerical
          stability. Default: ``1e-8``
    """

    def __init__(
        self,
        learning_rate: Union[float, Callable[[mx.array], mx.array]],
        eps: float = 1e-8,
    ):
        super().__init__()

        self._maybe_schedule("learning_rate", learning_rate)
        self.eps = eps

        if eps <= 0.0:
            raise ValueError(
                f"Adagrad epsilon should be >0, {eps} was provided instead"
            )

    def init_single(self, parameter: mx.array, state: dict):
        state["v"] = mx.zeros_like(parameter)

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict):
        lr = self.learning_rate.astype(gradient.dtype)
        v = state["v"] + mx.square(gradient)
        state["v"] = v
        return parameter - lr * gradient / (mx.sqrt(v) + self.eps)


class AdaDelta(Optimizer):
    r"""The AdaDelta optimizer with a learning rate (Zeiler, 2012).

    .. math::

        v_{t+1} &= \rho v_t + (1 - \rho) g_t^2 \\
        \Delta w_{t+1} &= \frac{\sqrt{u_t + \epsilon}}{\sqrt{v_{t+1} + \epsilon}} g_t \\
        u_{t+1} &= \rho u_t + (1 - \rho) \Delta w_{t+1}^2 \\
        w_{t+1} &= w_t - \lambda \Delta w_{t+1}

    Args:
        learning_rate (float or callable): The learning rate :math:`\lambda`.
        rho (float, optional): The running-average coefficient :math:`\rho`.
          Default: ``0.9``
        eps (float, optional): Added for numerical stability. Default: ``1e-6``
    """

    def __init__(
        self,
        learning_rate: Union[float, Callable[[mx.array], mx.array]],
        rho: float = 0.9,
        eps: float = 1e-6,
    ):
        super().__init__()

        self._maybe_schedule("learning_rate", learning_rate)
        self.rho = rho
        self.eps = eps
        if rho < 0.0:
            raise ValueError(
                f"AdaDelta rho should be >=0, {rho} was provided instead"
            )
        if eps <= 0.0:
            raise ValueError(
                f"AdaDelta epsilon should be >0, {eps} was provided instead"
            )

    def init_single(self, parameter: mx.array, state: dict):
        state["v"] = mx.zeros_like(parameter)
        state["u"] = mx.zeros_like(parameter)

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict):
        lr = self.learning_rate.astype(gradient.dtype)
        rho, eps = self.rho, self.eps

        v = rho * state["v"] + (1 - rho) * mx.square(gradient)
        delta = mx.sqrt(state["u"] + eps) / mx.sqrt(v + eps) * gradient
        u = rho * state["u"] + (1 - rho) * mx.square(delta)
        state["v"] = v
        state["u"] = u
        return parameter - lr * delta


class Adam(Optimizer):
    r"""The Adam optimizer (Kingma and Ba, 2015).

    .. math::

        m_{t+1} &= \beta_1 m_t + (1 - \beta_1) g_t \\
        v_{t+1} &= \beta_2 v_t + (1 - \beta_2) g_t^2 \\
        w_{t+1} &= w_t - \lambda \frac{m_{t+1}}{\sqrt{v_{t+1}} + \epsilon}

    Args:
        learning_rate (float or callable): The learning rate :math:`\lambda`.
        betas (Tuple[float, float], optional): The coefficients
          :math:`(\beta_1, \beta_2)` of the running averages of the gradient
          and its square. Default: ``(0.9, 0.999)``
        eps (float, optional): Added to the denominator for numerical
          stability. Default: ``1e-8``
        bias_correction (bool, optional): Apply bias correction to the
          moments. Default: ``False``
    """

    def __init__(
        self,
        learning_rate: Union[float, Callable[[mx.array], mx.array]],
        betas: List[float] = [0.9, 0.999],
        eps: float = 1e-8,
        bias_correction: bool = False,
    ):
        super().__init__()

        _check_unit_interval(type(self).__name__, betas)
        if not 0.0 <= eps:
            raise ValueError(
                f"{type(self).__name__} epsilon should be >=0, {eps} was "
                "provided instead"
            )

        self._maybe_schedule("learning_rate", learning_rate)
        self.betas = betas
        self.eps = eps
        self.bias_correction = bias_correction

    def init_single(self, parameter: mx.array, state: dict):
        state["m"] = mx.zeros_like(parameter)
        state["v"] = mx.zeros_like(parameter)

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict):
        lr = self.learning_rate.astype(gradient.dtype)
        b1, b2 = self.betas

        m = b1 * state["m"] + (1 - b1) * gradient
        v = b2 * state["v"] + (1 - b2) * mx.square(gradient)
        state["m"] = m
        state["v"] = v

        if not self.bias_correction:
            return parameter - lr * m / (mx.sqrt(v) + self.eps)

        step = self.step
        m_scale = (lr / (1 - b1**step)).astype(gradient.dtype)
        v_scale = mx.rsqrt(1 - b2**step).astype(gradient.dtype)
        return parameter - (m_scale * m) / (mx.sqrt(v) * v_scale + self.eps)


class AdamW(Adam):
    r"""The AdamW optimizer: Adam with decoupled weight decay (Loshchilov and
    Hutter, 2019).

    .. math::

        m_{t+1} &= \beta_1 m_t + (1 - \beta_1) g_t \\
        v_{t+1} &= \beta_2 v_t + (1 - \beta_2) g_t^2 \\
        w_{t+1} &= w_t - \alpha (\frac{m_{t+1}}{\sqrt{v_{t+1}} + \epsilon} + \lambda
        w_t)

    Args:
        learning_rate (float or callable): The learning rate :math:`\alpha`.
        betas (Tuple[float, float], optional): Default: ``(0.9, 0.999)``
        eps (float, optional): Default: ``1e-8``
        weight_decay (float, optional): The weight decay :math:`\lambda`.
          Default: ``0.01``.
        bias_correction (bool, optional): Default: ``False``
    """

    def __init__(
        self,
        learning_rate: Union[float, Callable[[mx.array], mx.array]],
        betas: List[float] = [0.9, 0.999],
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        bias_correction: bool = False,
    ):
        super().__init__(
            learning_rate=learning_rate,
            betas=betas,
            eps=eps,
            bias_correction=bias_correction,
        )
        self.weight_decay = weight_decay

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict):
        # Decay the weights first, then take an ordinary Adam step from there.
        lr = self.learning_rate.astype(gradient.dtype)
        decayed = parameter * (1 - lr * self.weight_decay)
        return super().apply_single(gradient, decayed, state)


class Adamax(Adam):
    r"""The Adamax optimizer, Adam with the infinity norm (Kingma and Ba,
    2015), without bias correction.

    .. math::

        m_{t+1} &= \beta_1 m_t + (1 - \beta_1) g_t \\
        v_{t+1} &= \max(\beta_2 v_t, |g_t|) \\
        w_{t+1} &= w_t - \lambda \frac{m_{t+1}}{v_{t+1} + \epsilon}

    Args:
        learning_rate (float or callable): The learning rate :math:`\lambda`.
        betas (Tuple[float, float], optional): Default: ``(0.9, 0.999)``
        eps (float, optional): Default: ``1e-8``
    """

    def __init__(
        self,
        learning_rate: Union[float, Callable[[mx.array], mx.array]],
        betas: List[float] = [0.9, 0.999],
        eps: float = 1e-8,
    ):
        super().__init__(learning_rate, betas, eps)

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict):
        lr = self.learning_rate.astype(gradient.dtype)
        b1, b2 = self.betas

        m = b1 * state["m"] + (1 - b1) * gradient
        v = mx.maximum(b2 * state["v"], mx.abs(gradient))
        state["m"] = m
        state["v"] = v
        return parameter - lr * m / (v + self.eps)


class Lion(Optimizer):
    r"""The Lion optimizer (Chen et al., 2023). Its sign updates have a
    larger norm than SGD's or Adam's: use a 3-10x smaller learning rate and a
    3-10x larger weight decay than with AdamW.

    .. math::

        c_{t + 1} &= \beta_1 m_t + (1 - \beta_1) g_t \\
        m_{t + 1} &= \beta_2 m_t + (1 - \beta_2) g_t \\
        w_{t + 1} &= w_t - \eta (\text{sign}(c_t) + \lambda w_t)

    Args:
        learning_rate (float or callable): The learning rate :math:`\eta`.
        betas (Tuple[float, float], optional): Default: ``(0.9, 0.99)``
        weight_decay (float, optional): The weight decay :math:`\lambda`.
          Default: ``0.0``
    """

    def __init__(
        self,
        learning_rate: Union[float, Callable[[mx.array], mx.array]],
        betas: List[float] = [0.9, 0.99],
        weight_decay: float = 0.0,
    ):
        super().__init__()

        _check_unit_interval("Lion", betas)
        self._maybe_schedule("learning_rate", learning_rate)
        self.betas = betas
        self.weight_decay = weight_decay

    def init_single(self, parameter: mx.array, state: dict):
        state["m"] = mx.zeros_like(parameter)

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict):
        lr = self.learning_rate.astype(gradient.dtype)
        b1, b2 = self.betas

        m = state["m"]
        direction = b1 * m + (1 - b1) * gradient
        state["m"] = b2 * m + (1 - b2) * gradient
        if self.weight_decay > 0:
            parameter = (1 - lr * self.weight_decay) * parameter
        return parameter - lr * mx.sign(direction)


class Adafactor(Optimizer):
    r"""The Adafactor optimizer (Shazeer and Stern, 2018): second moments of
    matrices are kept as a row and a column factor.

    Args:
        learning_rate (float or callable, optional): The learning rate, used
            when ``relative_step`` is ``False``. Default: ``None``.
        eps (tuple(float, float), optional): :math:`\epsilon_1` added to the
            squared gradients and :math:`\epsilon_2`, the smallest parameter
            scale. Default: ``(1e-30, 1e-3)``.
        clip_threshold (float, optional): Clips the unscaled update's RMS at
            this value. Default: ``1.0``.
        decay_rate (float, optional): Exponent of the step in the squared
            gradient's averaging coefficient. Default: ``-0.8``.
        beta_1 (float, optional): If given, a first moment of the updates is
            kept with this coefficient. Default: ``None``.
        weight_decay (float, optional): The weight decay :math:`\lambda`.
            Default: ``0.0``.
        scale_parameter (bool, optional): Scale the step size by
            :math:`\max(\epsilon_2, \text{RMS}(w_{t-1}))`. Default: ``True``.
        relative_step (bool, optional): Ignore ``learning_rate`` and use a
            step size from the step count. Default: ``True``.
        warmup_init (bool, optional): Make the relative step size grow with
            the step count. Default: ``False``.
    """

    def __init__(
        self,
        learning_rate: Union[float, Callable[[mx.array], mx.array], None] = None,
        eps: Tuple[float, float] = (1e-30, 1e-3),
        clip_threshold: float = 1.0,
        decay_rate: float = -0.8,
        beta_1: Optional[float] = None,
        weight_decay: float = 0.0,
        scale_parameter: bool = True,
        relative_step: bool = True,
        warmup_init: bool = False,
    ):
        super().__init__()
        if learning_rate is not None:
            self._maybe_schedule("learning_rate", learning_rate)
        self.eps = eps
        self.clip_threshold = clip_threshold
        self.decay_rate = decay_rate
        self.beta_1 = beta_1
        self.weight_decay = weight_decay
        self.scale_parameter = scale_parameter
        self.relative_step = relative_step
        self.warmup_init = warmup_init

    def init_single(self, parameter: mx.array, state: dict):
        if parameter.ndim >= 2:
            shape, dtype = parameter.shape, parameter.dtype
            state["exp_avg_sq_row"] = mx.zeros(shape[:-1], dtype=dtype)
            state["exp_avg_sq_col"] = mx.zeros(shape[:-2] + shape[-1:], dtype=dtype)
        else:
            state["exp_avg_sq"] = mx.zeros_like(parameter)
        if self.beta_1 is not None:
            state["exp_avg"] = mx.zeros_like(parameter)

    @staticmethod
    def _rms(x):
        return mx.sqrt(mx.mean(mx.square(x)))

    def _step_size(self, step, parameter_rms):
        if self.relative_step:
            ceiling = 1e-6 * step if self.warmup_init else 1e-2
            size = mx.minimum(ceiling, mx.rsqrt(step))
        else:
            size = self.learning_rate
        size = size.astype(parameter_rms.dtype)
        if self.scale_parameter:
            return mx.maximum(self.eps[1], parameter_rms) * size
        return 1.0 * size

    @staticmethod
    def _factored_inverse_rms(row, col):
        # rsqrt of the rank-1 estimate row * col / mean(row), one factor each.
        row_factor = mx.rsqrt(row / mx.mean(row, axis=-1, keepdims=True))
        col_factor = mx.rsqrt(col)
        return mx.expand_dims(row_factor, axis=-1) * mx.expand_dims(col_factor, axis=-2)

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict):
        step = self.step
        parameter_rms = self._rms(parameter)
        step_size = self._step_size(step, parameter_rms)
        beta_2 = 1.0 - (step**self.decay_rate).astype(parameter_rms.dtype)
        squared = mx.square(gradient) + self.eps[0]

        if gradient.ndim >= 2:
            row = beta_2 * state["exp_avg_sq_row"] + (1 - beta_2) * mx.mean(squared, axis=-1)
            col = beta_2 * state["exp_avg_sq_col"] + (1 - beta_2) * mx.mean(squared, axis=-2)
            state["exp_avg_sq_row"] = row
            state["exp_avg_sq_col"] = col
            update = self._factored_inverse_rms(row, col) * gradient
        else:
            avg = beta_2 * state["exp_avg_sq"] + (1 - beta_2) * squared
            state["exp_avg_sq"] = avg
            update = mx.rsqrt(avg) * gradient

        update = update / mx.maximum(1.0, self._rms(update) / self.clip_threshold)
        update = step_size * update

        if self.beta_1 is not None:
            update = self.beta_1 * state["exp_avg"] + (1 - self.beta_1) * update
            state["exp_avg"] = update

        if self.weight_decay != 0:
            parameter = parameter + parameter * (-self.weight_decay * step_size)
        return parameter - update


class Muon(Optimizer):
    r"""The Muon optimizer (MomentUm Orthogonalized by Newton-Schulz,
    https://kellerjordan.github.io/posts/muon/).

    Updates of matrices (and of higher-rank parameters, flattened to their
    first axis) are orthogonalized by a quintic Newton-Schulz iteration;
    0D/1D parameters take a plain momentum step. Embeddings, output layers and
    vectors are usually better served by another optimizer (e.g. AdamW).

    Args:
        learning_rate (float or callable): The learning rate.
        momentum (float, optional): The momentum strength. Default: ``0.95``
        weight_decay (float, optional): The weight decay (L2 penalty).
            Default: ``0.01``
        nesterov (bool, optional): Enables Nesterov momentum. Default: ``True``
        ns_steps (int, optional): Number of Newton-Schulz iterations.
            Default: ``5``
    """

    # Coefficients of the quintic iteration X <- aX + b(XX^T)X + c(XX^T)^2 X.
    _NS_COEFFS = (3.4445, -4.7750, 2.0315)

    def __init__(
        self,
        learning_rate: Union[float, Callable[[mx.array], mx.array]],
        momentum: float = 0.95,
        weight_decay: float = 0.01,
        nesterov: bool = True,
        ns_steps: int = 5,
    ):
        super().__init__()

        self._maybe_schedule("learning_rate", learning_rate)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self.ns_steps = ns_steps

    def init_single(self, parameter: mx.array, state: dict):
        state["v"] = mx.zeros_like(parameter)

    def _orthogonalize(self, x, steps: int):
        """Approximately U V^T of the SVD of the 2D ``x``."""
        a, b, c = self._NS_COEFFS
        # Iterate on the wide orientation so X X^T is the smaller Gram matrix.
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = x.T
        x = x / (mx.linalg.norm(x, keepdims=True) + 1e-7)
        for _ in range(steps):
            gram = x @ x.T
            poly = mx.addmm(b * gram, gram, gram, beta=1.0, alpha=c)
            x = mx.addmm(a * x, poly, x, beta=1.0, alpha=1.0)
        return x.T if tall else x

    def apply_single(self, gradient: mx.array, parameter: mx.array, state: dict):
        if self.weight_decay != 0:
            gradient = gradient + self.weight_decay * parameter

        v = self.momentum * state["v"] + (1 - self.momentum) * gradient
        state["v"] = v
        if self.nesterov:
            update = gradient * (1 - self.momentum) + v * self.momentum
        else:
            update = v

        lr = self.learning_rate.astype(gradient.dtype)
        if update.ndim >= 2:
            shape = update.shape
            flat = update.reshape(shape[0], -1) if update.ndim > 2 else update
            update = self._orthogonalize(flat, steps=self.ns_steps).reshape(shape)
            lr = lr * max(1, shape[-2] / shape[-1]) ** 0.5

        return parameter - lr * update


def clip_grad_norm(grads, max_norm):
    """Rescale ``grads`` so their global L2 norm is at most ``max_norm``.

    Example:
        >>> grads = {"w1": mx.array([2, 3]), "w2": mx.array([1])}
        >>> clipped_grads, total_norm = clip_grad_norm(grads, max_norm=2.0)

    Args:
        grads (dict): A tree of gradient arrays.
        max_norm (float): The largest allowed global norm.

    Returns:
        (dict, array): The possibly rescaled gradients and their norm before
        clipping.
    """
    if max_norm < 0:
        raise ValueError(f"max_norm should be >=0, {max_norm} was provided instead")

    def squared_norm(g):
        # float16 squares overflow early: sum them in float32.
        if g.dtype == mx.float16:
            g = g.astype(mx.float32)
        return g.square().sum()

    total_norm = mx.sqrt(tree_reduce(lambda acc, g: acc + squared_norm(g), grads, 0.0))
    factor = mx.minimum(max_norm / (total_norm + 1e-6), 1.0)

    def rescale(g):
        # Scale in the factor's precision, then cast, so small factors do not
        # underflow in half precision.
        if mx.issubdtype(g.dtype, mx.floating):
            return (g * factor).astype(g.dtype)
        return g * factor

    return tree_map(rescale, grads), total_norm
