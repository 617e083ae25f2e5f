"""complex64 cases replayed by tests/test_complex_mlx.py against MLX 0.32.4's results in
tests/data/mlx_complex.json (recorded by tests/data/gen_complex.py): forward ops MLX
accepts for complex64 and the vjp/jvp conventions (MLX's vjp is g * conj(f'(x)) except for
power and cumprod; its jvp is t * f'(x))."""

ENV = """
c = mx.array([[1+2j, -3+0.5j, 0j], [2-1j, 0.5+0.5j, -1-1j]], dtype=mx.complex64)
d = mx.array([[0.5-1j, 2+0j, 1+1j], [-1+3j, 1j, 2-2j]], dtype=mx.complex64)
g = mx.array([[1+1j, 2-1j, 0.5j], [1+0j, -1+2j, 3-1j]], dtype=mx.complex64)
r = mx.array([[1., 2, 3], [4, 5, 6]])
inf = float("inf")
nan = float("nan")
z = mx.array([complex(inf, 0), complex(inf, 1), complex(-inf, 0), complex(0, inf), 1+0j,
              complex(nan, 0), complex(1, nan)])
p = mx.array([complex(nan, 0), 1+0j, 1+1j, 1+1j])
q = mx.array([1+0j, complex(nan, 0), complex(1, nan), 1+1j])
"""

_UNARY = ["abs", "negative", "sign", "sqrt", "square", "exp", "log", "log1p", "log2", "sin",
          "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
          "arccosh", "arctanh", "conj", "real", "imag", "round", "isnan", "isinf",
          "isfinite", "isposinf", "isneginf", "expm1", "sigmoid", "erf", "erfinv", "floor",
          "ceil"]
CASES = [(f"fwd {f}", f"mx.{f}(c)") for f in _UNARY]
CASES += [(f"fwd {f} special", f"mx.{f}(z)") for f in ("isposinf", "isneginf", "round")]
for f in ("less", "less_equal", "greater", "greater_equal", "maximum", "minimum",
          "floor_divide", "equal", "not_equal", "remainder", "arctan2"):
    CASES += [(f"fwd {f}", f"mx.{f}(c, d)"), (f"fwd {f} real", f"mx.{f}(c, r)"),
              (f"fwd {f} scalar", f"mx.{f}(c, 2)"), (f"fwd {f} nan", f"mx.{f}(p, q)")]
