/* mlxc_matmul against a double-precision reference, at every SIMD level this
 * CPU has, for every dtype, with transposed / strided / negative-stride /
 * broadcast-batch operands and sizes around the register tiles and cache
 * blocks; results must be bit-identical for 1, 2 and 3 threads.  mlxc_addmm's
 * epilogue (alpha * A@B + beta * C) likewise on every path, with the addend
 * full, transposed, broadcast (row, column, scalar: stride 0) and, for
 * beta == 0, full of NaN that must not reach the result.
 *   tests/c/test_gemm [-v] [-q] [level ...]
 *     level: only these (scalar, neon, avx2, avx512); all the CPU has if none
 *     -q: two layouts instead of eight on the big shapes (under emulation)
 *   MLXC_TEST_SEED=n picks another stream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "mlxc_kernels.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double urand(void)  /* [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-52 - 1.0;
}

static int failures, checks, verbose, quick;

static size_t isz(int dt)
{
    switch (dt) {
    case MLXC_FLOAT16: case MLXC_BFLOAT16: return 2;
    case MLXC_FLOAT32: return 4;
    default: return 8;  /* float64, complex64 */
    }
}
static const char *dname(int dt)
{
    switch (dt) {
    case MLXC_FLOAT16: return "float16";
    case MLXC_BFLOAT16: return "bfloat16";
    case MLXC_FLOAT32: return "float32";
    case MLXC_FLOAT64: return "float64";
    default: return "complex64";
    }
}
/* real part (k = 0) or imaginary part (k = 1) of element e as double */
static double get(int dt, const void *base, int64_t e, int k)
{
    switch (dt) {
    case MLXC_FLOAT16: return k ? 0 : mlxc_half_to_float(((const uint16_t *)base)[e]);
    case MLXC_BFLOAT16: return k ? 0 : mlxc_bf16_to_float(((const uint16_t *)base)[e]);
    case MLXC_FLOAT32: return k ? 0 : ((const float *)base)[e];
    case MLXC_FLOAT64: return k ? 0 : ((const double *)base)[e];
    default: return ((const float *)base)[2 * e + k];
    }
}
static void put(int dt, void *base, int64_t e, double re, double im)
{
    switch (dt) {
    case MLXC_FLOAT16: ((uint16_t *)base)[e] = mlxc_float_to_half((float)re); break;
    case MLXC_BFLOAT16: ((uint16_t *)base)[e] = mlxc_float_to_bf16((float)re); break;
    case MLXC_FLOAT32: ((float *)base)[e] = (float)re; break;
    case MLXC_FLOAT64: ((double *)base)[e] = re; break;
    default: ((float *)base)[2 * e] = (float)re; ((float *)base)[2 * e + 1] = (float)im;
    }
}

enum { ROWMAJOR, COLMAJOR, STRIDED, NEGATIVE, NLAYOUT };
static const char *lname[NLAYOUT] = {"rowmajor", "colmajor", "strided", "negative"};

/* An R x C operand, batch matrices (one shared when bcast), in a buffer filled
 * with random values; *p points at element (0, 0, 0). */
struct opnd { void *buf, *p; int64_t bs, rs, cs; };
static struct opnd make(int dt, int64_t batch, int64_t R, int64_t C, int layout, int bcast)
{
    struct opnd o;
    int64_t span, off = 0;
    switch (layout) {
    case ROWMAJOR: o.rs = C; o.cs = 1; span = R * C; break;
    case COLMAJOR: o.rs = 1; o.cs = R; span = R * C; break;
    case STRIDED: o.rs = 2 * C + 3; o.cs = 2; span = R * o.rs; break;
    default: /* rows forward, columns backward */
        o.rs = C; o.cs = -1; span = R * C; off = C > 0 ? C - 1 : 0; break;
    }
    o.bs = bcast ? 0 : span;
    int64_t n = bcast ? span : batch * span;
    o.buf = malloc((size_t)n * isz(dt) + 16);
    for (int64_t e = 0; e < n; e++) {
        double im = urand(), re = urand();  /* sequenced: the same stream on every compiler */
        put(dt, o.buf, e, re, im);
    }
    o.p = (char *)o.buf + off * (int64_t)isz(dt);
    return o;
}

