/* Reductions, arg-reductions and scans with 1, 2 and 3 threads at every SIMD
 * level this CPU has: the results must be bit-identical whatever the thread
 * count (fixed reduction trees), float32 sums / cumsums and arg-reductions
 * bit-identical across SIMD levels too, and all of them right against a
 * double / 64-bit integer reference (exactly, for data whose partial sums are
 * exact in float32).  Shapes with odd sizes and tails; long single rows,
 * many short rows, strided (column) reductions.
 * Build (from the repository root): gcc -O2 -std=c11 -pthread -I kernels/include
 *        kernels/[all .c files] tests/c/test_reduce_threads.c -lm
 * Exit status 1 on any failure. */
#include "mlxc_kernels.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long n_checks, n_fail;
static char ctx[256];
#define CHECK(cond, ...)                                                            \
    do {                                                                            \
        n_checks++;                                                                 \
        if (!(cond)) {                                                              \
            if (n_fail++ < 40) {                                                    \
                printf("FAIL [%s] line %d: ", ctx, __LINE__);                       \
                printf(__VA_ARGS__);                                                \
                printf("\n");                                                       \
            }                                                                       \
        }                                                                           \
    } while (0)

static uint64_t rs = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
    rs ^= rs >> 12;
    rs ^= rs << 25;
    rs ^= rs >> 27;
    return rs * 0x2545f4914f6cdd1dull;
}
static double rndu(void) { return (double)(rnd() >> 11) * 0x1p-53; }
static double rndn(void)
{
    double u = rndu() + 1e-300, v = rndu();
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static const int isz[] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8, 8};
static const char *dtname[] = {"bool", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64",
                               "f16", "bf16", "f32", "f64", "c64"};
static const char *isaname[] = {"scalar", "neon", "avx2", "avx512"};

/* element k of buffer b of dtype dt as double (NaN kept) */
static double getd(int dt, const void *b, int64_t k)
{
    switch (dt) {
    case MLXC_UINT8: return ((const uint8_t *)b)[k];
    case MLXC_INT16: return ((const int16_t *)b)[k];
    case MLXC_INT32: return ((const int32_t *)b)[k];
    case MLXC_INT64: return (double)((const int64_t *)b)[k];
    case MLXC_FLOAT16: return mlxc_half_to_float(((const uint16_t *)b)[k]);
    case MLXC_BFLOAT16: return mlxc_bf16_to_float(((const uint16_t *)b)[k]);
    case MLXC_FLOAT32: return ((const float *)b)[k];
    case MLXC_FLOAT64: return ((const double *)b)[k];
    default: return 0;
    }
}
static void putd(int dt, void *b, int64_t k, double v)
{
    switch (dt) {
    case MLXC_UINT8: ((uint8_t *)b)[k] = (uint8_t)v; break;
    case MLXC_INT16: ((int16_t *)b)[k] = (int16_t)v; break;
    case MLXC_INT32: ((int32_t *)b)[k] = (int32_t)v; break;
    case MLXC_INT64: ((int64_t *)b)[k] = (int64_t)v; break;
    case MLXC_FLOAT16: ((uint16_t *)b)[k] = mlxc_float_to_half((float)v); break;
    case MLXC_BFLOAT16: ((uint16_t *)b)[k] = mlxc_float_to_bf16((float)v); break;
    case MLXC_FLOAT32: ((float *)b)[k] = (float)v; break;
    case MLXC_FLOAT64: ((double *)b)[k] = v; break;
    default: break;
    }
}
static int is_flt(int dt) { return dt >= MLXC_FLOAT16 && dt <= MLXC_FLOAT64; }

enum { K_RED, K_ARG, K_SCAN };
enum { D_RAND, D_INT, D_TIES, D_NAN };   /* normal(0,1)(+0.25); small ints; few values; + NaNs */
enum { M_LAST, M_FIRST, M_ALL };         /* reduce over: last axis, first axis, all */

typedef struct {
    int kind, op, dt;
    int64_t rows, cols;
    int mode;      /* K_RED: M_*; K_SCAN: bit 0 reverse, bit 1 exclusive */
    int data;
} tcase;

