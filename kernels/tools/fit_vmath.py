"""Fit the float32 vector-math polynomials of kernels/vmath_impl.h.

Near-minimax fits by Lawson's iteratively reweighted least squares on a dense
grid (float64 is plenty for float32 targets), reference values from mpmath at
60 digits.  Coefficients are rounded to float32 one at a time from the lowest
order up, refitting the remaining ones after each rounding, so the rounding
error of the first (largest) coefficients is absorbed by the later ones.
Prints C initialisers and the max error of the rounded fit (float64 evaluation).

    python kernels/tools/fit_vmath.py [name ...]
"""
import sys

import mpmath as mp
import numpy as np

mp.mp.dps = 60
NPTS = 4000


def f32(v):
    return float(np.float32(v))


def lawson(A, b, w0, iters=60):
    """minimize max |w0 * (A c - b)| (approximately) over c"""
    w = np.ones(len(b))
    for _ in range(iters):
        sw = np.sqrt(w) * w0
        c, *_ = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)
        e = np.abs((A @ c - b) * w0)
        w = w * (e + 1e-300)
        w /= w.sum()
    return c


def fit(name, lo, hi, g, target, powers, fixed=(), rel=True, t0=None, scale=1.0):
    """Fit target(x) ~= g(x) + sum_j c_j * x**powers[j]  on [lo, hi].
    `fixed` pins leading coefficients (value known exactly, e.g. 1/2).
    rel: minimize relative error of the whole approximation.
    scale (a power of 2): solve in x/scale for conditioning; exact to undo."""
    x = np.concatenate([np.cos(np.linspace(np.pi, 0, NPTS)) * (hi - lo) / 2 + (hi + lo) / 2,
                        np.linspace(lo, hi, NPTS)])
    x = np.unique(x)
    if t0 is not None:
        x = x[np.abs(x) > t0]
    ref = np.array([float(target(mp.mpf(float(v)))) for v in x])
    base = g(x)
    coef = list(fixed)
    free = powers[len(fixed):]
    resid = ref - base - sum(c * x ** p for c, p in zip(coef, powers))
    w0 = 1 / np.abs(ref) if rel else np.ones_like(ref)
    # round one coefficient at a time, refit the rest
    for j in range(len(free)):
        A = np.stack([(x / scale) ** p for p in free[j:]], axis=1)
        c = lawson(A, resid, w0)
        cj = f32(c[0] / scale ** free[j])
        coef.append(cj)
        resid = resid - cj * x ** free[j]
    approx = base + sum(c * x ** p for c, p in zip(coef, powers))
    err = np.max(np.abs((approx - ref) * w0))
    print(f"/* {name}: [{lo:.6g}, {hi:.6g}] max {'rel' if rel else 'abs'} error "
          f"{err:.3g} (2^{np.log2(err):.1f}) */")
    for c, p in zip(coef, powers):
        print(f"    {c!r:>26}f,  /* x^{p}  ({np.float32(c).view(np.uint32):#010x}) */")
    return coef


ln2 = float(mp.log(2))
S2 = float(mp.sqrt(2))

FITS = {
    # e^r - 1 = r + r^2 (1/2 + c3 r + ...), |r| <= ln2/2 (shared by exp and expm1)
    "expm1": lambda: fit("expm1", -ln2 / 2 - 1e-3, ln2 / 2 + 1e-3, lambda r: r,
                         lambda r: mp.expm1(r), [2, 3, 4, 5, 6, 7], fixed=(0.5,)),
    # log(1+f) = f + f^2 P(f),  f in [sqrt(2)/2 - 1, sqrt(2) - 1]
    "log1p": lambda: fit("log1p", S2 / 2 - 1, S2 - 1, lambda f: f,
                         lambda f: mp.log1p(f), list(range(2, 11)), fixed=(-0.5,)),
    # sin r = r + r^3 S(r^2), cos r = 1 + r^2 C(r^2),  |r| <= pi/4
    "sin": lambda: fit("sin", -np.pi / 4 - 1e-3, np.pi / 4 + 1e-3, lambda r: r,
                       lambda r: mp.sin(r), [3, 5, 7, 9]),
    "cos": lambda: fit("cos", -np.pi / 4 - 1e-3, np.pi / 4 + 1e-3, lambda r: 1 + 0 * r,
                       lambda r: mp.cos(r), [2, 4, 6, 8, 10], fixed=(-0.5,)),
}


def erf_fits():
    # |x| < 3/4: erf x = x + x P(x^2) (P(0) = 2/sqrt(pi) - 1 keeps the leading
    # term's rounding error 8x smaller than a rounded 2/sqrt(pi) would)
    fit("erf small", -0.75, 0.75, lambda x: x, lambda x: mp.erf(x),
        [1, 3, 5, 7, 9, 11])
    # 3/4 <= |x| < 4.25 in width-1/2 pieces: erf(c + t) = 1 - Q(t), |t| <= 1/4,
    # Q ~ erfc(c + t) to an absolute error (the result is >= erf(3/4) = 0.71,
    # ulp 2^-24); fitting erfc rather than erf keeps Q's leading coefficient
    # exact to 2^-24 of erfc(c), not of erf(c) ~ 1
    for k in range(7):
        c = 1.0 + 0.5 * k
        fit(f"erf piece {k} (centre {c})", -0.25, 0.25, lambda t: 0 * t,
            lambda t, c=c: mp.erfc(c + t), list(range(0, 9)), rel=False, scale=0.25)


FITS["erf"] = erf_fits


def erfinv_fits():
    # erfinv x = x P(w - 2.5), w = -log(1-x^2) < 5   (Giles' split)
    def tgt_c(t):
        w = t + mp.mpf(2.5)
        x = mp.sqrt(-mp.expm1(-w))
        return mp.erfinv(x) / x
    fit("erfinv central (poly in w-2.5)", -2.5 + 1e-9, 2.5, lambda t: 0 * t, tgt_c, list(range(0, 11)))

    def tgt_t(t):
        w = (t + 3) ** 2
        x = mp.sqrt(-mp.expm1(-w))
        return mp.erfinv(x) / x
    fit("erfinv tail (poly in sqrt(w)-3)", float(mp.sqrt(5)) - 3, 4.1 - 3, lambda t: 0 * t,
        tgt_t, list(range(0, 10)))


FITS["erfinv"] = erfinv_fits

if __name__ == "__main__":
    for name in sys.argv[1:] or FITS:
        FITS[name]()
