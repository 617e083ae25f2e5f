/* mlxc_fft: one-dimensional FFTs along one axis of a batch (complex, real-to-complex,
 * complex-to-real), float32 / complex64 computed in float, float64 input in double.
 *
 * Algorithms (fft_impl.h, compiled per precision and ISA level):
 *  - lengths whose prime factors are all <= FFT_MAX_ODD: Stockham autosort passes of
 *    radix 4, 2, 3, 5 and any odd radix, on split complex, many lines at once;
 *  - lengths >= FFT_FOURSTEP_MIN that split into n1 * n2 (both >= 16): the four-step
 *    algorithm (column FFTs, twiddle, row FFTs, each over blocks of 16 lines), so every
 *    pass works in cache and the output transpose is free;
 *  - lengths with a larger prime factor: Bluestein's chirp-z convolution through a
 *    power-of-two transform;
 *  - real transforms of even n through the complex transform of n/2 values.
 * Plans (factorization, twiddles computed in double, sub-plans) are built once per
 * (length, precision, kind) and cached for the life of the process.
 * Every line is computed by the same sequence of operations whatever the batch grouping
 * and thread count, so results do not depend on MLXC_NUM_THREADS.  The build uses no
 * floating-point contraction, so the SIMD levels give the same values as well. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"

#define FFT_MAX_ODD 31              /* larger prime factors go through Bluestein */
#define FFT_FOURSTEP_MIN (1 << 14)  /* shorter lengths: one Stockham plan */
#define FS_BLOCK 16                 /* lines per block in the four-step passes */
#define FFT_LANE_BUDGET 16384       /* lanes * length of a Stockham group (4 buffers) */
#define FFT_MAX_LANES 16
#define FFT_MAX_STAGES 64
#define FFT_PAR_MIN (1 << 17)       /* values per call (or per four-step line) worth threads */

enum { FFT_STOCKHAM = 0, FFT_FOURSTEP, FFT_BLUESTEIN };
enum { PK_COMPLEX = 0, PK_STOCKHAM_ONLY, PK_REAL };

typedef struct fft_plan {
    int64_t n;
    int prec, pkind, mode;
    /* Stockham: stage radices, twiddles w^{jq} of each stage (T), odd-radix tables */
    int nstage;
    int radix[FFT_MAX_STAGES];
    int64_t twoff[FFT_MAX_STAGES], goff[FFT_MAX_STAGES];
    void *twr, *twi, *gc, *gs;
    /* four-step */
    int64_t n1, n2;
    const struct fft_plan *p1, *p2;
    void *fwr, *fwi;
    /* Bluestein */
    int64_t m;
    const struct fft_plan *pm;
    void *hr, *hi, *bfr, *bfi;
    /* real (PK_REAL, even n): cos/sin(2 pi k / n), k = 0..n/2 */
    void *rc, *rs;
    struct fft_plan *next;
} fft_plan;

typedef struct {
    int kind, in_dt;
    const void *in;
    void *out;
    int64_t n, in_len, out_len, outer, inner;
    double scale;
    const fft_plan *P;   /* complex plan of the core length */
    const fft_plan *R;   /* real plan (even n, R2C / C2R), else NULL */
    int64_t in_base, out_base;   /* the line being transformed (four-step C2C) */
} fft_args;

/* ---------------------------------------------------------------- engines */
#define T float
#define SFX(x) x##_f32_base
#define TGT
#include "fft_impl.h"
#undef T
#undef SFX
#undef TGT
#define T double
#define SFX(x) x##_f64_base
#define TGT
#include "fft_impl.h"
#undef T
#undef SFX
#undef TGT

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FFT_X86 1
#define T float
#define SFX(x) x##_f32_avx2
#define TGT __attribute__((target("avx2,fma")))
#include "fft_impl.h"
#undef T
#undef SFX
#undef TGT
#define T double
#define SFX(x) x##_f64_avx2
#define TGT __attribute__((target("avx2,fma")))
#include "fft_impl.h"
#undef T
#undef SFX
#undef TGT
#define T float
#define SFX(x) x##_f32_avx512
#define TGT __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#include "fft_impl.h"
#undef T
#undef SFX
#undef TGT
#define T double
#define SFX(x) x##_f64_avx512
#define TGT __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#include "fft_impl.h"
#undef T
#undef SFX
#undef TGT
#endif

