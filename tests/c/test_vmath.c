/* Accuracy tests of the float32 vector math (kernels/vmath*), against float64
 * references, at every SIMD level this CPU has.
 *
 *   test_vmath                          default suite (dense sweeps, edge
 *                                       cases, half types, threads); < ~20 s
 *   test_vmath --exhaustive NAME [ISA]  all 2^32 float32 inputs of one function
 *                                       (exp, log, ... ; ISA: avx2 | avx512 |
 *                                       scalar (= through mlxc_unary); default:
 *                                       the best level); prints the max error
 *   MLXC_VMATH_STRIDE=n                 sweep every n-th bit pattern (default 193)
 *
 * Error measure: |y - ref| / ulp(ref), where ulp(ref) is the spacing of
 * float32 at ref (2^-149 below 2^-126; 2^104 at and above 2^127, so inf
 * counts as 2^128).  NaN must give NaN, an exact zero the right sign.
 * A failure prints the function, level, input and both values; exit status 1. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mlxc_kernels.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"
#include "../../kernels/vmath.h"

static int failures;

static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* ------------------------------------------------------------ references */
static double erfinv_ref(double a)
{
    if (isnan(a)) return a;
    if (fabs(a) > 1) return NAN;
    if (fabs(a) == 1) return copysign(INFINITY, a);
    if (a == 0) return a;
    double x = fabs(a);
    /* bracket and Newton: erf(y) - x with the residual formed through erfc
     * near 1 so it keeps its relative accuracy */
    double lo = 0, hi = 6, y = sqrt(-log((1 - x) * (1 + x)));
    if (!(y > 0 && y < 6)) y = 1;
    for (int it = 0; it < 100; it++) {
        double r = x > 0.5 ? (1 - x) - erfc(y) : erf(y) - x;
        if (r < 0) lo = y; else hi = y;
        double d = 1.1283791670955126 * exp(-y * y);
        double yn = y - r / d;
        if (!(yn > lo && yn < hi)) yn = 0.5 * (lo + hi);   /* keep it bracketed */
        if (fabs(yn - y) <= 1e-17 * y || hi - lo <= 1e-16 * y) { y = yn; break; }
        y = yn;
    }
    return copysign(y, a);
}

static double ref_f(int func, float xf)
{
    double x = xf;
    switch (func) {
    case MLXC_VM_EXP: return exp(x);
    case MLXC_VM_EXPM1: return expm1(x);
    case MLXC_VM_LOG: return log(x);
    case MLXC_VM_LOG1P: return log1p(x);
    case MLXC_VM_LOG2: return log2(x);
    case MLXC_VM_SIN: return sin(x);
    case MLXC_VM_COS: return cos(x);
    case MLXC_VM_TAN: return tan(x);
    case MLXC_VM_TANH: return tanh(x);
    case MLXC_VM_SIGMOID: {
        /* MLX's 1/(1+exp(-x)) in float: 0 once exp(-x) overflows float32 */
        double e = exp(-x);
        if ((float)e == INFINITY) return 0.0;
        return 1.0 / (1.0 + e);
    }
    case MLXC_VM_ERF: return erf(x);
    case MLXC_VM_ERFINV: return erfinv_ref(x);
    }
    return NAN;
}

/* Inputs where the float semantics are ambiguous at the reference's precision:
 * sigmoid where exp(-x) is within 4 ulp of float overflow (0 or ~3e-39 both
 * follow from an exp that is within its bound). */
static int ambiguous(int func, float x)
{
    if (func == MLXC_VM_SIGMOID) {
        double e = exp(-(double)x);
        return e > (double)FLT_MAX * (1 - 0x1p-22) && e < (double)FLT_MAX * (1 + 0x1p-22);
    }
    return 0;
}

/* error of y in units of the last place of a format with `mant` explicit
 * mantissa bits, smallest normal exponent emin and largest finite exponent emax */
