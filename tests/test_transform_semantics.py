"""Transform behaviours that follow MLX 0.32.4 (checked side by side with it):
in-place updates under vmap/grad/vjp, derivatives with respect to integer indices,
tangent dtypes of comparisons, vmap errors, complex conjugation convention, and the
error messages for what grad's function returns.

Oracles are numpy: Python loops for vmap, closed forms and central finite
differences (float64) for derivatives; error texts are MLX's own.
"""
import numpy as np
import pytest

import mlxc.core as mx


# ------------------------------------------------------------------ in-place updates

def test_vmap_of_function_assigning_into_its_argument():
    x_np = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = mx.array(x_np)

    def f(a):
        a[1] = 5.0
        return a

    got = mx.vmap(f)(x)
    want = np.stack([np.where(np.arange(3) == 1, 5.0, r) for r in x_np])
    np.testing.assert_array_equal(np.array(got), want)     # evaluable afterwards
    np.testing.assert_array_equal(np.array(x), x_np)       # the input is untouched

    def g(a, v):
        a[0] = v
        return a * 2

    v_np = np.array([10.0, 20.0], np.float32)
    got = mx.vmap(g)(x, mx.array(v_np))
    want = np.stack([np.concatenate([[v], r[1:]]) * 2 for r, v in zip(x_np, v_np)])
    np.testing.assert_array_equal(np.array(got), want)
    got = mx.vmap(g, in_axes=(1, None))(x, mx.array(7.0))
    want = np.stack([np.concatenate([[7.0], c[1:]]) * 2 for c in x_np.T])
    np.testing.assert_array_equal(np.array(got), want)


def test_grad_in_place_updates_of_a_list_argument_stay_visible():
    arrs = [mx.array(2.0), mx.array(1.0), mx.array(3.0)]
    orig = list(arrs)
    seen = {}

    def f(a):
        seen["same"] = a is arrs         # MLX hands the function the caller's list
        a[1] = a[0] * 3
        a[2] += 1
        return (a[0] * a[1] * a[2]).sum()

    g = mx.grad(f)(arrs)
    # L = x0 * 3 x0 * (x2 + 1): dL/dx0 = 6 x0 (x2 + 1) = 48, x1 unused, dL/dx2 = 3 x0^2 = 12
    np.testing.assert_allclose([float(v) for v in g], [48.0, 0.0, 12.0])
    assert seen["same"]
    assert arrs[0] is orig[0]            # untouched slot: the caller's own array
    assert arrs[1] is not orig[1] and arrs[2] is not orig[2]
    assert [float(v) for v in arrs] == [2.0, 6.0, 4.0]


def test_grad_updates_of_captured_and_keyword_containers():
    model = [mx.array(1.0), mx.array(5.0)]
    m0 = model[0]

    def h(x):
        model[1] = mx.array(2.0)
        return (x * model[0] * model[1]).sum()

    assert float(mx.grad(h)(mx.array(3.0))) == 2.0
    assert model[0] is m0 and float(model[1]) == 2.0

    d = {"w": mx.array(3.0), "b": mx.array(1.0)}
    b0 = d["b"]

    def k(x, p=None):
        p["w"] = p["w"] * x
        return (p["w"] + p["b"]).sum()

    _, gk = mx.grad(k, argnames="p")(mx.array(2.0), p=d)
    assert float(gk["p"]["w"]) == 2.0 and float(gk["p"]["b"]) == 1.0
    assert float(d["w"]) == 6.0 and d["b"] is b0

    # value_and_grad with the list rebound, and the gradient tree keeps the call's shape
    P = [mx.array(1.0), mx.array(4.0)]

    def q(p):
        p[0] = p[0] + 1
        p.append(mx.array(0.0))
        return (p[0] * p[1]).sum()

    val, gq = mx.value_and_grad(q)(P)
    assert float(val) == 8.0 and len(gq) == 2
    assert [float(v) for v in gq] == [4.0, 2.0]
    assert [float(v) for v in P] == [2.0, 4.0, 0.0]


def test_grad_exception_leaves_rebound_slots_and_restores_the_others():
    E = [mx.array(1.0), mx.array(2.0)]
    e1 = E[1]

    def f(l):
        l[0] = l[0] * 5
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        mx.grad(f)(E)
    assert float(E[0]) == 5.0 and E[1] is e1


