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
    /* the GEMM's rows: output positions r + p * step (p < Op) of every image; its
     * columns: taps[0..ntap) x Cig.  The whole output and every tap, or one phase
     * of an input-dilated conv and the taps that meet real input there. */
    int64_t r[3], step[3], Op[3], opt, ntap;
    const int64_t *taps;
};

/* The packing hook: rows i0.. of P for group g, columns p0..p0+k, column p
 * being (tap taps[p / Cig], channel p % Cig).  Every row of a panel walks the
 * same columns, so the panel goes tap by tap: per tap a run of contiguous input
 * channels for each row (NULL where it reads padding or a dilation hole),
 * then the runs are interleaved into the panel. */
#define MAXROWS 16
static int64_t row_base(const struct conv *c, int64_t i, int64_t o[3])
{
    int64_t n = i / c->opt, q = i % c->opt;
    o[2] = c->r[2] + q % c->Op[2] * c->step[2];
    o[1] = c->r[1] + q / c->Op[2] % c->Op[1] * c->step[1];
    o[0] = c->r[0] + q / c->Op[2] / c->Op[1] * c->step[0];
    return n;
}

/* the kernel index along each dim of tap t (flipped when c->flip) */
static void tap_index(const struct conv *c, int64_t t, int64_t kk[3])
{
    int64_t tk[3] = {t / c->K[2] / c->K[1], t / c->K[2] % c->K[1], t % c->K[2]};
    for (int d = 0; d < 3; d++) kk[d] = c->flip ? c->K[d] - 1 - tk[d] : tk[d];
}

/* element offset in x of what row (n, o) reads at kernel index kk, or -1
 * (padding, or a hole of the input dilation) */
static inline int64_t tap_off(const struct conv *c, int64_t n, const int64_t o[3],
                              const int64_t kk[3])
{
    int64_t q[3];
    for (int d = 0; d < 3; d++) {
        int64_t v = o[d] * c->s[d] + kk[d] * c->kd[d] - c->lo[d];
        if (v < 0 || v >= c->span[d]) return -1;
        if (c->id[d] != 1) {
            if (v % c->id[d]) return -1;
            v /= c->id[d];
        }
        q[d] = v;
    }
    return (((n * c->in[0] + q[0]) * c->in[1] + q[1]) * c->in[2] + q[2]) * c->cin;
}

#define GEN_PACK_CONV(N, T, ROWS)                                                   \
static void pack_conv_##N(const void *ctx, void *dst_, int64_t g, int64_t i0,       \
                          int64_t p0, int64_t m, int64_t k, int MR)                 \
{                                                                                   \
    const struct conv *c = ctx;                                                     \
    T *restrict dst = dst_;                                                         \
    const STY_##N *x = (const STY_##N *)c->x + g * c->cig;                          \
    const int64_t cig = c->cig;                                                     \
    int64_t n[MAXROWS], o[MAXROWS][3];                                              \
    const STY_##N *src[MAXROWS];                                                    \
    for (int r = 0; r < m; r++) n[r] = row_base(c, i0 + r, o[r]);                   \
    int64_t j = p0 / cig, ch = p0 % cig, p = 0;                                     \
    while (p < k) {                                                                 \
        int64_t run = cig - ch < k - p ? cig - ch : k - p, kk[3];                   \
        tap_index(c, c->taps[j], kk);                                               \
        for (int r = 0; r < MR; r++) {                                              \
            int64_t off = r < m ? tap_off(c, n[r], o[r], kk) : -1;                  \
            src[r] = off < 0 ? NULL : x + off + ch;                                 \
        }                                                                           \
        ROWS(dst + p * MR, src, MR, run);                                           \
        p += run;                                                                   \
        ch = 0;                                                                     \
        j++;                                                                        \
    }                                                                               \
}
#define GEN_ROWS(N, T)                                                              \
static void rows_##N(T *dst, const STY_##N *const *src, int MR, int64_t n)          \
{                                                                                   \
    for (int r = 0; r < MR; r++) {                                                  \
        if (!src[r]) { for (int64_t p = 0; p < n; p++) dst[p * MR + r] = 0; continue; } \
        for (int64_t p = 0; p < n; p++) dst[p * MR + r] = LD_##N(src[r][p]);        \
    }                                                                               \
}
GEN_ROWS(f64, double)
GEN_ROWS(f16, float)
GEN_ROWS(bf16, float)
GEN_PACK_CONV(f32, float, mlxc_pack_rows_f32)
GEN_PACK_CONV(f64, double, rows_f64)
GEN_PACK_CONV(f16, float, rows_f16)
GEN_PACK_CONV(bf16, float, rows_bf16)