static const char *kname(const tcase *c)
{
    static const char *red[] = {"sum", "prod", "max", "min", "all", "any"};
    static const char *arg[] = {"argmax", "argmin"};
    static const char *scn[] = {"cumsum", "cumprod", "cummax", "cummin"};
    return c->kind == K_RED ? red[c->op] : c->kind == K_ARG ? arg[c->op] : scn[c->op];
}

static void fill(const tcase *c, void *in, int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        double v;
        switch (c->data) {
        case D_RAND:   /* half sums stay in range without the offset */
            v = !is_flt(c->dt) ? (double)(int64_t)(rnd() % 200) - 100
                : isz[c->dt] == 2 ? rndn() : rndn() + 0.25;
            break;
        case D_INT: v = (double)(int64_t)(rnd() % 7) - 3; break;
        case D_TIES: v = (double)(int64_t)(rnd() % 3); if (v == 0 && (rnd() & 1)) v = -0.0; break;
        default: v = rndn(); if (rnd() % 50000 == 0) v = NAN; break;
        }
        if (c->dt == MLXC_UINT8) v = fabs(v);
        putd(c->dt, in, k, v);
    }
}

/* output element count */
static int64_t nout(const tcase *c)
{
    if (c->kind == K_SCAN) return c->rows * c->cols;
    if (c->kind == K_ARG) return c->rows;
    return c->mode == M_LAST ? c->rows : c->mode == M_FIRST ? c->cols : 1;
}
static int out_dt(const tcase *c) { return c->kind == K_ARG ? MLXC_UINT32 : c->dt; }

static void run(const tcase *c, void *out, const void *in)
{
    int64_t R = c->rows, C = c->cols, rc;
    if (c->kind == K_RED) {
        int64_t sh[2], st[2];
        int nred = 1;
        if (c->mode == M_FIRST) { sh[0] = C; sh[1] = R; st[0] = 1; st[1] = C; }
        else { sh[0] = R; sh[1] = C; st[0] = C; st[1] = 1; if (c->mode == M_ALL) nred = 2; }
        rc = mlxc_reduce(c->op, c->dt, out, in, 2, sh, st, nred);
    } else if (c->kind == K_ARG) {
        int64_t sh[2] = {R, C}, st[2] = {C, 1};
        rc = mlxc_argreduce(c->op, c->dt, out, in, 2, sh, st);
    } else {
        int64_t sh[2] = {R, C}, st[2] = {C, 1};
        rc = mlxc_scan(c->op, c->dt, out, in, 2, sh, st, c->mode & 1, !(c->mode & 2));
    }
    CHECK(rc == MLXC_OK, "status %d", (int)rc);
}

/* the input elements reduced into output o, in order (reduce / arg) */
static int64_t elems(const tcase *c, int64_t o, int64_t *idx)
{
    int64_t R = c->rows, C = c->cols, n = 0;
    if (c->kind == K_ARG || c->mode == M_LAST) for (int64_t j = 0; j < C; j++) idx[n++] = o * C + j;
    else if (c->mode == M_FIRST) for (int64_t i = 0; i < R; i++) idx[n++] = i * C + o;
    else for (int64_t k = 0; k < R * C; k++) idx[n++] = k;
    return n;
}

static int same(double a, double b) { return (a != a && b != b) || a == b; }

/* Neumaier's compensated sum: the reference for float64 sums */
typedef struct { double s, c; } csum;
static void cadd(csum *a, double v)
{
    double t = a->s + v;
    a->c += fabs(a->s) >= fabs(v) ? (a->s - t) + v : (v - t) + a->s;
    a->s = t;
}

