"""Optimizer, schedule, clip_grad_norm and loss calls recorded from MLX
(gen_optim_reference.py) and replayed by tests/test_optimizers.py and
tests/test_losses.py.

``cases(lib)`` yields ``(name, thunk)`` pairs; ``lib`` bundles the framework
(``lib.mx``, ``lib.optim``, ``lib.losses``, ``lib.tree_flatten``) so the same
code runs on MLX and on mlxc and each name denotes the same computation. A
thunk returns a flat dict of arrays (name -> array); a thunk that raises is
recorded as the exception's type name.
"""
import math

import numpy as np

STEPS = 5


# ------------------------------------------------------------- fixed data --
def _values(shape, seed, low=-1.0, high=1.0):
    """Deterministic float32 values away from zero (|v| >= 0.05), so sign()
    and divisions by the gradient are well conditioned."""
    n = int(np.prod(shape)) if shape else 1
    t = np.arange(n, dtype=np.float64) + 1.0
    raw = np.sin(t * (1.7 + 0.31 * seed) + seed)
    raw = np.where(np.abs(raw) < 0.05, 0.05 * np.sign(raw + 1e-9), raw)
    v = low + (raw + 1.0) * 0.5 * (high - low)
    v = np.where(np.abs(v) < 0.05, 0.05, v)
    return v.reshape(shape).astype(np.float32)


SHAPES = {"w": (3, 4), "b": (4,), "conv": (2, 3, 2), "scalar": ()}


def param_tree(mx, dtype=None, seed=0):
    """A fixed tree with 2D, 1D, 3D (inside a list) and 0D leaves."""
    def a(name, s):
        x = mx.array(_values(SHAPES[name], s))
        return x if dtype is None else x.astype(dtype)

    return {
        "w": a("w", seed + 1),
        "b": a("b", seed + 2),
        "layers": [{"conv": a("conv", seed + 3)}, {"scalar": a("scalar", seed + 4)}],
    }


def grad_tree(mx, step, dtype=None):
    """Gradients that change from step to step."""
    return param_tree(mx, dtype=dtype, seed=10 + 7 * step)


