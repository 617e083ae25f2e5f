"""mlxc.optimizers against MLX 0.32.4's recorded numbers (tests/data/optim_cases.py,
gen_optim_reference.py): every optimizer's parameters after each of 5 steps and
its final state (layout, dtypes and values), schedules, clip_grad_norm and the
errors MLX raises; plus state save/load, MultiOptimizer's split and init()."""
import os

import numpy as np
import pytest

import mlxc.core as mx
import mlxc.optimizers as optim
from mlxc.utils import tree_flatten, tree_map, tree_unflatten

import optim_replay as R


@pytest.mark.parametrize("name,thunk", R.cases("opt/"))
def test_optimizer_steps_match_mlx(name, thunk):
    R.check(name, thunk)


@pytest.mark.parametrize("name,thunk", R.cases("sched/"))
def test_schedule_values_match_mlx(name, thunk):
    R.check(name, thunk)


@pytest.mark.parametrize("name,thunk", R.cases("clip/"))
def test_clip_grad_norm_matches_mlx(name, thunk):
    R.check(name, thunk)


@pytest.mark.parametrize("name,thunk", R.cases("error/optim/"))
def test_errors_match_mlx(name, thunk):
    R.check(name, thunk)


# ------------------------------------------------- messages name the value --
@pytest.mark.parametrize("make,words", [
    (lambda: optim.SGD(0.1, nesterov=True), ["Nesterov"]),
    (lambda: optim.RMSprop(0.1, alpha=-0.25), ["RMSprop", "alpha", "-0.25"]),
    (lambda: optim.RMSprop(0.1, eps=0.0), ["RMSprop", "epsilon", "0.0"]),
    (lambda: optim.Adagrad(0.1, eps=-2.0), ["Adagrad", "-2.0"]),
    (lambda: optim.AdaDelta(0.1, rho=-0.5), ["AdaDelta", "rho", "-0.5"]),
    (lambda: optim.AdaDelta(0.1, eps=0.0), ["AdaDelta", "epsilon"]),
    (lambda: optim.Adam(0.1, betas=[1.0, 0.9]), ["Adam", "beta1", "1.0"]),
    (lambda: optim.AdamW(0.1, betas=[0.9, 1.5]), ["beta2", "1.5"]),
    (lambda: optim.Adam(0.1, eps=-1e-3), ["epsilon", "-0.001"]),
    (lambda: optim.Lion(0.1, betas=[0.9, 2.0]), ["Lion", "beta2", "2.0"]),
    (lambda: optim.MultiOptimizer([optim.SGD(0.1), optim.Adam(0.1)]), ["0 filters", "1 needed"]),
    (lambda: optim.step_decay(0.1, 0.9, 0), ["step_size", "0"]),
    (lambda: optim.cosine_decay(0.1, -3), ["decay_steps", "-3"]),
    (lambda: optim.linear_schedule(0.1, 0.0, 0), ["steps", "0"]),
    (lambda: optim.join_schedules([], []), ["at least 1 schedule"]),
    (lambda: optim.join_schedules([optim.exponential_decay(1, 0.5)], [1, 2]),
     ["2 boundaries", "expected 0"]),
    (lambda: optim.clip_grad_norm({"a": mx.ones(2)}, -1.5), ["max_norm", "-1.5"]),
])
def test_error_messages(make, words):
    with pytest.raises(ValueError) as info:
        make()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


# ------------------------------------------------------ state and layout --
def _params():
    return {"weight": mx.ones((2, 3)), "bias": mx.zeros((2,)),
            "blocks": [{"w": mx.full((2, 2), 0.5)}, {"w": mx.full((3,), -0.5)}]}


def _grads(t):
    return tree_map(lambda p: mx.cos(mx.arange(p.size, dtype=mx.float32) + t).reshape(p.shape),
                    _params())


def test_init_state_layout():
    opt = optim.SGD(learning_rate=1e-1, momentum=0.9)
    opt.init({"weight": mx.zeros((2, 2)), "bias": mx.zeros((2,))})
    assert list(opt.state.keys()) == ["step", "learning_rate", "weight", "bias"]
    assert opt.state["step"].dtype == mx.uint64 and opt.state["step"].item() == 0
    assert opt.state["learning_rate"].dtype == mx.float32
    assert opt.state["weight"]["v"].shape == (2, 2)
    assert opt.step.item() == 0
    assert abs(opt.learning_rate.item() - 0.1) < 1e-8


def test_top_level_list_is_refused():
    # The state keeps "step" at the top level, so the tree must be a dict
    # there (MLX raises IndexError as well).
    with pytest.raises(IndexError):
        optim.Adam(0.1).apply_gradients([mx.ones(2)], [mx.ones(2)])


def test_init_keeps_existing_slots_and_grows_lists():
    opt = optim.Adam(0.1)
    opt.init({"a": [mx.ones(2)]})
    marker = mx.full((2,), 7.0)
    opt.state["a"][0]["m"] = marker
    opt.init({"a": [mx.ones(2), mx.ones(3)], "b": mx.ones(1)})
    assert opt.state["a"][0]["m"] is marker          # kept
    assert opt.state["a"][1]["v"].shape == (3,)      # new slot
    assert opt.state["b"]["m"].shape == (1,)