/* ------------------------------------------------------------------ plans */
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static fft_plan *plans;

/* exp(-2 pi i t / n) for integer t (reduced exactly first) */
static void twiddle(int64_t t, int64_t n, double *re, double *im)
{
    t %= n;
    if (t < 0) t += n;
    double a = 2.0 * M_PI * (double)t / (double)n;
    *re = cos(a);
    *im = -sin(a);
}

/* a table of len values of precision prec from doubles */
static void *table(int prec, const double *src, int64_t len)
{
    size_t es = prec ? sizeof(double) : sizeof(float);
    void *p = malloc((size_t)(len > 0 ? len : 1) * es);
    if (!p) return NULL;
    if (prec) memcpy(p, src, (size_t)len * sizeof(double));
    else for (int64_t i = 0; i < len; i++) ((float *)p)[i] = (float)src[i];
    return p;
}

static int64_t largest_prime_factor(int64_t n)
{
    int64_t best = 1;
    for (int64_t p = 2; p * p <= n; p++)
        while (n % p == 0) { best = p; n /= p; }
    return n > 1 ? (n > best ? n : best) : best;
}

static const fft_plan *plan_locked(int64_t n, int prec, int pkind);

static int build_stockham(fft_plan *P)
{
    int64_t n = P->n, r = n;
    int ns = 0;
    while (r % 4 == 0 && ns < FFT_MAX_STAGES) { P->radix[ns++] = 4; r /= 4; }
    if (r % 2 == 0) { P->radix[ns++] = 2; r /= 2; }
    for (int64_t p = 3; r > 1 && ns < FFT_MAX_STAGES; p += 2)
        while (r % p == 0 && ns < FFT_MAX_STAGES) { P->radix[ns++] = (int)p; r /= p; }
    if (r != 1) return MLXC_ERR_UNSUPPORTED;
    P->nstage = ns;
    int64_t total = 0, gtotal = 0, ncur = n;
    for (int s = 0; s < ns; s++) {
        P->twoff[s] = total;
        P->goff[s] = gtotal;
        total += (P->radix[s] - 1) * (ncur / P->radix[s]);
        if (P->radix[s] > 5) gtotal += P->radix[s];
        ncur /= P->radix[s];
    }
    double *wr = malloc((size_t)(total + gtotal + 1) * 2 * sizeof(double));
    if (!wr) return MLXC_ERR_NOMEM;
    double *wi = wr + total + 1, *gc = wi + total, *gs = gc + gtotal;
    ncur = n;
    for (int s = 0; s < ns; s++) {
        int p = P->radix[s];
        int64_t m = ncur / p;
        for (int j = 1; j < p; j++)
            for (int64_t q = 0; q < m; q++)
                twiddle(j * q, ncur, &wr[P->twoff[s] + (j - 1) * m + q],
                        &wi[P->twoff[s] + (j - 1) * m + q]);
        if (p > 5)
            for (int t = 0; t < p; t++) {
                double a = 2.0 * M_PI * t / p;
                gc[P->goff[s] + t] = cos(a);
                gs[P->goff[s] + t] = sin(a);
            }
        ncur = m;
    }
    P->twr = table(P->prec, wr, total);
    P->twi = table(P->prec, wi, total);
    P->gc = table(P->prec, gc, gtotal);
    P->gs = table(P->prec, gs, gtotal);
    free(wr);
    return P->twr && P->twi && P->gc && P->gs ? MLXC_OK : MLXC_ERR_NOMEM;
}