/* One GEMM over c's rows and taps.  C: the output itself (contiguous rows, the
 * compute type) or a scratch of the compute type, M x Cout. */
static int gemm_rows(const struct conv *c, void *C)
{
    int dbl = c->dt == MLXC_FLOAT64;
    mlxc_pack_hook pk = dbl ? pack_conv_f64 : c->dt == MLXC_FLOAT32 ? pack_conv_f32
                      : c->dt == MLXC_FLOAT16 ? pack_conv_f16 : pack_conv_bf16;
    int64_t kg = c->ntap * c->cig, M = c->N * c->opt;
    size_t z = mlxc_itemsize(c->dt);
    const char *w = c->w;
    char *wp = NULL;
    if (c->ntap != c->ktot) {   /* the phase's taps of every filter, gathered */
        wp = malloc((size_t)(c->cout * kg) * z);
        if (!wp) return MLXC_ERR_NOMEM;
        for (int64_t co = 0; co < c->cout; co++)
            for (int64_t j = 0; j < c->ntap; j++)
                memcpy(wp + (size_t)(co * kg + j * c->cig) * z,
                       c->w + (size_t)(co * c->kg + c->taps[j] * c->cig) * z, (size_t)c->cig * z);
        w = wp;
    }
    /* B (taps*Cig x Cog) of group g: w[g*Cog + co][p], columns kg apart */
    int st = mlxc_gemm_hooked(dbl, c->dt, c->G, M, c->cog, kg, pk, c, w,
                              c->cog * kg, 1, kg, C, c->cog, c->cout);
    free(wp);
    return st;
}

/* rows [0, M) of the scratch (compute type) to their output positions (dtype) */
static void scatter_rows(const struct conv *c, const void *src, int64_t M)
{
    size_t z = mlxc_itemsize(c->dt);
    int64_t C = c->cout;
    for (int64_t i = 0; i < M; i++) {
        int64_t o[3], n = row_base(c, i, o);
        int64_t e = ((n * c->O[0] + o[0]) * c->O[1] + o[1]) * c->O[2] + o[2];
        char *d = (char *)c->out + (size_t)(e * C) * z;
        if (c->dt == MLXC_FLOAT16) mlxc_f2h_n((uint16_t *)d, (const float *)src + i * C, C);
        else if (c->dt == MLXC_BFLOAT16) mlxc_f2bf_n((uint16_t *)d, (const float *)src + i * C, C);
        else memcpy(d, (const char *)src + (size_t)(i * C) * z, (size_t)C * z);
    }
}

/* An input-dilated conv (transposed convs, input grads of strided convs) meets
 * real input at only some taps: output positions o = r (mod id) per dim see the
 * taps k with r*s + k*kd - lo = 0 (mod id).  Each phase r
 * is its own GEMM over those taps alone (no multiplications by the zeros),
 * written to a scratch and scattered to its rows. */