/* The addmm addend: none (plain mlxc_matmul), or C with strides of a kind */
enum { C_NONE, C_FULL, C_TRANS, C_ROW, C_COL, C_SCALAR };
static const char *cname[] = {"", "full", "transposed", "row", "column", "scalar"};
struct addend { int kind; double alpha, beta; void *buf; int64_t bs, rs, cs; };
static struct addend make_addend(int dt, int64_t batch, int64_t M, int64_t N, int kind,
                                 double alpha, double beta)
{
    struct addend c = {kind, alpha, beta, NULL, 0, 0, 0};
    int64_t n = 1;
    switch (kind) {
    case C_NONE: return c;
    case C_FULL: c.rs = N; c.cs = 1; c.bs = M * N; n = batch * M * N; break;
    case C_TRANS: c.rs = 1; c.cs = M; c.bs = M * N; n = batch * M * N; break;
    case C_ROW: c.cs = 1; n = N; break;          /* one bias row for every matrix */
    case C_COL: c.rs = 1; n = M; break;
    default: break;                             /* C_SCALAR: one element */
    }
    c.buf = malloc((size_t)n * isz(dt));
    for (int64_t e = 0; e < n; e++) {
        double im = urand(), re = urand();
        if (beta == 0) re = im = NAN;           /* must not be read */
        put(dt, c.buf, e, re, im);
    }
    return c;
}

static double eps_of(int dt)
{
    return dt == MLXC_FLOAT64 ? 0x1p-52 : 0x1p-23;
}
static double out_eps(int dt)  /* rounding of the stored result */
{
    return dt == MLXC_FLOAT16 ? 0x1p-11 : dt == MLXC_BFLOAT16 ? 0x1p-8 : 0;
}

/* one product at the current level and thread count; returns the output */
static void *run(int dt, int64_t batch, int64_t M, int64_t N, int64_t K,
                 struct opnd *a, struct opnd *b, const struct addend *ad)
{
    size_t n = (size_t)(batch * M * N) * isz(dt);
    void *c = malloc(n ? n : 1);
    memset(c, 0xcd, n);  /* garbage: every element must be written */
    int st = ad->kind == C_NONE
        ? mlxc_matmul(dt, batch, M, N, K, a->p, a->bs, a->rs, a->cs, b->p, b->bs, b->rs, b->cs, c)
        : mlxc_addmm(dt, batch, M, N, K, a->p, a->bs, a->rs, a->cs, b->p, b->bs, b->rs, b->cs,
                     c, ad->alpha, ad->beta, ad->beta != 0 ? ad->buf : NULL,
                     ad->bs, ad->rs, ad->cs);
    if (st != MLXC_OK) {
        printf("FAIL status %d\n", st);
        failures++;
    }
    return c;
}