static int build_fourstep(fft_plan *P)
{
    int64_t n = P->n;
    P->p1 = plan_locked(P->n1, P->prec, PK_STOCKHAM_ONLY);
    P->p2 = plan_locked(P->n2, P->prec, PK_STOCKHAM_ONLY);
    if (!P->p1 || !P->p2) return MLXC_ERR_NOMEM;
    double *wr = malloc((size_t)n * 2 * sizeof(double));
    if (!wr) return MLXC_ERR_NOMEM;
    double *wi = wr + n;
    for (int64_t k1 = 0; k1 < P->n1; k1++)
        for (int64_t j2 = 0; j2 < P->n2; j2++)
            twiddle((k1 * j2) % n, n, &wr[k1 * P->n2 + j2], &wi[k1 * P->n2 + j2]);
    P->fwr = table(P->prec, wr, n);
    P->fwi = table(P->prec, wi, n);
    free(wr);
    return P->fwr && P->fwi ? MLXC_OK : MLXC_ERR_NOMEM;
}

static int build_bluestein(fft_plan *P)
{
    int64_t n = P->n, m = 1;
    while (m < 2 * n - 1) m <<= 1;
    P->m = m;
    P->pm = plan_locked(m, P->prec, PK_COMPLEX);
    const fft_plan *pmd = plan_locked(m, 1, PK_COMPLEX);  /* the kernel's transform, in double */
    if (!P->pm || !pmd) return MLXC_ERR_NOMEM;
    double *buf = malloc((size_t)(2 * n + 4 * m) * sizeof(double));
    if (!buf) return MLXC_ERR_NOMEM;
    double *hr = buf, *hi = hr + n, *br = hi + n, *bi = br + m, *fr = bi + m, *fi = fr + m;
    for (int64_t t = 0; t < n; t++) {
        /* h_t = exp(-pi i t^2 / n) = exp(-2 pi i (t^2 mod 2n) / 2n) */
        uint64_t t2 = (uint64_t)t * (uint64_t)t % (uint64_t)(2 * n);
        twiddle((int64_t)t2, 2 * n, &hr[t], &hi[t]);
    }
    for (int64_t t = 0; t < m; t++) br[t] = bi[t] = 0;
    for (int64_t t = 0; t < n; t++) {
        br[t] = hr[t]; bi[t] = -hi[t];
        if (t) { br[m - t] = hr[t]; bi[m - t] = -hi[t]; }
    }
    int st = cline_f64_base(pmd, br, bi, fr, fi);
    if (st) { free(buf); return st; }
    for (int64_t k = 0; k < m; k++) { fr[k] /= (double)m; fi[k] /= (double)m; }
    P->hr = table(P->prec, hr, n);
    P->hi = table(P->prec, hi, n);
    P->bfr = table(P->prec, fr, m);
    P->bfi = table(P->prec, fi, m);
    free(buf);
    return P->hr && P->hi && P->bfr && P->bfi ? MLXC_OK : MLXC_ERR_NOMEM;
}

static int build_real(fft_plan *P)
{
    int64_t h = P->n / 2;
    double *c = malloc((size_t)(h + 1) * 2 * sizeof(double));
    if (!c) return MLXC_ERR_NOMEM;
    double *s = c + h + 1;
    for (int64_t k = 0; k <= h; k++) {
        twiddle(k, P->n, &c[k], &s[k]);
        s[k] = -s[k];   /* sin(2 pi k / n) */
    }
    P->rc = table(P->prec, c, h + 1);
    P->rs = table(P->prec, s, h + 1);
    free(c);
    return P->rc && P->rs ? MLXC_OK : MLXC_ERR_NOMEM;
}