static double ulp_err_fmt(double y, double ref, int mant, int emin, int emax)
{
    if (isnan(ref) || isnan(y)) return isnan(ref) && isnan(y) ? 0 : INFINITY;
    if (ref == 0 && y == 0) return signbit(ref) == signbit(y) ? 0 : INFINITY;
    double big = ldexp(1.0, emax + 1);                  /* inf counts as 2^(emax+1) */
    /* values that round to inf in the format count as inf */
    if (fabs(ref) >= big - ldexp(1.0, emax - mant - 1)) ref = copysign(big, ref);
    if (isinf(y)) y = copysign(big, y);
    if (y == ref) return 0;
    int e;
    frexp(ref, &e);
    e -= 1;                                             /* |ref| in [2^e, 2^(e+1)) */
    if (e < emin) e = emin;
    if (e > emax) e = emax;
    return fabs(y - ref) / ldexp(1.0, e - mant);
}
static double ulp_err(float y, double ref) { return ulp_err_fmt(y, ref, 23, -126, 127); }

/* ------------------------------------------------------ sweep machinery */
#define BLOCK 16384

typedef struct {
    int func;
    uint64_t stride, count, offset;     /* input k = bits(offset + k * stride) */
    int nlev;
    mlxc_vm_fn fn[MLXC_ISA_COUNT];
    int lev[MLXC_ISA_COUNT];
    /* per thread, per level: max error and its input */
    double maxerr[256][MLXC_ISA_COUNT];
    float worst[256][MLXC_ISA_COUNT];
    uint64_t nbad[256][MLXC_ISA_COUNT];
} sweep_t;

static void sweep_task(void *ctx, int64_t t, int tid)
{
    sweep_t *S = ctx;
    float x[BLOCK], y[BLOCK];
    uint64_t k0 = (uint64_t)t * BLOCK;
    int64_t n = (int64_t)(S->count - k0 < BLOCK ? S->count - k0 : BLOCK);
    for (int64_t i = 0; i < n; i++)
        x[i] = u2f((uint32_t)(S->offset + (k0 + (uint64_t)i) * S->stride));
    double bound = mlxc_vm_ulp_bound[S->func];
    static _Thread_local double ref[BLOCK];
    for (int64_t i = 0; i < n; i++) ref[i] = ref_f(S->func, x[i]);
    for (int l = 0; l < S->nlev; l++) {
        S->fn[l](y, x, n);
        for (int64_t i = 0; i < n; i++) {
            double e = ulp_err(y[i], ref[i]);
            if (e > bound && ambiguous(S->func, x[i])) continue;
            if (e > S->maxerr[tid][l]) {
                S->maxerr[tid][l] = e;
                S->worst[tid][l] = x[i];
            }
            if (e > bound) S->nbad[tid][l]++;
        }
    }
}

/* the SIMD levels with vector-math kernels on this CPU */
static int simd_levels(int *lev)
{
    int n = 0, best = mlxc_cpu_detected_isa();
    for (int l = MLXC_ISA_AVX2; l <= MLXC_ISA_AVX512; l++)
        if (l <= best && best != MLXC_ISA_NEON && mlxc_vm_f32(0, l)) lev[n++] = l;
    return n;
}

static void report(const char *what, int func, sweep_t *S)
{
    double bound = mlxc_vm_ulp_bound[func];
    for (int l = 0; l < S->nlev; l++) {
        double m = 0;
        float w = 0;
        uint64_t bad = 0;
        for (int t = 0; t < 256; t++) {
            if (S->maxerr[t][l] > m) { m = S->maxerr[t][l]; w = S->worst[t][l]; }
            bad += S->nbad[t][l];
        }
        int fail = m > bound;
        printf("  %-7s %-6s %-10s max %.3f ulp (bound %.0f) at x = %a (%.9g)%s",
               mlxc_vm_name(func), mlxc_isa_name(S->lev[l]), what, m, bound, (double)w,
               (double)w, fail ? "  FAIL" : "\n");
        if (fail) {
            printf(", %llu inputs above\n", (unsigned long long)bad);
            failures++;
        }
    }
}

static sweep_t *run_sweep(int func, uint64_t stride, uint64_t offset, uint64_t count,
                          int nlev, const int *lev)
{
    sweep_t *S = calloc(1, sizeof *S);
    S->func = func;
    S->stride = stride;
    S->offset = offset;
    S->count = count;
    S->nlev = nlev;
    for (int l = 0; l < nlev; l++) {
        S->lev[l] = lev[l];
        S->fn[l] = mlxc_vm_f32(func, lev[l]);
    }
    mlxc_parallel_for((int64_t)((count + BLOCK - 1) / BLOCK), 256, sweep_task, S);
    return S;
}