static void check_ep(int dt, int64_t batch, int64_t M, int64_t N, int64_t K, int la, int lb,
                     int bc, int ckind, double alpha, double beta)
{
    struct opnd a = make(dt, batch, M, K, la, 0);
    struct opnd b = make(dt, batch, K, N, lb, bc);
    struct addend ad = make_addend(dt, batch, M, N, ckind, alpha, beta);
    int isa = mlxc_cpu_isa();
    mlxc_set_num_threads(1);
    void *c1 = run(dt, batch, M, N, K, &a, &b, &ad);
    int ncomp = dt == MLXC_COMPLEX64 ? 2 : 1;
    int64_t bad = 0;
    double worst = 0;
    /* the operands as doubles, rows of A and columns of B contiguous, so the
     * reference loop is cheap (it dominates the run time under emulation) */
    int64_t na = batch * M * K, nb = batch * N * K;
    double *ar = malloc((size_t)(2 * (na + nb) + 1) * sizeof(double));
    double *ai = ar + na, *br = ai + na, *bim = br + nb;
    for (int64_t bi = 0; bi < batch; bi++)
        for (int64_t p = 0; p < K; p++) {
            for (int64_t i = 0; i < M; i++) {
                int64_t ea = bi * a.bs + i * a.rs + p * a.cs, o = (bi * M + i) * K + p;
                ar[o] = get(dt, a.p, ea, 0);
                ai[o] = get(dt, a.p, ea, 1);
            }
            for (int64_t j = 0; j < N; j++) {
                int64_t eb = bi * b.bs + p * b.rs + j * b.cs, o = (bi * N + j) * K + p;
                br[o] = get(dt, b.p, eb, 0);
                bim[o] = get(dt, b.p, eb, 1);
            }
        }
    for (int64_t bi = 0; bi < batch; bi++)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double re = 0, im = 0, mag = 0;
                const double *xr = ar + (bi * M + i) * K, *xi = ai + (bi * M + i) * K;
                const double *yr = br + (bi * N + j) * K, *yi = bim + (bi * N + j) * K;
                if (ncomp == 1) {       /* the same sums with the zero parts left out */
                    for (int64_t p = 0; p < K; p++) {
                        re += xr[p] * yr[p];
                        mag += fabs(xr[p]) * fabs(yr[p]);
                    }
                } else {
                    for (int64_t p = 0; p < K; p++) {
                        re += xr[p] * yr[p] - xi[p] * yi[p];
                        im += xr[p] * yi[p] + xi[p] * yr[p];
                        mag += (fabs(xr[p]) + fabs(xi[p])) * (fabs(yr[p]) + fabs(yi[p]));
                    }
                }
                int64_t e = (bi * M + i) * N + j;
                double tol = 2.0 * (double)(K + 2) * eps_of(dt) * mag + 1e-300;
                double cre = 0, cim = 0;
                if (ckind != C_NONE) {  /* the epilogue, and its two roundings */
                    if (beta != 0) {
                        int64_t ec = bi * ad.bs + i * ad.rs + j * ad.cs;
                        cre = beta * get(dt, ad.buf, ec, 0);
                        cim = beta * get(dt, ad.buf, ec, 1);
                    }
                    re = alpha * re + cre;
                    im = alpha * im + cim;
                    tol = fabs(alpha) * tol
                          + 4 * eps_of(dt) * (fabs(alpha) * mag + fabs(cre) + fabs(cim));
                }
                for (int k = 0; k < ncomp; k++) {
                    double want = k ? im : re, got = get(dt, c1, e, k);
                    /* float16 results below 2^-14 are subnormal: spacing 2^-24 */
                    double t = tol + out_eps(dt) * fabs(want) * 1.0001
                               + (dt == MLXC_FLOAT16 ? 0x1p-25 : 0);
                    double err = fabs(got - want);
                    if (!(err <= t)) {
                        if (bad < 3)
                            printf("  [%ld,%ld,%ld] got %.9g want %.9g (tol %.3g)\n",
                                   (long)bi, (long)i, (long)j, got, want, t);
                        bad++;
                    }
                    if (t > 0 && err / t > worst) worst = err / t;
                }
            }
    free(ar);
    /* the same bits with more threads */
    int same = 1;
    for (int nt = 2; nt <= 3; nt++) {
        mlxc_set_num_threads(nt);
        void *c2 = run(dt, batch, M, N, K, &a, &b, &ad);
        if (memcmp(c1, c2, (size_t)(batch * M * N) * isz(dt)) != 0) same = 0;
        free(c2);
    }
    mlxc_set_num_threads(0);
    checks++;
    if (bad || !same) {
        failures++;
        printf("FAIL %s %s batch=%ld M=%ld N=%ld K=%ld A=%s B=%s%s", mlxc_isa_name(isa),
               dname(dt), (long)batch, (long)M, (long)N, (long)K, lname[la], lname[lb],
               bc ? " (B broadcast)" : "");
        if (ckind != C_NONE)
            printf(" addmm C=%s alpha=%g beta=%g", cname[ckind], alpha, beta);
        printf(": %ld wrong%s\n", (long)bad, same ? "" : ", differs with 2/3 threads");
    } else if (verbose) {
        printf("ok %s %s batch=%ld %ldx%ldx%ld A=%s B=%s%s", mlxc_isa_name(isa), dname(dt),
               (long)batch, (long)M, (long)N, (long)K, lname[la], lname[lb],
               bc ? " bcast" : "");
        if (ckind != C_NONE)
            printf(" addmm C=%s alpha=%g beta=%g", cname[ckind], alpha, beta);
        printf(" worst err/tol %.3f\n", worst);
    }
    free(c1);
    free(a.buf);
    free(b.buf);
    free(ad.buf);
}

