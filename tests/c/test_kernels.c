/* Standalone checks of the mlxc C kernels against plain double-precision /
 * 64-bit-integer reference loops.  Every kernel is driven through several
 * layouts (contiguous, broadcast, negative strides, transposed) and every
 * dtype it accepts, with edge values (NaN, inf, -0, subnormals, INT_MIN, ...).
 * Prints a summary; exit status 1 on any failure. */
#include "mlxc_kernels.h"
#include "mlxc_cpu.h"
#include <complex.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ harness */
static long n_checks, n_fail;
static const char *ctx = "";
static char ctxbuf[256];
#define SETCTX(...) (snprintf(ctxbuf, sizeof ctxbuf, __VA_ARGS__), ctx = ctxbuf)
#define CHECK(cond, ...)                                                            \
    do {                                                                            \
        n_checks++;                                                                 \
        if (!(cond)) {                                                              \
            if (n_fail++ < 60) {                                                    \
                printf("FAIL [%s] %s:%d: ", ctx, __FILE__, __LINE__);               \
                printf(__VA_ARGS__);                                                \
                printf("\n");                                                       \
            }                                                                       \
        }                                                                           \
    } while (0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}
static double rndu(void) { return (double)(rnd() >> 11) * 0x1p-53; }

static const char *dtname[] = {"bool", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64",
                               "f16", "bf16", "f32", "f64", "c64"};
static const int isz[] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8, 8};
static int is_int(int dt) { return dt >= MLXC_UINT8 && dt <= MLXC_INT64; }
static int is_sint(int dt) { return dt >= MLXC_INT8 && dt <= MLXC_INT64; }
static int is_uint(int dt) { return dt >= MLXC_UINT8 && dt <= MLXC_UINT64; }
static int is_flt(int dt) { return dt >= MLXC_FLOAT16 && dt <= MLXC_FLOAT64; }
static int bits_of(int dt) { return isz[dt] * 8; }

static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* ----------------------------------------------- reference half rounding */
/* exact value of a binary16 from its fields */
static double ref_h2d(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    double s = (h & 0x8000) ? -1.0 : 1.0;
    if (e == 31) return m ? NAN : s * INFINITY;
    if (e == 0) return s * ldexp(m, -24);
    return s * ldexp(1024 + m, e - 25);
}
/* nearest binary16 to a double (ties to even), by binary search over the
 * ordered positive encodings; independent of the kernel's bit tricks */
static uint16_t ref_d2h(double x)
{
    if (isnan(x)) return 0x7e00;
    uint16_t s = signbit(x) ? 0x8000 : 0;
    double a = fabs(x);
    if (a >= 65520.0) return s | 0x7c00;
    int lo = 0, hi = 0x7bff;            /* find largest enc with value <= a */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (ref_h2d((uint16_t)mid) <= a) lo = mid; else hi = mid - 1;
    }
    double v0 = ref_h2d((uint16_t)lo), v1 = ref_h2d((uint16_t)(lo + 1));
    int r;
    if (a - v0 < v1 - a) r = lo;
    else if (a - v0 > v1 - a) r = lo + 1;
    else r = (lo & 1) ? lo + 1 : lo;
    return (uint16_t)(s | r);
}
static double ref_bf2d(uint16_t h) { return (double)u2f((uint32_t)h << 16); }
static uint16_t ref_d2bf(double x)
{
    if (isnan(x)) return 0x7fc0;
    uint16_t s = signbit(x) ? 0x8000 : 0;
    double a = fabs(x);
    /* largest encoding with value <= a */
    int lo = 0, hi = 0x7f80;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (ref_bf2d((uint16_t)mid) <= a) lo = mid; else hi = mid - 1;
    }
    if (lo == 0x7f80) return s | 0x7f80;
    double v0 = ref_bf2d((uint16_t)lo), v1 = lo + 1 == 0x7f80 ? ldexp(1.0, 128) : ref_bf2d((uint16_t)(lo + 1));
    int r;
    if (a - v0 < v1 - a) r = lo;
    else if (a - v0 > v1 - a) r = lo + 1;
    else r = (lo & 1) ? lo + 1 : lo;
    return (uint16_t)(s | r);
}

/* --------------------------------------------------- element access */
typedef struct { double re, im; int64_t i; } val;   /* i: integer value (u64: bits) */

static val getv(int dt, const void *base, int64_t k)
{
    val v = {0, 0, 0};
    const char *p = (const char *)base + k * isz[dt];
    switch (dt) {
    case MLXC_BOOL: v.i = *(const uint8_t *)p; break;
    case MLXC_UINT8: v.i = *(const uint8_t *)p; break;
    case MLXC_UINT16: v.i = *(const uint16_t *)p; break;
    case MLXC_UINT32: v.i = *(const uint32_t *)p; break;
    case MLXC_UINT64: v.i = (int64_t)*(const uint64_t *)p; break;
    case MLXC_INT8: v.i = *(const int8_t *)p; break;
    case MLXC_INT16: v.i = *(const int16_t *)p; break;
    case MLXC_INT32: v.i = *(const int32_t *)p; break;
    case MLXC_INT64: v.i = *(const int64_t *)p; break;
    case MLXC_FLOAT16: v.re = ref_h2d(*(const uint16_t *)p); break;
    case MLXC_BFLOAT16: v.re = ref_bf2d(*(const uint16_t *)p); break;
    case MLXC_FLOAT32: v.re = *(const float *)p; break;
    case MLXC_FLOAT64: v.re = *(const double *)p; break;
    case MLXC_COMPLEX64: v.re = ((const float *)p)[0]; v.im = ((const float *)p)[1]; break;
    }
    if (dt <= MLXC_INT64) v.re = dt == MLXC_UINT64 ? (double)(uint64_t)v.i : (double)v.i;
    return v;
}
/* wrap an integer to the dtype's width (two's complement) */
static int64_t wrapi(int dt, uint64_t x)
{
    switch (dt) {
    case MLXC_BOOL: return x != 0;
    case MLXC_UINT8: return (uint8_t)x;
    case MLXC_UINT16: return (uint16_t)x;
    case MLXC_UINT32: return (uint32_t)x;
    case MLXC_UINT64: return (int64_t)x;
    case MLXC_INT8: return (int8_t)x;
    case MLXC_INT16: return (int16_t)x;
    case MLXC_INT32: return (int32_t)x;
    default: return (int64_t)x;
    }
}
/* store: floats rounded correctly from double, ints wrapped */
static void setv(int dt, void *base, int64_t k, val v)
{
    char *p = (char *)base + k * isz[dt];
    switch (dt) {
    case MLXC_BOOL: *(uint8_t *)p = v.i != 0; break;
    case MLXC_UINT8: case MLXC_INT8: *(uint8_t *)p = (uint8_t)v.i; break;
    case MLXC_UINT16: case MLXC_INT16: *(uint16_t *)p = (uint16_t)v.i; break;
    case MLXC_UINT32: case MLXC_INT32: *(uint32_t *)p = (uint32_t)v.i; break;
    case MLXC_UINT64: case MLXC_INT64: *(uint64_t *)p = (uint64_t)v.i; break;
    case MLXC_FLOAT16: *(uint16_t *)p = ref_d2h(v.re); break;
    case MLXC_BFLOAT16: *(uint16_t *)p = ref_d2bf(v.re); break;
    case MLXC_FLOAT32: *(float *)p = (float)v.re; break;
    case MLXC_FLOAT64: *(double *)p = v.re; break;
    case MLXC_COMPLEX64: ((float *)p)[0] = (float)v.re; ((float *)p)[1] = (float)v.im; break;
    }
}
static val mkf(double re) { val v = {re, 0, 0}; return v; }
/* round a double to the dtype's precision */
static double rnd_to(int dt, double x)
{
    char b[8];
    setv(dt, b, 0, mkf(x));
    return getv(dt, b, 0).re;
}

/* a random value of dtype dt; 1 in 8 is an edge value */
static val rand_val(int dt, int specials)
{
    val v = {0, 0, 0};
    if (dt == MLXC_BOOL) { v.i = rnd() & 1; v.re = (double)v.i; return v; }
    if (is_int(dt)) {
        static const int64_t edges[] = {0, 1, -1, 2, -2, 7, -7, 3};
        uint64_t r = rnd();
        int bits = bits_of(dt);
        if ((r & 7) == 0) {
            int64_t e = edges[(r >> 3) & 7];
            switch ((r >> 6) & 3) {
            case 0: v.i = wrapi(dt, (uint64_t)e); break;
            case 1: v.i = wrapi(dt, is_sint(dt) ? (uint64_t)1 << (bits - 1) : ~(uint64_t)0); break;
            case 2: v.i = wrapi(dt, is_sint(dt) ? ((uint64_t)1 << (bits - 1)) - 1 : 0); break;
            default: v.i = wrapi(dt, (uint64_t)e * 13); break;
            }
        } else if ((r & 7) < 4) {
            v.i = wrapi(dt, (uint64_t)((int64_t)(rnd() % 41) - 20));
        } else {
            v.i = wrapi(dt, rnd());
        }
        v.re = dt == MLXC_UINT64 ? (double)(uint64_t)v.i : (double)v.i;
        return v;
    }
    double x;
    uint64_t r = rnd();
    if (specials && (r & 7) == 0) {
        static const double sp[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1.0, -1.0, 0.5,
                                    2.5, -2.5, 1e-40, -3e-5, 1e30, 65504.0, 1e-8, 3.0};
        x = sp[(r >> 3) & 15];
    } else if ((r & 7) < 5) {
        x = (rndu() * 2 - 1) * 8;
    } else if ((r & 7) < 7) {
        x = (rndu() * 2 - 1) * ldexp(1.0, (int)(rnd() % 40) - 20);
    } else {
        x = (double)((int)(rnd() % 21) - 10) * 0.5;   /* exact halves: ties */
    }
    if (dt == MLXC_COMPLEX64) {
        v.re = (float)x;
        v.im = (float)((rndu() * 2 - 1) * 4);
        if (specials && (rnd() & 15) == 0) v.im = (rnd() & 1) ? NAN : INFINITY;
        return v;
    }
    v.re = rnd_to(dt, x);
    return v;
}

/* ------------------------------------------------------------- views */
/* A view is a strided window onto a random physical buffer; the reference
 * reads it element by element through the same strides. */
typedef struct {
    int dt, ndim;
    int64_t shape[8], strides[8];
    char *buf;
    void *base;
    int64_t n;   /* logical element count */
    int64_t phys;  /* physical element count, buf[0..phys) */
} view;

enum { L_CONTIG, L_TRANS, L_NEG, L_BCAST, L_SCALAR, L_NLAYOUT };
static const char *lname[] = {"contig", "trans", "neg", "bcast", "scalar"};

static void view_make(view *v, int dt, int ndim, const int64_t *shape, int layout, int specials)
{
    v->dt = dt;
    v->ndim = ndim;
    v->n = 1;
    for (int d = 0; d < ndim; d++) { v->shape[d] = shape[d]; v->n *= shape[d]; }
    /* physical order: contiguous, or with dims reversed (transposed) */
    int64_t st = 1;
    for (int k = 0; k < ndim; k++) {
        int d = layout == L_TRANS ? k : ndim - 1 - k;
        v->strides[d] = st;
        st *= shape[d] > 0 ? shape[d] : 1;
    }
    if (layout == L_NEG)
        for (int d = 0; d < ndim; d++) if (d == 0 || d == ndim - 1) v->strides[d] = -v->strides[d];
    if (layout == L_BCAST)   /* every other dim broadcast, starting with the last */
        for (int d = ndim - 1; d >= 0; d -= 2) v->strides[d] = 0;
    if (layout == L_SCALAR)
        for (int d = 0; d < ndim; d++) v->strides[d] = 0;
    int64_t lo = 0, hi = 0;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 0) continue;
        int64_t e = v->strides[d] * (shape[d] - 1);
        if (e < 0) lo += e; else hi += e;
    }
    int64_t phys = hi - lo + 1;
    v->phys = phys;
    v->buf = malloc((size_t)(phys * isz[dt]) + 8);
    for (int64_t i = 0; i < phys; i++) setv(dt, v->buf, i, rand_val(dt, specials));
    v->base = v->buf - lo * isz[dt];
}
static void view_free(view *v) { free(v->buf); v->buf = NULL; }
/* physical offset of logical (row-major) element k */
static int64_t view_off(const view *v, int64_t k)
{
    int64_t off = 0;
    for (int d = v->ndim - 1; d >= 0; d--) {
        off += (k % v->shape[d]) * v->strides[d];
        k /= v->shape[d];
    }
    return off;
}
static val view_get(const view *v, int64_t k) { return getv(v->dt, v->base, view_off(v, k)); }

