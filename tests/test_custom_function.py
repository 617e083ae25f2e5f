"""mx.custom_function: the seed's two examples verbatim (import swapped), what they print
(checked against MLX 0.32.4), how the overrides compose with the other transforms, the
fallbacks, the argument conventions MLX uses, and the cost of the wrapper.

Only the public mx API is used (MLXC_TEST_REFERENCE=mlx runs this file on real MLX);
tests of checks MLX does not make are marked mlxc_only.
"""

import numpy as np
import pytest

import mlxc.core as mx


def npa(x):
    return np.array(x)


def eq(a, b, rtol=1e-5):
    np.testing.assert_allclose(npa(a), np.asarray(b, dtype=np.float64), rtol=rtol, atol=1e-6)


# ------------------------------------------------------------------ the seed, verbatim

def _seed_example_1():
    """The first example of the seed page (with `cotangent` used consistently)."""
    import mlxc.core as mx

    @mx.custom_function
    def f(x, y):
        return mx.sin(x) * y

    @f.vjp
    def f_vjp(primals, cotangent, output):
        x, y = primals
        return cotangent * mx.cos(x) * y, cotangent * mx.sin(x)

    @f.jvp
    def f_jvp(primals, tangents):
        x, y = primals
        dx, dy = tangents
        return dx * mx.cos(x) * y + dy * mx.sin(x)

    @f.vmap
    def f_vmap(inputs, axes):
        x, y = inputs
        ax, ay = axes
        if ay != ax and ax is not None:
            y = y.swapaxes(ay, ax)
        return mx.sin(x) * y, (ax or ay)

    return f


def test_seed_example_2_verbatim(capsys):
    import mlxc.core as mx

    def g(x, y):
        @mx.custom_function
        def f(x):
            return x * y

        @f.vjp
        def f_vjp(x, dx, fx):
            # Note that we have only x, dx and fx and nothing with respect to y
            raise ValueError("Abort!")

        return f(x)

    x = mx.array(2.0)
    y = mx.array(3.0)
    print(g(x, y))                     # prints 6.0
    with pytest.raises(ValueError, match="Abort!"):
        print(mx.grad(g)(x, y))            # Raises exception
    print(mx.grad(g, argnums=1)(x, y)) # prints 0.0
    out = capsys.readouterr().out
    # what MLX 0.32.4 prints for the same script
    assert out == "array(6, dtype=float32)\narray(0, dtype=float32)\n"


def test_seed_example_1_values_and_prints(capsys):
    f = _seed_example_1()
    x = mx.array([1.0, 2.0])
    y = mx.array([3.0, 4.0])
    print(f(x, y))
    print(mx.grad(lambda x, y: f(x, y).sum())(x, y))
    print(mx.grad(lambda x, y: f(x, y).sum(), argnums=(0, 1))(x, y))
    print(mx.jvp(f, [x, y], [mx.ones_like(x), mx.zeros_like(y)]))
    print(mx.vjp(f, [x, y], [mx.ones_like(x)]))
    print(mx.vmap(f)(mx.ones((3, 2)), mx.ones((3, 2))))
    out = capsys.readouterr().out
    # captured from MLX 0.32.4 running the same lines
    assert out == (
        "array([2.52441, 3.63719], dtype=float32)\n"
        "array([1.62091, -1.66459], dtype=float32)\n"
        "(array([1.62091, -1.66459], dtype=float32), "
        "array([0.841471, 0.909297], dtype=float32))\n"
        "([array([2.52441, 3.63719], dtype=float32)], "
        "[array([1.62091, -1.66459], dtype=float32)])\n"
        "([array([2.52441, 3.63719], dtype=float32)], "
        "[array([1.62091, -1.66459], dtype=float32), "
        "array([0.841471, 0.909297], dtype=float32)])\n"
        "array([[0.841471, 0.841471],\n"
        "       [0.841471, 0.841471],\n"
        "       [0.841471, 0.841471]], dtype=float32)\n"
    )