def _train(opt, params, steps, start=0):
    for t in range(start, start + steps):
        params = opt.apply_gradients(_grads(t), params)
        mx.eval(params, opt.state)
    return params


@pytest.mark.parametrize("make", [
    lambda: optim.Adam(0.05, bias_correction=True),
    lambda: optim.SGD(optim.cosine_decay(0.1, 10), momentum=0.9),
    lambda: optim.Adafactor(beta_1=0.9),
    lambda: optim.MultiOptimizer([optim.AdamW(0.01), optim.Lion(0.01)],
                                 [lambda path, g: path.startswith("blocks")]),
], ids=["adam", "sgd_schedule", "adafactor", "multi"])
def test_state_save_load_round_trip(tmp_path, make):
    """Saving the state with save_safetensors and loading it into a fresh
    optimizer continues training exactly as an uninterrupted run."""
    straight = _train(make(), _params(), 5)

    opt = make()
    params = _train(opt, _params(), 3)
    path = os.path.join(tmp_path, "opt.safetensors")
    mx.save_safetensors(path, dict(tree_flatten(opt.state)))

    resumed = make()
    resumed.state = tree_unflatten(list(mx.load(path).items()))
    if not isinstance(resumed, optim.MultiOptimizer):
        assert resumed.step.item() == 3 and resumed.step.dtype == mx.uint64
    params = _train(resumed, params, 2, start=3)
    for (k, a), (k2, b) in zip(tree_flatten(params), tree_flatten(straight)):
        assert k == k2
        np.testing.assert_array_equal(np.array(a), np.array(b), err_msg=k)


def test_multioptimizer_splits_by_filter():
    adam, sgd = optim.Adam(0.1), optim.SGD(0.1)
    multi = optim.MultiOptimizer([adam, sgd], [lambda path, g: "blocks" in path])
    params = _params()
    new = multi.apply_gradients(_grads(0), params)
    # Adam took blocks.*, SGD the rest; each state holds only its own part.
    assert set(adam.state) == {"step", "learning_rate", "blocks"}
    assert set(sgd.state) == {"step", "learning_rate", "weight", "bias"}
    assert list(multi.state) == ["states"] and len(multi.state["states"]) == 2
    g = _grads(0)
    np.testing.assert_allclose(np.array(new["weight"]),
                               np.array(params["weight"]) - 0.1 * np.array(g["weight"]),
                               rtol=1e-6)
    # Adam's first step (no bias correction): m = 0.1 g, v = 0.001 g^2, so
    # every element moves by lr * 0.1 / sqrt(0.001) against its gradient.
    moved = np.array(new["blocks"][0]["w"]) - np.array(params["blocks"][0]["w"])
    want = -0.1 * (0.1 / np.sqrt(0.001)) * np.sign(np.array(g["blocks"][0]["w"]))
    np.testing.assert_allclose(moved, want, rtol=1e-5)
    assert set(k for k, _ in tree_flatten(new)) == set(k for k, _ in tree_flatten(params))


def test_multioptimizer_learning_rate():
    a, b = optim.SGD(0.1), optim.Adam(0.2)
    multi = optim.MultiOptimizer([a, b], [lambda path, g: True])
    assert abs(multi.learning_rate.item() - 0.1) < 1e-7
    multi.learning_rate = 0.5
    assert a.learning_rate.item() == 0.5 and b.learning_rate.item() == 0.5


def test_update_on_a_dict_model():
    """update() calls the model's update() with the new parameters."""
    params = _params()
    opt = optim.SGD(0.5)
    before = np.array(params["weight"])
    opt.update(params, _grads(0))
    np.testing.assert_allclose(np.array(params["weight"]),
                               before - 0.5 * np.array(_grads(0)["weight"]), rtol=1e-6)


def test_learning_rate_kinds():
    """A float, an array and a schedule all end up as an array in the state."""
    assert optim.Adam(0.5).learning_rate.dtype == mx.float32
    assert optim.Adam(mx.array(0.5, mx.float16)).learning_rate.dtype == mx.float16
    sched = optim.SGD(optim.exponential_decay(1.0, 0.5))
    assert sched.learning_rate.item() == 1.0
    for t in range(3):
        # The t-th update (from 0) uses schedule(t): the step before it.
        new = sched.apply_gradients({"a": mx.ones(1)}, {"a": mx.ones(1)})
        assert abs(sched.learning_rate.item() - 0.5 ** t) < 1e-7
        assert abs(new["a"].item() - (1 - 0.5 ** t)) < 1e-7


def test_schedules_with_python_ints():
    # MLX's schedules accept a plain step too.
    assert abs(float(optim.cosine_decay(1.0, 4)(2)) - 0.5) < 1e-6
    assert abs(float(optim.linear_schedule(0.0, 1.0, 4)(3)) - 0.75) < 1e-6
    assert abs(float(optim.step_decay(1.0, 0.5, 2)(5)) - 0.25) < 1e-7