/* ------------------------------------------------------ comparisons */
static int prec_of(int dt) { return dt == MLXC_FLOAT16 ? 11 : dt == MLXC_BFLOAT16 ? 8 : dt == MLXC_FLOAT64 ? 53 : 24; }
static int emin_of(int dt) { return dt == MLXC_FLOAT16 ? -14 : dt == MLXC_FLOAT64 ? -1022 : -126; }
static double ulp_of(int dt, double x)
{
    int e;
    frexp(x, &e);
    e -= 1;
    if (x == 0 || e < emin_of(dt)) e = emin_of(dt);
    return ldexp(1.0, e - prec_of(dt) + 1);
}
/* floats: NaN == NaN, infinities exact, otherwise within tol ulps (scale:
 * the magnitude that sets the ulp, usually |ref|) */
static int close_f(int dt, double got, double ref, double tol, double scale)
{
    if (isnan(ref) || isnan(got)) return isnan(ref) && isnan(got);
    if (isinf(ref) || isinf(got)) {
        if (got == ref) return 1;
        /* a finite reference beyond the type's range rounds to inf */
        return tol > 0 && fabs(got - ref) <= tol * ulp_of(dt, fabs(ref) > fabs(got) ? got : ref);
    }
    if (tol == 0) return got == ref && !signbit(got) == !signbit(ref);
    return fabs(got - ref) <= tol * ulp_of(dt, fmax(fabs(ref), scale));
}
static int same_val(int dt, val got, val ref, double tol)
{
    if (dt == MLXC_BOOL || is_int(dt)) return got.i == ref.i;
    if (dt == MLXC_COMPLEX64) {
        double sc = fmax(fabs(ref.re), fabs(ref.im));
        return close_f(MLXC_FLOAT32, got.re, ref.re, tol, tol ? sc : 0)
            && close_f(MLXC_FLOAT32, got.im, ref.im, tol, tol ? sc : 0);
    }
    return close_f(dt, got.re, ref.re, tol, 0);
}
static void fmt_val(char *s, size_t n, int dt, val v)
{
    if (dt == MLXC_BOOL || is_int(dt)) snprintf(s, n, "%lld", (long long)v.i);
    else if (dt == MLXC_COMPLEX64) snprintf(s, n, "(%.9g%+.9gj)", v.re, v.im);
    else snprintf(s, n, "%.17g", v.re);
}
#define CHECK_VAL(dt, got, ref, tol, ...)                                           \
    do {                                                                            \
        char gs_[64], rs_[64], ms_[256];                                            \
        fmt_val(gs_, 64, dt, got);                                                  \
        fmt_val(rs_, 64, dt, ref);                                                  \
        snprintf(ms_, sizeof ms_, __VA_ARGS__);                                     \
        CHECK(same_val(dt, got, ref, tol), "%s: got %s want %s", ms_, gs_, rs_);    \
    } while (0)

/* test shapes (ndim, dims) */
typedef struct { int ndim; int64_t d[4]; } shp;
static const shp shapes[] = {
    {0, {0}}, {1, {1}}, {1, {37}}, {2, {3, 4}}, {3, {2, 3, 5}}, {2, {0, 3}}, {3, {4, 1, 9}},
    {4, {2, 1, 3, 2}},
};
#define NSHAPES ((int)(sizeof shapes / sizeof shapes[0]))

/* ============================================================ half */
static void test_half(void)
{
    SETCTX("half");
    long bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = mlxc_half_to_float((uint16_t)h);
        double r = ref_h2d((uint16_t)h);
        int ok = isnan(r) ? (isnan(f) && (f2u(f) >> 31) == (h >> 15)
                             && ((f2u(f) >> 13) & 0x3ff) == (h & 0x3ff))
                          : ((double)f == r && !signbit(f) == !signbit(r));
        if (!isnan(r)) ok = ok && mlxc_float_to_half(f) == h;   /* exact round trip */
        if (!ok && bad++ < 5) CHECK(0, "half %04x -> %g", h, (double)f);
    }
    CHECK(bad == 0, "%ld half->float mismatches", bad);
    /* every midpoint between neighbouring halves and its float neighbours */
    bad = 0;
    for (uint32_t k = 0; k < 0x7c00; k++) {
        double v0 = ref_h2d((uint16_t)k);
        double v1 = k + 1 < 0x7c00 ? ref_h2d((uint16_t)(k + 1)) : 65536.0;
        float mid = (float)((v0 + v1) / 2);
        float t[3] = {mid, nextafterf(mid, 0), nextafterf(mid, INFINITY)};
        for (int j = 0; j < 3; j++)
            for (int s = 0; s < 2; s++) {
                float x = s ? -t[j] : t[j];
                uint16_t got = mlxc_float_to_half(x), want = ref_d2h(x);
                if (got != want && bad++ < 5) CHECK(0, "f2h(%.9g) = %04x want %04x", (double)x, got, want);
            }
    }
    CHECK(bad == 0, "%ld float->half midpoint mismatches", bad);
    /* random float bit patterns */
    bad = 0;
    for (int i = 0; i < 300000; i++) {
        float x = u2f((uint32_t)rnd());
        if (i & 1) x = u2f((f2u(x) & 0x80ffffffu) | ((uint32_t)(96 + rnd() % 60) << 23));
        uint16_t got = mlxc_float_to_half(x);
        if (isnan(x)) {
            if (!((got & 0x7c00) == 0x7c00 && (got & 0x3ff) && (got >> 15) == (f2u(x) >> 31)) && bad++ < 5)
                CHECK(0, "f2h(nan %08x) = %04x", f2u(x), got);
            continue;
        }
        uint16_t want = ref_d2h(x);
        if (got != want && bad++ < 5) CHECK(0, "f2h(%.9g) = %04x want %04x", (double)x, got, want);
        uint16_t gb = mlxc_float_to_bf16(x), wb = ref_d2bf(x);
        if (gb != wb && bad++ < 5) CHECK(0, "f2bf(%.9g) = %04x want %04x", (double)x, gb, wb);
    }
    CHECK(bad == 0, "%ld random float->half/bf16 mismatches", bad);
    /* bf16: every encoding, and NaNs stay NaN with their sign */
    bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = mlxc_bf16_to_float((uint16_t)h);
        if (f2u(f) != h << 16) bad++;
        if (!isnan(f) && mlxc_float_to_bf16(f) != h) bad++;
    }
    CHECK(bad == 0, "%ld bf16 round-trip mismatches", bad);
    uint16_t q = mlxc_float_to_bf16(u2f(0xff800001u));   /* signalling NaN, payload only low */
    CHECK((q & 0x7f80) == 0x7f80 && (q & 0x7f) && (q & 0x8000), "bf16 nan %04x", q);
    q = mlxc_float_to_half(u2f(0x7f800001u));
    CHECK((q & 0x7c00) == 0x7c00 && (q & 0x3ff), "half nan %04x", q);
    CHECK(mlxc_float_to_half(65519.99f) == 0x7bff && mlxc_float_to_half(65520.0f) == 0x7c00, "half overflow");
    CHECK(mlxc_float_to_bf16(FLT_MAX) == 0x7f80 && mlxc_float_to_half(1e-8f) == 0, "overflow/underflow");
    CHECK(mlxc_float_to_half(-0.0f) == 0x8000 && mlxc_float_to_bf16(-0.0f) == 0x8000, "-0");
}

/* ============================================================ copy */
/* reference cast; returns 0 when the result is unspecified (float -> int out
 * of range or NaN) */
static int ref_cast(int sdt, val v, int ddt, val *out)
{
    val r = {0, 0, 0};
    int sf = is_flt(sdt) || sdt == MLXC_COMPLEX64;
    if (ddt == MLXC_BOOL) {
        r.i = sf ? (v.re != 0 || v.im != 0 || isnan(v.re)) : v.i != 0;
    } else if (is_int(ddt)) {
        if (sf) {
            double t = trunc(v.re);
            double lo = is_sint(ddt) ? -ldexp(1, bits_of(ddt) - 1) : 0;
            double hi = is_sint(ddt) ? ldexp(1, bits_of(ddt) - 1) : ldexp(1, bits_of(ddt));
            if (!(t >= lo && t < hi)) return 0;
            r.i = is_uint(ddt) && t >= ldexp(1, 63) ? (int64_t)(uint64_t)t : (int64_t)t;
        } else {
            r.i = wrapi(ddt, (uint64_t)v.i);
        }
    } else {
        if (sf) { r.re = v.re; r.im = v.im; }
        else r.re = sdt == MLXC_UINT64 ? (double)(long double)(uint64_t)v.i : (double)(long double)v.i;
        if (ddt == MLXC_FLOAT32 && !sf)   /* one correct rounding from the exact integer */
            r.re = sdt == MLXC_UINT64 ? (float)(long double)(uint64_t)v.i : (float)(long double)v.i;
        if (ddt == MLXC_COMPLEX64) { r.re = (float)r.re; r.im = (float)r.im;
            if (!sf) r.re = sdt == MLXC_UINT64 ? (float)(long double)(uint64_t)v.i : (float)(long double)v.i; }
        else {
            r.im = 0;
            /* to float16/bfloat16 the kernels (like MLX) go through float32, so
             * wide sources (int64, float64) may be rounded twice */
            if (ddt == MLXC_FLOAT16 || ddt == MLXC_BFLOAT16)
                r.re = sf ? (float)r.re : sdt == MLXC_UINT64 ? (float)(long double)(uint64_t)v.i : (float)(long double)v.i;
            r.re = rnd_to(ddt, r.re);
        }
    }
    if (is_int(ddt) || ddt == MLXC_BOOL) r.re = ddt == MLXC_UINT64 ? (double)(uint64_t)r.i : (double)r.i;
    *out = r;
    return 1;
}

/* copy also sees shapes big enough for its tiled transpose path */
static const shp cshapes[] = {
    {0, {0}}, {1, {37}}, {2, {3, 4}}, {3, {2, 3, 5}}, {2, {0, 3}}, {4, {2, 1, 3, 2}},
    {2, {40, 70}}, {3, {2, 33, 65}},
};
#define NCSHAPES ((int)(sizeof cshapes / sizeof cshapes[0]))

static void test_copy(void)
{
    for (int s = 0; s < MLXC_NUM_DTYPES; s++)
        for (int d = 0; d < MLXC_NUM_DTYPES; d++)
            for (int si = 0; si < NCSHAPES; si++)
                for (int lay = 0; lay < L_NLAYOUT; lay++) {
                    const shp *sh = &cshapes[si];
                    SETCTX("copy %s->%s shape#%d %s", dtname[s], dtname[d], si, lname[lay]);
                    view in;
                    view_make(&in, s, sh->ndim, sh->d, lay, 1);
                    /* output: contiguous, or strided the other way round */
                    view out;
                    view_make(&out, d, sh->ndim, sh->d, lay == L_CONTIG ? L_NEG : lay == L_TRANS ? L_CONTIG : L_TRANS, 0);
                    int rc = mlxc_copy(s, d, out.base, out.strides, in.base, in.strides, sh->ndim, sh->d);
                    CHECK(rc == MLXC_OK, "rc %d", rc);
                    for (int64_t k = 0; k < in.n; k++) {
                        val want, x = view_get(&in, k);
                        if (!ref_cast(s, x, d, &want)) continue;
                        val got = view_get(&out, k);
                        if (s == d && (s == MLXC_FLOAT16 || s == MLXC_BFLOAT16)) {
                            /* same dtype moves bits exactly */
                            uint16_t a = *(uint16_t *)((char *)in.base + view_off(&in, k) * 2);
                            uint16_t b = *(uint16_t *)((char *)out.base + view_off(&out, k) * 2);
                            CHECK(a == b, "bits %04x vs %04x", a, b);
                        } else {
                            CHECK_VAL(d, got, want, 0, "k=%lld", (long long)k);
                        }
                    }
                    view_free(&in);
                    view_free(&out);
                }
    /* float -> int outside the range: no trap, and x86's values (as MLX on x86) */
    SETCTX("copy float->int out of range");
    float fin[5] = {-1.0f, 300.0f, NAN, -129.0f, 1e10f};
    uint8_t u8[5];
    int64_t n5 = 5, one = 1;
    mlxc_copy(MLXC_FLOAT32, MLXC_UINT8, u8, &one, fin, &one, 1, &n5);
    CHECK(u8[0] == 255 && u8[1] == 44 && u8[2] == 0 && u8[3] == 127 && u8[4] == 0, "u8 %d %d %d %d %d",
          u8[0], u8[1], u8[2], u8[3], u8[4]);
    double din[4] = {-1.0, 1e20, NAN, -1e20};
    int64_t n4 = 4;
    int32_t i32[4];
    uint32_t u32[4];
    uint64_t u64[4];
    int64_t i64[4];
    mlxc_copy(MLXC_FLOAT64, MLXC_INT32, i32, &one, din, &one, 1, &n4);
    CHECK(i32[0] == -1 && i32[1] == INT32_MIN && i32[2] == INT32_MIN && i32[3] == INT32_MIN, "i32");
    mlxc_copy(MLXC_FLOAT64, MLXC_UINT32, u32, &one, din, &one, 1, &n4);
    CHECK(u32[0] == UINT32_MAX && u32[1] == 0 && u32[2] == 0, "u32 %u %u %u", u32[0], u32[1], u32[2]);
    mlxc_copy(MLXC_FLOAT64, MLXC_UINT64, u64, &one, din, &one, 1, &n4);
    CHECK(u64[0] == UINT64_MAX && u64[1] == 0 && u64[2] == (uint64_t)1 << 63, "u64");
    mlxc_copy(MLXC_FLOAT64, MLXC_INT64, i64, &one, din, &one, 1, &n4);
    CHECK(i64[0] == -1 && i64[1] == INT64_MIN && i64[2] == INT64_MIN && i64[3] == INT64_MIN, "i64");
    double inf2[2] = {INFINITY, -INFINITY};
    int64_t n2 = 2;
    mlxc_copy(MLXC_FLOAT64, MLXC_INT16, i32, &one, inf2, &one, 1, &n2);   /* no trap */
    CHECK(mlxc_copy(MLXC_NUM_DTYPES, MLXC_INT16, i32, &one, inf2, &one, 1, &n2) == MLXC_ERR_UNSUPPORTED, "bad dtype");
}