def test_captured_arrays_are_constants():
    y = mx.array([3.0, 4.0])

    @mx.custom_function
    def f(x):
        return x * y

    g = mx.grad(lambda x: f(x).sum())(mx.array([1.0, 2.0]))
    eq(g, [3, 4])          # default vjp of the wrapped function
    g = mx.grad(lambda yy: (f(mx.array([1.0, 2.0])) * 0 + yy).sum())(y)
    eq(g, [1, 1])


# ------------------------------------------------------------------ composition with counters

class Counted:
    """The seed's f with each override counting its calls."""

    def __init__(self, with_vjp=True, with_jvp=True, with_vmap=True):
        self.calls = {"fwd": 0, "vjp": 0, "jvp": 0, "vmap": 0}
        calls = self.calls

        @mx.custom_function
        def f(x, y):
            calls["fwd"] += 1
            return mx.sin(x) * y

        if with_vjp:
            @f.vjp
            def f_vjp(primals, cotangent, output):
                calls["vjp"] += 1
                x, y = primals
                return cotangent * mx.cos(x) * y, cotangent * mx.sin(x)

        if with_jvp:
            @f.jvp
            def f_jvp(primals, tangents):
                calls["jvp"] += 1
                x, y = primals
                dx, dy = tangents
                return dx * mx.cos(x) * y + dy * mx.sin(x)

        if with_vmap:
            @f.vmap
            def f_vmap(inputs, axes):
                calls["vmap"] += 1
                x, y = inputs
                ax, ay = axes
                if ay != ax and ax is not None:
                    y = y.swapaxes(ay, ax)
                return mx.sin(x) * y, (ax or ay)

        self.f = f

    def reset(self):
        for k in self.calls:
            self.calls[k] = 0


XB = mx.array([[1.0, 2.0], [0.5, -1.0], [0.3, 0.2]])
YB = mx.array([[3.0, 4.0], [1.0, 2.0], [-1.0, 0.5]])


def _d_dx(x, y):
    return np.cos(npa(x)) * npa(y)


def test_vjp_and_grad_use_the_custom_vjp():
    c = Counted()
    _, g = mx.vjp(c.f, [XB, YB], [mx.ones_like(XB)])
    mx.eval(g)
    assert c.calls["vjp"] == 1 and c.calls["jvp"] == 0
    eq(g[0], _d_dx(XB, YB))
    eq(g[1], np.sin(npa(XB)))
    c.reset()
    g = mx.grad(lambda x, y: c.f(x, y).sum())(XB, YB)
    mx.eval(g)
    assert c.calls["vjp"] == 1
    eq(g, _d_dx(XB, YB))


def test_custom_vjp_is_really_used():
    """A deliberately wrong custom vjp shows up in the gradient."""
    @mx.custom_function
    def f(x):
        return mx.sin(x)

    @f.vjp
    def f_vjp(primals, cotangent, output):
        return cotangent * 10.0

    eq(mx.grad(lambda x: f(x).sum())(mx.array([0.1, 0.2])), [10, 10])


def test_jvp_uses_the_custom_jvp():
    c = Counted()
    _, t = mx.jvp(c.f, [XB, YB], [mx.ones_like(XB), mx.zeros_like(YB)])
    mx.eval(t)
    assert c.calls["jvp"] == 1 and c.calls["vjp"] == 0
    eq(t[0], _d_dx(XB, YB))


def test_vmap_uses_the_custom_vmap():
    c = Counted()
    out = mx.vmap(c.f)(XB, YB)
    mx.eval(out)
    assert c.calls["vmap"] == 1
    eq(out, np.sin(npa(XB)) * npa(YB))
    c.reset()
    # (the seed's rule handles an unbatched x, not an unbatched y)
    out = mx.vmap(c.f, in_axes=(None, 0))(XB[0], YB)
    eq(out, np.sin(npa(XB[0])) * npa(YB))
    assert c.calls["vmap"] == 1
    c.reset()
    out = mx.vmap(c.f, in_axes=(1, 1), out_axes=1)(XB.T, YB.T)
    eq(out, (np.sin(npa(XB)) * npa(YB)).T)
    assert c.calls["vmap"] == 1