static void check(int dt, int64_t batch, int64_t M, int64_t N, int64_t K, int la, int lb, int bc)
{
    check_ep(dt, batch, M, N, K, la, lb, bc, C_NONE, 1, 0);
}

int main(int argc, char **argv)
{
    int only = 0, ran = 0;      /* bit l: level l named on the command line / run */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) { verbose = 1; continue; }
        if (strcmp(argv[i], "-q") == 0) { quick = 1; continue; }
        int l = 0;
        while (l < MLXC_ISA_COUNT && strcmp(argv[i], mlxc_isa_name(l)) != 0) l++;
        if (l == MLXC_ISA_COUNT) { fprintf(stderr, "test_gemm: unknown level %s\n", argv[i]); return 2; }
        only |= 1 << l;
    }
    const char *seed = getenv("MLXC_TEST_SEED");
    if (seed) rng_state ^= strtoull(seed, NULL, 10) * 0x2545f4914f6cdd1dull;
    static const int dts[] = {MLXC_FLOAT32, MLXC_FLOAT64, MLXC_FLOAT16, MLXC_BFLOAT16, MLXC_COMPLEX64};
    static const int levels[] = {MLXC_ISA_SCALAR, MLXC_ISA_NEON, MLXC_ISA_AVX2, MLXC_ISA_AVX512};
    /* M, N, K: ones, register-tile edges (MR 4/6/12, NR 4/8/16/32), the
     * no-packing cut, several KC / MC blocks, more than one NC block */
    static const int64_t shapes[][3] = {
        {1, 1, 1}, {1, 1, 7}, {1, 37, 19}, {37, 1, 19}, {1, 300, 600}, {600, 1, 300},
        {2, 2, 0}, {5, 7, 0}, {3, 5, 2}, {5, 7, 11}, {7, 9, 13}, {11, 15, 17}, {13, 17, 31},
        {13, 33, 5}, {12, 32, 16}, {24, 64, 40}, {25, 31, 33}, {33, 65, 300},
        {150, 47, 513}, {149, 150, 260}, {290, 35, 70}, {7, 3100, 9}, {2, 40, 3},
    };
    int nshapes = (int)(sizeof shapes / sizeof shapes[0]);
    int have = mlxc_cpu_detected_isa();
    for (int li = 0; li < 4; li++) {
        int lv = levels[li];
        if (only && !(only & 1 << lv)) continue;
        if (mlxc_cpu_set_isa(lv) != lv) continue;  /* not on this CPU */
        ran |= 1 << lv;
        printf("level %s\n", mlxc_isa_name(lv));
        for (int di = 0; di < 5; di++) {
            int dt = dts[di];
            for (int s = 0; s < nshapes; s++) {
                int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                /* complex and half run fewer layouts on the big shapes */
                int big = M * N * K > 200000;
                for (int la = 0; la < NLAYOUT; la++)
                    for (int lb = 0; lb < NLAYOUT; lb++) {
                        if (big && (la + lb) % 3 && la != lb) continue;
                        if (big && quick && (la != lb || la > COLMAJOR)) continue;
                        if (big && dt != MLXC_FLOAT32 && dt != MLXC_FLOAT64 && (la || lb)) continue;
                        check(dt, 1, M, N, K, la, lb, 0);
                    }
            }
            /* batched: own B, broadcast B, small and packed sizes, matvec */
            check(dt, 5, 3, 4, 5, ROWMAJOR, ROWMAJOR, 0);
            check(dt, 9, 20, 30, 40, COLMAJOR, ROWMAJOR, 1);
            check(dt, 3, 40, 50, 60, ROWMAJOR, STRIDED, 0);
            check(dt, 4, 70, 1, 33, ROWMAJOR, COLMAJOR, 1);
            check(dt, 4, 1, 70, 33, STRIDED, ROWMAJOR, 0);
            check(dt, 3, 130, 140, 150, NEGATIVE, COLMAJOR, 0);
            /* addmm: every path (no-packing, matvec both ways, packed with edge
             * tiles, several KC slabs, K == 0, batched) and every addend kind */
            static const struct { int64_t batch, M, N, K; int la, lb, bc, ck; double al, be; } ep[] = {
                {1, 5, 7, 11, ROWMAJOR, ROWMAJOR, 0, C_FULL, 1.5, -0.75},
                {2, 5, 7, 11, COLMAJOR, STRIDED, 0, C_ROW, 1, 1},
                {1, 37, 1, 19, ROWMAJOR, ROWMAJOR, 0, C_COL, -2, 0.5},
                {3, 300, 1, 70, COLMAJOR, ROWMAJOR, 0, C_FULL, 0.5, 2},
                {1, 1, 37, 19, ROWMAJOR, COLMAJOR, 0, C_ROW, 1, 3},
                {2, 1, 300, 70, STRIDED, ROWMAJOR, 1, C_SCALAR, 0.25, 1},
                {1, 33, 65, 300, ROWMAJOR, ROWMAJOR, 0, C_FULL, 0.5, 2},
                {1, 149, 150, 260, COLMAJOR, NEGATIVE, 0, C_TRANS, -1, 0.5},
                {1, 150, 47, 513, ROWMAJOR, COLMAJOR, 0, C_ROW, 2, 1},
                {4, 70, 90, 40, ROWMAJOR, ROWMAJOR, 1, C_COL, 1, -1},
                {3, 40, 50, 60, STRIDED, ROWMAJOR, 0, C_SCALAR, 3, 0.5},
                {2, 60, 70, 80, ROWMAJOR, ROWMAJOR, 0, C_FULL, 1.25, 0},   /* NaN C unread */
                {1, 5, 7, 11, ROWMAJOR, ROWMAJOR, 0, C_ROW, 0.5, 0},
                {1, 37, 1, 19, ROWMAJOR, ROWMAJOR, 0, C_COL, 2, 0},
                {2, 5, 7, 0, ROWMAJOR, ROWMAJOR, 0, C_FULL, 2, 0.5},       /* K == 0 */
                {1, 6, 3, 0, ROWMAJOR, ROWMAJOR, 0, C_ROW, 1, 0},
            };
            for (size_t q = 0; q < sizeof ep / sizeof ep[0]; q++)
                check_ep(dt, ep[q].batch, ep[q].M, ep[q].N, ep[q].K, ep[q].la, ep[q].lb,
                         ep[q].bc, ep[q].ck, ep[q].al, ep[q].be);
        }
    }
    mlxc_cpu_set_isa(-1);
    for (int l = 0; l < MLXC_ISA_COUNT; l++)
        if (only & ~ran & 1 << l) {     /* named, but this CPU lacks it */
            printf("FAIL level %s not available\n", mlxc_isa_name(l));
            failures++;
        }
    printf("test_gemm: %d checks, %d failures (detected level %s)\n", checks, failures,
           mlxc_isa_name(have));
    return failures != 0;
}
