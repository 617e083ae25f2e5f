// complex64 for mlxc's kernel files: the type, its arithmetic (as the CPU kernels'
// formulas: the plain product, Smith's division), |z|, exp, log, sqrt, the lexicographic
// order of sort and cummax/cummin, and SIMD shuffles (Metal's take scalars and vectors:
// a complex64 moves as its two float32 halves).  Included after mlxc_types.h.
#pragma once
#include "mlxc_types.h"

// A complex64 is two float32s (real, imaginary), as MLX and C store it.
struct c64 {
    float re, im;
};

inline c64 cx(float re, float im) {
    c64 r;
    r.re = re;
    r.im = im;
    return r;
}

inline c64 cmul(c64 a, c64 b) {
    return cx(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}

inline c64 cdiv(c64 a, c64 b) {                 // Smith's algorithm
    if (fabs(b.re) >= fabs(b.im)) {
        if (b.re == 0.0f && b.im == 0.0f) {
            return cx(a.re / b.re, a.im / b.re);
        }
        float r = b.im / b.re, d = b.re + b.im * r;
        return cx((a.re + a.im * r) / d, (a.im - a.re * r) / d);
    }
    float r = b.re / b.im, d = b.im + b.re * r;
    return cx((a.re * r + a.im) / d, (a.im * r - a.re) / d);
}

inline float cabs_(c64 z) {                     // hypot without overflow
    float a = fabs(z.re), b = fabs(z.im);
    if (isinf(a) || isinf(b)) {
        return INFINITY;
    }
    if (isnan(a) || isnan(b)) {                 // before max/min, which drop a NaN
        return NAN;
    }
    float hi = max(a, b), lo = min(a, b);
    if (hi == 0.0f) {
        return 0.0f;
    }
    float t = lo / hi;
    return hi * sqrt(1.0f + t * t);
}

inline c64 cexp_(c64 z) {
    if (isinf(z.re) && !isfinite(z.im)) {       // C99 Annex G: e^-inf -> 0, e^+inf -> inf
        return z.re < 0.0f ? cx(0.0f, copysign(0.0f, z.im)) : cx(INFINITY, NAN);
    }
    if (z.im == 0.0f) {
        return cx(exp(z.re), z.im);
    }
    float e = exp(z.re);
    return cx(e * cos(z.im), e * sin(z.im));
}

inline c64 clog_(c64 z) {
    if (isnan(z.re) || isnan(z.im)) {           // Annex G: |inf + i NaN| is inf
        return cx(isinf(z.re) || isinf(z.im) ? INFINITY : NAN, NAN);
    }
    float hi = max(fabs(z.re), fabs(z.im)), lo = min(fabs(z.re), fabs(z.im));
    float re;
    if (hi >= 0.5f && hi <= 2.0f) {
        // |z| near 1: log|z| = log1p(|z|^2 - 1) / 2 with hi - 1 exact (Sterbenz),
        // so the real part keeps its relative accuracy as it goes to 0
        float d = (hi - 1.0f) * (hi + 1.0f) + lo * lo;
        float u = 1.0f + d;
        re = 0.5f * (u == 1.0f ? d : log(u) * (d / (u - 1.0f)));
    } else {
        re = log(cabs_(z));
    }
    return cx(re, atan2(z.im, z.re));
}

inline c64 csqrt_(c64 z) {                      // principal root, no cancellation
    if (z.re == 0.0f && z.im == 0.0f) {
        return cx(0.0f, z.im);
    }
    if (isinf(z.im)) {
        return cx(INFINITY, z.im);
    }
    if (isnan(z.re) || isnan(z.im)) {           // Annex G: sqrt(+-inf + i NaN)
        return z.re == INFINITY ? cx(INFINITY, NAN) : z.re == -INFINITY ? cx(NAN, INFINITY)
                                                                         : cx(NAN, NAN);
    }
    float t = sqrt((fabs(z.re) + cabs_(z)) * 0.5f);
    if (z.re >= 0.0f) {
        return cx(t, z.im / (2.0f * t));
    }
    return cx(fabs(z.im) / (2.0f * t), copysign(t, z.im));
}

inline c64 cscale(c64 z, float s) {
    return cx(z.re * s, z.im * s);
}

inline c64 cadd(c64 a, c64 b) {
    return cx(a.re + b.re, a.im + b.im);
}

inline bool operator==(c64 a, c64 b) {
    return a.re == b.re && a.im == b.im;
}
inline bool operator!=(c64 a, c64 b) {
    return !(a == b);
}
inline bool cnonzero(c64 z) {                   // as a bool cast: either part nonzero
    return z.re != 0.0f || z.im != 0.0f;
}

// a < b by real part, then imaginary part (comparisons with NaN are false), as the
// CPU's cummax/cummin and scatter max/min
inline bool clex_less(c64 a, c64 b) {
    return a.re < b.re || (a.re == b.re && a.im < b.im);
}

// -1, 0, 1: x below, equal to, above y in the sort order of floats (NaN last, NaNs
// equal, -0 == +0)
inline int float_order(float x, float y) {
    bool nx = x != x, ny = y != y;
    if (nx || ny) {
        return nx == ny ? 0 : nx ? 1 : -1;
    }
    return x < y ? -1 : x > y ? 1 : 0;
}
// complex64 in the sort's (and searchsorted's) order: by real part, then imaginary part
inline int csort_order(c64 a, c64 b) {
    int c = float_order(a.re, b.re);
    return c != 0 ? c : float_order(a.im, b.im);
}

inline c64 simd_shuffle_down(c64 v, ushort d) {
    return cx(simd_shuffle_down(v.re, d), simd_shuffle_down(v.im, d));
}
inline c64 simd_shuffle_up(c64 v, ushort d) {
    return cx(simd_shuffle_up(v.re, d), simd_shuffle_up(v.im, d));
}
