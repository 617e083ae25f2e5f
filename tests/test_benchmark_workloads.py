"""The benchmark workloads (asv_benchmarks/workloads.py) build and compute the
right numbers on mlxc, at tiny sizes, so a broken builder fails CI rather than
a benchmark run; plus the work counts and compare.py's summary columns."""
import os
import sys

import numpy as np
import pytest

import mlxc.core as mx

_bench = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "asv_benchmarks")
sys.path.insert(0, _bench)
try:
    import compare
    import workloads as W
finally:
    sys.path.remove(_bench)

# (workload name, tiny params): every workload, every op/kind variant.
TINY = (
    [("overhead_chain", {"steps": 3, "n": 5}), ("overhead_add", {"n": 5})]
    + [("elementwise", {"op": op, "n": 37}) for op in W.ELEMENTWISE_OPS]
    + [("reduce", {"op": op, "n": 9}) for op in W.REDUCE_OPS]
    + [("matmul", {"n": 7, "batch": 0}), ("matmul", {"n": 6, "batch": 3}),
       ("matvec", {"n": 11}), ("take", {"n": 50, "k": 20}), ("slice", {"n": 16}),
       ("setitem", {"n": 8, "kind": "slice"}), ("setitem", {"n": 8, "kind": "int_array"}),
       ("slice_setitem", {"n": 8}), ("take_along_axis", {"n": 8, "k": 3}),
       ("transpose_copy", {"n": 6}), ("cumsum", {"n": 40}), ("sort", {"n": 40}),
       ("sort", {"n": 20, "rows": 3, "dtype": "int32"}), ("sort", {"n": 20, "rows": 3, "op": "argsort"}),
       ("sort", {"n": 20, "op": "partition"}),
       ("mlp_value_and_grad", {"batch": 4, "sizes": (6, 5, 3)}),
       ("per_example_grads", {"batch": 4, "dim": 3}),
       ("mlp_jvp", {"batch": 4, "sizes": (6, 5, 3)}),
       ("custom_function_call", {"n": 5, "custom": True}),
       ("custom_function_call", {"n": 5, "custom": False}),
       ("load_npy", {"n": 37}), ("load_safetensors", {"n": 37})]
    + [("random", {"op": op, "n": 41}) for op in W.RANDOM_OPS]
    + [("linalg", {"op": op, "n": 6, "k": 2})
       for op in ("solve", "cholesky", "inv", "qr", "svd", "eigh")]
    + [("linalg_grad_solve", {"n": 5})]
    + [("nn_mlp_train_step", {"batch": 4, "sizes": (6, 5, 3)}),
       ("nn_lstm", {"batch": 2, "length": 3, "dims": (4, 5)}),
       ("nn_maxpool2d", {"batch": 2, "size": 7, "channels": 3, "kernel": 3, "stride": 2}),
       ("nn_maxpool2d", {"batch": 2, "size": 8, "channels": 3, "kernel": 2, "stride": 2}),
       ("nn_upsample_linear", {"batch": 1, "size": 4, "channels": 2, "scale": 2})]
    + [("conv", {"case": c, "tiny": True})
       for c in ("conv2d", "conv1d", "conv2d_grad", "conv_transpose2d")]
    + [("fast", {"op": op, "b": 2, "h": 3, "l": 9, "d": 8, "n": 12}) for op in W.FAST_OPS]
    + [("einsum", {"case": c}) for c in ("bmm_tiny", "chain_tiny", "trace_1024", "outer_1024")]
    + [("matmul_c64", {"n": 9}), ("gather_mm", {"tokens": 12, "experts": 3, "k": 5, "n": 4})]
    + [("train_mlp_adam", {"batch": 4, "sizes": (6, 5, 3), "lr": 0.01}),
       ("train_transformer", {"layers": 1, "dims": 8, "heads": 2, "ffn": 16, "seq": 5,
                              "batch": 2, "vocab": 11}),
       ("train_cnn_sgd", {"batch": 2, "size": 8, "channels": (2, 3), "classes": 4,
                          "lr": 0.1})]
    + [("fft", {"op": "fft", "shape": (60,)}), ("fft", {"op": "rfft", "shape": (3, 16)}),
       ("fft", {"op": "rfft2", "shape": (8, 6)})]
    + [("compile", {"fun": f, "n": 37, "compiled": c})
       for f in ("gelu", "chain12") for c in (True, False)]
    + [("compile_scalar_chain", {"steps": 6, "n": 5}), ("compile_first_call", {"steps": 6, "n": 5}),
       ("compile_cache", {"shapes": 3})]
    + [("compile_layer_norm", {"rows": 5, "cols": 33, "kind": k})
       for k in ("compiled", "fast", "uncompiled")]
    + [("compile_mlp_step", {"batch": 4, "sizes": (6, 5, 3)})]
    + [("quantized_matmul", {"m": m, "n": 12, "k": 128, "bits": 4, "group": 64}) for m in (1, 5)]
)


