/* mlxc_conv: N-d convolution (1 to 3 spatial dims), channels last, as MLX's
 * conv_general: stride, low/high padding (negative crops), kernel dilation,
 * input dilation (zeros between input elements), groups, flip.
 *
 * Paths:
 *  - implicit GEMM (the general case): per group, out (N*O, Cog) = P (N*O, K*Cig)
 *    @ W^T, where P's row is the receptive field of one output position.  P is
 *    never built: a packing hook writes its MR-row panels straight into the
 *    GEMM's buffers (kernels/matmul.c, mlxc_gemm_hooked), so the micro-kernels,
 *    blocking and thread cuts are the GEMM's own, and so is the summation order
 *    (fixed, whatever the thread count).
 *  - 1x1 kernels without padding, stride or dilation (one group): a plain GEMM
 *    on the input seen as an (N*O, C_in) matrix.
 *  - depthwise (one input and one output channel per group): direct loops,
 *    vectorized across channels, taps summed in order.
 * float16/bfloat16 accumulate in float32 and round once.
 */
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CONV_X86 1
#define TGT_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TGT_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c")))
#endif
#define TGT_NONE

/* three spatial dims always: missing leading ones have size 1 */
struct conv {
    int dt;
    int64_t N, in[3], K[3], O[3], s[3], lo[3], kd[3], id[3], span[3];
    int64_t cin, cout, G, cig, cog, ktot, otot, kg;
    int flip;
    const char *x, *w;
    void *out;
};

/* where tap t of output position o reads along dim d: the input index, or -1
 * (padding, or between dilated input elements) */
static inline int64_t tap_src(const struct conv *c, int d, int64_t o, int64_t t)
{
    int64_t k = c->flip ? c->K[d] - 1 - t : t;
    int64_t q = o * c->s[d] + k * c->kd[d] - c->lo[d];
    if (q < 0 || q >= c->span[d]) return -1;
    if (c->id[d] != 1) {
        if (q % c->id[d]) return -1;
        q /= c->id[d];
    }
    return q;
}

/* The packing hook: rows i0.. of P for group g, columns p0..p0+k, column p
 * being (tap p / Cig, channel p % Cig).  Each tap is a run of Cig contiguous
 * input channels (or zeros). */
#define GEN_PACK_CONV(N, T)                                                         \
static void pack_conv_##N(const void *ctx, void *dst_, int64_t g, int64_t i0,       \
                          int64_t p0, int64_t m, int64_t k, int MR)                 \
{                                                                                   \
    const struct conv *c = ctx;                                                     \
    T *restrict dst = dst_;                                                         \
    const STY_##N *x = (const STY_##N *)c->x + g * c->cig;                          \
    const int64_t cig = c->cig;                                                     \
    for (int r = 0; r < MR; r++) {                                                  \
        T *d = dst + r;                                                             \
        if (r >= m) {                                                               \
            for (int64_t p = 0; p < k; p++) d[p * MR] = 0;                          \
            continue;                                                               \
        }                                                                           \
        int64_t i = i0 + r, n = i / c->otot, o = i % c->otot;                      \
        int64_t o2 = o % c->O[2], o1 = o / c->O[2] % c->O[1], o0 = o / c->O[2] / c->O[1]; \
        int64_t t = p0 / cig, ch = p0 % cig, p = 0;                                 \
        while (p < k) {                                                             \
            int64_t run = cig - ch < k - p ? cig - ch : k - p;                      \
            int64_t t2 = t % c->K[2], t1 = t / c->K[2] % c->K[1], t0 = t / c->K[2] / c->K[1]; \
            int64_t q0 = tap_src(c, 0, o0, t0), q1 = tap_src(c, 1, o1, t1);         \
            int64_t q2 = tap_src(c, 2, o2, t2);                                     \
            if (q0 < 0 || q1 < 0 || q2 < 0) {                                       \
                for (int64_t e = 0; e < run; e++) d[(p + e) * MR] = 0;              \
            } else {                                                                \
                const STY_##N *s = x + (((n * c->in[0] + q0) * c->in[1] + q1)       \
                                        * c->in[2] + q2) * c->cin + ch;             \
                for (int64_t e = 0; e < run; e++) d[(p + e) * MR] = LD_##N(s[e]);   \
            }                                                                       \
            p += run;                                                               \
            ch = 0;                                                                 \
            t++;                                                                    \
        }                                                                           \
    }                                                                               \
}
GEN_PACK_CONV(f32, float)
GEN_PACK_CONV(f64, double)
GEN_PACK_CONV(f16, float)
GEN_PACK_CONV(bf16, float)