# ------------------------------------------------------------ optimizers --
def optimizer_configs(lib):
    """name -> (constructor thunk, dtype name or None)."""
    o = lib.optim
    return {
        "sgd": (lambda: o.SGD(0.1), None),
        "sgd_momentum": (lambda: o.SGD(0.1, momentum=0.9), None),
        "sgd_dampening": (lambda: o.SGD(0.1, momentum=0.9, dampening=0.3), None),
        "sgd_nesterov": (lambda: o.SGD(0.1, momentum=0.9, nesterov=True), None),
        "sgd_wd": (lambda: o.SGD(0.05, momentum=0.5, weight_decay=0.01), None),
        "sgd_wd_nomomentum": (lambda: o.SGD(0.05, weight_decay=0.1), None),
        "sgd_expdecay": (lambda: o.SGD(o.exponential_decay(0.1, 0.9), momentum=0.9), None),
        "sgd_join": (lambda: o.SGD(o.join_schedules(
            [o.linear_schedule(0.0, 0.1, 3), o.cosine_decay(0.1, 10)], [3])), None),
        "sgd_f16": (lambda: o.SGD(0.1, momentum=0.9), "float16"),
        "rmsprop": (lambda: o.RMSprop(0.01), None),
        "rmsprop_opts": (lambda: o.RMSprop(0.01, alpha=0.9, eps=1e-5), None),
        "adagrad": (lambda: o.Adagrad(0.1), None),
        "adagrad_eps": (lambda: o.Adagrad(0.1, eps=1e-4), None),
        "adadelta": (lambda: o.AdaDelta(1.0), None),
        "adadelta_opts": (lambda: o.AdaDelta(0.5, rho=0.8, eps=1e-4), None),
        "adam": (lambda: o.Adam(0.01), None),
        "adam_bias": (lambda: o.Adam(0.01, betas=[0.8, 0.9], bias_correction=True), None),
        "adam_cosine": (lambda: o.Adam(o.cosine_decay(0.01, 4, end=0.001)), None),
        "adam_lr_array": (lambda: o.Adam(lib.mx.array(0.02)), None),
        "adam_f16": (lambda: o.Adam(0.01), "float16"),
        "adam_bf16_bias": (lambda: o.Adam(0.01, bias_correction=True), "bfloat16"),
        "adamw": (lambda: o.AdamW(0.01), None),
        "adamw_bias": (lambda: o.AdamW(0.01, weight_decay=0.1, bias_correction=True), None),
        "adamw_linear": (lambda: o.AdamW(o.linear_schedule(0.02, 0.001, 4),
                                         weight_decay=0.05), None),
        "adamax": (lambda: o.Adamax(0.01), None),
        "adamax_opts": (lambda: o.Adamax(0.02, betas=[0.7, 0.95], eps=1e-6), None),
        "lion": (lambda: o.Lion(0.001), None),
        "lion_wd": (lambda: o.Lion(0.001, betas=[0.8, 0.95], weight_decay=0.1), None),
        "lion_stepdecay": (lambda: o.Lion(o.step_decay(0.01, 0.5, 2)), None),
        "adafactor": (lambda: o.Adafactor(), None),
        "adafactor_lr": (lambda: o.Adafactor(learning_rate=0.01, relative_step=False), None),
        "adafactor_beta_wd": (lambda: o.Adafactor(beta_1=0.9, weight_decay=0.01), None),
        "adafactor_warmup": (lambda: o.Adafactor(warmup_init=True, scale_parameter=False), None),
        "adafactor_sched": (lambda: o.Adafactor(
            learning_rate=o.step_decay(0.05, 0.5, 2), relative_step=False,
            clip_threshold=0.5, decay_rate=-0.5, eps=(1e-20, 1e-2)), None),
        "muon": (lambda: o.Muon(0.02), None),
        "muon_plain": (lambda: o.Muon(0.02, momentum=0.9, weight_decay=0.0,
                                      nesterov=False, ns_steps=3), None),
        "multi": (lambda: o.MultiOptimizer(
            [o.Adam(0.01), o.SGD(0.1, momentum=0.9)],
            [lambda path, g: path.startswith("layers")]), None),
        "multi3": (lambda: o.MultiOptimizer(
            [o.Lion(0.01), o.AdamW(0.01), o.Adagrad(0.1)],
            [lambda path, g: g.ndim == 2, lambda path, g: g.ndim == 3]), None),
    }


def run_optimizer(lib, make, dtype_name, steps=STEPS, use_update=False):
    """Parameters after every step and the final state, flattened."""
    mx = lib.mx
    dtype = getattr(mx, dtype_name) if dtype_name else None
    opt = make()
    params = param_tree(mx, dtype)
    out = {}
    for t in range(steps):
        grads = grad_tree(mx, t, dtype)
        if use_update:
            opt.update(params, grads)       # a dict's update() takes the new leaves
        else:
            params = opt.apply_gradients(grads, params)
        mx.eval(params, opt.state)
        for k, v in lib.tree_flatten(params):
            out[f"step{t}/{k}"] = v
    for k, v in lib.tree_flatten(opt.state):
        out[f"state/{k}"] = v
    return out