def _leaves(tree):
    """Flatten nested tuples/lists of arrays into a list of numpy arrays."""
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [np.asarray(tree)]


def _gelu64(op, n):
    from scipy_free_erf import erf64
    (x,) = [a.astype(np.float64) for a in W._elementwise_inputs(op, n)]
    return 0.5 * x * (1 + erf64(x / np.sqrt(2.0)))


def _mlp_jvp64(batch, sizes):
    # the directional derivative of the logits: the chain rule in float64 by hand
    params = [(w.astype(np.float64), b.astype(np.float64)) for w, b in W._mlp_params(sizes, 10)]
    x = W._normal((batch, sizes[0]), 0).astype(np.float64)
    dw = W._normal(params[0][0].shape, 7).astype(np.float64)
    h, dh = x, None
    for i, (w, b) in enumerate(params):
        z = h @ w + b
        dz = x @ dw if i == 0 else dh @ w
        if i == len(params) - 1:
            return z, dz
        h, dh = np.maximum(z, 0), np.where(z > 0, dz, 0.0)


def _custom64(n, custom):
    return np.sin(W._normal((n,), 5).astype(np.float64)) * 2.0


def _grad_solve64(n):
    # d/dA sum(M^-1 b), M = A A^T + n I: G = -(M^-T 1)(M^-1 b)^T, dL/dA = (G + G^T) A
    a = W._normal((n, n), 0).astype(np.float64)
    b = W._normal((n,), 1).astype(np.float64)
    m = a @ a.T + n * np.eye(n)
    g = -np.outer(np.linalg.solve(m.T, np.ones(n)), np.linalg.solve(m, b))
    return (g + g.T) @ a


def _compiled64(fun, n, compiled):
    from scipy_free_erf import erf64
    xs = [W._normal((n,), i).astype(np.float64) for i in range(W._COMPILE_FUNS[fun][0])]
    if fun == "gelu":
        return 0.5 * xs[0] * (1 + erf64(xs[0] / np.sqrt(2.0)))
    return W._chain12(np, *xs)


def _layer_norm64(rows, cols, kind):
    x = W._normal((rows, cols), 0).astype(np.float64)
    w, b = W._normal((cols,), 1).astype(np.float64), W._normal((cols,), 2).astype(np.float64)
    xc = x - x.mean(-1, keepdims=True)
    return xc / np.sqrt((xc * xc).mean(-1, keepdims=True) + 1e-5) * w + b


def _scalar_chain64(steps, n):
    return W._scalar_chain(W._normal((n,), 0).astype(np.float64), steps)


ORACLES = {"elementwise": _gelu64, "mlp_jvp": _mlp_jvp64, "custom_function_call": _custom64,
           "linalg_grad_solve": _grad_solve64, "compile": _compiled64,
           "compile_scalar_chain": _scalar_chain64, "compile_layer_norm": _layer_norm64, "compile_first_call": _scalar_chain64,
           "compile_cache": lambda shapes: W._normal((1,), 0).astype(np.float64) * 2 + 1}


# Training-step workloads without a numpy builder: each call is one more step on
# the same batch, so the loss starts near log(classes) (a fresh model guesses
# uniformly) and falls.
TRAINS_ON_ONE_BATCH = {"train_transformer": "vocab", "train_cnn_sgd": "classes"}