static void check_ref(const tcase *c, const void *out, const void *in, int64_t *idx)
{
    int dt = c->dt, exact = c->data != D_RAND || !is_flt(dt);
    double eps = dt == MLXC_FLOAT64 ? 0x1p-53 : 0x1p-24;
    double oeps = dt == MLXC_FLOAT16 ? 0x1p-11 : dt == MLXC_BFLOAT16 ? 0x1p-8 : eps;
    if (c->kind == K_SCAN) {
        int rev = c->mode & 1, excl = (c->mode >> 1) & 1;
        for (int64_t r = 0; r < c->rows; r++) {
            double a = c->op == MLXC_CUMSUM ? 0 : -INFINITY, aa = 0;
            csum cs = {0, 0};
            int64_t C = c->cols, bad = 0;
            for (int64_t t = 0; t < C; t++) {
                int64_t j = rev ? C - 1 - t : t, k = r * C + j;
                double v = getd(dt, in, k), before = a;
                if (c->op == MLXC_CUMSUM) { cadd(&cs, v); a = cs.s + cs.c; aa += fabs(v); }
                else a = (v > a || v != v || a != a) ? (a != a ? a : v) : a;
                double want = excl ? before : a, got = getd(dt, out, k);
                if (c->op == MLXC_CUMSUM && dt == MLXC_INT32) want = (double)(int32_t)(int64_t)want;
                double tol = exact ? 0 : (t / 8.0 + 64) * eps * aa + oeps * fabs(want);
                if (!(same(got, want) || fabs(got - want) <= tol) && bad++ < 3)
                    CHECK(0, "row %lld pos %lld: got %.9g want %.9g", (long long)r, (long long)j,
                          got, want);
            }
            CHECK(bad == 0, "row %lld: %lld wrong", (long long)r, (long long)bad);
        }
        return;
    }
    int64_t no = nout(c), bad = 0;
    for (int64_t o = 0; o < no; o++) {
        int64_t n = elems(c, o, idx);
        if (c->kind == K_ARG) {
            int64_t bi = 0;
            double best = n ? getd(dt, in, idx[0]) : 0;
            for (int64_t t = 1; t < n && best == best; t++) {
                double v = getd(dt, in, idx[t]);
                if (v != v || (c->op == MLXC_ARGMAX ? v > best : v < best)) { best = v; bi = t; }
            }
            uint32_t got = ((const uint32_t *)out)[o];
            if (got != (uint32_t)bi && bad++ < 3)
                CHECK(0, "out %lld: got %u want %lld", (long long)o, got, (long long)bi);
            continue;
        }
        double want, tol = 0, got = getd(dt, out, o);
        if (c->op == MLXC_RSUM) {
            double sa = 0;
            csum cs = {0, 0};
            int64_t si = 0;
            for (int64_t t = 0; t < n; t++) {
                double v = getd(dt, in, idx[t]);
                cadd(&cs, v); sa += fabs(v);
                if (!is_flt(dt)) si += (int64_t)v;
            }
            double s = cs.s + cs.c;
            want = s;
            if (dt == MLXC_INT32) want = (double)(int32_t)(uint32_t)(uint64_t)si;
            if (!exact) tol = (48 + log2((double)n + 1)) * eps * sa + oeps * fabs(s);
        } else {
            int mx = c->op == MLXC_RMAX;
            want = is_flt(dt) ? (mx ? -INFINITY : INFINITY) : mx ? 0 : 1e300;
            for (int64_t t = 0; t < n; t++) {
                double v = getd(dt, in, idx[t]);
                if (v != v || want != want) { want = NAN; continue; }
                if (mx ? v > want : v < want) want = v;
            }
        }
        if (exact && is_flt(dt)) {         /* the exact value rounded to the output type */
            uint64_t tmp;
            putd(dt, &tmp, 0, want);
            want = getd(dt, &tmp, 0);
        }
        if (!(same(got, want) || fabs(got - want) <= tol) && bad++ < 3)
            CHECK(0, "out %lld: got %.9g want %.9g (tol %.3g)", (long long)o, got, want, tol);
    }
    CHECK(bad == 0, "%lld outputs wrong", (long long)bad);
}

/* results compared across SIMD levels bit for bit */
static int level_invariant(const tcase *c)
{
    if (c->kind == K_ARG) return 1;
    if (!is_flt(c->dt)) return 1;
    if (c->kind == K_RED) return c->op == MLXC_RSUM;
    return c->op == MLXC_CUMSUM && c->dt == MLXC_FLOAT32;
}

static int levels[4], nlev;