static void test_fill_arange(void)
{
    for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++) {
        SETCTX("fill %s", dtname[dt]);
        char v[8], buf[40 * 8];
        val x = rand_val(dt, 1);
        setv(dt, v, 0, x);
        memset(buf, 0x5a, sizeof buf);
        CHECK(mlxc_fill(dt, buf, 37, v) == MLXC_OK, "rc");
        for (int i = 0; i < 37; i++) CHECK(memcmp(buf + i * isz[dt], v, (size_t)isz[dt]) == 0, "elem %d", i);
        CHECK((unsigned char)buf[37 * isz[dt]] == 0x5a, "wrote past the end");
        CHECK(mlxc_fill(dt, buf, 0, v) == MLXC_OK, "n=0");

        static const double starts[] = {0, -3.5, 2, 0.1};
        static const double steps[] = {1, 0.5, -0.75, 0.1};
        for (int c = 0; c < 4; c++) {
            SETCTX("arange %s start %g step %g", dtname[dt], starts[c], steps[c]);
            memset(buf, 0x5a, sizeof buf);
            CHECK(mlxc_arange(dt, buf, 20, starts[c], steps[c]) == MLXC_OK, "rc");
            for (int i = 0; i < 20; i++) {
                double r = starts[c] + (double)i * steps[c];
                val want;
                if (!ref_cast(MLXC_FLOAT64, mkf(r), dt, &want)) continue;
                CHECK_VAL(dt, getv(dt, buf, i), want, 0, "i=%d", i);
            }
            CHECK((unsigned char)buf[20 * isz[dt]] == 0x5a, "wrote past the end");
        }
    }
}

/* ============================================================ unary */
/* erfinv by bisection on erf / erfc: slow, independent of the kernel */
static double ref_erfinv(double x)
{
    if (isnan(x) || fabs(x) > 1) return NAN;
    if (fabs(x) == 1) return copysign(INFINITY, x);
    if (x == 0) return x;
    double a = fabs(x), lo = 0, hi = 30;
    for (int i = 0; i < 200; i++) {
        double m = (lo + hi) / 2;
        int below = a > 0.5 ? (erfc(m) > 1 - a) : (erf(m) < a);
        if (below) lo = m; else hi = m;
        if (hi - lo <= 0) break;
    }
    return copysign((lo + hi) / 2, x);
}

static int unary_odt(int op, int dt)
{
    if (op >= MLXC_ISNAN && op <= MLXC_ISNEGINF) return MLXC_BOOL;
    if (dt == MLXC_COMPLEX64 && (op == MLXC_ABS || op == MLXC_REAL || op == MLXC_IMAG)) return MLXC_FLOAT32;
    return dt;
}

/* expected result; returns 0 if (op, dt) must be unsupported, 2 if the value
 * is not checked.  *tol: allowed ulps (0: exact) */
static int ref_unary(int op, int dt, val x, val *out, double *tol)
{
    val r = {0, 0, 0};
    *tol = 0;
    int cplx = dt == MLXC_COMPLEX64, flt = is_flt(dt), isb = dt == MLXC_BOOL;
    int odt = unary_odt(op, dt);
    if (isb || is_int(dt)) {
        int64_t i = x.i;
        uint64_t u = (uint64_t)i;
        switch (op) {
        case MLXC_ABS: r.i = wrapi(dt, is_sint(dt) && i < 0 ? 0 - u : u); break;
        case MLXC_NEG: if (isb) return 0; r.i = wrapi(dt, 0 - u); break;
        case MLXC_SIGN: r.i = is_uint(dt) || isb ? (u != 0) : (i > 0) - (i < 0); break;
        case MLXC_SQUARE: r.i = wrapi(dt, u * u); break;
        case MLXC_FLOOR: case MLXC_CEIL: case MLXC_ROUND: case MLXC_CONJ: case MLXC_REAL: r.i = i; break;
        case MLXC_IMAG: case MLXC_ISNAN: case MLXC_ISINF: case MLXC_ISPOSINF: case MLXC_ISNEGINF: r.i = 0; break;
        case MLXC_ISFINITE: r.i = 1; break;
        case MLXC_LOGICAL_NOT: if (!isb) return 0; r.i = !i; break;
        case MLXC_BITWISE_INVERT: r.i = isb ? !i : wrapi(dt, ~u); break;
        default: return 0;
        }
        r.re = dt == MLXC_UINT64 ? (double)(uint64_t)r.i : (double)r.i;
        *out = r;
        return 1;
    }
    if (cplx) {
        double complex z = CMPLX(x.re, x.im), w = 0;
        int finite = isfinite(x.re) && isfinite(x.im);
        *tol = 8;
        switch (op) {
        case MLXC_ABS: r.re = (float)cabs(z); *tol = 2; *out = r; return 1;
        case MLXC_REAL: r.re = x.re; *tol = 0; *out = r; return 1;
        case MLXC_IMAG: r.re = x.im; *tol = 0; *out = r; return 1;
        case MLXC_ISNAN: r.i = isnan(x.re) || isnan(x.im); *out = r; return 1;
        case MLXC_ISINF: r.i = isinf(x.re) || isinf(x.im); *out = r; return 1;
        case MLXC_ISFINITE: r.i = finite; *out = r; return 1;
        case MLXC_NEG: w = -z; *tol = 0; break;
        case MLXC_CONJ: w = conj(z); *tol = 0; break;
        case MLXC_SIGN: w = z == 0 ? 0 : z / cabs(z); break;
        case MLXC_SQUARE: w = z * z; break;
        case MLXC_SQRT: w = csqrt(z); break;
        case MLXC_RSQRT: w = 1.0 / csqrt(z); break;
        case MLXC_RECIPROCAL: w = 1.0 / z; break;
        case MLXC_EXP: w = cexp(z); break;
        case MLXC_LOG: w = clog(z); break;
        case MLXC_LOG2: w = clog(z) / log(2.0); break;
        case MLXC_LOG10: w = clog(z) / log(10.0); break;
        case MLXC_SIN: w = csin(z); break;
        case MLXC_COS: w = ccos(z); break;
        case MLXC_TAN: w = ctan(z); break;
        case MLXC_ARCSIN: w = casin(z); break;
        case MLXC_ARCCOS: w = cacos(z); break;
        case MLXC_ARCTAN: w = catan(z); break;
        case MLXC_SINH: w = csinh(z); break;
        case MLXC_COSH: w = ccosh(z); break;
        case MLXC_TANH: w = ctanh(z); break;
        case MLXC_ARCSINH: w = casinh(z); break;
        case MLXC_ARCCOSH: w = cacosh(z); break;
        case MLXC_ARCTANH: w = catanh(z); break;
        default: return 0;
        }
        r.re = (float)creal(w);
        r.im = (float)cimag(w);
        *out = r;
        /* non-finite complex inputs follow C99 Annex G for the libm functions;
         * only the finite ones are compared, and big results lose accuracy */
        if (!finite || !isfinite(r.re) || !isfinite(r.im)) return 2;
        if (fmax(fabs(x.re), fabs(x.im)) > 20 && op != MLXC_NEG && op != MLXC_CONJ) return 2;
        return 1;
    }
    /* real floats */
    double v = x.re, y = 0;
    double tr = dt == MLXC_FLOAT64 ? 4 : (dt == MLXC_FLOAT32 ? 4 : 1);
    switch (op) {
    case MLXC_ABS: y = fabs(v); break;
    case MLXC_NEG: y = -v; break;
    case MLXC_SIGN: y = (v > 0) - (v < 0); break;
    case MLXC_SQRT: y = sqrt(v); break;
    case MLXC_RSQRT: y = 1 / sqrt(v); *tol = 1.5; break;
    case MLXC_SQUARE: y = v * v; if (dt == MLXC_FLOAT64) *tol = 0.5; break;
    case MLXC_RECIPROCAL: y = 1 / v; break;
    case MLXC_EXP: y = exp(v); *tol = tr; break;
    case MLXC_EXPM1: y = expm1(v); *tol = tr; break;
    case MLXC_LOG: y = log(v); *tol = tr; break;
    case MLXC_LOG1P: y = log1p(v); *tol = tr; break;
    case MLXC_LOG2: y = log2(v); *tol = tr; break;
    case MLXC_LOG10: y = log10(v); *tol = tr; break;
    case MLXC_SIN: y = sin(v); *tol = tr; break;
    case MLXC_COS: y = cos(v); *tol = tr; break;
    case MLXC_TAN: y = tan(v); *tol = tr; break;
    case MLXC_ARCSIN: y = asin(v); *tol = tr; break;
    case MLXC_ARCCOS: y = acos(v); *tol = tr; break;
    case MLXC_ARCTAN: y = atan(v); *tol = tr; break;
    case MLXC_SINH: y = sinh(v); *tol = tr; break;
    case MLXC_COSH: y = cosh(v); *tol = tr; break;
    case MLXC_TANH: y = tanh(v); *tol = tr; break;
    case MLXC_ARCSINH: y = asinh(v); *tol = tr; break;
    case MLXC_ARCCOSH: y = acosh(v); *tol = tr; break;
    case MLXC_ARCTANH: y = atanh(v); *tol = tr; break;
    case MLXC_SIGMOID:   /* MLX's 1/(1+exp(-x)): 0 once exp(-x) overflows the compute type */
        y = 1 / (1 + exp(-v));
        if (dt != MLXC_FLOAT64 && exp(-v) > FLT_MAX) y = 0;
        *tol = tr;
        break;
    case MLXC_ERF: y = erf(v); *tol = tr; break;
    case MLXC_ERFINV: y = ref_erfinv(v); *tol = dt == MLXC_FLOAT64 ? 8 : 2; break;
    case MLXC_FLOOR: y = floor(v); break;
    case MLXC_CEIL: y = ceil(v); break;
    case MLXC_ROUND: y = nearbyint(v); break;
    case MLXC_ISNAN: r.i = isnan(v) != 0; *out = r; return 1;
    case MLXC_ISINF: r.i = isinf(v) != 0; *out = r; return 1;
    case MLXC_ISFINITE: r.i = isfinite(v) != 0; *out = r; return 1;
    case MLXC_ISPOSINF: r.i = v == INFINITY; *out = r; return 1;
    case MLXC_ISNEGINF: r.i = v == -INFINITY; *out = r; return 1;
    case MLXC_CONJ: case MLXC_REAL: y = v; break;
    case MLXC_IMAG: y = 0; break;
    default: return 0;
    }
    (void)flt;
    r.re = rnd_to(odt, y);
    if (*tol == 0) r.re = rnd_to(odt, y);
    *out = r;
    /* float32 inputs far out (sin(1e30)) are fine for glibc, but the float
     * exp/sinh/cosh of large arguments overflow at the same place; keep all */
    return 1;
}