/* ---------------------------------------------------- through mlxc_unary */
static const int unary_op[MLXC_VM_NUM] = {
    MLXC_EXP, MLXC_EXPM1, MLXC_LOG, MLXC_LOG1P, MLXC_LOG2, MLXC_SIN, MLXC_COS, MLXC_TAN,
    MLXC_TANH, MLXC_SIGMOID, MLXC_ERF, MLXC_ERFINV,
};

static int unary_f32(int func, float *out, const float *in, int64_t n)
{
    int64_t one = 1;
    return mlxc_unary(unary_op[func], MLXC_FLOAT32, out, in, 1, &n, &one);
}

/* edge cases: specials and the neighbourhoods of the thresholds */
static int edge_inputs(float *v)
{
    static const float pts[] = {
        0.0f, 1.0f, 2.0f, 0.5f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f, 3.25f, 3.75f, 3.9375f,
        4.25f, 0.70710677f, 1.4142135f, 0.34657359f, 88.7228394f, 87.3365479f, 103.972084f,
        89.0f, 104.0f, 30.0f, 17.3286800f, 9.5f, 65536.0f, 1.5707964f, 3.1415927f,
        4.7123890f, 6.2831855f, 0.99999994f, 0.9966f, 1e-20f, 1e-30f, 1e-38f, 1e-45f,
        1e-40f, 1e10f, 3.4028235e38f, 1.17549435e-38f, 0.125f, 5e-5f,
    };
    int n = 0;
    for (size_t p = 0; p < sizeof pts / sizeof pts[0]; p++)
        for (int s = 0; s < 2; s++) {
            uint32_t b = f2u(s ? -pts[p] : pts[p]);
            for (int d = -300; d <= 300; d++) {
                uint32_t c = b + (uint32_t)d;
                if ((c ^ b) >> 31) continue;            /* stay on one side of 0 */
                v[n++] = u2f(c);
            }
        }
    const float sp[] = {INFINITY, -INFINITY, NAN, -NAN, 0.0f, -0.0f, FLT_MAX, -FLT_MAX,
                        FLT_MIN, -FLT_MIN, 0x1p-149f, -0x1p-149f, 0x1.fffffcp-127f};
    for (size_t p = 0; p < sizeof sp / sizeof sp[0]; p++) v[n++] = sp[p];
    return n;
}
#define EDGE_MAX (41 * 2 * 601 + 16)

static void check_list(const char *what, int func, int isa, const float *x, const float *y,
                       int64_t n, double bound)
{
    double m = 0;
    int64_t wi = -1;
    for (int64_t i = 0; i < n; i++) {
        double e = ulp_err(y[i], ref_f(func, x[i]));
        if (e > bound && ambiguous(func, x[i])) continue;
        if (e > m || (wi < 0 && e > bound)) { m = e; wi = i; }
    }
    if (m > bound) {
        printf("  %-7s %-6s %-10s FAIL: x = %a gives %a, reference %a (%.3g ulp)\n",
               mlxc_vm_name(func), mlxc_isa_name(isa), what, (double)x[wi], (double)y[wi],
               ref_f(func, x[wi]), m);
        failures++;
    }
}

/* all float16 / bfloat16 inputs through mlxc_unary: the result must be the
 * correctly rounded half of the exact value, or its neighbour when the exact
 * value is within the float32 error of a rounding boundary */