/* n1 * n2 = n with n1 the divisor closest to sqrt(n), both >= 16; 0 if none */
static int64_t split_four(int64_t n)
{
    int64_t r = (int64_t)sqrt((double)n), best = 0;
    for (int64_t d = r + 1; d >= 16; d--)
        if (d <= n / 16 && n % d == 0) { best = d; break; }
    return best;
}

static const fft_plan *plan_locked(int64_t n, int prec, int pkind)
{
    for (fft_plan *p = plans; p; p = p->next)
        if (p->n == n && p->prec == prec && p->pkind == pkind) return p;
    fft_plan *P = calloc(1, sizeof *P);
    if (!P) return NULL;
    P->n = n;
    P->prec = prec;
    P->pkind = pkind;
    int st;
    if (pkind == PK_REAL) {
        st = build_real(P);
    } else if (largest_prime_factor(n) > FFT_MAX_ODD) {
        P->mode = FFT_BLUESTEIN;
        st = build_bluestein(P);
    } else if (pkind == PK_COMPLEX && n >= FFT_FOURSTEP_MIN && (P->n1 = split_four(n)) > 0) {
        P->mode = FFT_FOURSTEP;
        P->n2 = n / P->n1;
        st = build_fourstep(P);
    } else {
        P->mode = FFT_STOCKHAM;
        st = build_stockham(P);
    }
    if (st != MLXC_OK) return NULL;   /* a partial plan is leaked, never used */
    P->next = plans;
    plans = P;
    return P;
}

static const fft_plan *get_plan(int64_t n, int prec, int pkind)
{
    pthread_mutex_lock(&plan_lock);
    const fft_plan *P = plan_locked(n, prec, pkind);
    pthread_mutex_unlock(&plan_lock);
    return P;
}

/* ------------------------------------------------------------------- entry */
int mlxc_fft(int kind, int in_dtype, const void *in, void *out, int64_t n,
             int64_t outer, int64_t inner, double scale)
{
    if (n < 1 || outer < 0 || inner < 0) return MLXC_ERR_UNSUPPORTED;
    int ok_dt = in_dtype == MLXC_FLOAT32 || in_dtype == MLXC_FLOAT64 ||
                in_dtype == MLXC_COMPLEX64;
    if (kind == MLXC_FFT_R2C) ok_dt = in_dtype == MLXC_FLOAT32 || in_dtype == MLXC_FLOAT64;
    if (kind < MLXC_FFT_C2C || kind > MLXC_FFT_C2R || !ok_dt) return MLXC_ERR_UNSUPPORTED;
    const int prec = in_dtype == MLXC_FLOAT64;
    const int half = (kind == MLXC_FFT_R2C || kind == MLXC_FFT_C2R) && n % 2 == 0;
    fft_args A = {kind, in_dtype, in, out, n, n, n, outer, inner, scale, NULL, NULL, 0, 0};
    if (kind == MLXC_FFT_R2C) A.out_len = n / 2 + 1;
    if (kind == MLXC_FFT_C2R) A.in_len = n / 2 + 1;
    if (outer == 0 || inner == 0) return MLXC_OK;
    A.P = get_plan(half ? n / 2 : n, prec, PK_COMPLEX);
    if (!A.P) return MLXC_ERR_NOMEM;
    if (half) {
        A.R = get_plan(n, prec, PK_REAL);
        if (!A.R) return MLXC_ERR_NOMEM;
    }
#ifdef FFT_X86
    int isa = mlxc_isa_pick(mlxc_levels_fft);
    if (isa >= MLXC_ISA_AVX512) return prec ? run_f64_avx512(&A) : run_f32_avx512(&A);
    if (isa >= MLXC_ISA_AVX2) return prec ? run_f64_avx2(&A) : run_f32_avx2(&A);
#endif
    return prec ? run_f64_base(&A) : run_f32_base(&A);
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#ifdef FFT_X86
const unsigned mlxc_levels_fft = MLXC_LEVELS_X86;
#else
const unsigned mlxc_levels_fft = MLXC_LEVELS_SCALAR;
#endif