static void test_unary(void)
{
    for (int op = 0; op < MLXC_NUM_UNARY; op++)
        for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++) {
            val dummy;
            double tol;
            int sup = ref_unary(op, dt, rand_val(dt, 0), &dummy, &tol);
            int odt = unary_odt(op, dt);
            for (int si = 0; si < NSHAPES; si++)
                for (int lay = 0; lay < L_NLAYOUT; lay++) {
                    const shp *sh = &shapes[si];
                    SETCTX("unary op %d %s shape#%d %s", op, dtname[dt], si, lname[lay]);
                    view in;
                    view_make(&in, dt, sh->ndim, sh->d, lay, 1);
                    /* domain-limited inputs: fold into [-1, 1] sometimes */
                    if ((op == MLXC_ERFINV || op == MLXC_ARCSIN || op == MLXC_ARCCOS || op == MLXC_ARCTANH)
                        && is_flt(dt) && (rnd() & 1)) {
                        for (int64_t k = 0; k < in.n; k++) {
                            val x = view_get(&in, k);
                            if (isfinite(x.re) && fabs(x.re) > 1) x.re = rnd_to(dt, x.re / (1 + fabs(x.re)));
                            if (k == 0) x.re = (rnd() & 1) ? 1.0 : -1.0;
                            setv(dt, in.base, view_off(&in, k), x);
                        }
                    }
                    char *out = malloc((size_t)(in.n * isz[odt]) + 16);
                    memset(out, 0x5a, (size_t)(in.n * isz[odt]) + 16);
                    int rc = mlxc_unary(op, dt, out, in.base, sh->ndim, sh->d, in.strides);
                    if (!sup) {
                        CHECK(rc == MLXC_ERR_UNSUPPORTED, "expected UNSUPPORTED, rc %d", rc);
                    } else {
                        CHECK(rc == MLXC_OK, "rc %d", rc);
                        for (int64_t k = 0; k < in.n; k++) {
                            val x = view_get(&in, k), want;
                            if (ref_unary(op, dt, x, &want, &tol) != 1) continue;
                            char xs[64];
                            fmt_val(xs, 64, dt, x);
                            CHECK_VAL(odt, getv(odt, out, k), want, tol, "x=%s", xs);
                        }
                        CHECK((unsigned char)out[in.n * isz[odt]] == 0x5a, "wrote past the end");
                    }
                    free(out);
                    view_free(&in);
                    if (!sup) break;
                }
        }
    /* MLX values */
    SETCTX("unary specifics");
    float xs[6] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, NAN}, ys[6];
    int64_t n6 = 6, one = 1;
    mlxc_unary(MLXC_ROUND, MLXC_FLOAT32, ys, xs, 1, &n6, &one);
    CHECK(ys[0] == 0 && ys[1] == 2 && ys[2] == 2 && ys[3] == 0 && signbit(ys[3]) && ys[4] == -2 && isnan(ys[5]),
          "round half even");
    mlxc_unary(MLXC_SIGN, MLXC_FLOAT32, ys, xs, 1, &n6, &one);
    CHECK(ys[5] == 0, "sign(nan) = %g (MLX: 0)", (double)ys[5]);
    float e[4] = {1.0f, -1.0f, 1.5f, 0.5f};
    int64_t n4 = 4;
    mlxc_unary(MLXC_ERFINV, MLXC_FLOAT32, ys, e, 1, &n4, &one);
    CHECK(ys[0] == INFINITY && ys[1] == -INFINITY && isnan(ys[2]) && fabsf(ys[3] - 0.4769362762f) < 1e-7f,
          "erfinv %g %g %g %.9g", (double)ys[0], (double)ys[1], (double)ys[2], (double)ys[3]);
    float sg[3] = {-100.0f, 100.0f, 0.0f};
    int64_t n3 = 3;
    mlxc_unary(MLXC_SIGMOID, MLXC_FLOAT32, ys, sg, 1, &n3, &one);
    CHECK(ys[0] >= 0 && ys[0] < 1e-40f && ys[1] == 1 && ys[2] == 0.5f, "sigmoid");
    int8_t m8 = INT8_MIN, r8;
    mlxc_unary(MLXC_ABS, MLXC_INT8, &r8, &m8, 0, NULL, NULL);
    CHECK(r8 == INT8_MIN, "abs(INT8_MIN) wraps");
}

/* ============================================================ binary */
static uint64_t ref_ipow(uint64_t a, uint64_t e)
{
    uint64_t r = 1;
    while (e) { if (e & 1) r *= a; a *= a; e >>= 1; }
    return r;
}

/* tol < 0 from ref_binary means: complex, compare with |tol| ulps of *scale */
static int ref_binary(int op, int dt, val a, val b, val *out, double *tol, double *scale)
{
    val r = {0, 0, 0};
    *tol = 0;
    *scale = 0;
    int cmp = op >= MLXC_EQ && op <= MLXC_GE;
    if (dt == MLXC_BOOL) {
        int64_t x = a.i, y = b.i;
        switch (op) {
        case MLXC_ADD: case MLXC_MAXIMUM: case MLXC_LOGICAL_OR: case MLXC_BITWISE_OR: r.i = x | y; break;
        case MLXC_SUB: case MLXC_LOGICAL_XOR: case MLXC_BITWISE_XOR: r.i = x ^ y; break;
        case MLXC_MUL: case MLXC_MINIMUM: case MLXC_LOGICAL_AND: case MLXC_BITWISE_AND: r.i = x & y; break;
        case MLXC_EQ: r.i = x == y; break;
        case MLXC_NE: r.i = x != y; break;
        case MLXC_LT: r.i = x < y; break;
        case MLXC_LE: r.i = x <= y; break;
        case MLXC_GT: r.i = x > y; break;
        case MLXC_GE: r.i = x >= y; break;
        default: return 0;
        }
        r.re = (double)r.i;
        *out = r;
        return 1;
    }
    if (is_int(dt)) {
        int s = is_sint(dt), w = bits_of(dt);
        int64_t x = a.i, y = b.i;
        uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
        switch (op) {
        case MLXC_ADD: r.i = wrapi(dt, ux + uy); break;
        case MLXC_SUB: r.i = wrapi(dt, ux - uy); break;
        case MLXC_MUL: r.i = wrapi(dt, ux * uy); break;
        case MLXC_DIV:
            if (y == 0) r.i = 0;
            else if (s && y == -1) r.i = wrapi(dt, 0 - ux);
            else r.i = s ? x / y : (int64_t)(ux / uy);
            break;
        case MLXC_FLOOR_DIV:
            if (y == 0) r.i = 0;
            else if (s && y == -1) r.i = wrapi(dt, 0 - ux);
            else if (!s) r.i = (int64_t)(ux / uy);
            else { r.i = x / y; if (x % y != 0 && ((x < 0) != (y < 0))) r.i--; }
            break;
        case MLXC_REMAINDER:
            if (y == 0) r.i = x;
            else if (s && y == -1) r.i = 0;
            else if (!s) r.i = (int64_t)(ux % uy);
            else { r.i = x % y; if (r.i != 0 && ((r.i < 0) != (y < 0))) r.i += y; }
            break;
        case MLXC_POWER:
            if (s && y < 0) r.i = x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0;
            else r.i = wrapi(dt, ref_ipow(ux, uy));
            break;
        case MLXC_MAXIMUM: r.i = (s ? x > y : ux > uy) ? x : y; break;
        case MLXC_MINIMUM: r.i = (s ? x < y : ux < uy) ? x : y; break;
        case MLXC_EQ: r.i = x == y; break;
        case MLXC_NE: r.i = x != y; break;
        case MLXC_LT: r.i = s ? x < y : ux < uy; break;
        case MLXC_LE: r.i = s ? x <= y : ux <= uy; break;
        case MLXC_GT: r.i = s ? x > y : ux > uy; break;
        case MLXC_GE: r.i = s ? x >= y : ux >= uy; break;
        case MLXC_BITWISE_AND: r.i = wrapi(dt, ux & uy); break;
        case MLXC_BITWISE_OR: r.i = wrapi(dt, ux | uy); break;
        case MLXC_BITWISE_XOR: r.i = wrapi(dt, ux ^ uy); break;
        case MLXC_LEFT_SHIFT:
            if ((s && y < 0) || (s ? y >= w : uy >= (uint64_t)w)) r.i = 0;
            else r.i = wrapi(dt, ux << uy);
            break;
        case MLXC_RIGHT_SHIFT:
            if ((s && y < 0) || (s ? y >= w : uy >= (uint64_t)w)) r.i = s && x < 0 ? -1 : 0;
            else if (!s) r.i = (int64_t)(ux >> uy);
            else r.i = (int64_t)floorl(ldexpl((long double)x, -(int)y));   /* floor division by 2^y */
            break;
        default: return 0;
        }
        if (!cmp) r.re = dt == MLXC_UINT64 ? (double)(uint64_t)r.i : (double)r.i;
        else r.re = (double)r.i;
        *out = r;
        return 1;
    }
    if (dt == MLXC_COMPLEX64) {
        double complex x = CMPLX(a.re, a.im), y = CMPLX(b.re, b.im), z;
        int fin = isfinite(a.re) && isfinite(a.im) && isfinite(b.re) && isfinite(b.im);
        switch (op) {
        case MLXC_EQ: r.i = a.re == b.re && a.im == b.im; *out = r; return 1;
        case MLXC_NE: r.i = !(a.re == b.re && a.im == b.im); *out = r; return 1;
        case MLXC_ADD: z = x + y; break;
        case MLXC_SUB: z = x - y; break;
        case MLXC_MUL: z = x * y; *tol = -8; *scale = cabs(x) * cabs(y); break;
        case MLXC_DIV: z = x / y; *tol = -8; *scale = cabs(x) / cabs(y); break;
        case MLXC_POWER:
            z = cpow(x, y);
            *tol = -64;
            *scale = cabs(z) * (1 + cabs(y) * cabs(clog(x)));
            if (x == 0) fin = 0;
            break;
        default: return 0;
        }
        r.re = (float)creal(z);
        r.im = (float)cimag(z);
        *out = r;
        if (!fin || !isfinite(*scale) || !isfinite(r.re) || !isfinite(r.im)) return 2;
        return 1;
    }
    /* real floats: exact inputs in double; +-x/ correctly rounded in both */
    int cd = dt == MLXC_FLOAT64 ? MLXC_FLOAT64 : MLXC_FLOAT32;   /* compute dtype */
    double x = a.re, y = b.re, z = 0, tr = dt == MLXC_FLOAT64 || dt == MLXC_FLOAT32 ? 4 : 1;
    switch (op) {
    case MLXC_ADD: z = x + y; break;
    case MLXC_SUB: z = x - y; break;
    case MLXC_MUL: z = x * y; break;
    case MLXC_DIV: z = x / y; break;
    case MLXC_FLOOR_DIV: z = floor(rnd_to(cd, x / y)); break;
    case MLXC_REMAINDER:
        z = fmod(x, y);
        if (z != 0 && ((z < 0) != (y < 0))) z = rnd_to(cd, z + y);
        break;
    case MLXC_POWER: z = pow(x, y); *tol = tr; break;
    case MLXC_MAXIMUM: z = isnan(x) ? x : isnan(y) ? y : x > y ? x : y; break;
    case MLXC_MINIMUM: z = isnan(x) ? x : isnan(y) ? y : x < y ? x : y; break;
    case MLXC_EQ: r.i = x == y; *out = r; return 1;
    case MLXC_NE: r.i = x != y; *out = r; return 1;
    case MLXC_LT: r.i = x < y; *out = r; return 1;
    case MLXC_LE: r.i = x <= y; *out = r; return 1;
    case MLXC_GT: r.i = x > y; *out = r; return 1;
    case MLXC_GE: r.i = x >= y; *out = r; return 1;
    case MLXC_ARCTAN2: z = atan2(x, y); *tol = tr; break;
    case MLXC_LOGADDEXP:   /* float: computed in double; double: exp(lo-hi) amplifies |a-b| eps */
        if (isnan(x) || isnan(y)) z = NAN;
        else if (x == y && isinf(x)) z = x;
        else { long double h = x > y ? x : y, l = x > y ? y : x; z = (double)(h + log1pl(expl(l - h))); }
        /* the result can cancel against hi: allow ulps of max(|a|, |b|) too */
        *tol = (dt == MLXC_FLOAT64 ? 4 + 2 * fabs(x - y) : tr)
             + (isfinite(z) && z != 0 && isfinite(x) && isfinite(y)
                ? 2 * ulp_of(dt, fmax(fabs(x), fabs(y))) / ulp_of(dt, z) : 0);
        break;
    default: return 0;
    }
    r.re = rnd_to(dt, z);
    *out = r;
    return 1;
}