static void check_half(int func, int isa, int dtype)
{
    static uint16_t in[65536], out[65536];
    for (int i = 0; i < 65536; i++) in[i] = (uint16_t)i;
    int64_t n = 65536, one = 1;
    if (mlxc_unary(unary_op[func], dtype, out, in, 1, &n, &one) != MLXC_OK) {
        printf("  %s %s: dtype %d unsupported\n", mlxc_vm_name(func), mlxc_isa_name(isa), dtype);
        failures++;
        return;
    }
    int mant = dtype == MLXC_FLOAT16 ? 10 : 7, emin = dtype == MLXC_FLOAT16 ? -14 : -126;
    int emax = dtype == MLXC_FLOAT16 ? 15 : 127;
    double m = 0;
    int wi = 0;
    for (int i = 0; i < 65536; i++) {
        float x = dtype == MLXC_FLOAT16 ? mlxc_half_to_float(in[i]) : mlxc_bf16_to_float(in[i]);
        float y = dtype == MLXC_FLOAT16 ? mlxc_half_to_float(out[i]) : mlxc_bf16_to_float(out[i]);
        double r = ref_f(func, x);
        if (ambiguous(func, x)) continue;
        /* float32 semantics first: sigmoid's 0 is exact in any format */
        double e = ulp_err_fmt(y, r, mant, emin, emax);
        if (e > m) { m = e; wi = i; }
    }
    /* 0.5 for the half rounding + the float32 error scaled to half ulps */
    double bound = 0.5 + mlxc_vm_ulp_bound[func] * ldexp(1.0, mant - 23) + 1e-9;
    if (isa == MLXC_ISA_SCALAR && func == MLXC_VM_ERFINV) bound += 0.5;
    if (m > bound) {
        float x = dtype == MLXC_FLOAT16 ? mlxc_half_to_float((uint16_t)wi) : mlxc_bf16_to_float((uint16_t)wi);
        printf("  %-7s %-6s %-10s FAIL: max %.3f half-ulp at x = %a\n", mlxc_vm_name(func),
               mlxc_isa_name(isa), dtype == MLXC_FLOAT16 ? "float16" : "bfloat16", m, (double)x);
        failures++;
    }
}

/* ------------------------------------------------------------------ pow */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd32(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void test_pow(int isa, mlxc_vm_pow_fn fn, int64_t n)
{
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *y = malloc(n * sizeof *y);
    rng = 0x9e3779b97f4a7c15ULL;
    for (int64_t i = 0; i < n; i++) {
        uint32_t r = rnd32();
        switch (i % 6) {
        case 0: a[i] = u2f(rnd32()); b[i] = u2f(rnd32()); break;            /* any bits */
        case 1: a[i] = u2f(rnd32() & 0x7fffffffu); b[i] = (float)((int)(r % 81) - 40) * 0.5f; break;
        case 2: a[i] = (float)(r % 1000) * 0.01f - 5.0f; b[i] = (float)((int)(rnd32() % 21) - 10); break;
        case 3: a[i] = u2f(0x3f000000u + (r % 0x1000000u)); b[i] = u2f(rnd32()) ; break; /* a in [0.5,2) */
        case 4: a[i] = u2f(0x3f000000u + (r % 0x1000000u)); b[i] = (float)(rnd32() % 200000) - 100000.0f; break;
        default: a[i] = u2f(rnd32() & 0x7fffffffu); b[i] = (float)(rnd32() % 2000) * 0.01f - 10.0f;
        }
    }
    /* signaling NaNs follow libm's powf (pow(sNaN, 0) is NaN there, 1 in the
     * float64 reference after the conversion quiets it): keep NaNs quiet */
    for (int64_t i = 0; i < n; i++) {
        if (isnan(a[i])) a[i] = u2f(f2u(a[i]) | 0x400000u);
        if (isnan(b[i])) b[i] = u2f(f2u(b[i]) | 0x400000u);
    }
    /* the specials */
    const float sp[] = {0.0f, -0.0f, 1.0f, -1.0f, 2.0f, -2.0f, 0.5f, 3.0f, -3.0f, INFINITY,
                        -INFINITY, NAN, 0x1p-149f, FLT_MAX, 1e-20f, 128.0f, -128.0f, 150.0f};
    int ns = sizeof sp / sizeof sp[0], k = 0;
    for (int i = 0; i < ns && k + ns < n; i++)
        for (int j = 0; j < ns; j++, k++) { a[k] = sp[i]; b[k] = sp[j]; }
    fn(y, a, 1, b, 1, n);
    double m = 0, bound = mlxc_vm_ulp_bound[MLXC_VM_NUM];
    int64_t wi = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = ulp_err(y[i], pow((double)a[i], (double)b[i]));
        if (e > m) { m = e; wi = i; }
    }
    printf("  %-7s %-6s %-10s max %.3f ulp (bound %.0f) at %a ** %a%s\n", "pow", mlxc_isa_name(isa),
           "sampled", m, bound, (double)a[wi], (double)b[wi], m > bound ? "  FAIL" : "");
    if (m > bound) failures++;
    /* broadcast operands give the same values */
    float *z = malloc(n * sizeof *z);
    fn(z, a + 7, 0, b, 1, n);
    for (int64_t i = 0; i < n; i++) {
        double e = ulp_err(z[i], pow((double)a[7], (double)b[i]));
        if (e > bound) { printf("  pow %s scalar base FAIL at %a ** %a\n", mlxc_isa_name(isa), (double)a[7], (double)b[i]); failures++; break; }
    }
    fn(z, a, 1, b + 5, 0, n);
    for (int64_t i = 0; i < n; i++) {
        double e = ulp_err(z[i], pow((double)a[i], (double)b[5]));
        if (e > bound) { printf("  pow %s scalar exponent FAIL at %a ** %a\n", mlxc_isa_name(isa), (double)a[i], (double)b[5]); failures++; break; }
    }
    free(a); free(b); free(y); free(z);
}

