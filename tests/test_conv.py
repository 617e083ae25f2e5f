"""Convolutions: conv1d/2d/3d, conv_transpose1d/2d/3d, conv_general and convolve against
float64 numpy references written from the definitions (tests/conv_reference.py), MLX's
recorded outputs for conv_general's corner cases (tests/data/conv_mlx.npz, made by
tests/data/make_conv_reference.py), gradients by finite differences in float64, vmap
against a Python loop, thread counts and SIMD levels in child interpreters, and errors."""
import itertools
import os

import numpy as np
import pytest

import mlxc.core as mx
from conv_reference import conv_general_ref, conv_transpose_ref

HERE = os.path.dirname(os.path.abspath(__file__))
RNG = np.random.default_rng(1234)


def rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def tol(dtype):
    return {"float64": 1e-12, "float32": 2e-5, "float16": 3e-3, "bfloat16": 2e-2}[dtype]


def check(got, want, dtype):
    got = np.array(got.astype(mx.float64) if got.dtype != mx.float64 else got)
    scale = max(1.0, float(np.abs(want).max()) if want.size else 1.0)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol(dtype), atol=tol(dtype) * scale)


def as_mx(a, dtype):
    return mx.array(a, mx.float64).astype(getattr(mx, dtype))


def A(a):
    """float64 array (mx.array alone makes float64 data float32, as MLX does)."""
    return mx.array(np.asarray(a, np.float64), mx.float64)


# ------------------------------------------------------------ forward values

def _cases():
    """Every option at small sizes: spatial rank, stride, padding (symmetric and lo/hi),
    kernel dilation, input dilation, groups and flip, in a fixed mixed sample."""
    opts = itertools.product([1, 2, 3], [1, 2], [0, 1, "asym"], [1, 2], [1, 2], [1, 2],
                             [False, True])
    return [c for i, c in enumerate(opts) if i % 3 == 0 or c[0] == 2]