@pytest.mark.parametrize("kind", ["slice", "array", "duplicate"])
def test_vjp_of_assignment(kind):
    x_np = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    v_np = np.array([7.0, 8.0], np.float32)
    c_np = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    if kind == "slice":
        idx, pos = slice(1, 3), [1, 2]
    elif kind == "array":
        idx, pos = mx.array([0, 2]), [0, 2]
    else:
        idx, pos = mx.array([0, 0]), [0, 0]

    def f(x, v):
        x[idx] = v
        return x

    (out,), (gx, gv) = mx.vjp(f, [mx.array(x_np), mx.array(v_np)], [mx.array(c_np)])
    want_out = x_np.copy()
    want_out[pos] = v_np
    if kind == "duplicate":
        assert float(out[0]) in (7.0, 8.0)
    else:
        np.testing.assert_array_equal(np.array(out), want_out)
    want_gx = c_np.copy()
    want_gx[pos] = 0.0                   # overwritten: no dependence on x there
    np.testing.assert_array_equal(np.array(gx), want_gx)
    np.testing.assert_array_equal(np.array(gv), c_np[pos])   # gathered cotangent


def test_jvp_of_assignment():
    def f(x, v):
        x[1:3] = v
        return x

    _, (t,) = mx.jvp(f, [mx.zeros(4), mx.zeros(2)],
                     [mx.array([1.0, 2.0, 3.0, 4.0]), mx.array([10.0, 20.0])])
    np.testing.assert_array_equal(np.array(t), [1.0, 10.0, 20.0, 4.0])


# ------------------------------------------------------------------ integer indices

_IDX_MSG = ("Cannot calculate {} with respect to indices. Use stop_gradient on indices to "
            "stop gradients from being computed.")


@pytest.mark.parametrize("op,fn,idx", [
    ("gather", lambda i: mx.take(mx.array([1.0, 2.0, 3.0]), i).sum(), [0, 1]),
    ("gather", lambda i: mx.array([1.0, 2.0, 3.0])[i].sum(), [0, 1]),
    ("gather", lambda i: mx.take(mx.ones((2, 3)), i, axis=1).sum(), [0, 1]),
    ("gather_axis",
     lambda i: mx.take_along_axis(mx.array([[1.0, 2.0, 3.0]]), i, axis=1).sum(), [[0, 1]]),
    ("scatter", lambda i: mx.array([1.0, 2.0, 3.0]).at[i].add(1.0).sum(), [0, 1]),
    ("scatter_axis", lambda i: mx.put_along_axis(mx.array([[1.0, 2.0, 3.0]]), i,
                                                 mx.array([[5.0]]), axis=1).sum(), [[0]]),
])
def test_derivative_wrt_indices_raises(op, fn, idx):
    with pytest.raises(ValueError) as e:
        mx.grad(fn)(mx.array(idx))
    assert str(e.value) == f"[{op}] " + _IDX_MSG.format("VJP")


def test_jvp_wrt_indices_raises_and_stop_gradient_avoids_it():
    a = mx.array([1.0, 2.0, 3.0])
    i = mx.array([0, 2])
    with pytest.raises(ValueError) as e:
        mx.jvp(lambda i: mx.take(a, i), [i], [mx.ones(2, dtype=mx.int32)])
    assert str(e.value) == "[gather] " + _IDX_MSG.format("JVP")
    # indices computed from the differentiated input must be stopped, as in MLX
    with pytest.raises(ValueError, match=r"^\[gather\] Cannot calculate VJP"):
        mx.grad(lambda y: (mx.take(y, mx.argmax(y)) ** 3).sum())(a)
    g = mx.grad(lambda y: (mx.take(y, mx.stop_gradient(mx.argmax(y))) ** 3).sum())(a)
    np.testing.assert_array_equal(np.array(g), [0.0, 0.0, 27.0])
    # data input with constant indices differentiates normally
    g = mx.grad(lambda y: mx.take(y, i).sum())(a)
    np.testing.assert_array_equal(np.array(g), [1.0, 0.0, 1.0])


def test_dynamic_start_derivative_raises():
    a = mx.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^\[DynamicSlice::vjp\] Not supported for start"):
        mx.grad(lambda s: mx.slice(a, s, (0,), (2,)).sum())(mx.array([1]))
    with pytest.raises(ValueError, match=r"^\[DynamicSliceUpdate::vjp\] Not supported for "):
        mx.grad(lambda s: mx.slice_update(a, mx.array([9.0]), s, (0,)).sum())(mx.array([1]))