static void test_binary(void)
{
    for (int op = 0; op < MLXC_NUM_BINARY; op++)
        for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++) {
            val dummy;
            double tol, scale;
            int sup = ref_binary(op, dt, rand_val(dt, 0), rand_val(dt, 0), &dummy, &tol, &scale);
            int odt = op >= MLXC_EQ && op <= MLXC_GE ? MLXC_BOOL : dt;
            for (int si = 0; si < NSHAPES; si++)
                for (int la = 0; la < L_NLAYOUT; la++)
                    for (int lb = 0; lb < L_NLAYOUT; lb++) {
                        const shp *sh = &shapes[si];
                        SETCTX("binary op %d %s shape#%d a:%s b:%s", op, dtname[dt], si, lname[la], lname[lb]);
                        view a, b;
                        view_make(&a, dt, sh->ndim, sh->d, la, 1);
                        view_make(&b, dt, sh->ndim, sh->d, lb, 1);
                        size_t ob = (size_t)(a.n * isz[odt]);
                        char *out = malloc(ob + 16);
                        memset(out, 0x5a, ob + 16);
                        int rc = mlxc_binary(op, dt, out, a.base, a.strides, b.base, b.strides, sh->ndim, sh->d);
                        if (!sup) {
                            CHECK(rc == MLXC_ERR_UNSUPPORTED, "expected UNSUPPORTED, rc %d", rc);
                        } else {
                            CHECK(rc == MLXC_OK, "rc %d", rc);
                            for (int64_t k = 0; k < a.n; k++) {
                                val x = view_get(&a, k), y = view_get(&b, k), want;
                                if (ref_binary(op, dt, x, y, &want, &tol, &scale) != 1) continue;
                                val got = getv(odt, out, k);
                                char xs[64], ys[64];
                                fmt_val(xs, 64, dt, x);
                                fmt_val(ys, 64, dt, y);
                                if (tol < 0) {
                                    double u = -tol * ulp_of(MLXC_FLOAT32, scale);
                                    CHECK(fabs(got.re - want.re) <= u && fabs(got.im - want.im) <= u,
                                          "a=%s b=%s got (%.9g, %.9g) want (%.9g, %.9g)", xs, ys,
                                          got.re, got.im, want.re, want.im);
                                } else {
                                    CHECK_VAL(odt, got, want, tol, "a=%s b=%s", xs, ys);
                                }
                            }
                            CHECK((unsigned char)out[ob] == 0x5a, "wrote past the end");
                        }
                        free(out);
                        view_free(&a);
                        view_free(&b);
                        if (!sup) goto next;
                    }
        next:;
        }
    /* MLX values */
    SETCTX("binary specifics");
    int64_t n = 9, one = 1;
    float fa[9] = {-7, 7, -7, 7, 5, 5, -5, 5, -0.0f}, fb[9] = {2, -2, -2, 2, 0, INFINITY, INFINITY, -INFINITY, 3};
    float fr[9];
    mlxc_binary(MLXC_REMAINDER, MLXC_FLOAT32, fr, fa, &one, fb, &one, 1, &n);
    CHECK(fr[0] == 1 && fr[1] == -1 && fr[2] == -1 && fr[3] == 1 && isnan(fr[4]) && fr[5] == 5
          && fr[6] == INFINITY && fr[7] == -INFINITY && fr[8] == 0 && signbit(fr[8]), "float remainder (MLX)");
    mlxc_binary(MLXC_FLOOR_DIV, MLXC_FLOAT32, fr, fa, &one, fb, &one, 1, &n);
    CHECK(fr[0] == -4 && fr[4] == INFINITY && fr[5] == 0 && fr[6] == 0 && signbit(fr[6]), "float floor_divide");
    float la[6] = {-INFINITY, INFINITY, -INFINITY, INFINITY, NAN, 1}, lb[6] = {-INFINITY, INFINITY, INFINITY, -INFINITY, 1, NAN};
    int64_t n6 = 6;
    mlxc_binary(MLXC_LOGADDEXP, MLXC_FLOAT32, fr, la, &one, lb, &one, 1, &n6);
    CHECK(fr[0] == -INFINITY && fr[1] == INFINITY && fr[2] == INFINITY && fr[3] == INFINITY && isnan(fr[4]) && isnan(fr[5]),
          "logaddexp infinities");
    int32_t ia[4] = {INT32_MIN, INT32_MIN, 5, -8}, ib[4] = {-1, -1, 0, 1}, ir[4];
    int64_t n4 = 4;
    mlxc_binary(MLXC_DIV, MLXC_INT32, ir, ia, &one, ib, &one, 1, &n4);
    CHECK(ir[0] == INT32_MIN && ir[2] == 0, "INT_MIN / -1 wraps, x / 0 = 0");
    mlxc_binary(MLXC_REMAINDER, MLXC_INT32, ir, ia, &one, ib, &one, 1, &n4);
    CHECK(ir[0] == 0 && ir[2] == 5, "INT_MIN %% -1 = 0, x %% 0 = x (MLX)");
    mlxc_binary(MLXC_RIGHT_SHIFT, MLXC_INT32, ir, ia + 3, &one, ib + 3, &one, 1, &one);
    CHECK(ir[0] == -4, "-8 >> 1 = %d", ir[0]);
}

/* ============================================================ select */
static void test_select(void)
{
    for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++)
        for (int si = 0; si < NSHAPES; si++)
            for (int lc = 0; lc < L_NLAYOUT; lc++)
                for (int la = 0; la < L_NLAYOUT; la += 2) {
                    const shp *sh = &shapes[si];
                    int lb = (la + lc + 1) % L_NLAYOUT;
                    SETCTX("select %s shape#%d c:%s a:%s b:%s", dtname[dt], si, lname[lc], lname[la], lname[lb]);
                    view c, a, b;
                    view_make(&c, MLXC_BOOL, sh->ndim, sh->d, lc, 0);
                    view_make(&a, dt, sh->ndim, sh->d, la, 1);
                    view_make(&b, dt, sh->ndim, sh->d, lb, 1);
                    char *out = malloc((size_t)(a.n * isz[dt]) + 8);
                    int rc = mlxc_select(dt, out, c.base, c.strides, a.base, a.strides, b.base, b.strides,
                                         sh->ndim, sh->d);
                    CHECK(rc == MLXC_OK, "rc %d", rc);
                    for (int64_t k = 0; k < a.n; k++) {
                        int cv = (int)view_get(&c, k).i;
                        const char *src = cv ? (char *)a.base + view_off(&a, k) * isz[dt]
                                             : (char *)b.base + view_off(&b, k) * isz[dt];
                        CHECK(memcmp(out + k * isz[dt], src, (size_t)isz[dt]) == 0, "k=%lld", (long long)k);
                    }
                    free(out);
                    view_free(&c);
                    view_free(&a);
                    view_free(&b);
                }
}

/* ============================================================ reduce */
static const shp rshapes[] = {
    {0, {0}}, {1, {5}}, {2, {3, 4}}, {3, {2, 3, 5}}, {2, {3, 0}}, {2, {0, 3}}, {3, {4, 1, 9}},
    {4, {2, 1, 3, 2}}, {1, {1000}}, {2, {3, 600}},
    {2, {600, 7}}, {3, {5, 300, 2}},   /* transposed: column-wise reduction, > 1 block */
};
#define NRSHAPES ((int)(sizeof rshapes / sizeof rshapes[0]))

static int reduce_sup(int op, int dt)
{
    if (op == MLXC_RALL || op == MLXC_RANY) return 1;
    if (dt == MLXC_COMPLEX64) return op == MLXC_RSUM || op == MLXC_RPROD;
    return 1;
}

/* keep long products inside the float range: finite non-zero magnitudes are
 * moved into [0.5, 2) (sign and specials kept) */
static void tame_for_prod(view *v)
{
    if (!is_flt(v->dt) && v->dt != MLXC_COMPLEX64) return;
    for (int64_t i = 0; i < v->phys; i++) {
        val x = getv(v->dt, v->buf, i);
        int e;
        if (isfinite(x.re) && x.re != 0) x.re = ldexp(frexp(x.re, &e), (int)(rnd() & 1));
        if (isfinite(x.im) && x.im != 0) x.im = ldexp(frexp(x.im, &e), (int)(rnd() & 1));
        setv(v->dt, v->buf, i, x);
    }
}

/* reduce the elements xs[0..n) of dtype dt; *ok = 0 when not comparable */
static val ref_reduce(int op, int dt, const val *xs, int64_t n, double *tol_abs, int *check)
{
    val r = {0, 0, 0};
    *tol_abs = 0;
    *check = 1;
    int flt = is_flt(dt), cplx = dt == MLXC_COMPLEX64;
    if (op == MLXC_RALL || op == MLXC_RANY) {
        r.i = op == MLXC_RALL;
        for (int64_t k = 0; k < n; k++) {
            int nz = (flt || cplx) ? (xs[k].re != 0 || xs[k].im != 0 || isnan(xs[k].re)) : xs[k].i != 0;
            if (op == MLXC_RALL && !nz) r.i = 0;
            if (op == MLXC_RANY && nz) r.i = 1;
        }
        r.re = (double)r.i;
        return r;
    }
    if (dt == MLXC_BOOL) {
        int any = 0, all = 1;
        for (int64_t k = 0; k < n; k++) { any |= xs[k].i != 0; all &= xs[k].i != 0; }
        r.i = (op == MLXC_RSUM || op == MLXC_RMAX) ? any : all;
        r.re = (double)r.i;
        return r;
    }
    if (is_int(dt)) {
        int s = is_sint(dt);
        uint64_t acc = op == MLXC_RPROD;
        int64_t m = 0;
        for (int64_t k = 0; k < n; k++) {
            uint64_t u = (uint64_t)xs[k].i;
            if (op == MLXC_RSUM) acc += u;
            if (op == MLXC_RPROD) acc *= u;
            if (op == MLXC_RMAX && (k == 0 || (s ? xs[k].i > m : u > (uint64_t)m))) m = xs[k].i;
            if (op == MLXC_RMIN && (k == 0 || (s ? xs[k].i < m : u < (uint64_t)m))) m = xs[k].i;
        }
        if (n == 0 && (op == MLXC_RMAX || op == MLXC_RMIN)) *check = 0;
        r.i = (op == MLXC_RSUM || op == MLXC_RPROD) ? wrapi(dt, acc) : m;
        r.re = dt == MLXC_UINT64 ? (double)(uint64_t)r.i : (double)r.i;
        return r;
    }
    long double sr = op == MLXC_RPROD, si = 0, mag = 0;
    double m = 0;
    int nan = 0;
    for (int64_t k = 0; k < n; k++) {
        long double xr = xs[k].re, xi = xs[k].im;
        if (isnan(xs[k].re)) nan = 1;
        if (op == MLXC_RSUM) { sr += xr; si += xi; mag += fabsl(xr) + fabsl(xi); }
        if (op == MLXC_RPROD) {
            if (cplx) { long double t = sr * xr - si * xi; si = sr * xi + si * xr; sr = t; }
            else sr *= xr;
            /* the kernel's running product is in float/double: when that
             * overflows or underflows, results legitimately differ */
            long double lim = dt == MLXC_FLOAT64 ? DBL_MAX : FLT_MAX;
            long double tiny = dt == MLXC_FLOAT64 ? DBL_MIN : FLT_MIN;
            long double mg = fabsl(sr) + fabsl(si);
            if (isfinite(xr) && isfinite(xi) && (xr != 0 || xi != 0) && (mg > lim || (mg < tiny && mg != 0))) *check = 0;
        }
        if (op == MLXC_RMAX && (k == 0 || xs[k].re > m || isnan(xs[k].re))) m = isnan(m) && k ? m : xs[k].re;
        if (op == MLXC_RMIN && (k == 0 || xs[k].re < m || isnan(xs[k].re))) m = isnan(m) && k ? m : xs[k].re;
    }
    if (op == MLXC_RMAX || op == MLXC_RMIN) {
        if (n == 0) *check = 0;
        r.re = nan ? NAN : m;
        return r;
    }
    int acc_dt = dt == MLXC_FLOAT64 ? MLXC_FLOAT64 : MLXC_FLOAT32;
    if (op == MLXC_RSUM) *tol_abs = 64 * ulp_of(acc_dt, 1.0) * (double)mag;
    else {
        /* products: sequential rounding, n ulps of the accumulator */
        *tol_abs = (double)(n + 1) * 2 * ulp_of(acc_dt, 1.0) * (double)sqrtl(sr * sr + si * si);
        if (cplx) *tol_abs *= 4;
    }
    r.re = cplx ? (float)sr : rnd_to(dt, (double)sr);
    r.im = cplx ? (float)si : 0;
    if (*check && (!isfinite(r.re) || !isfinite(r.im) || !isfinite(*tol_abs)))
        *check = (!cplx && (isinf(r.re) || isnan(r.re))) ? 2 : 0;
    return r;
}

static int close_abs(int dt, double got, double want, double tol_abs)
{
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    int od = dt == MLXC_COMPLEX64 ? MLXC_FLOAT32 : dt;
    if (isinf(want) || isinf(got)) {
        /* a sum within rounding of the largest finite value may round either way */
        double maxf = od == MLXC_FLOAT16 ? 65504.0 : od == MLXC_BFLOAT16 ? ref_bf2d(0x7f7f)
                    : od == MLXC_FLOAT32 ? FLT_MAX : DBL_MAX;
        if (tol_abs > 0 && isinf(got) && fabs(want) == maxf && !signbit(got) == !signbit(want)) return 1;
        if (tol_abs > 0 && isinf(want) && fabs(got) == maxf && !signbit(got) == !signbit(want)) return 1;
        return got == want;
    }
    return fabs(got - want) <= tol_abs + ulp_of(od, want);
}