static int conv_gemm(const struct conv *c)
{
    int dbl = c->dt == MLXC_FLOAT64, half = c->dt == MLXC_FLOAT16 || c->dt == MLXC_BFLOAT16;
    int64_t M = c->N * c->otot;
    mlxc_pack_hook pk = dbl ? pack_conv_f64 : c->dt == MLXC_FLOAT32 ? pack_conv_f32
                      : c->dt == MLXC_FLOAT16 ? pack_conv_f16 : pack_conv_bf16;
    float *acc = NULL;
    void *C = c->out;
    if (half) {                 /* float accumulator, rounded once at the end */
        acc = malloc((size_t)(M * c->cout) * sizeof(float));
        if (!acc) return MLXC_ERR_NOMEM;
        C = acc;
    }
    /* B (K*Cig x Cog) of group g: W[g*Cog + co][p], columns K*Cig apart */
    int st = mlxc_gemm_hooked(dbl, c->dt, c->G, M, c->cog, c->kg, pk, c, c->w,
                              c->cog * c->kg, 1, c->kg, C, c->cog, c->cout);
    if (half && st == MLXC_OK) {
        if (c->dt == MLXC_FLOAT16) mlxc_f2h_n(c->out, acc, M * c->cout);
        else mlxc_f2bf_n(c->out, acc, M * c->cout);
    }
    free(acc);
    return st;
}

/* ------------------------------------------------------------- depthwise */
/* acc[ch] += x[ch] * w[ch] over a run of channels, compiled per SIMD level so
 * the loop vectorizes (no FMA contraction in ISO C: the same rounding at every
 * level's vector width and in the tail). */
#define GEN_AXPY(SFX, TGT)                                                          \
TGT static void axpy_f32_##SFX(float *restrict acc, const float *restrict x,         \
                               const float *restrict w, int64_t n)                  \
{ for (int64_t i = 0; i < n; i++) acc[i] = acc[i] + x[i] * w[i]; }                  \
TGT static void axpy_f64_##SFX(double *restrict acc, const double *restrict x,       \
                               const double *restrict w, int64_t n)                 \
{ for (int64_t i = 0; i < n; i++) acc[i] = acc[i] + x[i] * w[i]; }
GEN_AXPY(scalar, TGT_NONE)
#ifdef CONV_X86
GEN_AXPY(avx2, TGT_AVX2)
GEN_AXPY(avx512, TGT_AVX512)
#endif

struct dwjob {
    const struct conv *c;
    const void *wt;             /* taps x channels, compute type */
    void (*axf)(float *, const float *, const float *, int64_t);
    void (*axd)(double *, const double *, const double *, int64_t);
    char *scratch;              /* per thread: accumulator + converted input row */
    size_t per_thread;
};

/* one task: the output row (n, o0, o1), all O[2] positions and channels */
static void dw_task(void *ctx, int64_t task, int tid)
{
    const struct dwjob *j = ctx;
    const struct conv *c = j->c;
    int64_t C = c->cin, o1 = task % c->O[1], o0 = task / c->O[1] % c->O[0];
    int64_t n = task / c->O[1] / c->O[0];
    int dbl = c->dt == MLXC_FLOAT64;
    size_t z = dbl ? 8 : 4;
    char *acc = j->scratch + (size_t)tid * j->per_thread;
    float *cv = (float *)(acc + (size_t)C * z);   /* a converted half input run */
    size_t esz = mlxc_itemsize(c->dt);
    for (int64_t o2 = 0; o2 < c->O[2]; o2++) {
        memset(acc, 0, (size_t)C * z);
        for (int64_t t = 0; t < c->ktot; t++) {
            int64_t t2 = t % c->K[2], t1 = t / c->K[2] % c->K[1], t0 = t / c->K[2] / c->K[1];
            int64_t q0 = tap_src(c, 0, o0, t0), q1 = tap_src(c, 1, o1, t1);
            int64_t q2 = tap_src(c, 2, o2, t2);
            if (q0 < 0 || q1 < 0 || q2 < 0) continue;
            const char *s = c->x + (size_t)((((n * c->in[0] + q0) * c->in[1] + q1) * c->in[2] + q2)
                                            * C) * esz;
            if (dbl) {
                j->axd((double *)acc, (const double *)s, (const double *)j->wt + t * C, C);
            } else if (c->dt == MLXC_FLOAT32) {
                j->axf((float *)acc, (const float *)s, (const float *)j->wt + t * C, C);
            } else {
                if (c->dt == MLXC_FLOAT16) mlxc_h2f_n(cv, (const uint16_t *)s, C);
                else mlxc_bf2f_n(cv, (const uint16_t *)s, C);
                j->axf((float *)acc, cv, (const float *)j->wt + t * C, C);
            }
        }
        int64_t e = ((n * c->O[0] + o0) * c->O[1] + o1) * c->O[2] + o2;
        char *o = (char *)c->out + (size_t)(e * C) * esz;
        if (c->dt == MLXC_FLOAT16) mlxc_f2h_n((uint16_t *)o, (const float *)acc, C);
        else if (c->dt == MLXC_BFLOAT16) mlxc_f2bf_n((uint16_t *)o, (const float *)acc, C);
        else memcpy(o, acc, (size_t)C * z);
    }
}