static void run_case(const tcase *c)
{
    int64_t n = c->rows * c->cols, no = nout(c);
    size_t ob = (size_t)no * isz[out_dt(c)];
    void *in = malloc((size_t)n * isz[c->dt] + 1);
    void *first = malloc(ob + 1), *ref = malloc(ob + 1), *out = malloc(ob + 1);
    int64_t *idx = malloc((size_t)n * sizeof(int64_t) + 8);
    if (!in || !first || !ref || !out || !idx) { printf("out of memory\n"); exit(2); }
    fill(c, in, n);
    for (int li = 0; li < nlev; li++) {
        mlxc_cpu_set_isa(levels[li]);
        for (int nt = 1; nt <= 3; nt++) {
            mlxc_set_num_threads(nt);
            snprintf(ctx, sizeof ctx, "%s %s %lldx%lld mode %d data %d %s %d thr", kname(c),
                     dtname[c->dt], (long long)c->rows, (long long)c->cols, c->mode, c->data,
                     isaname[levels[li]], nt);
            memset(out, 0xa5, ob);
            run(c, out, in);
            if (nt == 1) {
                memcpy(ref, out, ob);
                check_ref(c, out, in, idx);
                if (li == 0) memcpy(first, out, ob);
                else if (level_invariant(c))
                    CHECK(memcmp(first, out, ob) == 0, "differs from the %s level",
                          isaname[levels[0]]);
            } else {
                CHECK(memcmp(ref, out, ob) == 0, "differs from 1 thread");
            }
        }
    }
    mlxc_set_num_threads(0);
    mlxc_cpu_set_isa(-1);
    free(in); free(first); free(ref); free(out); free(idx);
}

int main(void)
{
    int top = mlxc_cpu_detected_isa();
    for (int l = 0; l <= top; l++)
        if (l == MLXC_ISA_SCALAR || l == top || (top == MLXC_ISA_AVX512 && l == MLXC_ISA_AVX2))
            levels[nlev++] = l;
    static const int64_t shapes[][2] = {
        {1, 1}, {1, 7}, {1, 64}, {1, 65}, {1, 2047}, {1, 2049}, {1, 100003},
        {1, (1 << 18) + 5}, {1, (1 << 20) + 333}, {2, 1 << 17}, {3, 200001}, {5, 70001},
        {1000, 1001}, {4097, 67}, {67, 4099}, {300, 4096}, {17, 3}, {2, 150001},
    };
    int nsh = (int)(sizeof shapes / sizeof shapes[0]);
    for (int si = 0; si < nsh; si++) {
        int64_t R = shapes[si][0], C = shapes[si][1];
        for (int mode = 0; mode < 3; mode++) {
            for (int data = D_RAND; data <= D_NAN; data++) {
                tcase c = {K_RED, MLXC_RSUM, MLXC_FLOAT32, R, C, mode, data};
                if (data != D_NAN) run_case(&c);
                c.op = MLXC_RMAX; run_case(&c);
                c.op = MLXC_RMIN; run_case(&c);
            }
            tcase d = {K_RED, MLXC_RSUM, MLXC_FLOAT64, R, C, mode, D_RAND};
            run_case(&d);
            d.dt = MLXC_FLOAT16; d.data = D_INT; run_case(&d);
            d.data = D_RAND; run_case(&d);
            d.dt = MLXC_INT32; run_case(&d);
            d.op = MLXC_RMAX; d.dt = MLXC_UINT8; run_case(&d);
            d.op = MLXC_RMIN; d.dt = MLXC_INT64; run_case(&d);
            d.op = MLXC_RMAX; d.dt = MLXC_FLOAT64; run_case(&d);
        }
        for (int op = MLXC_ARGMAX; op <= MLXC_ARGMIN; op++) {
            for (int data = D_RAND; data <= D_NAN; data++) {
                tcase c = {K_ARG, op, MLXC_FLOAT32, R, C, 0, data};
                run_case(&c);
            }
            tcase d = {K_ARG, op, MLXC_FLOAT64, R, C, 0, D_TIES};
            run_case(&d);
            d.dt = MLXC_INT16; run_case(&d);
        }
        for (int mode = 0; mode < 4; mode++) {
            for (int data = D_RAND; data <= D_INT; data++) {
                tcase c = {K_SCAN, MLXC_CUMSUM, MLXC_FLOAT32, R, C, mode, data};
                run_case(&c);
            }
            tcase d = {K_SCAN, MLXC_CUMSUM, MLXC_INT32, R, C, mode, D_RAND};
            run_case(&d);
            d.op = MLXC_CUMMAX; d.dt = MLXC_FLOAT32; d.data = D_NAN; run_case(&d);
        }
    }
    printf("reduce/argreduce/scan threads: levels");
    for (int l = 0; l < nlev; l++) printf(" %s", isaname[levels[l]]);
    printf(", %ld checks, %ld failed\n", n_checks, n_fail);
    return n_fail ? 1 : 0;
}