static void test_reduce(void)
{
    for (int op = 0; op < MLXC_NUM_REDUCE; op++)
        for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++) {
            int sup = reduce_sup(op, dt);
            int odt = (op == MLXC_RALL || op == MLXC_RANY) ? MLXC_BOOL : dt;
            for (int si = 0; si < NRSHAPES; si++)
                for (int nred = 0; nred <= rshapes[si].ndim; nred++)
                    for (int lay = 0; lay < L_NLAYOUT; lay++) {
                        const shp *sh = &rshapes[si];
                        SETCTX("reduce op %d %s shape#%d nred %d %s", op, dtname[dt], si, nred, lname[lay]);
                        view in;
                        view_make(&in, dt, sh->ndim, sh->d, lay, 1);
                        if (op == MLXC_RPROD) tame_for_prod(&in);
                        int64_t nout = 1, nr = 1;
                        for (int d = 0; d < sh->ndim; d++) { if (d < sh->ndim - nred) nout *= sh->d[d]; else nr *= sh->d[d]; }
                        char *out = malloc((size_t)(nout * isz[odt]) + 8);
                        memset(out, 0x5a, (size_t)(nout * isz[odt]) + 8);
                        int rc = mlxc_reduce(op, dt, out, in.base, sh->ndim, sh->d, in.strides, nred);
                        if (!sup) {
                            CHECK(rc == MLXC_ERR_UNSUPPORTED, "expected UNSUPPORTED, rc %d", rc);
                        } else {
                            CHECK(rc == MLXC_OK, "rc %d", rc);
                            val *xs = malloc(sizeof(val) * (size_t)(nr + 1));
                            for (int64_t o = 0; o < nout; o++) {
                                for (int64_t j = 0; j < nr; j++) xs[j] = view_get(&in, o * nr + j);
                                double tol;
                                int check;
                                val want = ref_reduce(op, dt, xs, nr, &tol, &check);
                                if (!check) continue;
                                val got = getv(odt, out, o);
                                if (odt == MLXC_BOOL || is_int(odt)) {
                                    CHECK(got.i == want.i, "o=%lld got %lld want %lld", (long long)o,
                                          (long long)got.i, (long long)want.i);
                                } else if (check == 2) {
                                    CHECK(isnan(want.re) ? isnan(got.re) : (got.re == want.re || fabs(got.re) > 1e30),
                                          "o=%lld got %g want %g", (long long)o, got.re, want.re);
                                } else {
                                    CHECK(close_abs(odt, got.re, want.re, tol) && close_abs(odt, got.im, want.im, tol),
                                          "o=%lld got (%.9g, %.9g) want (%.9g, %.9g) tol %g", (long long)o,
                                          got.re, got.im, want.re, want.im, tol);
                                }
                            }
                            free(xs);
                            CHECK((unsigned char)out[nout * isz[odt]] == 0x5a, "wrote past the end");
                        }
                        free(out);
                        view_free(&in);
                    }
        }
    /* summation quality: 2^20 copies of 0.1f must not drift like a naive loop */
    SETCTX("reduce pairwise accuracy");
    int64_t n = 1 << 20, one = 1;
    float *x = malloc(sizeof(float) * (size_t)n), s;
    for (int64_t i = 0; i < n; i++) x[i] = 0.1f;
    mlxc_reduce(MLXC_RSUM, MLXC_FLOAT32, &s, x, 1, &n, &one, 1);
    CHECK(fabs(s - 0.1f * (double)n) < 1e-5 * 0.1 * (double)n, "sum %.9g", (double)s);
    free(x);
}

/* ============================================================ argreduce */
static void test_argreduce(void)
{
    for (int op = 0; op < 2; op++)
        for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++)
            for (int si = 0; si < NRSHAPES; si++)
                for (int lay = 0; lay < L_NLAYOUT; lay++) {
                    const shp *sh = &rshapes[si];
                    if (sh->ndim < 1 || sh->d[sh->ndim - 1] == 0) continue;
                    SETCTX("argreduce %d %s shape#%d %s", op, dtname[dt], si, lname[lay]);
                    view in;
                    view_make(&in, dt, sh->ndim, sh->d, lay, 1);
                    int64_t len = sh->d[sh->ndim - 1], nout = in.n / len;
                    uint32_t *out = malloc(sizeof(uint32_t) * (size_t)(nout + 1));
                    int rc = mlxc_argreduce(op, dt, out, in.base, sh->ndim, sh->d, in.strides);
                    if (dt == MLXC_COMPLEX64) {
                        CHECK(rc == MLXC_ERR_UNSUPPORTED, "complex");
                    } else {
                        CHECK(rc == MLXC_OK, "rc %d", rc);
                        for (int64_t o = 0; o < nout; o++) {
                            int64_t best = 0;
                            for (int64_t j = 0; j < len; j++) {
                                val v = view_get(&in, o * len + j), b = view_get(&in, o * len + best);
                                int better;
                                if (is_flt(dt)) {
                                    if (isnan(b.re)) break;
                                    better = isnan(v.re) || (op == MLXC_ARGMAX ? v.re > b.re : v.re < b.re);
                                } else if (dt == MLXC_UINT64) {
                                    better = op == MLXC_ARGMAX ? (uint64_t)v.i > (uint64_t)b.i : (uint64_t)v.i < (uint64_t)b.i;
                                } else {
                                    better = op == MLXC_ARGMAX ? v.i > b.i : v.i < b.i;
                                }
                                if (better) best = j;
                            }
                            CHECK(out[o] == (uint32_t)best, "o=%lld got %u want %lld", (long long)o, out[o], (long long)best);
                        }
                    }
                    free(out);
                    view_free(&in);
                }
}

/* ============================================================ scan */
static void test_scan(void)
{
    for (int op = 0; op < 4; op++)
        for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++)
            for (int si = 0; si < NRSHAPES; si++)
                for (int lay = 0; lay < L_NLAYOUT; lay++)
                    for (int mode = 0; mode < 4; mode++) {
                        const shp *sh = &rshapes[si];
                        if (sh->ndim < 1) continue;
                        int reverse = mode & 1, inclusive = mode >> 1;
                        SETCTX("scan %d %s shape#%d %s rev %d incl %d", op, dtname[dt], si, lname[lay], reverse, inclusive);
                        view in;
                        view_make(&in, dt, sh->ndim, sh->d, lay, 1);
                        if (op == MLXC_CUMPROD) tame_for_prod(&in);
                        int64_t len = sh->d[sh->ndim - 1], nrow = len ? in.n / len : 0;
                        char *out = malloc((size_t)(in.n * isz[dt]) + 8);
                        int rc = mlxc_scan(op, dt, out, in.base, sh->ndim, sh->d, in.strides, reverse, inclusive);
                        if (dt == MLXC_COMPLEX64 && op >= MLXC_CUMMAX) {
                            /* MLX's complex order; values checked against MLX's
                             * recorded results in tests/test_complex_mlx.py */
                            CHECK(rc == MLXC_OK, "complex cummax/cummin/logcumsumexp rc %d", rc);
                            free(out);
                            view_free(&in);
                            continue;
                        }
                        CHECK(rc == MLXC_OK, "rc %d", rc);
                        if (len > 60) len = 60;   /* the reference is quadratic */
                        static const int rop[4] = {MLXC_RSUM, MLXC_RPROD, MLXC_RMAX, MLXC_RMIN};
                        val xs[64];
                        int64_t full = sh->d[sh->ndim - 1];
                        for (int64_t r = 0; r < nrow; r++)
                            for (int64_t i = 0; i < len; i++) {
                                /* elements that precede position i in scan order */
                                int64_t cnt = 0;
                                for (int64_t j = 0; j < full && cnt < 64; j++) {
                                    int before = reverse ? (j > i || (inclusive && j == i)) : (j < i || (inclusive && j == i));
                                    if (before) xs[cnt++] = view_get(&in, r * full + j);
                                }
                                if (cnt >= 63) continue;
                                double tol;
                                int check;
                                val want = ref_reduce(rop[op], dt, xs, cnt, &tol, &check);
                                val got = getv(dt, out, r * full + i);
                                if (cnt == 0 && (op == MLXC_CUMMAX || op == MLXC_CUMMIN)) {
                                    if (is_flt(dt)) CHECK(isinf(got.re), "exclusive identity");
                                    continue;
                                }
                                if (!check && cnt) continue;
                                if (dt == MLXC_BOOL || is_int(dt)) {
                                    CHECK(got.i == want.i, "r=%lld i=%lld got %lld want %lld", (long long)r, (long long)i,
                                          (long long)got.i, (long long)want.i);
                                } else if (check == 2) {
                                    CHECK(isnan(want.re) ? isnan(got.re) : (got.re == want.re || fabs(got.re) > 1e30),
                                          "i=%lld got %g want %g", (long long)i, got.re, want.re);
                                } else {
                                    CHECK(close_abs(dt, got.re, want.re, tol) && close_abs(dt, got.im, want.im, tol),
                                          "r=%lld i=%lld got (%.9g,%.9g) want (%.9g,%.9g)", (long long)r, (long long)i,
                                          got.re, got.im, want.re, want.im);
                                }
                            }
                        free(out);
                        view_free(&in);
                    }
}

/* log(sum(exp(x))) in float64: NaN if any NaN, +inf if any +inf, -inf if empty */
static double lse_ref(const double *x, int64_t n)
{
    double m = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i])) return NAN;
        if (x[i] > m) m = x[i];
    }
    if (isinf(m)) return m;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += exp(x[i] - m);
    return m + log(s);
}

/* LOGCUMSUMEXP: float dtypes against lse_ref of the elements before each
 * position in scan order (ulps of the largest such magnitude: the running
 * value can cancel to near 0); other dtypes are refused */
static void test_logcumsumexp(void)
{
    for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++)
        for (int si = 0; si < NRSHAPES; si++)
            for (int lay = 0; lay < L_NLAYOUT; lay++)
                for (int mode = 0; mode < 4; mode++) {
                    const shp *sh = &rshapes[si];
                    if (sh->ndim < 1) continue;
                    int reverse = mode & 1, inclusive = mode >> 1;
                    SETCTX("logcumsumexp %s shape#%d %s rev %d incl %d", dtname[dt], si, lname[lay],
                           reverse, inclusive);
                    view in;
                    view_make(&in, dt, sh->ndim, sh->d, lay, 1);
                    int64_t full = sh->d[sh->ndim - 1], nrow = full ? in.n / full : 0;
                    char *out = malloc((size_t)(in.n * isz[dt]) + 8);
                    int rc = mlxc_scan(MLXC_LOGCUMSUMEXP, dt, out, in.base, sh->ndim, sh->d, in.strides,
                                       reverse, inclusive);
                    if (dt == MLXC_COMPLEX64) {
                        /* values checked against MLX's recorded results in
                         * tests/test_complex_mlx.py */
                        CHECK(rc == MLXC_OK, "rc %d", rc);
                    } else if (!is_flt(dt)) {
                        CHECK(rc == MLXC_ERR_UNSUPPORTED, "rc %d", rc);
                    } else {
                        CHECK(rc == MLXC_OK, "rc %d", rc);
                        int64_t len = full > 60 ? 60 : full;   /* the reference is quadratic */
                        double xs[64];
                        for (int64_t r = 0; r < nrow; r++)
                            for (int64_t i = 0; i < len; i++) {
                                int64_t cnt = 0;
                                double scale = 0;
                                for (int64_t j = 0; j < full && cnt < 64; j++) {
                                    int before = reverse ? (j > i || (inclusive && j == i))
                                                         : (j < i || (inclusive && j == i));
                                    if (!before) continue;
                                    xs[cnt] = view_get(&in, r * full + j).re;
                                    if (isfinite(xs[cnt])) scale = fmax(scale, fabs(xs[cnt]));
                                    cnt++;
                                }
                                if (cnt >= 63) continue;
                                double want = rnd_to(dt, lse_ref(xs, cnt));
                                double tol = prec_of(dt) < 24 ? 2 : 4 + (double)cnt;
                                double got = getv(dt, out, r * full + i).re;
                                CHECK(close_f(dt, got, want, tol, scale), "r=%lld i=%lld n=%lld got %.9g want %.9g",
                                      (long long)r, (long long)i, (long long)cnt, got, want);
                            }
                    }
                    free(out);
                    view_free(&in);
                }
    /* the running value: one dominant term, equal terms (+log 2), infinities, NaN */
    SETCTX("logcumsumexp values");
    static const double x[] = {-INFINITY, 0.0, 0.0, -1000.0, 50.0, INFINITY, 1.0, NAN, 2.0};
    static const double want[] = {-INFINITY, 0.0, 0.69314718055994531, 0.69314718055994531,
                                  50.0, INFINITY, INFINITY, NAN, NAN};
    double o[9];
    int64_t n = 9, st = 1;
    CHECK(mlxc_scan(MLXC_LOGCUMSUMEXP, MLXC_FLOAT64, o, x, 1, &n, &st, 0, 1) == MLXC_OK, "rc");
    for (int i = 0; i < 9; i++)
        CHECK(isnan(want[i]) ? isnan(o[i]) : o[i] == want[i] || fabs(o[i] - want[i]) <= 1e-15,
              "i=%d got %.17g want %.17g", i, o[i], want[i]);
}

/* ============================================================ sort */
/* key order: NaN after everything, -0 == 0; returns -1, 0, 1 */
static int key_cmp(int dt, val a, val b)
{
    if (is_flt(dt)) {
        int na = isnan(a.re), nb = isnan(b.re);
        if (na || nb) return na - nb;
        return (a.re > b.re) - (a.re < b.re);
    }
    if (dt == MLXC_UINT64) return ((uint64_t)a.i > (uint64_t)b.i) - ((uint64_t)a.i < (uint64_t)b.i);
    return (a.i > b.i) - (a.i < b.i);
}