static int conv_depthwise(const struct conv *c)
{
    int dbl = c->dt == MLXC_FLOAT64;
    size_t z = dbl ? 8 : 4;
    int64_t C = c->cin;
    int isa = mlxc_cpu_isa();
    struct dwjob j = {c, NULL, axpy_f32_scalar, axpy_f64_scalar, NULL, 0};
#ifdef CONV_X86
    if (isa >= MLXC_ISA_AVX512) { j.axf = axpy_f32_avx512; j.axd = axpy_f64_avx512; }
    else if (isa >= MLXC_ISA_AVX2) { j.axf = axpy_f32_avx2; j.axd = axpy_f64_avx2; }
#else
    (void)isa;
#endif
    /* weights transposed to taps x channels in the compute type */
    void *wt = malloc((size_t)(c->ktot * C) * z);
    int64_t rows = c->N * c->O[0] * c->O[1];
    int nthr = mlxc_num_threads();
    if (rows < nthr) nthr = (int)rows;
    if ((double)rows * (double)c->O[2] * (double)c->ktot * (double)C < 32768.0) nthr = 1;
    j.per_thread = (((size_t)C * z + (size_t)C * sizeof(float)) + 63) & ~(size_t)63;
    j.scratch = malloc(j.per_thread * (size_t)(nthr > 0 ? nthr : 1));
    if (!wt || !j.scratch) { free(wt); free(j.scratch); return MLXC_ERR_NOMEM; }
    for (int64_t ch = 0; ch < C; ch++)
        for (int64_t t = 0; t < c->ktot; t++) {
            const char *src = c->w + (size_t)(ch * c->ktot + t) * mlxc_itemsize(c->dt);
            int64_t e = t * C + ch;
            switch (c->dt) {
            case MLXC_FLOAT64: ((double *)wt)[e] = *(const double *)src; break;
            case MLXC_FLOAT32: ((float *)wt)[e] = *(const float *)src; break;
            case MLXC_FLOAT16: ((float *)wt)[e] = mlxc_h2f(*(const uint16_t *)src); break;
            default: ((float *)wt)[e] = mlxc_bf2f(*(const uint16_t *)src); break;
            }
        }
    j.wt = wt;
    mlxc_parallel_for(rows, nthr, dw_task, &j);
    free(wt);
    free(j.scratch);
    return MLXC_OK;
}

/* ---------------------------------------------------------------- entry */
int mlxc_conv(int dtype, int nsp, int64_t batch, const int64_t *in_sp, int64_t cin,
              const int64_t *k_sp, int64_t cout, const int64_t *out_sp,
              const int64_t *stride, const int64_t *pad_lo, const int64_t *kdil,
              const int64_t *idil, int64_t groups, int flip,
              const void *x, const void *w, void *out)
{
    if (dtype != MLXC_FLOAT32 && dtype != MLXC_FLOAT64 && dtype != MLXC_FLOAT16
        && dtype != MLXC_BFLOAT16)
        return MLXC_ERR_UNSUPPORTED;
    if (nsp < 1 || nsp > 3 || groups < 1 || cin % groups || cout % groups)
        return MLXC_ERR_UNSUPPORTED;
    struct conv c;
    memset(&c, 0, sizeof c);
    c.dt = dtype;
    c.N = batch;
    c.ktot = c.otot = 1;
    for (int d = 0; d < 3; d++) {
        int e = d - (3 - nsp);  /* the caller's dim, or < 0 for a padded one */
        c.in[d] = e < 0 ? 1 : in_sp[e];
        c.K[d] = e < 0 ? 1 : k_sp[e];
        c.O[d] = e < 0 ? 1 : out_sp[e];
        c.s[d] = e < 0 ? 1 : stride[e];
        c.lo[d] = e < 0 ? 0 : pad_lo[e];
        c.kd[d] = e < 0 ? 1 : kdil[e];
        c.id[d] = e < 0 ? 1 : idil[e];
        if (c.s[d] < 1 || c.kd[d] < 1 || c.id[d] < 1) return MLXC_ERR_UNSUPPORTED;
        c.span[d] = c.in[d] > 0 ? (c.in[d] - 1) * c.id[d] + 1 : 0;
        c.ktot *= c.K[d];
        c.otot *= c.O[d];
    }
    c.cin = cin;
    c.cout = cout;
    c.G = groups;
    c.cig = cin / groups;
    c.cog = cout / groups;
    c.kg = c.ktot * c.cig;
    c.flip = flip;
    c.x = x;
    c.w = w;
    c.out = out;
    int64_t total = batch * c.otot * cout;
    if (total <= 0) return MLXC_OK;
    if (c.kg == 0) {            /* nothing to sum */
        memset(out, 0, (size_t)total * mlxc_itemsize(dtype));
        return MLXC_OK;
    }
    if (c.cig == 1 && c.cog == 1)
        return conv_depthwise(&c);
    int plain = groups == 1 && c.ktot == 1;
    for (int d = 0; d < 3; d++)
        plain = plain && c.s[d] == 1 && c.lo[d] == 0 && c.id[d] == 1 && c.O[d] == c.in[d];
    if (plain)                  /* 1x1: out (N*O, Cout) = x (N*O, Cin) @ W^T */
        return mlxc_matmul(dtype, 1, batch * c.otot, cout, cin, x, 0, cin, 1, w, 0, 1, cin, out);
    return conv_gemm(&c);
}