def test_second_derivatives_through_sort_and_cummax_rules():
    # The rules' own permutations/positions are constants: no index error.
    x_np = np.array([3.0, 1.0, 2.0])
    x = mx.array(x_np.astype(np.float32))
    g2 = mx.grad(lambda x: mx.grad(lambda y: (mx.sort(y) ** 3).sum())(x).sum())(x)
    np.testing.assert_allclose(np.array(g2), 6 * x_np)
    g2 = mx.grad(lambda x: mx.grad(lambda y: (mx.cummax(y) ** 3).sum())(x).sum())(x)
    np.testing.assert_allclose(np.array(g2), [6 * 3 * 3, 0, 0])   # x0 is every prefix max
    g2 = mx.grad(lambda x: mx.grad(lambda y: (mx.topk(y, 2) ** 3).sum())(x).sum())(x)
    np.testing.assert_allclose(np.array(g2), [18.0, 0.0, 12.0])


# ------------------------------------------------------------------ tangent dtypes

@pytest.mark.parametrize("dt", [mx.float32, mx.float16, mx.int32])
def test_comparison_tangent_is_zeros_of_the_operand_dtype(dt):
    x = mx.array([0, 2], dtype=dt)
    for f in (lambda x: x > 1, lambda x: mx.equal(x, 2), lambda x: x != 1,
              lambda x: mx.less_equal(x, 1)):
        (y,), (t,) = mx.jvp(f, [x], [mx.ones(2, dtype=dt)])
        assert y.dtype == mx.bool_ and t.dtype == dt and t.shape == (2,)
        assert not np.any(np.array(t))


def test_comparison_tangent_broadcast_and_promoted():
    _, (t,) = mx.jvp(lambda a, b: a > b, [mx.ones((2, 1)), mx.ones((3,))],
                     [mx.ones((2, 1)), mx.ones((3,))])
    assert t.shape == (2, 3) and t.dtype == mx.float32
    h = mx.array([1.0, 2.0], dtype=mx.float16)
    _, (t,) = mx.jvp(lambda y: h > y, [mx.ones(2)], [mx.ones(2)])
    assert t.dtype == mx.float32


def test_predicate_and_boolean_tangent_dtypes_as_mlx():
    x, t = mx.array([0.5, 2.0]), mx.array([1.0, 1.0])

    def tan(f):
        return mx.jvp(f, [x], [t])[1][0]

    for f in (mx.isnan, mx.isposinf, mx.isneginf, lambda x: mx.logical_not(x > 1),
              lambda x: mx.any(x > 1), lambda x: mx.array_equal(x, x)):
        r = tan(f)
        assert r.dtype == mx.float32 and not np.any(np.array(r))
    for f in (mx.isinf, mx.isfinite, mx.logical_not, lambda x: mx.logical_and(x > 1, x < 3)):
        assert tan(f).dtype == mx.bool_
    assert tan(lambda x: mx.allclose(x, x)).dtype == mx.int32   # all() of a bool tangent
    # vjp of a comparison: zeros in the input's dtype
    _, (g,) = mx.vjp(lambda x: x > 1, [x], [mx.array([True, True])])
    assert g.dtype == mx.float32 and not np.any(np.array(g))


# ------------------------------------------------------------------ vmap errors