CASES += [
    ("fwd clip", "mx.clip(c, 0, 1)"),
    ("fwd round half", "mx.round(mx.array([0.5+1.5j, 2.5-0.5j]))"),
    ("fwd log1p tiny", "mx.log1p(mx.array([1e-8+1e-8j, -1e-6+2e-7j]))"),
    ("fwd at.maximum", "mx.array([1+1j, 2+0j]).at[mx.array([0, 1])].maximum(mx.array([5j, 3-1j]))"),
    ("fwd at.minimum", "mx.array([1+1j, 2+0j]).at[mx.array([0, 1])].minimum(mx.array([5j, 3-1j]))"),
    ("fwd sort", "mx.sort(c, axis=None)"),
    ("fwd logsumexp", "mx.logsumexp(c)"), ("fwd logsumexp axis", "mx.logsumexp(c, axis=0)"),
    ("fwd softmax", "mx.softmax(c, axis=-1)"), ("fwd median", "mx.median(c)"),
    ("fwd median axis", "mx.median(c, axis=1)"), ("fwd logaddexp", "mx.logaddexp(c, d)"),
    ("fwd logaddexp real", "mx.logaddexp(c, r)"),
    ("fwd cummax", "mx.cummax(c, axis=1)"), ("fwd logcumsumexp", "mx.logcumsumexp(c, axis=1)"),
    ("fwd cummin", "mx.cummin(c, axis=1)"), ("fwd cummax nan", "mx.cummax(mx.concatenate([c[0], z]))"),
    ("fwd cummin nan", "mx.cummin(mx.concatenate([c[0], z]))"),
    ("fwd cummax excl", "mx.cummax(c.reshape(-1), inclusive=False)"),
    ("fwd cummin excl rev", "mx.cummin(c.reshape(-1), inclusive=False, reverse=True)"),
    ("fwd logcumsumexp excl", "mx.logcumsumexp(c.reshape(-1), inclusive=False)"),
    ("fwd logcumsumexp nan", "mx.logcumsumexp(mx.concatenate([c[0], p]))"),
    ("fwd logcumsumexp eq", "mx.logcumsumexp(mx.array([1+1j, 1+1j, 2-1j]))"),
    ("vjp cummax", "mx.vjp(lambda x: mx.cummax(x, axis=1), [c], [g])[1][0]"),
    ("fwd searchsorted", "mx.searchsorted(mx.sort(d, axis=None), c)"),
    ("fwd unique", "mx.unique(mx.concatenate([c.reshape(-1), d.reshape(-1), c[0]]), 10)"),
]
for f in ("exp", "log", "log1p", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sqrt",
          "rsqrt", "square", "reciprocal", "negative", "conj", "arcsin", "arccos", "arctan",
          "arcsinh", "arccosh", "arctanh", "log2", "log10"):
    CASES += [(f"vjp {f}", f"mx.vjp(lambda x: mx.{f}(x), [c + 0.25], [g])[1][0]"),
              (f"jvp {f}", f"mx.jvp(lambda x: mx.{f}(x), [c + 0.25], [g])[1][0]")]
for f in ("multiply", "divide", "add", "subtract", "power", "matmul", "maximum", "minimum"):
    rhs = "d.T" if f == "matmul" else "d"
    lhs = "d.T" if f == "matmul" else "d"
    CASES += [(f"vjp {f} a", f"mx.vjp(lambda x: mx.{f}(x, {rhs}), [c + 0.25], [g if '{f}' != 'matmul' else g[:, :2]])[1][0]"),
              (f"vjp {f} b", f"mx.vjp(lambda x: mx.{f}({lhs}, x), [c + 0.25], [g if '{f}' != 'matmul' else mx.ones((3, 3), mx.complex64) * (1+1j)])[1][0]"),
              (f"jvp {f} a", f"mx.jvp(lambda x: mx.{f}(x, {rhs}), [c + 0.25], [g])[1][0]")]
CASES += [
    ("vjp abs", "mx.vjp(lambda x: mx.abs(x), [c + 0.25], [r])[1][0]"),
    ("jvp abs", "mx.jvp(lambda x: mx.abs(x), [c + 0.25], [g])[1][0]"),
    ("vjp real", "mx.vjp(lambda x: mx.real(x), [c], [r])[1][0]"),
    ("vjp imag", "mx.vjp(lambda x: mx.imag(x), [c], [r])[1][0]"),
    ("vjp sum", "mx.vjp(lambda x: mx.sum(x, axis=1), [c], [g[:, 0]])[1][0]"),
    ("vjp prod", "mx.vjp(lambda x: mx.prod(x, axis=1), [c + 0.25], [g[:, 0]])[1][0]"),
    ("vjp cumprod", "mx.vjp(lambda x: mx.cumprod(x, axis=1), [c + 0.25], [g])[1][0]"),
    ("vjp mean", "mx.vjp(lambda x: mx.mean(x, axis=1), [c], [g[:, 0]])[1][0]"),
    ("vjp real->complex", "mx.vjp(lambda x: x * d, [r], [g])[1][0]"),
    ("grad abs2", "mx.grad(lambda x: (mx.abs(x) ** 2).sum())(c)"),
    ("grad real(x*d)", "mx.grad(lambda x: mx.real(x * d).sum())(c)"),
    ("grad clip", "mx.grad(lambda x: mx.abs(mx.maximum(x, d)).sum())(c)"),
]