@pytest.mark.parametrize("nsp,s,pad,kd,idl,groups,flip", _cases())
def test_conv_general_options(nsp, s, pad, kd, idl, groups, flip):
    sp = {1: (9,), 2: (6, 7), 3: (4, 5, 6)}[nsp]
    ks = {1: (3,), 2: (2, 3), 3: (2, 2, 3)}[nsp]
    cin, cout = 4, 6
    x = rand(2, *sp, cin)
    w = rand(cout, *ks, cin // groups)
    if pad == "asym":
        lo, hi = [1, 0, 2][:nsp], [0, 2, 1][:nsp]
        padding = (lo, hi)
    else:
        lo = hi = [pad] * nsp
        padding = pad
    want = conv_general_ref(x, w, [s] * nsp, lo, hi, [kd] * nsp, [idl] * nsp, groups, flip)
    for dtype in ("float64", "float32"):
        got = mx.conv_general(as_mx(x, dtype), as_mx(w, dtype), stride=s, padding=padding,
                              kernel_dilation=kd, input_dilation=idl, groups=groups, flip=flip)
        assert got.dtype == getattr(mx, dtype)
        check(got, want, dtype)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("kind", ["gemm", "depthwise", "pointwise", "grouped"])
def test_dtypes_and_paths(dtype, kind):
    """Each kernel path (implicit GEMM, depthwise direct loops, 1x1 GEMM, grouped GEMM)
    in each dtype; half types accumulate in float32 (error of one final rounding)."""
    cin = 8
    cout, k, groups = {"gemm": (5, 3, 1), "depthwise": (8, 3, 8), "pointwise": (7, 1, 1),
                       "grouped": (6, 3, 2)}[kind]
    x = rand(3, 11, 10, cin)
    w = rand(cout, k, k, cin // groups)
    xq = np.array(as_mx(x, dtype).astype(mx.float64))   # the values the kernel sees
    wq = np.array(as_mx(w, dtype).astype(mx.float64))
    pad = 0 if kind == "pointwise" else 1
    want = conv_general_ref(xq, wq, [1, 1], [pad] * 2, [pad] * 2, [1, 1], [1, 1], groups,
                            False)
    got = mx.conv2d(as_mx(x, dtype), as_mx(w, dtype), padding=pad, groups=groups)
    assert got.dtype == getattr(mx, dtype)
    check(got, want, dtype)


def test_large_implicit_gemm():
    """Sizes past the GEMM's blocking (several KC slabs, MC blocks, thread tiles)."""
    x = rand(2, 20, 19, 40, dtype=np.float32)
    w = rand(70, 3, 3, 40, dtype=np.float32)
    want = conv_general_ref(x, w, [1, 2], [1, 1], [1, 1], [2, 1], [1, 1], 1, False)
    got = mx.conv2d(mx.array(x), mx.array(w), stride=(1, 2), padding=1, dilation=(2, 1))
    check(got, want, "float32")


@pytest.mark.parametrize("nsp", [1, 2, 3])
def test_conv_nd(nsp):
    sp = {1: (13,), 2: (7, 8), 3: (5, 4, 6)}[nsp]
    ks = {1: (4,), 2: (3, 2), 3: (2, 3, 2)}[nsp]
    x, w = rand(2, *sp, 6), rand(4, *ks, 3)
    fn = {1: mx.conv1d, 2: mx.conv2d, 3: mx.conv3d}[nsp]
    s, p, d = (2, 1, 2) if nsp == 1 else ((1, 2, 1)[:nsp], (1, 0, 2)[:nsp], (2, 1, 1)[:nsp])
    got = fn(A(x), A(w), s, p, d, 2)
    sl = [s] * nsp if nsp == 1 else list(s)
    pl = [p] * nsp if nsp == 1 else list(p)
    dl = [d] * nsp if nsp == 1 else list(d)
    check(got, conv_general_ref(x, w, sl, pl, pl, dl, [1] * nsp, 2, False), "float64")


@pytest.mark.parametrize("nsp", [1, 2, 3])
@pytest.mark.parametrize("s,p,d,op,g", [(1, 0, 1, 0, 1), (2, 1, 1, 1, 1), (3, 1, 2, 0, 2),
                                        (2, 0, 1, 1, 3), (2, 2, 2, 1, 1)])
def test_conv_transpose(nsp, s, p, d, op, g):
    sp = {1: (7,), 2: (4, 5), 3: (3, 4, 3)}[nsp]
    ks = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}[nsp]
    x, w = rand(2, *sp, 6), rand(12, *ks, 6 // g)
    fn = {1: mx.conv_transpose1d, 2: mx.conv_transpose2d, 3: mx.conv_transpose3d}[nsp]
    args = (s, p, d, op) if nsp == 1 else tuple((v,) * nsp for v in (s, p, d, op))
    got = fn(A(x), A(w), *args, groups=g)
    want = conv_transpose_ref(x, w, [s] * nsp, [p] * nsp, [d] * nsp, [op] * nsp, g)
    check(got, want, "float64")


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("n,m", [(9, 4), (4, 9), (7, 7), (1, 5), (10, 1), (6, 3)])
def test_convolve(mode, n, m):
    a, v = rand(n), rand(m)
    got = mx.convolve(A(a), A(v), mode=mode)
    check(got, np.convolve(a, v, mode), "float64")
    got32 = mx.convolve(mx.array(a.astype(np.float32)), mx.array(v.astype(np.float32)), mode)
    assert got32.dtype == mx.float32
    check(got32, np.convolve(a, v, mode), "float32")


def test_empty_shapes():
    x = mx.zeros((0, 8, 4))
    assert mx.conv1d(x, mx.zeros((6, 3, 4))).shape == (0, 6, 6)
    y = mx.conv1d(mx.ones((2, 8, 4)), mx.zeros((0, 3, 4)))
    assert y.shape == (2, 6, 0)
    z = mx.conv1d(mx.ones((2, 8, 0)), mx.ones((6, 3, 0)))
    assert z.shape == (2, 6, 6) and not np.array(z).any()


def test_promotion():
    x = mx.ones((1, 5, 2), mx.float16)
    assert mx.conv1d(x, mx.ones((3, 2, 2), mx.float32)).dtype == mx.float32
    assert mx.conv1d(x, mx.ones((3, 2, 2), mx.bfloat16)).dtype == mx.float32
    assert mx.conv1d(mx.ones((1, 5, 2)), mx.ones((3, 2, 2), mx.int32)).dtype == mx.float32
    assert mx.convolve(mx.ones(4, mx.float64), mx.ones(2)).dtype == mx.float64


# ---------------------------------------------------------- recorded from MLX

def test_mlx_recorded_corner_cases():
    import json
    data = np.load(os.path.join(HERE, "data", "conv_mlx.npz"), allow_pickle=False)
    for i, (fn, kw) in enumerate(json.loads(str(data["cases"]))):
        kw = {k: tuple(v) if isinstance(v, list) and fn != "conv_general" else v
              for k, v in kw.items()}
        x, w = data[f"x{i}"], data[f"w{i}"]
        got = getattr(mx, fn)(mx.array(x), mx.array(w), **kw)
        want = data[f"out{i}"]
        assert got.shape == want.shape, (i, fn, kw)
        np.testing.assert_allclose(np.array(got), want, rtol=1e-5, atol=1e-5, err_msg=str(kw))


# -------------------------------------------------------------- gradients

def _fd_check(f, args, argnum, ntries=3, eps=1e-6):
    """<grad f, v> against the central difference of f along random directions v."""
    g = mx.grad(f, argnums=argnum)(*args)
    for _ in range(ntries):
        v = rand(*args[argnum].shape)
        plus = list(args)
        minus = list(args)
        plus[argnum] = args[argnum] + eps * A(v)
        minus[argnum] = args[argnum] - eps * A(v)
        fd = (f(*plus).item() - f(*minus).item()) / (2 * eps)
        an = float(np.sum(np.array(g) * v))
        assert abs(fd - an) <= 1e-6 * max(1.0, abs(fd)), (fd, an)


@pytest.mark.parametrize("nsp,s,lo,hi,kd,idl,groups,flip", [
    (1, 2, 1, 0, 2, 1, 1, False),
    (1, 3, 0, 2, 1, 2, 2, True),
    (2, 2, 1, 1, 1, 1, 2, False),
    (2, 1, 2, 0, 2, 2, 1, True),
    (2, 2, 0, 1, 2, 1, 4, False),
    (3, 2, 1, 0, 1, 2, 2, False),
])
def test_gradients_fd(nsp, s, lo, hi, kd, idl, groups, flip):
    sp = {1: (11,), 2: (7, 6), 3: (5, 4, 5)}[nsp]
    ks = {1: (3,), 2: (3, 2), 3: (2, 2, 2)}[nsp]
    x, w = A(rand(2, *sp, 4)), A(rand(4, *ks, 4 // groups))
    pad = ([lo] * nsp, [hi] * nsp)
    r = None

    def f(x, w):
        y = mx.conv_general(x, w, s, pad, kd, idl, groups, flip)
        return mx.sum(y * r) + 0.5 * mx.sum(y * y)

    r = A(rand(*mx.conv_general(x, w, s, pad, kd, idl, groups, flip).shape))
    _fd_check(f, (x, w), 0)
    _fd_check(f, (x, w), 1)


def test_transpose_and_convolve_gradients():
    x, w = A(rand(2, 5, 6, 4)), A(rand(4, 3, 2, 2))
    r = A(rand(*mx.conv_transpose2d(x, w, 2, 1, 1, 1, 2).shape))

    def f(x, w):
        return mx.sum(mx.conv_transpose2d(x, w, 2, 1, 1, 1, 2) ** 2 * r)
    _fd_check(f, (x, w), 0)
    _fd_check(f, (x, w), 1)
    a, v = A(rand(9)), A(rand(4))
    for mode in ("full", "same", "valid"):
        rr = A(rand(*mx.convolve(a, v, mode).shape))
        _fd_check(lambda a, v: mx.sum(mx.convolve(a, v, mode) ** 2 * rr), (a, v), 0)
        _fd_check(lambda a, v: mx.sum(mx.convolve(a, v, mode) ** 2 * rr), (a, v), 1)


def test_second_order():
    """The vjp is built from conv ops, so it differentiates again: the gradient of
    |dL/dx|^2 wrt w, against finite differences."""
    x, w = A(rand(2, 6, 5, 4)), A(rand(4, 2, 3, 2))
    r = A(rand(*mx.conv2d(x, w, 2, 1, 1, 2).shape))

    def inner(x, w):
        return mx.sum(mx.conv2d(x, w, 2, 1, 1, 2) * r)

    def outer(x, w):
        gx = mx.grad(inner, argnums=0)(x, w)
        gw = mx.grad(inner, argnums=1)(x, w * w)
        return mx.sum(gx * gx) + mx.sum(gw * gw)
    _fd_check(outer, (x, w), 1)
    _fd_check(outer, (x, w), 0)


def test_jvp():
    x, w = A(rand(2, 7, 4)), A(rand(6, 3, 2))
    tx, tw = A(rand(2, 7, 4)), A(rand(6, 3, 2))

    def f(x, w):
        return mx.conv1d(x, w, 2, 1, 1, 2)
    (out,), (t,) = mx.jvp(f, [x, w], [tx, tw])
    eps = 1e-6
    fd = (np.array(f(x + eps * tx, w + eps * tw)) - np.array(f(x - eps * tx, w - eps * tw))) / (2 * eps)
    np.testing.assert_allclose(np.array(t), fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("which", ["x", "w", "both"])
@pytest.mark.parametrize("groups", [1, 2])
def test_vmap(which, groups):
    B = 3
    xs = A(rand(B, 2, 6, 5, 4))
    ws = A(rand(B, 4, 3, 2, 4 // groups))

    def f(x, w):
        return mx.conv_general(x, w, (2, 1), ([1, 0], [0, 2]), (1, 2), 1, groups, True)
    in_axes = {"x": (0, None), "w": (None, 0), "both": (0, 0)}[which]
    # batch axes somewhere other than 0 too
    xb = mx.moveaxis(xs, 0, 2) if which != "w" else xs[0]
    wb = mx.moveaxis(ws, 0, 1) if which != "x" else ws[0]
    axes = (2 if which != "w" else None, 1 if which != "x" else None)
    got = mx.vmap(f, in_axes=axes)(xb, wb)
    want = [f(xs[b] if which != "w" else xs[0], ws[b] if which != "x" else ws[0])
            for b in range(B)]
    np.testing.assert_allclose(np.array(got), np.stack([np.array(v) for v in want]),
                               rtol=1e-12, atol=1e-12)
    assert in_axes


def test_vmap_of_grad():
    xs, w = A(rand(3, 2, 8, 4)), A(rand(5, 3, 4))

    def loss(x, w):
        return mx.sum(mx.conv1d(x, w, 2, 1) ** 2)
    got = mx.vmap(mx.grad(loss, argnums=1), in_axes=(0, None))(xs, w)
    want = np.stack([np.array(mx.grad(loss, argnums=1)(xs[i], w)) for i in range(3)])
    np.testing.assert_allclose(np.array(got), want, rtol=1e-12, atol=1e-12)


# ------------------------------------------------- threads and SIMD levels

_CHILD = r"""
import hashlib, json, numpy as np, mlxc.core as mx
rng = np.random.default_rng(7)
res = {"isa": mx.cpu_info()["isa"]}
cases = {
  "gemm": ((4, 23, 21, 40), (70, 3, 3, 40), dict(stride=1, padding=1)),
  "strided": ((3, 30, 29, 24), (48, 3, 3, 12), dict(stride=2, padding=1, groups=2)),
  "dw": ((2, 31, 30, 36), (36, 3, 3, 1), dict(padding=1, groups=36)),
  "pw": ((2, 33, 30, 40), (50, 1, 1, 40), {}),
}
for name, (xs, ws, kw) in cases.items():
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    for dt in ("float32", "float16", "float64"):
        d = getattr(mx, dt)
        y = mx.conv2d(mx.array(x).astype(d), mx.array(w).astype(d), **kw)
        res[name + dt] = hashlib.sha256(np.array(y.astype(mx.float32) if dt == "float16" else y).tobytes()).hexdigest()
        if dt == "float32":
            res[name + "vals"] = np.array(y).ravel()[::97].tolist()
x = rng.standard_normal((2, 300, 16)).astype(np.float32)
w = rng.standard_normal((20, 5, 16)).astype(np.float32)
gx, gw = mx.grad(lambda x, w: mx.sum(mx.conv1d(x, w, 2, 2) ** 2), argnums=(0, 1))(mx.array(x), mx.array(w))
res["grad"] = hashlib.sha256(np.array(gx).tobytes() + np.array(gw).tobytes()).hexdigest()
print(json.dumps(res))
"""


def _child(**env):
    from helpers import child_json
    return child_json(_CHILD, timeout=300, **env)


@pytest.mark.mlxc_only
def test_thread_counts_bit_identical():
    outs = [_child(MLXC_NUM_THREADS=str(n)) for n in (1, 2, 3)]
    assert outs[0] == outs[1] == outs[2]


_ORDER = ["scalar", "avx2", "avx512"]


@pytest.mark.mlxc_only
@pytest.mark.parametrize("level", _ORDER)
def test_isa_levels(level):
    detected = mx.cpu_info()["isa"]
    if detected not in _ORDER or _ORDER.index(level) > _ORDER.index(detected):
        pytest.skip(f"{level} not available")
    out = _child(MLXC_CPU_ISA=level, MLXC_NUM_THREADS="2")
    assert out["isa"] == level
    rng = np.random.default_rng(7)
    shapes = {
        "gemm": ((4, 23, 21, 40), (70, 3, 3, 40), 1, 1, 1),
        "strided": ((3, 30, 29, 24), (48, 3, 3, 12), 2, 1, 2),
        "dw": ((2, 31, 30, 36), (36, 3, 3, 1), 1, 1, 36),
        "pw": ((2, 33, 30, 40), (50, 1, 1, 40), 1, 0, 1),
    }
    for name, (xs, ws, s, p, g) in shapes.items():
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        want = conv_general_ref(x, w, [s, s], [p, p], [p, p], [1, 1], [1, 1], g, False)
        np.testing.assert_allclose(out[name + "vals"], want.ravel()[::97], rtol=1e-4,
                                   atol=1e-4)


# ---------------------------------------------------------------- errors

def _err(exc, match, f, *a, **k):
    with pytest.raises(exc, match=match):
        f(*a, **k)


def test_errors():
    x, w = mx.zeros((2, 8, 8, 4)), mx.zeros((6, 3, 3, 4))
    _err(ValueError, r"\[conv\] Expect the input channels", mx.conv2d, x, mx.zeros((6, 3, 3, 3)))
    _err(ValueError, r"divisible by the number of groups.*3 groups", mx.conv2d, x,
         mx.zeros((6, 3, 3, 4)), groups=3)
    _err(ValueError, r"output channels must be divisible.*6 output channels and 4 groups",
         mx.conv2d, x, mx.zeros((6, 3, 3, 1)), groups=4)
    _err(ValueError, r"groups=2 .*expected to have 2 input channels", mx.conv2d, x,
         mx.zeros((6, 3, 3, 1)), groups=2)
    _err(ValueError, r"groups must be positive.*Got 0", mx.conv2d, x, w, groups=0)
    _err(ValueError, r"groups must be positive.*Got -1", mx.conv2d, x, w, groups=-1)
    _err(ValueError, r"Padding sizes must be non-negative.*\(-1,-1\)", mx.conv2d, x, w,
         padding=-1)
    _err(ValueError, r"non-negative", mx.conv_general, x, w, padding=([1, 0], [0, -2]))
    _err(ValueError, r"non-negative", mx.conv_transpose2d, x, w, padding=-1)
    _err(ValueError, r"after padding cannot be smaller.*axis 1", mx.conv2d, x,
         mx.zeros((6, 9, 9, 4)))
    _err(ValueError, r"after padding cannot be smaller", mx.conv1d, mx.zeros((2, 0, 4)),
         mx.zeros((6, 3, 4)))
    _err(ValueError, r"Invalid weight array with 3 dimensions for 2D", mx.conv2d, x, w[0])
    _err(ValueError, r"Invalid weight array with 4 dimensions for 1D", mx.conv2d, x[0], w)
    _err(ValueError, r"1-3 spatial dimensions", mx.conv_general, mx.zeros((2, 4)),
         mx.zeros((6, 4)))
    _err(ValueError, r"1-3 spatial dimensions", mx.conv_general, mx.zeros((1, 2, 2, 2, 2, 4)),
         mx.zeros((6, 1, 1, 1, 1, 4)))
    _err(ValueError, r"Invalid input array with type int32", mx.conv2d, x.astype(mx.int32), w)
    _err(ValueError, r"Invalid input array with type complex64", mx.conv2d,
         x.astype(mx.complex64), w)
    _err(ValueError, r"Invalid input array with type complex64", mx.conv2d, x,
         w.astype(mx.complex64))
    _err(ValueError, r"Stride sizes must be positive. Got strides \(0,0\)", mx.conv2d, x, w,
         stride=0)
    _err(ValueError, r"Kernel dilation sizes must be positive", mx.conv2d, x, w, dilation=0)
    _err(ValueError, r"Input dilation sizes must be positive", mx.conv_general, x, w,
         input_dilation=0)
    _err(ValueError, r"Invalid strides \(1,1,1\) for 2D", mx.conv_general, x, w,
         stride=[1, 1, 1])
    _err(ValueError, r"Invalid padding \(1,2,5\) \| \(3,4,6\) for 2D", mx.conv_general, x, w,
         padding=([1, 2, 5], [3, 4, 6]))
    _err(ValueError, r"Invalid kernel dilation", mx.conv_general, x, w,
         kernel_dilation=[1, 1, 1])
    _err(TypeError, r"stride", mx.conv2d, x, w, stride=(1, 2, 3))
    _err(TypeError, r"padding", mx.conv2d, x, w, padding=1.5)
    _err(TypeError, r"stride", mx.conv1d, mx.zeros((2, 8, 4)), mx.zeros((6, 3, 4)), stride=(1,))
    _err(ValueError, r"\[convolve\] Inputs must be 1D", mx.convolve, mx.zeros((3, 2)),
         mx.zeros(7))
    _err(ValueError, r"\[convolve\] Inputs cannot be empty", mx.convolve, mx.zeros(0),
         mx.zeros(3))
    _err(ValueError, r"\[convolve\] Invalid mode", mx.convolve, mx.zeros(3), mx.zeros(3), "x")
    _err(ValueError, r"Invalid input array with type int32", mx.convolve,
         mx.zeros(3, mx.int32), mx.zeros(7, mx.int32))
    _err(TypeError, r"convolve", mx.convolve, mx.zeros(3), 2.0)