def optimizer_cases(lib):
    for name, (make, dt) in optimizer_configs(lib).items():
        yield f"opt/{name}", lambda make=make, dt=dt: run_optimizer(lib, make, dt)
    o = lib.optim
    yield "opt/adam_update_method", lambda: run_optimizer(
        lib, lambda: o.Adam(0.01), None, use_update=True)

    def set_lr_midway():
        mx = lib.mx
        opt = o.SGD(0.1, momentum=0.5)
        params = param_tree(mx)
        out = {}
        for t in range(4):
            if t == 2:
                opt.learning_rate = 0.01
            params = opt.apply_gradients(grad_tree(mx, t), params)
            mx.eval(params)
            out[f"step{t}/w"] = params["w"]
        out["lr"] = opt.learning_rate
        return out

    yield "opt/set_learning_rate", set_lr_midway

    def subset_grads():
        # Parameters may be a superset of the gradients.
        mx = lib.mx
        opt = o.Adam(0.05)
        params = param_tree(mx)
        grads = {"w": grad_tree(mx, 0)["w"]}
        new = opt.apply_gradients(grads, params)
        out = dict(lib.tree_flatten(new))
        out.update({f"state/{k}": v for k, v in lib.tree_flatten(opt.state)})
        return out

    yield "opt/subset_grads", subset_grads


# ------------------------------------------------------------- schedules --
def schedule_configs(lib):
    o = lib.optim
    return {
        "exponential": lambda: o.exponential_decay(0.1, 0.9),
        "step": lambda: o.step_decay(0.1, 0.9, 3),
        "cosine": lambda: o.cosine_decay(0.1, 10),
        "cosine_end": lambda: o.cosine_decay(1.0, 7, end=0.2),
        "linear": lambda: o.linear_schedule(0.0, 0.1, 8),
        "linear_down": lambda: o.linear_schedule(1.0, 0.5, 5),
        "join": lambda: o.join_schedules(
            [o.linear_schedule(0.0, 0.1, 4), o.cosine_decay(0.1, 6)], [4]),
        "join3": lambda: o.join_schedules(
            [o.linear_schedule(0.0, 1.0, 2), o.exponential_decay(1.0, 0.5),
             o.step_decay(0.3, 0.5, 2)], [2, 6]),
    }


def schedule_cases(lib):
    mx = lib.mx
    for name, make in schedule_configs(lib).items():
        def run(make=make):
            sched = make()
            return {f"s{s}": mx.array(sched(mx.array(s, mx.uint64))) for s in range(16)}
        yield f"sched/{name}", run


# -------------------------------------------------------- clip_grad_norm --
def clip_cases(lib):
    mx, o = lib.mx, lib.optim

    def run(tree_fn, max_norm):
        def thunk():
            clipped, norm = o.clip_grad_norm(tree_fn(), max_norm)
            out = dict(lib.tree_flatten(clipped))
            out["norm"] = norm
            return out
        return thunk

    yield "clip/big", run(lambda: param_tree(mx), 0.5)
    yield "clip/small", run(lambda: param_tree(mx), 100.0)
    yield "clip/zero", run(lambda: param_tree(mx), 0.0)
    yield "clip/f16", run(lambda: {"a": mx.array(_values((50,), 3) * 3000).astype(mx.float16),
                                   "b": mx.array(_values((4,), 4)).astype(mx.float16)}, 1.0)
    yield "clip/bf16", run(lambda: [mx.array(_values((6,), 5)).astype(mx.bfloat16)], 0.3)
    yield "clip/negative", run(lambda: param_tree(mx), -1.0)


# ----------------------------------------------------------------- losses --
def _logits(mx, shape, seed, scale=3.0):
    return mx.array(_values(shape, seed) * scale)


