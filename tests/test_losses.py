"""mlxc.nn.losses against MLX 0.32.4's recorded numbers (tests/data/optim_cases.py,
gen_optim_reference.py): every loss with several options and each reduction,
the gradients of a selection, the defaults, and the errors MLX raises."""
import numpy as np
import pytest

import mlxc.core as mx
from mlxc.nn import losses

import optim_replay as R


@pytest.mark.parametrize("name,thunk", R.cases("loss/"))
def test_loss_matches_mlx(name, thunk):
    R.check(name, thunk)


@pytest.mark.parametrize("name,thunk", R.cases("lossgrad/"))
def test_loss_gradient_matches_mlx(name, thunk):
    R.check(name, thunk)


@pytest.mark.parametrize("name,thunk", R.cases("error/loss/"))
def test_loss_errors_match_mlx(name, thunk):
    R.check(name, thunk)


def test_every_loss_is_recorded_with_every_reduction():
    names = [n for n in dir(losses) if n.endswith("_loss") or n.endswith("cross_entropy")]
    recorded = {R.optim_cases.loss_calls(R.LIB)[k][0].__name__
                for k in R.optim_cases.loss_calls(R.LIB)}
    assert set(names) == recorded
    for key in R.optim_cases.loss_calls(R.LIB):
        for red in ("none", "mean", "sum"):
            assert f"loss/{key}/{red}" in R.META


def test_cross_entropy_against_float64():
    """An independent check: log-softmax cross entropy in numpy float64."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(7, 5)).astype(np.float32) * 4
    targets = rng.integers(0, 5, size=7)
    shifted = logits.astype(np.float64) - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    want = -log_probs[np.arange(7), targets]
    got = losses.cross_entropy(mx.array(logits), mx.array(targets))
    np.testing.assert_allclose(np.array(got), want, rtol=1e-5, atol=1e-6)
    smooth = losses.cross_entropy(mx.array(logits), mx.array(targets),
                                  label_smoothing=0.3, reduction="mean")
    want_smooth = (0.7 * want - 0.3 * log_probs.mean(-1)).mean()
    np.testing.assert_allclose(float(smooth), want_smooth, rtol=1e-5)


def test_reduction_message():
    with pytest.raises(ValueError, match="Invalid reduction"):
        losses.l1_loss(mx.ones(2), mx.ones(2), reduction="max")
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        losses.mse_loss(mx.ones(2), mx.ones(3))
