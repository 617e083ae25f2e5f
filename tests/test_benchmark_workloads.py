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
    + [("quantized_matmul", {"m": m, "n": 12, "k": 128, "bits": 4, "group": 64}) for m in (1, 5)]
)


def _leaves(tree):
    """Flatten nested tuples/lists of arrays into a list of numpy arrays."""
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _leaves(t)]
    return [np.asarray(tree)]


def test_tiny_list_covers_every_workload():
    assert {name for name, _ in TINY} == set(W.WORKLOADS)


@pytest.mark.parametrize("name,params", TINY, ids=lambda v: str(v))
def test_workload_on_mlxc_matches_numpy_builder(name, params):
    w = W.WORKLOADS[name]
    got = w.build("mlx", mx, **params)()
    assert got is not None, "%s: the mlx builder returned no result" % name
    ref_fn = w.build("numpy", np, **params)
    if name == "random":  # other generators: same shape, dtype kind and range
        got, want = np.asarray(got), np.asarray(ref_fn())
        assert got.shape == want.shape and got.dtype.kind == want.dtype.kind
        lo, hi = {"normal": (-8, 8), "uniform": (0, 1), "randint": (0, 999)}[params["op"]]
        assert got.min() >= lo and got.max() <= hi and np.unique(got).size > 10
        return
    if ref_fn is None:  # no numpy equivalent (gelu, jvp, custom_function)
        for leaf in _leaves(got):
            assert np.all(np.isfinite(leaf))
        return
    got, want = _leaves(got), _leaves(ref_fn())
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