def test_vmap_errors_as_mlx():
    with pytest.raises(IndexError) as e:
        mx.vmap(lambda x: x * 2)(mx.array(1.0))
    assert str(e.value) == "[vmap] Invalid vectorization axis 0 for array with shape ()"
    with pytest.raises(IndexError) as e:
        mx.vmap(lambda x: x, in_axes=2)(mx.ones((2, 3)))
    assert str(e.value) == "[vmap] Invalid vectorization axis 2 for array with shape (2,3)"
    with pytest.raises(IndexError) as e:
        mx.vmap(lambda x: x * 2, out_axes=2)(mx.ones((2, 3)))
    assert str(e.value) == "[vmap] Invalid output vectorization axis 2 for array with shape (3)"
    with pytest.raises(ValueError) as e:
        mx.vmap(lambda x: 1.0)(mx.ones((2, 3)))
    assert str(e.value) == "[tree_flatten] The argument should contain only arrays"
    with pytest.raises(ValueError) as e:
        mx.vmap(lambda x, y: x * y)(mx.ones((2, 3)), 2.0)
    assert str(e.value) == "[tree_flatten] The argument should contain only arrays"
    with pytest.raises(ValueError) as e:
        mx.vmap(lambda x: x, in_axes=(None,))(mx.ones((2, 3)))
    assert str(e.value) == "At least one of in_axes must be non-None."
    with pytest.raises(ValueError, match=r"\[vmap\] Inconsistent axis sizes: 2 and 3"):
        mx.vmap(lambda x, y: x + y)(mx.ones((2, 3)), mx.ones((3, 3)))
    with pytest.raises(TypeError, match=r"\[vmap\] Keyword arguments are not supported"):
        mx.vmap(lambda x: x)(x=mx.ones((2, 3)))
    # a 0-d input is fine when it is not mapped
    r = mx.vmap(lambda x, y: x * y, in_axes=(0, None))(mx.array([1.0, 2.0]), mx.array(3.0))
    np.testing.assert_array_equal(np.array(r), [3.0, 6.0])


# ------------------------------------------------------------------ complex convention

def _fd_grad(loss, x, eps=1e-6):
    """dL/dRe + i dL/dIm of a real loss of a complex vector (central differences)."""
    g = np.zeros_like(x)
    for k in range(x.size):
        for unit in (1.0, 1j):
            d = np.zeros_like(x)
            d[k] = eps * unit
            g[k] += unit * (loss(x + d) - loss(x - d)) / (2 * eps)
    return g


X = np.array([1 + 2j, -0.5 + 1j, 3 - 1j])
Y = np.array([0.5 - 1j, 2 + 0.25j, -1 + 1j])
C = np.array([1 - 1j, 0.5 + 2j, 2 + 0j])


@pytest.mark.parametrize("name,f_mx,f_np", [
    ("abs2", lambda x: (x * x.conj()).real.sum(), lambda x: (x * x.conj()).real.sum()),
    ("abs", lambda x: mx.abs(x).sum(), lambda x: np.abs(x).sum()),
    ("sq_real", lambda x: (x * x).real.sum(), lambda x: (x * x).real.sum()),
    ("sq_imag", lambda x: (x * x).imag.sum(), lambda x: (x * x).imag.sum()),
    ("imag", lambda x: mx.imag(x).sum(), lambda x: x.imag.sum()),
    ("exp", lambda x: mx.exp(x).real.sum(), lambda x: np.exp(x).real.sum()),
    ("sin", lambda x: (mx.sin(x) * mx.array(C.astype(np.complex64))).imag.sum(),
     lambda x: (np.sin(x) * C).imag.sum()),
    ("log", lambda x: mx.log(x).imag.sum() + mx.log(x).real.sum(),
     lambda x: np.log(x).imag.sum() + np.log(x).real.sum()),
    ("sqrt", lambda x: mx.sqrt(x).real.sum(), lambda x: np.sqrt(x).real.sum()),
    ("mul", lambda x: (x * mx.array(Y.astype(np.complex64))).real.sum(),
     lambda x: (x * Y).real.sum()),
    ("div", lambda x: (mx.array(Y.astype(np.complex64)) / x).real.sum(),
     lambda x: (Y / x).real.sum()),
    ("matmul", lambda x: (x.reshape(1, 3) @ mx.array(Y.astype(np.complex64)).reshape(3, 1))
     .imag.sum(), lambda x: (x @ Y).imag),
    ("prod", lambda x: mx.prod(x).real, lambda x: np.prod(x).real),
    ("cumsum", lambda x: (mx.cumsum(x) * mx.array(C.astype(np.complex64))).real.sum(),
     lambda x: (np.cumsum(x) * C).real.sum()),
])
def test_complex_grad_convention(name, f_mx, f_np):
    # (cumprod and power are not here: MLX takes no conjugate in their vjps, and mlxc
    # gives MLX's numbers -- tests/test_complex_mlx.py replays MLX's recorded values.)
    g = mx.grad(f_mx)(mx.array(X.astype(np.complex64)))
    assert g.dtype == mx.complex64
    np.testing.assert_allclose(np.array(g), _fd_grad(f_np, X), rtol=2e-4, atol=2e-4)