def test_grad_of_vmap_uses_the_custom_vmap():
    """As in MLX: the custom vmap builds the batched graph, which grad then walks."""
    c = Counted()
    g = mx.grad(lambda x, y: mx.vmap(c.f)(x, y).sum())(XB, YB)
    mx.eval(g)
    assert c.calls["vmap"] == 1
    eq(g, _d_dx(XB, YB))


def test_vmap_of_grad_uses_the_custom_vjp():
    c = Counted()
    g = mx.vmap(mx.grad(lambda x, y: c.f(x, y).sum()))(XB, YB)
    mx.eval(g)
    assert c.calls["vjp"] >= 1
    eq(g, _d_dx(XB, YB))


def test_vmap_of_vmap_and_jvp_of_vmap():
    c = Counted()
    x3 = mx.array(np.random.default_rng(0).standard_normal((2, 3, 2)).astype(np.float32))
    y3 = mx.array(np.random.default_rng(1).standard_normal((2, 3, 2)).astype(np.float32))
    out = mx.vmap(mx.vmap(c.f))(x3, y3)
    eq(out, np.sin(npa(x3)) * npa(y3))
    assert c.calls["vmap"] >= 1
    c.reset()
    _, t = mx.jvp(lambda x, y: mx.vmap(c.f)(x, y), [XB, YB],
                  [mx.ones_like(XB), mx.zeros_like(YB)])
    eq(t[0], _d_dx(XB, YB))


def test_higher_order_grad_through_a_differentiable_rule():
    c = Counted()
    g2 = mx.grad(lambda x: mx.grad(lambda a: c.f(a, YB).sum())(x).sum())(XB)
    mx.eval(g2)
    assert c.calls["vjp"] >= 1
    eq(g2, -np.sin(npa(XB)) * npa(YB))


# ------------------------------------------------------------------ fallbacks

@pytest.mark.parametrize("missing", ["all", "vjp", "jvp", "vmap"])
def test_absent_overrides_fall_back_to_the_default_transform(missing):
    c = Counted(with_vjp=missing not in ("all", "vjp"),
                with_jvp=missing not in ("all", "jvp"),
                with_vmap=missing not in ("all", "vmap"))

    def plain(x, y):
        return mx.sin(x) * y

    # vjp / grad
    _, g_c = mx.vjp(c.f, [XB, YB], [mx.ones_like(XB)])
    _, g_p = mx.vjp(plain, [XB, YB], [mx.ones_like(XB)])
    for a, b in zip(g_c, g_p):
        eq(a, npa(b))
    # jvp
    _, t_c = mx.jvp(c.f, [XB, YB], [mx.ones_like(XB), mx.ones_like(YB)])
    _, t_p = mx.jvp(plain, [XB, YB], [mx.ones_like(XB), mx.ones_like(YB)])
    eq(t_c[0], npa(t_p[0]))
    # vmap
    eq(mx.vmap(c.f)(XB, YB), npa(mx.vmap(plain)(XB, YB)))
    # grad of grad
    gg_c = mx.grad(lambda x: mx.grad(lambda a: c.f(a, YB).sum())(x).sum())(XB)
    gg_p = mx.grad(lambda x: mx.grad(lambda a: plain(a, YB).sum())(x).sum())(XB)
    eq(gg_c, npa(gg_p))
    if missing in ("all", "vjp"):
        assert c.calls["vjp"] == 0
    if missing in ("all", "jvp"):
        assert c.calls["jvp"] == 0
    if missing in ("all", "vmap"):
        assert c.calls["vmap"] == 0