/* ------------------------------------------------- thread-count invariance */
static void test_threads(void)
{
    int64_t n = (1 << 18) + 13, one = 1;
    float *x = malloc((n + 1) * 4), *y1 = malloc(n * 4), *y2 = malloc(n * 4);   /* b = x + 1 */
    uint16_t *h = malloc(n * 2), *h1 = malloc(n * 2), *h2 = malloc(n * 2);
    x[n] = 1.5f;
    for (int64_t i = 0; i < n; i++) {
        x[i] = u2f(rnd32());
        if (i % 3) x[i] = (float)(i % 2000) * 0.01f - 10.0f;
        h[i] = mlxc_float_to_half(x[i]);
    }
    static const int ops[] = {MLXC_EXP, MLXC_SIN, MLXC_TANH, MLXC_ABS, MLXC_SQRT};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        mlxc_set_num_threads(1);
        mlxc_unary(ops[o], MLXC_FLOAT32, y1, x, 1, &n, &one);
        mlxc_unary(ops[o], MLXC_FLOAT16, h1, h, 1, &n, &one);
        for (int t = 2; t <= 7; t += 5) {
            mlxc_set_num_threads(t);
            mlxc_unary(ops[o], MLXC_FLOAT32, y2, x, 1, &n, &one);
            mlxc_unary(ops[o], MLXC_FLOAT16, h2, h, 1, &n, &one);
            if (memcmp(y1, y2, n * 4) || memcmp(h1, h2, n * 2)) {
                printf("  unary op %d differs between 1 and %d threads: FAIL\n", ops[o], t);
                failures++;
            }
        }
    }
    static const int bops[] = {MLXC_ADD, MLXC_MUL, MLXC_POWER, MLXC_DIV};
    for (size_t o = 0; o < sizeof bops / sizeof bops[0]; o++) {
        int64_t z = 0;
        for (int bc = 0; bc < 2; bc++) {
            mlxc_set_num_threads(1);
            mlxc_binary(bops[o], MLXC_FLOAT32, y1, x, &one, x + 1, bc ? &z : &one, 1, &n);
            mlxc_set_num_threads(7);
            mlxc_binary(bops[o], MLXC_FLOAT32, y2, x, &one, x + 1, bc ? &z : &one, 1, &n);
            if (memcmp(y1, y2, n * 4)) {
                printf("  binary op %d differs between 1 and 7 threads: FAIL\n", bops[o]);
                failures++;
            }
        }
    }
    mlxc_set_num_threads(0);
    free(x); free(y1); free(y2); free(h); free(h1); free(h2);

    /* outputs past 16 MB take the streaming-store loops: misaligned output,
     * every level, against the plain C expression */
    int64_t nb = (1 << 22) + 37, z = 0;
    float *p = malloc(nb * 4), *q = malloc(nb * 4), *r = malloc((nb + 1) * 4);
    for (int64_t i = 0; i < nb; i++) { p[i] = (float)i * 0.37f - 5.0f; q[i] = (float)(i % 97) - 40.5f; }
    for (int l = MLXC_ISA_SCALAR; l <= mlxc_cpu_detected_isa(); l++) {
        if (l == MLXC_ISA_NEON) continue;
        mlxc_cpu_set_isa(l);
        for (int bc = 0; bc < 2; bc++) {
            mlxc_binary(MLXC_DIV, MLXC_FLOAT32, r + 1, p, &one, q, bc ? &z : &one, 1, &nb);
            for (int64_t i = 0; i < nb; i++)
                if (f2u(r[i + 1]) != f2u(p[i] / q[bc ? 0 : i])) {
                    printf("  big DIV at level %s wrong at %lld: FAIL\n", mlxc_isa_name(l), (long long)i);
                    failures++;
                    break;
                }
        }
        /* unary vector math likewise: the whole (streamed) equals pieces */
        float *r2 = malloc(nb * 4);
        mlxc_unary(MLXC_EXP, MLXC_FLOAT32, r + 1, p, 1, &nb, &one);
        for (int64_t i = 0; i < nb; i += 100000) {
            int64_t m = nb - i < 100000 ? nb - i : 100000;
            mlxc_unary(MLXC_EXP, MLXC_FLOAT32, r2 + i, p + i, 1, &m, &one);
        }
        if (memcmp(r + 1, r2, nb * 4)) {
            printf("  big EXP at level %s differs from pieces: FAIL\n", mlxc_isa_name(l));
            failures++;
        }
        free(r2);
    }
    mlxc_cpu_set_isa(-1);
    free(p); free(q); free(r);
}