static int conv_phases(struct conv *c, size_t csz)
{
    int64_t nph = c->id[0] * c->id[1] * c->id[2];
    int64_t maxrows = 0;
    int64_t *taps = malloc((size_t)c->ktot * sizeof(int64_t));
    if (!taps) return MLXC_ERR_NOMEM;
    for (int64_t ph = 0; ph < nph; ph++) {
        int64_t rr[3] = {ph / (c->id[1] * c->id[2]), ph / c->id[2] % c->id[1], ph % c->id[2]};
        int64_t rows = c->N;
        for (int d = 0; d < 3; d++)
            rows *= rr[d] < c->O[d] ? (c->O[d] - rr[d] + c->id[d] - 1) / c->id[d] : 0;
        if (rows > maxrows) maxrows = rows;
    }
    char *scratch = malloc((size_t)(maxrows * c->cout) * csz + 1);
    if (!scratch) { free(taps); return MLXC_ERR_NOMEM; }
    int st = MLXC_OK;
    for (int64_t ph = 0; ph < nph && st == MLXC_OK; ph++) {
        int64_t rr[3] = {ph / (c->id[1] * c->id[2]), ph / c->id[2] % c->id[1], ph % c->id[2]};
        c->opt = 1;
        for (int d = 0; d < 3; d++) {
            c->r[d] = rr[d];
            c->step[d] = c->id[d];
            c->Op[d] = rr[d] < c->O[d] ? (c->O[d] - rr[d] + c->id[d] - 1) / c->id[d] : 0;
            c->opt *= c->Op[d];
        }
        if (c->opt == 0) continue;
        c->ntap = 0;
        for (int64_t t = 0; t < c->ktot; t++) {
            int64_t tk[3] = {t / c->K[2] / c->K[1], t / c->K[2] % c->K[1], t % c->K[2]};
            int ok = 1;
            for (int d = 0; d < 3 && ok; d++) {
                int64_t kk = c->flip ? c->K[d] - 1 - tk[d] : tk[d];
                int64_t q = rr[d] * c->s[d] + kk * c->kd[d] - c->lo[d];
                ok = ((q % c->id[d]) + c->id[d]) % c->id[d] == 0;
            }
            if (ok) taps[c->ntap++] = t;
        }
        c->taps = taps;
        int64_t M = c->N * c->opt;
        if (c->ntap == 0) {
            memset(scratch, 0, (size_t)(M * c->cout) * csz);
        } else {
            st = gemm_rows(c, scratch);
        }
        if (st == MLXC_OK) scatter_rows(c, scratch, M);
    }
    free(scratch);
    free(taps);
    return st;
}

static int conv_gemm(struct conv *c)
{
    int dbl = c->dt == MLXC_FLOAT64, half = c->dt == MLXC_FLOAT16 || c->dt == MLXC_BFLOAT16;
    size_t csz = dbl ? 8 : 4;
    if (c->id[0] > 1 || c->id[1] > 1 || c->id[2] > 1) return conv_phases(c, csz);
    /* every output row, every tap */
    int64_t *taps = malloc((size_t)c->ktot * sizeof(int64_t));
    if (!taps) return MLXC_ERR_NOMEM;
    for (int64_t t = 0; t < c->ktot; t++) taps[t] = t;
    c->taps = taps;
    c->ntap = c->ktot;
    c->opt = c->otot;
    for (int d = 0; d < 3; d++) { c->r[d] = 0; c->step[d] = 1; c->Op[d] = c->O[d]; }
    int64_t M = c->N * c->otot;
    int st;
    if (half) {                 /* float accumulator, rounded once at the end */
        float *acc = malloc((size_t)(M * c->cout) * sizeof(float));
        if (!acc) { free(taps); return MLXC_ERR_NOMEM; }
        st = gemm_rows(c, acc);
        if (st == MLXC_OK) {
            if (c->dt == MLXC_FLOAT16) mlxc_f2h_n(c->out, acc, M * c->cout);
            else mlxc_f2bf_n(c->out, acc, M * c->cout);
        }
        free(acc);
    } else {
        st = gemm_rows(c, c->out);
    }
    free(taps);
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
        int64_t o[3] = {o0, o1, o2}, kk[3];
        memset(acc, 0, (size_t)C * z);
        for (int64_t t = 0; t < c->ktot; t++) {
            tap_index(c, t, kk);
            int64_t off = tap_off(c, n, o, kk);
            if (off < 0) continue;
            const char *s = c->x + (size_t)off * esz;
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
        char *dst = (char *)c->out + (size_t)(e * C) * esz;
        if (c->dt == MLXC_FLOAT16) mlxc_f2h_n((uint16_t *)dst, (const float *)acc, C);
        else if (c->dt == MLXC_BFLOAT16) mlxc_f2bf_n((uint16_t *)dst, (const float *)acc, C);
        else memcpy(dst, acc, (size_t)C * z);
    }
}

static int conv_depthwise(const struct conv *c)
{
    int dbl = c->dt == MLXC_FLOAT64;
    size_t z = dbl ? 8 : 4;
    int64_t C = c->cin;
    int isa = mlxc_isa_pick(mlxc_levels_conv);
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

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#ifdef CONV_X86
const unsigned mlxc_levels_conv = MLXC_LEVELS_X86;
#else
const unsigned mlxc_levels_conv = MLXC_LEVELS_SCALAR;
#endif