# ------------------------------------------------------------------ MLX's argument conventions

def test_single_input_rules_get_the_array_itself():
    """MLX passes a one-argument function's primals/tangents/inputs as the array itself
    and its vmap axis as an int (the seed's `f_vjp(x, dx, fx)` relies on it)."""
    seen = {}

    @mx.custom_function
    def s(x):
        return x * x

    @s.vjp
    def s_vjp(primals, cotangent, output):
        seen["vjp"] = (type(primals), type(cotangent), type(output))
        return 2 * primals * cotangent

    @s.jvp
    def s_jvp(primals, tangents):
        seen["jvp"] = (type(primals), type(tangents))
        return 2 * primals * tangents

    @s.vmap
    def s_vmap(inputs, axes):
        seen["vmap"] = (type(inputs), type(axes))
        return inputs * inputs, axes

    x = mx.array([1.0, 2.0])
    eq(mx.grad(lambda a: s(a).sum())(x), [2, 4])
    eq(mx.jvp(s, [x], [mx.ones(2)])[1][0], [2, 4])
    eq(mx.vmap(s)(mx.array([[1.0, 2.0], [3.0, 4.0]])), [[1, 4], [9, 16]])
    assert seen["vjp"] == (mx.array, mx.array, mx.array)
    assert seen["jvp"] == (mx.array, mx.array)
    assert seen["vmap"] == (mx.array, int)


def test_multiple_outputs_rules_get_tuples():
    seen = {}

    @mx.custom_function
    def m(x, y):
        return x * y, mx.sin(x)

    @m.vjp
    def m_vjp(primals, cotangents, outputs):
        seen["types"] = (type(primals), type(cotangents), type(outputs))
        x, y = primals
        c1, c2 = cotangents
        return c1 * y + c2 * mx.cos(x), c1 * x

    x, y = mx.array([0.5, 1.0]), mx.array([2.0, 3.0])
    outs, g = mx.vjp(m, [x, y], [mx.ones(2), mx.ones(2)])
    assert len(outs) == 2
    eq(g[0], npa(y) + np.cos(npa(x)))
    eq(g[1], npa(x))
    assert seen["types"] == (tuple, tuple, tuple)


def test_keyword_arguments_pass_through_the_forward():
    @mx.custom_function
    def s(x, scale=2.0):
        return x * scale

    eq(s(mx.array([1.0, 2.0]), scale=3.0), [3, 6])
    eq(s(x=mx.array([1.0, 2.0])), [2, 4])


# ------------------------------------------------------------------ checks mlxc adds

def _bad_vjp_function(ret):
    @mx.custom_function
    def f(x, y):
        return mx.sin(x) * y

    @f.vjp
    def f_vjp(primals, cotangent, output):
        return ret(cotangent)

    return f


@pytest.mark.mlxc_only
@pytest.mark.parametrize("ret", [
    pytest.param(lambda c: c, id="one_for_two"),
    pytest.param(lambda c: (c,), id="one_tuple_for_two"),
    pytest.param(lambda c: (c, c, c), id="three_for_two"),
    pytest.param(lambda c: (mx.ones(3), c), id="wrong_shape"),
    pytest.param(lambda c: (mx.array(1.0), c), id="scalar_for_vector"),
    pytest.param(lambda c: (1.0, c), id="not_an_array"),
])
def test_custom_vjp_with_wrong_cotangents_is_value_error(ret):
    f = _bad_vjp_function(ret)
    x, y = mx.array([1.0, 2.0]), mx.array([3.0, 4.0])
    with pytest.raises(ValueError):
        _, g = mx.vjp(f, [x, y], [mx.ones(2)])
        mx.eval(g)
    # and the next call works
    f_ok = _bad_vjp_function(lambda c: (c * 2, c * 3))
    _, g = mx.vjp(f_ok, [x, y], [mx.ones(2)])
    eq(g[0], [2, 2])
    eq(g[1], [3, 3])