static void test_sort(void)
{
    static const int64_t cfg[][2] = {{3, 0}, {1, 1}, {4, 37}, {2, 1000}, {1, 5000}, {5, 33}};
    for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++)
        for (int c = 0; c < 6; c++) {
            int64_t nrows = cfg[c][0], len = cfg[c][1], n = nrows * len;
            SETCTX("sort %s %lldx%lld", dtname[dt], (long long)nrows, (long long)len);
            char *data = malloc((size_t)(n * isz[dt]) + 8), *sorted = malloc((size_t)(n * isz[dt]) + 8);
            uint32_t *idx = malloc(sizeof(uint32_t) * (size_t)(n + 1));
            /* few distinct values so ties (and stability) matter */
            char pool[12][8];
            for (int p = 0; p < 12; p++) setv(dt, pool[p], 0, rand_val(dt, 1));
            if (is_flt(dt)) { setv(dt, pool[0], 0, mkf(NAN)); setv(dt, pool[1], 0, mkf(-0.0)); setv(dt, pool[2], 0, mkf(0.0)); }
            for (int64_t i = 0; i < n; i++) memcpy(data + i * isz[dt], pool[rnd() % (c == 4 ? 12 : 6 + rnd() % 6)], (size_t)isz[dt]);
            memcpy(sorted, data, (size_t)(n * isz[dt]));
            int rc1 = mlxc_sort(dt, sorted, nrows, len);
            int rc2 = mlxc_argsort(dt, idx, data, nrows, len);
            if (dt == MLXC_COMPLEX64) {
                CHECK(rc1 == MLXC_ERR_UNSUPPORTED && rc2 == MLXC_ERR_UNSUPPORTED, "complex sort");
            } else {
                CHECK(rc1 == MLXC_OK && rc2 == MLXC_OK, "rc %d %d", rc1, rc2);
                char *seen = calloc((size_t)len + 1, 1);
                for (int64_t r = 0; r < nrows; r++) {
                    memset(seen, 0, (size_t)len + 1);
                    for (int64_t i = 0; i < len; i++) {
                        uint32_t j = idx[r * len + i];
                        CHECK(j < len && !seen[j], "argsort not a permutation");
                        if (j >= len) break;
                        seen[j] = 1;
                        /* stable sort == data permuted by the stable argsort, bit for bit */
                        CHECK(memcmp(sorted + (r * len + i) * isz[dt], data + (r * len + j) * isz[dt], (size_t)isz[dt]) == 0,
                              "sort/argsort disagree at %lld", (long long)i);
                        if (i > 0) {
                            uint32_t jp = idx[r * len + i - 1];
                            int cm = key_cmp(dt, getv(dt, data, r * len + jp), getv(dt, data, r * len + j));
                            CHECK(cm < 0 || (cm == 0 && jp < j), "order/stability at %lld (%u, %u)", (long long)i, jp, j);
                        }
                    }
                }
                free(seen);
            }
            free(data);
            free(sorted);
            free(idx);
        }
}

/* ============================================================ gather */
static void test_gather(void)
{
    static const int64_t dims[][4] = {{1, 5, 1, 7}, {3, 5, 4, 6}, {2, 1, 3, 4}, {2, 4, 2, 0}, {1, 3, 1, 1}};
    for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++)
        for (int c = 0; c < 5; c++) {
            int64_t outer = dims[c][0], L = dims[c][1], inner = dims[c][2], nidx = dims[c][3];
            int z = isz[dt];
            SETCTX("gather %s (%lld,%lld,%lld) nidx %lld", dtname[dt], (long long)outer, (long long)L,
                   (long long)inner, (long long)nidx);
            int64_t nsrc = outer * L * inner, nout = outer * nidx * inner;
            char *src = malloc((size_t)(nsrc * z) + 8), *out = malloc((size_t)(nout * z) + 8);
            char *dst = malloc((size_t)(nsrc * z) + 8), *ref = malloc((size_t)(nsrc * z) + 8);
            char *upd = malloc((size_t)(nout * z) + 8);
            int64_t *idx = malloc(sizeof(int64_t) * (size_t)(nout + 1));
            int32_t *idx32 = malloc(sizeof(int32_t) * (size_t)(nout + 1));   /* the same, narrow */
            for (int64_t i = 0; i < nsrc; i++) setv(dt, src, i, rand_val(dt, 1));
            for (int64_t i = 0; i < nout; i++) setv(dt, upd, i, rand_val(dt, 1));
            for (int along = 0; along < 2; along++) {
                int64_t ni = along ? nout : nidx;
                for (int64_t i = 0; i < ni; i++) idx[i] = (int64_t)(rnd() % (uint64_t)(2 * L)) - L;
                for (int64_t i = 0; i < ni; i++) idx32[i] = (int32_t)idx[i];
                int64_t bad = 12345;
                int rc = MLXC_OK;
                for (int wide = 0; wide < 2; wide++) {
                const void *ix = wide ? (const void *)idx : (const void *)idx32;
                int it = wide ? MLXC_INT64 : MLXC_INT32;
                memset(out, 0, (size_t)(nout * z));
                rc = along ? mlxc_take_along(dt, out, src, outer, L, inner, ix, it, nidx, &bad)
                           : mlxc_take(dt, out, src, outer, L, inner, ix, it, nidx, &bad);
                CHECK(rc == MLXC_OK, "take rc %d (int%d indices)", rc, wide ? 64 : 32);
                for (int64_t o = 0; o < outer; o++)
                    for (int64_t j = 0; j < nidx; j++)
                        for (int64_t k = 0; k < inner; k++) {
                            int64_t q = (o * nidx + j) * inner + k;
                            int64_t i = along ? idx[q] : idx[j];
                            if (i < 0) i += L;
                            CHECK(memcmp(out + q * z, src + ((o * L + i) * inner + k) * z, (size_t)z) == 0,
                                  "take along=%d at %lld", along, (long long)q);
                        }
                }
                CHECK(mlxc_take(dt, out, src, outer, L, inner, idx, MLXC_INT16, nidx, &bad)
                      == MLXC_ERR_UNSUPPORTED, "take with int16 indices");
                for (int mode = 0; mode <= MLXC_SCATTER_MIN; mode++) {
                    memcpy(dst, src, (size_t)(nsrc * z));
                    memcpy(ref, src, (size_t)(nsrc * z));
                    int sup = 1;   /* every mode for every dtype */
                    rc = mlxc_scatter(mode, dt, dst, upd, outer, L, inner, idx, nidx, along, &bad);
                    if (!sup) { CHECK(rc == MLXC_ERR_UNSUPPORTED, "scatter mode %d", mode); continue; }
                    CHECK(rc == MLXC_OK, "scatter rc %d", rc);
                    for (int64_t o = 0; o < outer; o++)
                        for (int64_t j = 0; j < nidx; j++)
                            for (int64_t k = 0; k < inner; k++) {
                                int64_t q = (o * nidx + j) * inner + k;
                                int64_t i = along ? idx[q] : idx[j];
                                if (i < 0) i += L;
                                int64_t p = (o * L + i) * inner + k;
                                if (mode == MLXC_SCATTER_PLAIN) { memcpy(ref + p * z, upd + q * z, (size_t)z); continue; }
                                val a = getv(dt, ref, p), b = getv(dt, upd, q), r = a;
                                if (dt == MLXC_BOOL) {
                                    r.i = (mode == MLXC_SCATTER_ADD || mode == MLXC_SCATTER_MAX) ? (a.i | b.i) : (a.i & b.i);
                                } else if (is_int(dt)) {
                                    int s = is_sint(dt);
                                    uint64_t ua = (uint64_t)a.i, ub = (uint64_t)b.i;
                                    if (mode == MLXC_SCATTER_ADD) r.i = wrapi(dt, ua + ub);
                                    if (mode == MLXC_SCATTER_PROD) r.i = wrapi(dt, ua * ub);
                                    if (mode == MLXC_SCATTER_MAX) r.i = (s ? b.i > a.i : ub > ua) ? b.i : a.i;
                                    if (mode == MLXC_SCATTER_MIN) r.i = (s ? b.i < a.i : ub < ua) ? b.i : a.i;
                                } else if (dt == MLXC_COMPLEX64) {
                                    float ar = (float)a.re, ai = (float)a.im, br = (float)b.re, bi = (float)b.im;
                                    /* max/min: real part, then imaginary part (as MLX) */
                                    int b_lt_a = br < ar || (br == ar && bi < ai);
                                    int a_lt_b = ar < br || (ar == br && ai < bi);
                                    if (mode == MLXC_SCATTER_ADD) { r.re = ar + br; r.im = ai + bi; }
                                    else if (mode == MLXC_SCATTER_MAX) { if (a_lt_b) r = b; }
                                    else if (mode == MLXC_SCATTER_MIN) { if (b_lt_a) r = b; }
                                    else { r.re = ar * br - ai * bi; r.im = ar * bi + ai * br; }
                                } else {
                                    if (mode == MLXC_SCATTER_ADD) r.re = a.re + b.re;
                                    if (mode == MLXC_SCATTER_PROD) r.re = a.re * b.re;
                                    if (mode == MLXC_SCATTER_MAX) r.re = isnan(a.re) ? a.re : (b.re > a.re || isnan(b.re)) ? b.re : a.re;
                                    if (mode == MLXC_SCATTER_MIN) r.re = isnan(a.re) ? a.re : (b.re < a.re || isnan(b.re)) ? b.re : a.re;
                                    if (dt == MLXC_FLOAT16 || dt == MLXC_BFLOAT16) r.re = rnd_to(MLXC_FLOAT32, r.re);
                                }
                                setv(dt, ref, p, r);
                            }
                    for (int64_t p = 0; p < nsrc; p++) {
                        val g = getv(dt, dst, p), w = getv(dt, ref, p);
                        if (mode == MLXC_SCATTER_PLAIN)
                            CHECK(memcmp(dst + p * z, ref + p * z, (size_t)z) == 0, "plain scatter at %lld", (long long)p);
                        else
                            CHECK_VAL(dt, g, w, 0, "scatter mode %d along %d at %lld", mode, along, (long long)p);
                    }
                }
                /* out-of-range index: error, *bad set, destination untouched */
                if (ni > 0) {
                    int64_t save = idx[ni - 1];
                    for (int t = 0; t < 2; t++) {
                        idx[ni - 1] = t ? -L - 1 : L;
                        bad = 0;
                        rc = along ? mlxc_take_along(dt, out, src, outer, L, inner, idx, MLXC_INT64, nidx, &bad)
                                   : mlxc_take(dt, out, src, outer, L, inner, idx, MLXC_INT64, nidx, &bad);
                        CHECK(rc == MLXC_ERR_INDEX && bad == idx[ni - 1], "take bad index rc %d bad %lld", rc, (long long)bad);
                        idx32[ni - 1] = (int32_t)idx[ni - 1];
                        bad = 0;
                        rc = along ? mlxc_take_along(dt, out, src, outer, L, inner, idx32, MLXC_INT32, nidx, &bad)
                                   : mlxc_take(dt, out, src, outer, L, inner, idx32, MLXC_INT32, nidx, &bad);
                        CHECK(rc == MLXC_ERR_INDEX && bad == idx[ni - 1], "take int32 bad index rc %d", rc);
                        memcpy(dst, src, (size_t)(nsrc * z));
                        bad = 0;
                        rc = mlxc_scatter(MLXC_SCATTER_PLAIN, dt, dst, upd, outer, L, inner, idx, nidx, along, &bad);
                        CHECK(rc == MLXC_ERR_INDEX && bad == idx[ni - 1], "scatter bad index rc %d", rc);
                        CHECK(memcmp(dst, src, (size_t)(nsrc * z)) == 0, "scatter wrote despite a bad index");
                    }
                    idx[ni - 1] = save;
                }
            }
            free(src); free(out); free(dst); free(ref); free(upd); free(idx); free(idx32);
        }
}