def loss_calls(lib):
    """name -> (loss function, positional args thunk, kwargs)."""
    mx, L = lib.mx, lib.losses
    probs = lambda shape, seed: mx.softmax(_logits(mx, shape, seed), axis=-1)
    sig = lambda shape, seed: mx.sigmoid(_logits(mx, shape, seed))
    idx = lambda: mx.array([0, 3, 1, 2, 4, 0], dtype=mx.int32)
    bin_t = lambda shape: mx.array((np.arange(int(np.prod(shape))) % 3 == 0)
                                   .astype(np.float32).reshape(shape))
    pm1 = lambda shape: mx.array(np.where(np.arange(int(np.prod(shape))) % 2 == 0, 1.0, -1.0)
                                 .astype(np.float32).reshape(shape))
    calls = {
        "ce_idx": (L.cross_entropy, lambda: (_logits(mx, (6, 5), 1), idx()), {}),
        "ce_probs": (L.cross_entropy, lambda: (_logits(mx, (6, 5), 1), probs((6, 5), 2)), {}),
        "ce_smooth": (L.cross_entropy, lambda: (_logits(mx, (6, 5), 1), idx()),
                      {"label_smoothing": 0.2}),
        "ce_weights": (L.cross_entropy, lambda: (_logits(mx, (6, 5), 1), idx()),
                       {"weights": mx.array(_values((6,), 9, 0.1, 2.0))}),
        "ce_axis0": (L.cross_entropy, lambda: (_logits(mx, (5, 6), 3), idx()), {"axis": 0}),
        "ce_probs_smooth_axis0": (L.cross_entropy,
                                  lambda: (_logits(mx, (5, 4), 3),
                                           mx.softmax(_logits(mx, (5, 4), 4), axis=0)),
                                  {"axis": 0, "label_smoothing": 0.1}),
        "ce_3d": (L.cross_entropy, lambda: (_logits(mx, (2, 3, 4), 5),
                                            mx.array([[0, 1, 3], [2, 2, 0]])), {}),
        "bce_logits": (L.binary_cross_entropy,
                       lambda: (_logits(mx, (4, 3), 6), bin_t((4, 3))), {}),
        "bce_probs": (L.binary_cross_entropy, lambda: (sig((4, 3), 6), bin_t((4, 3))),
                      {"with_logits": False}),
        "bce_probs_edge": (L.binary_cross_entropy,
                           lambda: (mx.array([0.0, 1.0, 0.5, 1e-30]),
                                    mx.array([1.0, 0.0, 1.0, 1.0])),
                           {"with_logits": False}),
        "bce_weights": (L.binary_cross_entropy,
                        lambda: (_logits(mx, (4, 3), 6), bin_t((4, 3))),
                        {"weights": mx.array(_values((4, 3), 7, 0.0, 1.0))}),
        "l1": (L.l1_loss, lambda: (_logits(mx, (3, 4), 1), _logits(mx, (3, 4), 2)), {}),
        "mse": (L.mse_loss, lambda: (_logits(mx, (3, 4), 1), _logits(mx, (3, 4), 2)), {}),
        "nll": (L.nll_loss, lambda: (mx.log(probs((6, 5), 2)), idx()), {}),
        "nll_axis0": (L.nll_loss, lambda: (mx.log(probs((5, 6), 2)), idx()), {"axis": 0}),
        "gauss": (L.gaussian_nll_loss,
                  lambda: (_logits(mx, (3, 4), 1), _logits(mx, (3, 4), 2),
                           mx.array(_values((3, 4), 3, 1e-8, 2.0))), {}),
        "gauss_full": (L.gaussian_nll_loss,
                       lambda: (_logits(mx, (3, 4), 1), _logits(mx, (3, 4), 2),
                                mx.array(_values((3, 4), 3, 0.1, 2.0))),
                       {"full": True, "eps": 0.5}),
        "kl": (L.kl_div_loss, lambda: (mx.log(probs((4, 5), 1)), mx.log(probs((4, 5), 2))), {}),
        "kl_axis0": (L.kl_div_loss, lambda: (mx.log(probs((4, 5), 1)),
                                             mx.log(probs((4, 5), 2))), {"axis": 0}),
        "smooth_l1": (L.smooth_l1_loss, lambda: (_logits(mx, (3, 4), 1),
                                                 _logits(mx, (3, 4), 2)), {}),
        "smooth_l1_beta": (L.smooth_l1_loss, lambda: (_logits(mx, (3, 4), 1),
                                                      _logits(mx, (3, 4), 2)), {"beta": 2.5}),
        "triplet": (L.triplet_loss, lambda: (_logits(mx, (4, 3), 1), _logits(mx, (4, 3), 2),
                                             _logits(mx, (4, 3), 3)), {}),
        "triplet_p1": (L.triplet_loss, lambda: (_logits(mx, (4, 3), 1), _logits(mx, (4, 3), 2),
                                                _logits(mx, (4, 3), 3)),
                       {"p": 1, "margin": 2.0, "axis": 0}),
        "triplet_p3": (L.triplet_loss, lambda: (_logits(mx, (4, 3), 1), _logits(mx, (4, 3), 2),
                                                _logits(mx, (4, 3), 3)),
                       {"p": 3, "eps": 1e-3}),
        "hinge": (L.hinge_loss, lambda: (_logits(mx, (3, 4), 1, 1.5), pm1((3, 4))), {}),
        "huber": (L.huber_loss, lambda: (_logits(mx, (3, 4), 1), _logits(mx, (3, 4), 2)), {}),
        "huber_delta": (L.huber_loss, lambda: (_logits(mx, (3, 4), 1), _logits(mx, (3, 4), 2)),
                        {"delta": 0.5}),
        "log_cosh": (L.log_cosh_loss, lambda: (_logits(mx, (3, 4), 1, 20.0),
                                               _logits(mx, (3, 4), 2)), {}),
        "cosine": (L.cosine_similarity_loss, lambda: (_logits(mx, (3, 4), 1),
                                                      _logits(mx, (3, 4), 2)), {}),
        "cosine_axis0_eps": (L.cosine_similarity_loss,
                             lambda: (_logits(mx, (3, 4), 1) * 1e-3, _logits(mx, (3, 4), 2)),
                             {"axis": 0, "eps": 0.5}),
        "margin": (L.margin_ranking_loss, lambda: (_logits(mx, (6,), 1), _logits(mx, (6,), 2),
                                                   pm1((6,))), {}),
        "margin_m": (L.margin_ranking_loss, lambda: (_logits(mx, (6,), 1), _logits(mx, (6,), 2),
                                                     pm1((6,))), {"margin": 0.5}),
    }
    return calls