def test_complex_vjp_with_complex_cotangent():
    x, c = mx.array(X.astype(np.complex64)), mx.array(C.astype(np.complex64))
    # holomorphic f: the vjp is c * conj(f'(x))
    for f_mx, df in ((lambda x: x * x, lambda x: 2 * x), (mx.exp, np.exp),
                     (mx.sin, np.cos), (mx.log, lambda x: 1 / x),
                     (mx.reciprocal, lambda x: -1 / x ** 2),
                     (mx.square, lambda x: 2 * x)):
        _, (g,) = mx.vjp(f_mx, [x], [c])
        np.testing.assert_allclose(np.array(g), C * np.conj(df(X)), rtol=1e-5, atol=1e-5)
    _, (gx, gy) = mx.vjp(lambda a, b: a * b, [x, mx.array(Y.astype(np.complex64))], [c])
    np.testing.assert_allclose(np.array(gx), C * np.conj(Y), rtol=1e-6)
    np.testing.assert_allclose(np.array(gy), C * np.conj(X), rtol=1e-6)
    # a real input multiplied by a complex one gets the real part
    _, (gr,) = mx.vjp(lambda r: r * x, [mx.array([1.0, 2.0, 3.0])], [c])
    np.testing.assert_allclose(np.array(gr), (C * np.conj(X)).real, rtol=1e-6)
    # MLX's power rule takes no conjugate (its numbers: x = 1+2j, c = 1 -> -9+12j)
    _, (gp,) = mx.vjp(lambda x: mx.power(x, 3), [x], [c])
    np.testing.assert_allclose(np.array(gp), C * 3 * X ** 2, rtol=1e-5)
    _, (gp,) = mx.vjp(lambda x: mx.power(x, 3), [mx.array([1 + 2j])], [mx.array([1 + 0j])])
    np.testing.assert_allclose(np.array(gp), [-9 + 12j], rtol=1e-6)
    # conj and real/imag with real cotangents
    _, (g,) = mx.vjp(mx.conj, [x], [c])
    np.testing.assert_allclose(np.array(g), np.conj(C), rtol=1e-6)
    r = mx.array([1.0, 2.0, 3.0])
    _, (g,) = mx.vjp(mx.imag, [x], [r])
    np.testing.assert_allclose(np.array(g), 1j * np.array([1.0, 2.0, 3.0]))


def test_complex_jvp():
    x, t = mx.array(X.astype(np.complex64)), mx.array(C.astype(np.complex64))
    _, (j,) = mx.jvp(lambda x: x * x, [x], [t])
    np.testing.assert_allclose(np.array(j), 2 * X * C, rtol=1e-6)
    _, (j,) = mx.jvp(mx.abs, [x], [t])
    np.testing.assert_allclose(np.array(j), (np.conj(X) * C).real / np.abs(X), rtol=1e-5)


# ------------------------------------------------------------------ grad's result errors

_RET = "The return value of the function whose gradient we want to compute should be"


def test_grad_result_errors_as_mlx():
    x = mx.array([1.0, 2.0])
    cases = [
        (mx.grad(lambda a: a * 2), "[vjp] Output shape (2) does not match cotangent shape ()."),
        (mx.grad(lambda a: a[:1]), "[vjp] Output shape (1) does not match cotangent shape (). "
                                   "If you are using grad your function must return a scalar."),
        (mx.grad(lambda a: 1.0), f"[grad] {_RET} a scalar array; but float was returned."),
        (mx.grad(lambda a: (a.sum(), a)),
         f"[grad] {_RET} a scalar array; but tuple was returned."),
        (mx.value_and_grad(lambda a: [a.sum(), a]),
         f"[value_and_grad] {_RET} either a scalar array or a tuple with the first value being "
         f"a scalar array (Union[array, tuple[array, Any, ...]]); but list was returned."),
        (mx.value_and_grad(lambda a: (1.0, a)),
         f"[value_and_grad] {_RET} either a scalar array or a tuple with the first value being "
         f"a scalar array (Union[array, tuple[array, Any, ...]]); but it was a tuple with the "
         f"first value being of type float ."),
        (mx.value_and_grad(lambda a: ()),
         f"[value_and_grad] {_RET} either a scalar array or a non-empty tuple. The first value "
         f"should be a scalar array and the rest can be anything. Instead, we got an empty "
         f"tuple."),
        (mx.value_and_grad(lambda a: (a * 2, 1)),
         "[vjp] Output shape (2) does not match cotangent shape ()."),
    ]
    for fn, msg in cases:
        with pytest.raises(ValueError) as e:
            fn(x)
        assert str(e.value) == msg