/* ============================================================ matmul */
static void test_matmul(void)
{
    static const int64_t cfg[][4] = {   /* batch, M, N, K */
        {1, 1, 1, 1}, {2, 3, 5, 7}, {1, 17, 33, 300}, {3, 64, 70, 513}, {1, 0, 3, 4}, {2, 3, 2, 0},
        {1, 130, 9, 5}, {1, 5, 600, 3},
    };
    for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++)
        for (int c = 0; c < 8; c++)
            for (int lay = 0; lay < 4; lay++) {
                int64_t batch = cfg[c][0], M = cfg[c][1], N = cfg[c][2], K = cfg[c][3];
                int z = isz[dt];
                SETCTX("matmul %s b%lld M%lld N%lld K%lld layout %d", dtname[dt], (long long)batch, (long long)M,
                       (long long)N, (long long)K, lay);
                /* lay 0: row-major; 1: A transposed; 2: B transposed + broadcast over batch;
                 * 3: both with negative row strides */
                int64_t asz = batch * M * K, bsz = batch * K * N;
                char *A = malloc((size_t)(asz * z) + 8), *B = malloc((size_t)(bsz * z) + 8);
                char *C = malloc((size_t)(batch * M * N * z) + 8);
                for (int64_t i = 0; i < asz + bsz; i++) {
                    val v = {(rndu() * 2 - 1) * 4, dt == MLXC_COMPLEX64 ? (rndu() * 2 - 1) * 4 : 0, 0};
                    if (is_int(dt)) v.i = (int64_t)(rnd() % 9) - 4;
                    if (i < asz) setv(dt, A, i, v); else setv(dt, B, i - asz, v);
                }
                int64_t a_bs = M * K, a_rs = K, a_cs = 1, b_bs = K * N, b_rs = N, b_cs = 1;
                char *a0 = A, *b0 = B;
                if (lay == 1) { a_rs = 1; a_cs = M; }
                if (lay == 2) { b_rs = 1; b_cs = K; b_bs = 0; }
                if (lay == 3 && M > 0 && K > 0 && N > 0) { a_rs = -K; a0 = A + (M - 1) * K * z; b_rs = -N; b0 = B + (K - 1) * N * z; }
                memset(C, 0x5a, (size_t)(batch * M * N * z) + 8);
                int rc = mlxc_matmul(dt, batch, M, N, K, a0, a_bs, a_rs, a_cs, b0, b_bs, b_rs, b_cs, C);
                int sup = dt == MLXC_FLOAT32 || dt == MLXC_FLOAT64 || dt == MLXC_FLOAT16 || dt == MLXC_BFLOAT16
                          || dt == MLXC_COMPLEX64;
                if (!sup) {
                    CHECK(rc == MLXC_ERR_UNSUPPORTED, "rc %d", rc);
                } else {
                    CHECK(rc == MLXC_OK, "rc %d", rc);
                    int acc = dt == MLXC_FLOAT64 ? MLXC_FLOAT64 : MLXC_FLOAT32;
                    for (int64_t bi = 0; bi < batch; bi++)
                        for (int64_t i = 0; i < M; i++)
                            for (int64_t j = 0; j < N; j++) {
                                long double sr = 0, si = 0, mag = 0;
                                for (int64_t p = 0; p < K; p++) {
                                    int64_t ao = (a0 - A) / z + bi * a_bs + i * a_rs + p * a_cs;
                                    int64_t bo = (b0 - B) / z + bi * b_bs + p * b_rs + j * b_cs;
                                    val x = getv(dt, A, ao), y = getv(dt, B, bo);
                                    sr += (long double)x.re * y.re;
                                    if (dt == MLXC_COMPLEX64) {
                                        sr -= (long double)x.im * y.im;
                                        si += (long double)x.re * y.im + (long double)x.im * y.re;
                                    }
                                    mag += (fabsl(x.re) + fabsl(x.im)) * (fabsl(y.re) + fabsl(y.im));
                                }
                                val g = getv(dt, C, (bi * M + i) * N + j);
                                double tol = 2.0 * (double)K * ulp_of(acc, 1.0) * (double)mag;
                                double wr = dt == MLXC_COMPLEX64 ? (double)sr : rnd_to(dt, (double)sr);
                                CHECK(close_abs(dt, g.re, wr, tol) && close_abs(dt, g.im, (double)si, tol),
                                      "C[%lld,%lld,%lld] got (%.9g,%.9g) want (%.9g,%.9g)", (long long)bi, (long long)i,
                                      (long long)j, g.re, g.im, (double)sr, (double)si);
                            }
                    CHECK((unsigned char)C[batch * M * N * z] == 0x5a, "wrote past the end");
                }
                free(A); free(B); free(C);
            }
    /* inf * 0 must give NaN (no skipping of zero terms) */
    SETCTX("matmul nan");
    float a[4] = {INFINITY, 1, 2, 3}, b[4] = {0, 1, 1, 1}, c[4];
    mlxc_matmul(MLXC_FLOAT32, 1, 2, 2, 2, a, 0, 2, 1, b, 0, 2, 1, c);
    CHECK(isnan(c[0]) && c[1] == INFINITY && c[2] == 3 && c[3] == 5, "%g %g %g %g", (double)c[0], (double)c[1],
          (double)c[2], (double)c[3]);
}

/* usage: test_kernels [name ...]  (no names: run everything);
 * MLXC_TEST_SEED=n picks another random stream */

/* ---- random: MLX's threefry bits (a known answer from MLX, an independent
 * threefry for the layout), the float transforms, at every SIMD level ---- */
static uint32_t ref_rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static void ref_threefry(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1, uint32_t out[2])
{
    const int rot[8] = {13, 15, 26, 6, 17, 29, 16, 24};
    uint32_t ks[3] = {k0, k1, 0x1BD11BDAu ^ k0 ^ k1}, x0 = c0 + k0, x1 = c1 + k1;
    for (int i = 0; i < 20; i++) {
        x0 += x1;
        x1 = ref_rotl(x1, rot[i % 8]) ^ x0;
        if (i % 4 == 3) {
            int s = i / 4 + 1;
            x0 += ks[s % 3];
            x1 += ks[(s + 1) % 3] + (uint32_t)s;
        }
    }
    out[0] = x0;
    out[1] = x1;
}
static uint32_t ref_word(uint32_t k0, uint32_t k1, int64_t n, int64_t j)
{
    int64_t h = n / 2, off = n - h;
    uint32_t o[2];
    if (j < h) { ref_threefry(k0, k1, (uint32_t)j, (uint32_t)(j + off), o); return o[0]; }
    if (j == h && off != h) { ref_threefry(k0, k1, (uint32_t)h, 0, o); return o[0]; }
    ref_threefry(k0, k1, (uint32_t)(j - off), (uint32_t)j, o);
    return o[1];
}

static void test_random(void)
{
    /* mx.random.split(mx.random.key(0), 3) in MLX 0.32.4 */
    static const uint32_t split0[6] = {2467461003u, 428148500u, 3186719485u, 3840466878u,
                                       2562233961u, 1946702221u};
    uint32_t key0[2] = {0, 0}, w6[6];
    CHECK(mlxc_random(MLXC_RANDOM_BITS, w6, key0, 1, 6, 0, 0, 0, 0) == MLXC_OK, "rc");
    for (int i = 0; i < 6; i++) CHECK(w6[i] == split0[i], "split(key(0))[%d] = %u", i, w6[i]);
    static const int64_t sizes[] = {1, 2, 3, 7, 16, 17, 33, 1025, 40003};
    uint32_t keys[6] = {7, 9, 0xdeadbeefu, 0x12345678u, 0, 0xffffffffu};
    int64_t cap = 3 * 40003;
    uint32_t *w = malloc(cap * 4), *o = malloc(cap * 4);
    for (int lv = 0; lv < 4; lv++) {
        if (mlxc_cpu_set_isa(lv) != lv) continue;
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            int64_t n = sizes[si];
            for (int64_t j = 0; j < 3 * n; j++) w[j] = ref_word(keys[2 * (j / n)], keys[2 * (j / n) + 1], n, j % n);
            long bad[5] = {0};
            for (int mode = 0; mode < MLXC_NUM_RANDOM; mode++) {
                CHECK(mlxc_random(mode, o, keys, 3, n, -3.0f, 1003.0f, -3, 999) == MLXC_OK, "rc");
                for (int64_t j = 0; j < 3 * n; j++) {
                    float u = (float)w[j] * 0x1p-32f;
                    u = u < 0x1.fffffep-1f ? u : 0x1.fffffep-1f;
                    float s = 2.0f * u - 0x1.fffffep-1f;
                    /* MLX's erfinv through the C library's logf */
                    float t = logf(fmaf(s, -s, 1.0f)), p;
                    if (fabsf(t) > 6.125f) {
                        p = 3.03697567e-10f; p = fmaf(p, t, 2.93243101e-8f); p = fmaf(p, t, 1.22150334e-6f);
                        p = fmaf(p, t, 2.84108955e-5f); p = fmaf(p, t, 3.93552968e-4f); p = fmaf(p, t, 3.02698812e-3f);
                        p = fmaf(p, t, 4.83185798e-3f); p = fmaf(p, t, -2.64646143e-1f); p = fmaf(p, t, 8.40016484e-1f);
                    } else {
                        p = 5.43877832e-9f; p = fmaf(p, t, 1.43285448e-7f); p = fmaf(p, t, 1.22774793e-6f);
                        p = fmaf(p, t, 1.12963626e-7f); p = fmaf(p, t, -5.61530760e-5f); p = fmaf(p, t, -1.47697632e-4f);
                        p = fmaf(p, t, 2.31468678e-3f); p = fmaf(p, t, 1.15392581e-2f); p = fmaf(p, t, -2.32015476e-1f);
                        p = fmaf(p, t, 8.86226892e-1f);
                    }
                    float e = s * p, x = floorf(1003.0f * u - 3.0f);
                    int32_t ri = x < -3.0f ? -3 : x > 999.0f ? 999 : (int32_t)x;
                    uint32_t want = mode == MLXC_RANDOM_BITS ? w[j]
                                  : mode == MLXC_RANDOM_UNIFORM ? f2u(u)
                                  : mode == MLXC_RANDOM_ERFINV ? f2u(e)
                                  : mode == MLXC_RANDOM_NORMAL ? f2u(0x1.6a09e6p+0f * e)
                                  : (uint32_t)ri;
                    if (o[j] != want && bad[mode]++ < 3)
                        CHECK(0, "level %d mode %d n %ld [%ld]: %08x want %08x", lv, mode, (long)n, (long)j, o[j], want);
                    n_checks++;
                }
            }
            for (int m = 0; m < 5; m++) CHECK(bad[m] == 0, "level %d mode %d n %ld: %ld wrong", lv, m, (long)n, bad[m]);
        }
    }
    mlxc_cpu_set_isa(-1);
    CHECK(mlxc_random(MLXC_NUM_RANDOM, o, keys, 1, 1, 0, 0, 0, 0) == MLXC_ERR_UNSUPPORTED, "bad mode");
    free(w);
    free(o);
    /* MLX's math: its bits for erf(0.5), exp(1), erfinv(0.5) (MLX 0.32.4) */
    float xin[3] = {0.5f, 1.0f, 0.5f}, y[3];
    static const float want_m[3] = {0x1.0a7efep-1f, 0x1.5bf0a8p+1f, 0x1.e861fcp-2f};
    static const int funcs[3] = {MLXC_MLXMATH_ERF, MLXC_MLXMATH_EXP, MLXC_MLXMATH_ERFINV};
    for (int i = 0; i < 3; i++) {
        CHECK(mlxc_mlx_math(funcs[i], y + i, xin + i, 1) == MLXC_OK, "rc");
        CHECK(f2u(y[i]) == f2u(want_m[i]), "mlx math %d: %a want %a", funcs[i], (double)y[i], (double)want_m[i]);
    }
}

int main(int argc, char **argv)
{
    const char *seed = getenv("MLXC_TEST_SEED");   /* default seed: reproducible runs */
    if (seed && *seed) rng_state ^= strtoull(seed, NULL, 0) * 0x9e3779b97f4a7c15ull + 1;
    if (!rng_state) rng_state = 1;
    struct { const char *name; void (*fn)(void); } tests[] = {
        {"half", test_half}, {"copy", test_copy}, {"fill/arange", test_fill_arange},
        {"unary", test_unary}, {"binary", test_binary}, {"select", test_select},
        {"reduce", test_reduce}, {"argreduce", test_argreduce}, {"scan", test_scan},
        {"logcumsumexp", test_logcumsumexp},
        {"sort", test_sort}, {"gather", test_gather}, {"matmul", test_matmul},
        {"random", test_random},
    };
    /* every family at every SIMD level this CPU has (not only the detected one) */
    static const int levels[] = {MLXC_ISA_SCALAR, MLXC_ISA_NEON, MLXC_ISA_AVX2, MLXC_ISA_AVX512};
    int n_levels = 0;
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        if (mlxc_cpu_set_isa(levels[l]) != levels[l]) continue;   /* not on this CPU */
        n_levels++;
        printf("-- level %s\n", mlxc_isa_name(levels[l]));
        for (size_t t = 0; t < sizeof tests / sizeof tests[0]; t++) {
            int want = argc < 2;
            for (int i = 1; i < argc; i++) want |= strcmp(argv[i], tests[t].name) == 0;
            if (!want) continue;
            long f0 = n_fail, c0 = n_checks;
            tests[t].fn();
            printf("%-12s %9ld checks  %ld failed\n", tests[t].name, n_checks - c0, n_fail - f0);
        }
    }
    mlxc_cpu_set_isa(-1);
    if (n_levels < 2) { printf("FAILED: only %d SIMD level(s) could be forced\n", n_levels); n_fail++; }
    printf("%s: %ld checks, %ld failures\n", n_fail ? "FAILED" : "OK", n_checks, n_fail);
    return n_fail ? 1 : 0;
}