# Losses whose gradient with respect to the first argument is recorded too.
GRAD_LOSSES = ("ce_idx", "ce_probs", "ce_smooth", "bce_logits", "bce_probs", "mse",
               "smooth_l1", "triplet", "huber", "log_cosh", "cosine", "gauss", "kl", "nll")


def loss_cases(lib):
    mx = lib.mx
    for name, (fn, args, kwargs) in loss_calls(lib).items():
        for red in ("none", "mean", "sum"):
            def thunk(fn=fn, args=args, kwargs=kwargs, red=red):
                return {"out": fn(*args(), **kwargs, reduction=red)}
            yield f"loss/{name}/{red}", thunk
        if name in GRAD_LOSSES:
            def grad_thunk(fn=fn, args=args, kwargs=kwargs):
                a = args()

                def scalar(first):
                    return fn(first, *a[1:], **kwargs, reduction="sum")

                return {"grad": mx.grad(scalar)(a[0])}
            yield f"lossgrad/{name}", grad_thunk
    yield "loss/default", lambda: {
        n: fn(*args(), **kwargs) for n, (fn, args, kwargs) in loss_calls(lib).items()}


# ----------------------------------------------------------------- errors --
def error_cases(lib):
    """Calls that MLX refuses; the exception type is recorded."""
    mx, o, L = lib.mx, lib.optim, lib.losses
    x = lambda *s: mx.zeros(s)
    calls = {
        "sgd_nesterov_nomomentum": lambda: o.SGD(0.1, nesterov=True),
        "sgd_nesterov_dampening": lambda: o.SGD(0.1, momentum=0.9, dampening=0.1, nesterov=True),
        "rmsprop_alpha": lambda: o.RMSprop(0.1, alpha=-0.1),
        "rmsprop_eps": lambda: o.RMSprop(0.1, eps=0.0),
        "adagrad_eps": lambda: o.Adagrad(0.1, eps=-1.0),
        "adadelta_rho": lambda: o.AdaDelta(0.1, rho=-0.5),
        "adadelta_eps": lambda: o.AdaDelta(0.1, eps=0.0),
        "adam_beta1": lambda: o.Adam(0.1, betas=[1.0, 0.9]),
        "adam_beta2": lambda: o.Adam(0.1, betas=[0.9, -0.1]),
        "adam_eps": lambda: o.Adam(0.1, eps=-1e-8),
        "adamw_beta": lambda: o.AdamW(0.1, betas=[0.9, 1.5]),
        "adamax_beta": lambda: o.Adamax(0.1, betas=[-0.9, 0.9]),
        "lion_beta": lambda: o.Lion(0.1, betas=[0.9, 1.0]),
        "multi_filters": lambda: o.MultiOptimizer([o.SGD(0.1), o.Adam(0.1)], []),
        "multi_filters_many": lambda: o.MultiOptimizer([o.SGD(0.1)], [lambda p, g: True]),
        "multi_state": lambda: setattr(o.MultiOptimizer([o.SGD(0.1)]), "state", {"x": 1}),
        "multi_state_len": lambda: setattr(o.MultiOptimizer([o.SGD(0.1)]), "state",
                                           {"states": [{}, {}]}),
        "step_decay": lambda: o.step_decay(0.1, 0.9, 0),
        "cosine_decay": lambda: o.cosine_decay(0.1, 0),
        "linear_schedule": lambda: o.linear_schedule(0.1, 0.0, 0),
        "join_empty": lambda: o.join_schedules([], []),
        "join_mismatch": lambda: o.join_schedules([o.exponential_decay(0.1, 0.9)], [3]),
        "clip_negative": lambda: o.clip_grad_norm({"a": x(3)}, -0.5),
        "adafactor_no_lr": lambda: o.Adafactor(relative_step=False).apply_gradients(
            {"a": x(3)}, {"a": x(3)}),
        "weight_decay_schedule": lambda: o.AdamW(
            0.1, weight_decay=o.exponential_decay(0.1, 0.9)).apply_gradients(
                {"a": x(3)}, {"a": x(3)}),
    }
    loss_calls = {
        "reduction": lambda: L.mse_loss(x(3), x(3), reduction="avg"),
        "ce_smoothing": lambda: L.cross_entropy(x(2, 3), mx.array([0, 1]), label_smoothing=1.0),
        "ce_smoothing_neg": lambda: L.cross_entropy(x(2, 3), mx.array([0, 1]),
                                                    label_smoothing=-0.1),
        "ce_shape_idx": lambda: L.cross_entropy(x(2, 3), mx.array([0, 1, 2])),
        "ce_shape_probs": lambda: L.cross_entropy(x(2, 3), x(3, 2)),
        "ce_weights": lambda: L.cross_entropy(x(2, 3), mx.array([0, 1]), weights=x(3)),
        "bce_shape": lambda: L.binary_cross_entropy(x(3), x(4)),
        "bce_weights": lambda: L.binary_cross_entropy(x(3), x(3), weights=x(2)),
        "l1_shape": lambda: L.l1_loss(x(3), x(3, 1)),
        "mse_shape": lambda: L.mse_loss(x(2, 3), x(3, 2)),
        "smooth_l1_shape": lambda: L.smooth_l1_loss(x(3), x(2)),
        "gauss_targets": lambda: L.gaussian_nll_loss(x(3), x(2), x(3)),
        "gauss_vars": lambda: L.gaussian_nll_loss(x(3), x(3), x(2)),
        "margin_shape": lambda: L.margin_ranking_loss(x(3), x(3), x(2)),
    }
    for name, fn in calls.items():
        yield f"error/optim/{name}", fn
    for name, fn in loss_calls.items():
        yield f"error/loss/{name}", fn


def cases(lib):
    yield from optimizer_cases(lib)
    yield from schedule_cases(lib)
    yield from clip_cases(lib)
    yield from loss_cases(lib)
    yield from error_cases(lib)