def test_grad_argument_errors_as_mlx():
    x = mx.array([1.0, 2.0])
    f = lambda a, b, c=None, d=None: (a * b).sum()   # noqa: E731
    with pytest.raises(ValueError) as e:
        mx.grad(f, argnums=-1)
    assert str(e.value) == "[grad] Can't compute the gradient of negative argument index -1"
    with pytest.raises(ValueError) as e:
        mx.grad(f, argnums=[0, 0])
    assert str(e.value) == "[grad] Duplicate argument index 0 is not allowed."
    with pytest.raises(ValueError) as e:
        mx.grad(f, argnames="c")(x, x, d=x)
    assert str(e.value) == ("[grad] Can't compute the gradient of keyword argument 'c' because "
                            "the function is called with the following keyword arguments {d,}")
    with pytest.raises(ValueError) as e:
        mx.grad(f, argnums=3)(x, x)
    assert str(e.value) == ("[grad] Can't compute the gradient of argument index 3 because the "
                            "function is called with only 2 positional arguments.")
    with pytest.raises(ValueError) as e:
        mx.jvp(lambda a: a, [x], [x, x])
    assert str(e.value) == "[jvp] Number of inputs does not match number of tangents."
    with pytest.raises(ValueError) as e:
        mx.vjp(lambda a: a, [x], [mx.ones(3)])
    assert str(e.value) == "[vjp] Output shape (2) does not match cotangent shape (3)."
    # extra cotangents are ignored, as in MLX
    (o,), (g,) = mx.vjp(lambda a: a * 2, [x], [x, x])
    np.testing.assert_array_equal(np.array(g), [2.0, 4.0])


def test_value_and_grad_aux_and_argnums_mixes():
    x, y = mx.array([1.0, 2.0]), mx.array([3.0, -1.0])

    def f(a, b, c=None):
        return (a * b * c).sum(), {"aux": a * 2, "n": 5}

    (v, aux), (gpos, gkw) = mx.value_and_grad(f, argnums=[1, 0], argnames="c")(x, y, c=y)
    assert float(v) == float(np.sum([1 * 3 * 3, 2 * -1 * -1]))
    assert aux["n"] == 5 and np.array(aux["aux"]).tolist() == [2.0, 4.0]
    np.testing.assert_array_equal(np.array(gpos[0]), [9.0, 1.0])     # d/da = b c
    np.testing.assert_array_equal(np.array(gpos[1]), [3.0, -2.0])    # d/db = a c
    np.testing.assert_array_equal(np.array(gkw["c"]), [3.0, -2.0])   # d/dc = a b


def test_nested_vmap_keeps_each_level_placeholders_apart():
    x_np = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    b_np = np.array([1.0, 2.0, 3.0], np.float32)
    inner = mx.vmap(lambda a, b: a * b, in_axes=(0, None))
    got = mx.vmap(inner, in_axes=(1, 0))(mx.array(x_np), mx.array(b_np))
    want = np.array([[x_np[i, j] * b_np[j] for i in range(2)] for j in range(3)])
    np.testing.assert_array_equal(np.array(got), want)

    def f(a):                          # an in-place update at both levels
        a[0] = -1.0
        return mx.vmap(lambda r: r * 2)(a)

    x3 = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    got = mx.vmap(f)(mx.array(x3))
    want = x3.copy()
    want[:, 0] = -1.0
    np.testing.assert_array_equal(np.array(got), want * 2)


def test_vmap_setitem_on_unbatched_argument_leaves_caller_array():
    # MLX: the function's x[i] = v rebinds its own argument, not the caller's array.
    def g(a, i, v):
        a[i] = v
        return a
    z = mx.zeros((4,))
    out = mx.vmap(g, in_axes=(None, 0, 0))(z, mx.array([0, 1, 2]), mx.array([1.0, 2.0, 3.0]))
    expect = np.zeros((3, 4), np.float32)
    expect[[0, 1, 2], [0, 1, 2]] = [1, 2, 3]
    np.testing.assert_array_equal(np.array(out), expect)
    np.testing.assert_array_equal(np.array(z), np.zeros(4, np.float32))