/* ------------------------------------------------------------ exhaustive */
typedef struct {
    int func, isa;
    mlxc_vm_fn fn;
    double maxerr[256];
    float worst[256];
    uint64_t nbad[256];
} exh_t;

static void exh_task(void *ctx, int64_t t, int tid)
{
    exh_t *E = ctx;
    static _Thread_local float x[1 << 16], y[1 << 16];
    int64_t n = 1 << 16;
    for (int64_t i = 0; i < n; i++) x[i] = u2f((uint32_t)(((uint64_t)t << 16) + (uint64_t)i));
    if (E->fn) E->fn(y, x, n);
    else unary_f32(E->func, y, x, n);        /* scalar level: the serial libm path */
    double bound = mlxc_vm_ulp_bound[E->func];
    for (int64_t i = 0; i < n; i++) {
        double e = ulp_err(y[i], ref_f(E->func, x[i]));
        if (e > bound && ambiguous(E->func, x[i])) continue;
        if (e > E->maxerr[tid]) { E->maxerr[tid] = e; E->worst[tid] = x[i]; }
        if (e > bound) E->nbad[tid]++;
    }
}

static int exhaustive(const char *name, const char *isa_name)
{
    int func = -1;
    for (int f = 0; f < MLXC_VM_NUM; f++)
        if (strcmp(name, mlxc_vm_name(f)) == 0) func = f;
    if (func < 0) { fprintf(stderr, "unknown function %s\n", name); return 2; }
    int isa = mlxc_cpu_detected_isa();
    if (isa_name)
        for (int l = 0; l < MLXC_ISA_COUNT; l++)
            if (strcmp(isa_name, mlxc_isa_name(l)) == 0) isa = l;
    if (mlxc_cpu_set_isa(isa) != isa) { fprintf(stderr, "level %s not available\n", isa_name); return 2; }
    exh_t *E = calloc(1, sizeof *E);
    E->func = func;
    E->isa = isa;
    E->fn = mlxc_vm_f32(func, isa);
    mlxc_parallel_for(1 << 16, 256, exh_task, E);
    double m = 0;
    float w = 0;
    uint64_t bad = 0;
    for (int t = 0; t < 256; t++) {
        if (E->maxerr[t] > m) { m = E->maxerr[t]; w = E->worst[t]; }
        bad += E->nbad[t];
    }
    printf("exhaustive %s %s: all 2^32 inputs, max error %.4f ulp at x = %a (%.9g); "
           "%llu inputs above the bound %.0f\n", name, mlxc_isa_name(isa), m, (double)w,
           (double)w, (unsigned long long)bad, mlxc_vm_ulp_bound[func]);
    free(E);
    return bad ? 1 : 0;
}