def _check_training(name, first, run, params):
    losses = [float(first)] + [float(run()) for _ in range(7)]
    assert np.all(np.isfinite(losses)), losses
    uniform = np.log(params[TRAINS_ON_ONE_BATCH[name]])
    assert 0.5 * uniform < losses[0] < 2.0 * uniform, losses
    assert losses[-1] < losses[0], losses


def test_tiny_list_covers_every_workload():
    assert {name for name, _ in TINY} == set(W.WORKLOADS)


@pytest.mark.parametrize("name,params", TINY, ids=lambda v: str(v))
def test_workload_on_mlxc_matches_numpy_builder(name, params):
    w = W.WORKLOADS[name]
    try:
        run = w.build("mlx", mx, **params)
    except W.Unavailable as e:  # layers this build does not have yet
        pytest.skip(str(e))
    got = run()
    assert got is not None, "%s: the mlx builder returned no result" % name
    ref_fn = w.build("numpy", np, **params)
    if name == "random":  # other generators: same shape, dtype kind and range
        got, want = np.asarray(got), np.asarray(ref_fn())
        assert got.shape == want.shape and got.dtype.kind == want.dtype.kind
        lo, hi = {"normal": (-8, 8), "uniform": (0, 1), "randint": (0, 999)}[params["op"]]
        assert got.min() >= lo and got.max() <= hi and np.unique(got).size > 10
        return
    if name in TRAINS_ON_ONE_BATCH:
        # no numpy model: the step is checked by what training must do (below)
        _check_training(name, got, run, params)
        return
    # no numpy builder (gelu, jvp, custom_function, grad of solve): a float64 oracle here
    want = ORACLES[name](**params) if ref_fn is None else ref_fn()
    got, want = _leaves(got), _leaves(want)
    if name == "linalg" and params["op"] in ("qr", "svd", "eigh"):
        # vectors have a free sign per column (LAPACK builds may differ): compare |.|
        got, want = [np.abs(g) for g in got], [np.abs(r) for r in want]
    assert len(got) == len(want)
    for g, r in zip(got, want):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=2e-4, atol=2e-5)


def test_work_counts():
    n = 1 << 10
    # add: two float32 inputs read + one written; exp: one + one.
    assert W.WORKLOADS["elementwise"].rate(1e-3, op="add", n=n) == (12 * n / 1e-3 / 1e9, "GB/s")
    assert W.WORKLOADS["elementwise"].rate(1.0, op="exp", n=n)[0] == 8 * n / 1e9
    assert W.WORKLOADS["matmul"].rate(1.0, n=4, batch=3) == (2 * 4 ** 3 * 3 / 1e9, "GFLOP/s")
    assert W.WORKLOADS["reduce"].rate(1.0, op="softmax", n=4)[0] == 4 * 32 / 1e9
    # share: over 234 GFLOP/s for matmuls, 41 GB/s for the rest
    assert W.WORKLOADS["matmul"].share(2 * 1000 ** 3 / 117e9, n=1000) == pytest.approx(0.5)
    assert W.WORKLOADS["cumsum"].share(8 * n / 41e9, n=n) == pytest.approx(1.0)
    assert W.WORKLOADS["slice"].rate(1.0, n=4) == (None, None)


def test_issue3_set_has_targets_and_counts():
    for case in W.ISSUE3:
        assert case.target is not None, case.label
        assert W.WORKLOADS[case.workload].bound is not None, case.label
    assert [c.label for c in W.SETS["default"]] == [c.label for c in W.COMPARE]


def test_summary_uses_fastest_peer_not_mlx():
    case = W.Case("x", "elementwise", {"op": "add", "n": 1 << 20}, target=0.8)
    s = compare.summarize(case, {"mlxc": 1e-3, "mlx": 1e-6, "numpy": 2e-3, "torch": 1.5e-3})
    assert s["best_peer"] == "torch"
    assert s["ratio_best"] == pytest.approx(1 / 1.5)
    assert s["met"] is True
    assert s["share"] == pytest.approx(12 * 2 ** 20 / 1e-3 / 1e9 / 41)
    s = compare.summarize(case, {"mlxc": 1e-3, "numpy": 1e-3})
    assert s["met"] is False  # 1.0 > 0.8
    assert compare.summarize(case, {"mlxc": 1e-3})["met"] is None  # no peer ran