/* ------------------------------------------------------------------ main */
int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--exhaustive") == 0)
        return exhaustive(argv[2], argc >= 4 ? argv[3] : NULL);
    const char *s = getenv("MLXC_VMATH_STRIDE");
    uint64_t stride = s && atoll(s) > 0 ? (uint64_t)atoll(s) : 193;
    int lev[MLXC_ISA_COUNT];
    int nlev = simd_levels(lev);
    printf("test_vmath: levels with SIMD kernels:");
    for (int l = 0; l < nlev; l++) printf(" %s", mlxc_isa_name(lev[l]));
    printf("; sweep stride %llu, %d threads\n", (unsigned long long)stride, mlxc_num_threads());

    /* 1. dense sweeps of the kernels at each level */
    for (int f = 0; f < MLXC_VM_NUM; f++) {
        uint64_t st = stride;
        /* the erfinv reference iterates: sweep [-1, 1] (the rest is NaN) */
        uint64_t off = 0, cnt = ((1ULL << 32) + st - 1) / st;
        if (f == MLXC_VM_ERFINV) {
            st = stride * 2 + 1;
            cnt = 0x3f800001ULL / st + 1;       /* +0 .. 1 */
            sweep_t *S = run_sweep(f, st, 0, cnt, nlev, lev);
            report("sweep+", f, S);
            free(S);
            off = 0x80000000ULL;                /* -0 .. -1 */
        }
        sweep_t *S = run_sweep(f, st, off, cnt, nlev, lev);
        report(f == MLXC_VM_ERFINV ? "sweep-" : "sweep", f, S);
        free(S);
    }

    /* 2. edge cases and a sparse sweep through mlxc_unary, every level (incl.
     * the scalar libm path) */
    static float ex[EDGE_MAX], ey[EDGE_MAX];
    int ne = edge_inputs(ex);
    int64_t ns = 1 << 20;
    float *sx = malloc(ns * 4), *sy = malloc(ns * 4);
    for (int64_t i = 0; i < ns; i++) sx[i] = u2f((uint32_t)(i * 4093u + 11u));
    int all[MLXC_ISA_COUNT + 1], nall = 0;
    all[nall++] = MLXC_ISA_SCALAR;
    for (int l = 0; l < nlev; l++) all[nall++] = lev[l];
    for (int li = 0; li < nall; li++) {
        int isa = all[li];
        mlxc_cpu_set_isa(isa);
        for (int f = 0; f < MLXC_VM_NUM; f++) {
            /* libm float functions are within 1-2 ulp; erfinv and sigmoid's
             * float formula at the scalar level are held to the same bounds */
            double bound = mlxc_vm_ulp_bound[f];
            mlxc_vm_fn fn = mlxc_vm_f32(f, isa);
            if (fn) {
                memset(ey, 0, sizeof ey);
                fn(ey, ex, ne);
                check_list("edge", f, isa, ex, ey, ne, bound);
                /* in place gives the same bits */
                static float ip[EDGE_MAX];
                memcpy(ip, ex, ne * sizeof *ip);
                fn(ip, ip, ne);
                if (memcmp(ip, ey, ne * sizeof *ip)) {
                    printf("  %s %s: in place differs FAIL\n", mlxc_vm_name(f), mlxc_isa_name(isa));
                    failures++;
                }
                /* every tail length, and in place */
                for (int64_t m = 0; m <= 33; m++) {
                    float t[40];
                    memcpy(t, ex + 5000, sizeof t);
                    fn(t, t, m);
                    check_list("tail", f, isa, ex + 5000, t, m, bound);
                    if (memcmp(t + m, ex + 5000 + m, (40 - m) * 4)) {
                        printf("  %s %s: wrote past n = %lld FAIL\n", mlxc_vm_name(f),
                               mlxc_isa_name(isa), (long long)m);
                        failures++;
                    }
                }
            }
            memset(ey, 0, sizeof ey);
            if (unary_f32(f, ey, ex, ne) != MLXC_OK) { failures++; continue; }
            check_list("unary edge", f, isa, ex, ey, ne, bound);
            unary_f32(f, sy, sx, ns);
            check_list("unary", f, isa, sx, sy, ns, bound);
            check_half(f, isa, MLXC_FLOAT16);
            check_half(f, isa, MLXC_BFLOAT16);
        }
        printf("  level %-6s: edge cases, mlxc_unary sweep, float16/bfloat16 checked\n",
               mlxc_isa_name(isa));
    }
    mlxc_cpu_set_isa(-1);
    free(sx);
    free(sy);

    /* 3. pow */
    for (int l = 0; l < nlev; l++) test_pow(lev[l], mlxc_vm_pow_f32(lev[l]), 1 << 20);

    /* 4. results independent of the thread count */
    test_threads();

    printf("test_vmath: %s (%d failures)\n", failures ? "FAILED" : "ok", failures);
    return failures ? 1 : 0;
}
