/* mlxc_reduce and mlxc_argreduce.
 * The reduced dims are collapsed on their own; each output element reduces one
 * (possibly multi-dim) block: every innermost row with a 1-D kernel r1_*, rows
 * combined in an accumulator type AT (double for float sums).
 *
 * Float sums of one row: leaves of <= PS_LEAF elements, element i of a leaf
 * added into lane i % 64 of 64 accumulators (so each lane sums <= 32
 * elements), the lanes folded by halving (lane k += lane k + w, w = 32 .. 1);
 * leaves combined pairwise, the split point a function of the length only.
 * The AVX2 leaf (8 x 8 lanes, kernels/reduce_simd.h; the AVX-512 level uses
 * it too) does exactly the scalar leaf's additions, so sums are
 * bit-identical at every SIMD level.
 * Error O(32 + log n) ulp of the absolute sum.
 *
 * Threads (kernels/threads.c) split a reduction of >= PAR_MIN input elements:
 *   - over output elements (many outputs; a task owns whole outputs),
 *   - over column blocks when the reduced dim is strided and the output is
 *     contiguous (each column is summed row after row in double, whatever the
 *     blocking),
 *   - inside one long 1-D reduction: float sums cut the pairwise tree into
 *     subtrees of <= PS_CUT elements and rebuild it in the same shape (the
 *     result equals the serial one); max/min and integer sums of rows longer
 *     than RB_MIN are always computed as fixed RB_BLK blocks combined in
 *     block order, on one thread or many.
 * So no result depends on the thread count. */
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define RED_X86 1
#define TGT_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TGT_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,f16c")))
#endif

#define PAR_MIN ((int64_t)1 << 18)   /* input elements below which the caller runs alone */
#define PS_LANES MLXC_SUM_LANES      /* internal.h: the chains' sums add in this order too */
#define PS_LEAF MLXC_SUM_LEAF
#define PS_CUT ((int64_t)1 << 16)    /* subtree size of a threaded long sum (>= PS_LEAF) */
#define RB_BLK ((int64_t)1 << 16)    /* block of a long max/min/integer sum */
#define RB_MIN (2 * RB_BLK)
#define TASK_WORK ((int64_t)1 << 15) /* input elements per task, about */
#define COLW 4096                    /* float32 column sums: columns per pass (32 KiB of double) */

/* per-call state: the SIMD level's f32 kernels and whether a long 1-D
 * reduction may start its own parallel_for */
typedef struct {
    int nthr, inner;
    float (*sum_f32)(const float *, int64_t);                 /* a leaf, n <= PS_LEAF */
    float (*max_f32)(const float *, int64_t);
    float (*min_f32)(const float *, int64_t);
    void (*colsum_f32)(float *, const float *, int64_t, int64_t, int64_t);
} rctx;

static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

/* split point of a pairwise sum of n > PS_LEAF elements */
static inline int64_t ps_half(int64_t n) { return (n / 2) & ~(int64_t)(PS_LANES - 1); }

/* ---------------------------------------------------------- 1-D kernels */
/* integer sum / product wrap in the unsigned type */
#define GEN_R1_INT(N, u)                                                            \
static WTY_##N r1_RSUM_##N(const rctx *C, const STY_##N *restrict x, int64_t s, int64_t n) \
{                                                                                   \
    (void)C;                                                                        \
    WTY_##N a = 0;                                                                  \
    if (s == 1) { for (int64_t i = 0; i < n; i++) a += (WTY_##N)x[i]; }             \
    else { for (int64_t i = 0; i < n; i++) a += (WTY_##N)x[i * s]; }                \
    return a;                                                                       \
}                                                                                   \
static WTY_##N r1_RPROD_##N(const rctx *C, const STY_##N *restrict x, int64_t s, int64_t n) \
{                                                                                   \
    (void)C;                                                                        \
    WTY_##N a = 1;                                                                  \
    for (int64_t i = 0; i < n; i++) a *= (WTY_##N)x[i * s];                         \
    return a;                                                                       \
}                                                                                   \
static STY_##N r1_RMAX_##N(const rctx *C, const STY_##N *restrict x, int64_t s, int64_t n) \
{                                                                                   \
    (void)C;                                                                        \
    STY_##N m = MINV_##N;                                                           \
    if (s == 1) { for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m; }        \
    else { for (int64_t i = 0; i < n; i++) m = x[i * s] > m ? x[i * s] : m; }       \
    return m;                                                                       \
}                                                                                   \
static STY_##N r1_RMIN_##N(const rctx *C, const STY_##N *restrict x, int64_t s, int64_t n) \
{                                                                                   \
    (void)C;                                                                        \
    STY_##N m = MAXV_##N;                                                           \
    if (s == 1) { for (int64_t i = 0; i < n; i++) m = x[i] < m ? x[i] : m; }        \
    else { for (int64_t i = 0; i < n; i++) m = x[i * s] < m ? x[i * s] : m; }       \
    return m;                                                                       \
}

/* float sums: see the header comment (64 lanes, pairwise leaves) */
#define GEN_R1_FLT(N, u)                                                            \
static CTY_##N leaf_##N(const STY_##N *restrict x, int64_t s, int64_t n)            \
{                                                                                   \
    CTY_##N a[PS_LANES];                                                            \
    for (int k = 0; k < PS_LANES; k++) a[k] = 0;                                    \
    int64_t i = 0;                                                                  \
    if (s == 1) {                                                                   \
        for (; i + PS_LANES <= n; i += PS_LANES)                                    \
            for (int k = 0; k < PS_LANES; k++) a[k] += LD_##N(x[i + k]);            \
    } else {                                                                        \
        for (; i + PS_LANES <= n; i += PS_LANES)                                    \
            for (int k = 0; k < PS_LANES; k++) a[k] += LD_##N(x[(i + k) * s]);      \
    }                                                                               \
    for (int64_t k = 0; i + k < n; k++) a[k] += LD_##N(x[(i + k) * s]);             \
    for (int w = PS_LANES / 2; w >= 1; w >>= 1)                                     \
        for (int k = 0; k < w; k++) a[k] += a[k + w];                               \
    return a[0];                                                                    \
}                                                                                   \
static CTY_##N psum_##N(const rctx *C, const STY_##N *x, int64_t s, int64_t n)      \
{                                                                                   \
    if (n > PS_LEAF) {                                                              \
        int64_t h = ps_half(n);                                                     \
        return psum_##N(C, x, s, h) + psum_##N(C, x + h * s, s, n - h);             \
    }                                                                               \
    return LEAF_##N(C, x, s, n);                                                    \
}                                                                                   \
/* products run in double: no float32 overflow/underflow midway */              \
static double r1_RPROD_##N(const rctx *C, const STY_##N *restrict x, int64_t s, int64_t n) \
{                                                                                   \
    (void)C;                                                                        \
    double a = 1;                                                                   \
    for (int64_t i = 0; i < n; i++) a *= LD_##N(x[i * s]);                          \
    return a;                                                                       \
}                                                                                   \
/* NaN propagates: once m is NaN neither test can replace it.  Contiguous
 * rows use 8 independent lanes plus a NaN flag so the loop vectorizes. */     \
static CTY_##N max_##N(const STY_##N *restrict x, int64_t s, int64_t n)             \
{                                                                                   \
    CTY_##N m = -(CTY_##N)INFINITY;                                                 \
    int64_t i = 0;                                                                  \
    if (s == 1 && n >= 16) {                                                        \
        CTY_##N l[8];                                                               \
        int nan[8];                                                                 \
        for (int k = 0; k < 8; k++) { l[k] = m; nan[k] = 0; }                       \
        for (; i + 8 <= n; i += 8)                                                  \
            for (int k = 0; k < 8; k++) {                                           \
                CTY_##N v = LD_##N(x[i + k]);                                       \
                l[k] = v > l[k] ? v : l[k];                                         \
                nan[k] |= v != v;                                                   \
            }                                                                       \
        for (int k = 0; k < 8; k++) {                                               \
            if (nan[k]) return (CTY_##N)NAN;                                        \
            m = l[k] > m ? l[k] : m;                                                \
        }                                                                           \
    }                                                                               \
    for (; i < n; i++) {                                                            \
        CTY_##N v = LD_##N(x[i * s]);                                               \
        m = (v > m || v != v) ? v : m;                                              \
    }                                                                               \
    return m;                                                                       \
}                                                                                   \
static CTY_##N min_##N(const STY_##N *restrict x, int64_t s, int64_t n)             \
{                                                                                   \
    CTY_##N m = (CTY_##N)INFINITY;                                                  \
    int64_t i = 0;                                                                  \
    if (s == 1 && n >= 16) {                                                        \
        CTY_##N l[8];                                                               \
        int nan[8];                                                                 \
        for (int k = 0; k < 8; k++) { l[k] = m; nan[k] = 0; }                       \
        for (; i + 8 <= n; i += 8)                                                  \
            for (int k = 0; k < 8; k++) {                                           \
                CTY_##N v = LD_##N(x[i + k]);                                       \
                l[k] = v < l[k] ? v : l[k];                                         \
                nan[k] |= v != v;                                                   \
            }                                                                       \
        for (int k = 0; k < 8; k++) {                                               \
            if (nan[k]) return (CTY_##N)NAN;                                        \
            m = l[k] < m ? l[k] : m;                                                \
        }                                                                           \
    }                                                                               \
    for (; i < n; i++) {                                                            \
        CTY_##N v = LD_##N(x[i * s]);                                               \
        m = (v < m || v != v) ? v : m;                                              \
    }                                                                               \
    return m;                                                                       \
}                                                                                   \
static CTY_##N r1_RMAX_##N(const rctx *C, const STY_##N *restrict x, int64_t s, int64_t n) \
{                                                                                   \
    return MAXK_##N(C, x, s, n);                                                    \
}                                                                                   \
static CTY_##N r1_RMIN_##N(const rctx *C, const STY_##N *restrict x, int64_t s, int64_t n) \
{                                                                                   \
    return MINK_##N(C, x, s, n);                                                    \
}

/* the float32 row kernels go through the SIMD level's table */
#define LEAF_f32(C, x, s, n) ((s) == 1 ? (C)->sum_f32(x, n) : leaf_f32(x, s, n))
#define MAXK_f32(C, x, s, n) ((s) == 1 ? (C)->max_f32(x, n) : max_f32(x, s, n))
#define MINK_f32(C, x, s, n) ((s) == 1 ? (C)->min_f32(x, n) : min_f32(x, s, n))
#define LEAF_f16(C, x, s, n) ((void)(C), leaf_f16(x, s, n))
#define LEAF_bf16(C, x, s, n) ((void)(C), leaf_bf16(x, s, n))
#define LEAF_f64(C, x, s, n) ((void)(C), leaf_f64(x, s, n))
#define MAXK_f16(C, x, s, n) ((void)(C), max_f16(x, s, n))
#define MAXK_bf16(C, x, s, n) ((void)(C), max_bf16(x, s, n))
#define MAXK_f64(C, x, s, n) ((void)(C), max_f64(x, s, n))
#define MINK_f16(C, x, s, n) ((void)(C), min_f16(x, s, n))
#define MINK_bf16(C, x, s, n) ((void)(C), min_bf16(x, s, n))
#define MINK_f64(C, x, s, n) ((void)(C), min_f64(x, s, n))

/* ALL / ANY for every dtype (also bool SUM/MAX = ANY, PROD/MIN = ALL) */
#define GEN_R1_LOGIC(N, u)                                                          \
static uint8_t r1_RALL_##N(const rctx *C, const STY_##N *restrict x, int64_t s, int64_t n) \
{                                                                                   \
    (void)C;                                                                        \
    for (int64_t i = 0; i < n; i++) { CTY_##N v = LD_##N(x[i * s]); if (!CV_b(v)) return 0; } \
    return 1;                                                                       \
}                                                                                   \
static uint8_t r1_RANY_##N(const rctx *C, const STY_##N *restrict x, int64_t s, int64_t n) \
{                                                                                   \
    (void)C;                                                                        \
    for (int64_t i = 0; i < n; i++) { CTY_##N v = LD_##N(x[i * s]); if (CV_b(v)) return 1; } \
    return 0;                                                                       \
}

TL_INT(GEN_R1_INT, 0)
TL_FLT(GEN_R1_FLT, 0)
TL_ALL(GEN_R1_LOGIC, 0)

/* the scalar level of the float32 kernel table (rctx) */
static float sum_f32_scalar(const float *x, int64_t n) { return leaf_f32(x, 1, n); }
static float max_f32_scalar(const float *x, int64_t n) { return max_f32(x, 1, n); }
static float min_f32_scalar(const float *x, int64_t n) { return min_f32(x, 1, n); }

static void colsum_f32_scalar(float *o, const float *x, int64_t rs, int64_t nr, int64_t w)
{
    double acc[256];
    for (int64_t j0 = 0; j0 < w; j0 += 256) {
        int64_t jn = imin(256, w - j0);
        for (int64_t j = 0; j < jn; j++) acc[j] = 0.0;
        for (int64_t r = 0; r < nr; r++) {
            const float *restrict p = x + r * rs + j0;
            for (int64_t j = 0; j < jn; j++) acc[j] += (double)p[j];
        }
        for (int64_t j = 0; j < jn; j++) o[j0 + j] = (float)acc[j];
    }
}

/* ------------------------------------------------- argreduce, 1-D kernels */
/* first occurrence wins; the first NaN wins over everything */
#define GEN_ARG1(op, N, BETTER)                                                     \
static uint32_t arg_##op##_##N(const STY_##N *x, int64_t s, int64_t n)              \
{                                                                                   \
    if (n <= 0) return 0;                                                           \
    CTY_##N best = LD_##N(x[0]);                                                    \
    uint32_t bi = 0;                                                                \
    if (best != best) return 0;                                                     \
    for (int64_t i = 1; i < n; i++) {                                               \
        CTY_##N v = LD_##N(x[i * s]);                                               \
        if (v != v) return (uint32_t)i;                                             \
        if (BETTER(v, best)) { best = v; bi = (uint32_t)i; }                        \
    }                                                                               \
    return bi;                                                                      \
}
#define ARG_GT(a, b) ((a) > (b))
#define ARG_LT(a, b) ((a) < (b))
#define GEN_ARG(N, u) GEN_ARG1(ARGMAX, N, ARG_GT) GEN_ARG1(ARGMIN, N, ARG_LT)
TL_REAL(GEN_ARG, 0)

typedef uint32_t (*argf32_fn)(const float *, int64_t);

/* Contiguous float32 rows: every lane keeps its best value and the index
 * where it first appeared (replaced only on a strict improvement); the lanes
 * are then merged taking the best value and, among equal values, the lowest
 * index: the first occurrence, as the serial loop.  A NaN seen in a step
 * sends the search for the first NaN back to that step's elements. */
#ifdef RED_X86
static uint32_t first_nan_f32(const float *x, int64_t i, int64_t n)
{
    for (; i < n; i++) if (x[i] != x[i]) break;
    return (uint32_t)i;
}
static uint32_t arg_merge_f32(const float *lv, const int32_t *li, int nl, const float *x,
                              int64_t i, int64_t n, int ismax)
{
    float best = lv[0];
    int32_t bi = li[0];
    for (int k = 1; k < nl; k++) {
        float v = lv[k];
        if (ismax ? v > best : v < best) { best = v; bi = li[k]; }
        else if (v == best && li[k] < bi) bi = li[k];
    }
    for (; i < n; i++) {
        float v = x[i];
        if (v != v) return (uint32_t)i;
        if (ismax ? v > best : v < best) { best = v; bi = (int32_t)i; }
    }
    return (uint32_t)bi;
}
#endif

/* ------------------------------------------------ float32 SIMD kernels */
#ifdef RED_X86
#define INIT_max (-INFINITY)
#define INIT_min INFINITY
#define RS_AVX512 0
#include "reduce_simd.h"
#undef RS_AVX512
#define RS_AVX512 1
#include "reduce_simd.h"
#undef RS_AVX512
#endif

static mlxc_c64 r1_RSUM_c64(const rctx *C, const mlxc_c64 *x, int64_t s, int64_t n)
{
    const float *f = (const float *)x;
    return CMPLXF(psum_f32(C, f, 2 * s, n), psum_f32(C, f + 1, 2 * s, n));
}
static mlxc_c64 r1_RPROD_c64(const rctx *C, const mlxc_c64 *x, int64_t s, int64_t n)
{
    (void)C;
    mlxc_c64 a = CMPLXF(1.0f, 0.0f);
    for (int64_t i = 0; i < n; i++) a = mlxc_cmul(a, x[i * s]);
    return a;
}

#define r1_RSUM_b r1_RANY_b
#define r1_RMAX_b r1_RANY_b
#define r1_RPROD_b r1_RALL_b
#define r1_RMIN_b r1_RALL_b

/* ------------------------------------------- long 1-D float sums, threaded */
/* the (offset, length) of the subtrees of <= PS_CUT elements, in order */
static void ps_cut(int64_t off, int64_t n, int64_t *seg, int64_t *k)
{
    if (n > PS_CUT) {
        int64_t h = ps_half(n);
        ps_cut(off, h, seg, k);
        ps_cut(off + h, n - h, seg, k);
        return;
    }
    seg[2 * *k] = off;
    seg[2 * *k + 1] = n;
    (*k)++;
}
static int64_t ps_count(int64_t n)
{
    if (n > PS_CUT) { int64_t h = ps_half(n); return ps_count(h) + ps_count(n - h); }
    return 1;
}

#define GEN_PSUM_PAR(N, u)                                                          \
typedef struct { const rctx *C; const STY_##N *x; int64_t s; const int64_t *seg;    \
                 CTY_##N *part; } pst_##N;                                          \
static void pst_task_##N(void *ctx, int64_t t, int tid)                             \
{                                                                                   \
    pst_##N *P = ctx;                                                               \
    (void)tid;                                                                      \
    P->part[t] = psum_##N(P->C, P->x + P->seg[2 * t] * P->s, P->s, P->seg[2 * t + 1]); \
}                                                                                   \
static CTY_##N pcomb_##N(const CTY_##N *part, int64_t n, int64_t *k)                \
{                                                                                   \
    if (n > PS_CUT) {                                                               \
        int64_t h = ps_half(n);                                                     \
        CTY_##N a = pcomb_##N(part, h, k);                                          \
        CTY_##N b = pcomb_##N(part, n - h, k);                                      \
        return a + b;                                                               \
    }                                                                               \
    return part[(*k)++];                                                            \
}                                                                                   \
static double r1_RSUM_##N(const rctx *C, const STY_##N *x, int64_t s, int64_t n)    \
{                                                                                   \
    if (!C->inner || C->nthr < 2 || n < 2 * PS_CUT) return psum_##N(C, x, s, n);    \
    int64_t cnt = ps_count(n), k = 0;                                               \
    int64_t *seg = malloc((size_t)cnt * 2 * sizeof(int64_t));                       \
    CTY_##N *part = malloc((size_t)cnt * sizeof(CTY_##N));                          \
    if (!seg || !part) { free(seg); free(part); return psum_##N(C, x, s, n); }      \
    ps_cut(0, n, seg, &k);                                                          \
    pst_##N P = {C, x, s, seg, part};                                               \
    mlxc_parallel_for(cnt, C->nthr, pst_task_##N, &P);                              \
    k = 0;                                                                          \
    CTY_##N r = pcomb_##N(part, n, &k);                                             \
    free(seg);                                                                      \
    free(part);                                                                     \
    return r;                                                                       \
}
TL_FLT(GEN_PSUM_PAR, 0)

/* ------------------------------------------------------------- drivers */
#define CMB_ADD(a, r) ((a) + (r))
#define CMB_MUL(a, r) ((a) * (r))
#define CMB_CMUL(a, r) mlxc_cmul(a, r)
#define CMB_MAXF(a, r) (((r) > (a) || (r) != (r)) ? (r) : (a))
#define CMB_MINF(a, r) (((r) < (a) || (r) != (r)) ? (r) : (a))
#define CMB_MAXI(a, r) ((r) > (a) ? (r) : (a))
#define CMB_MINI(a, r) ((r) < (a) ? (r) : (a))
#define CMB_AND(a, r) ((uint8_t)((a) && (r)))
#define CMB_OR(a, r) ((uint8_t)((a) || (r)))

typedef struct {
    rctx C;
    void *out;
    const void *in;
    mlxc_nd O, R;
    int colwise;
    int64_t nout, ncb, cw, chunk;
} rjob;
typedef void (*red_fn)(const rjob *J, int64_t task);

/* input offset of the output row r (dims 1.. of O) */
static int64_t row_off(const mlxc_nd *O, int64_t r)
{
    int64_t off = 0;
    for (int d = 1; d < O->ndim && r; d++) {
        off += (r % O->shape[d]) * O->st[1][d];
        r /= O->shape[d];
    }
    return off;
}
/* counters and offsets of the output element idx, for mlxc_nd_next */
static void nd_seek(const mlxc_nd *O, int64_t idx, int64_t *ctr, int64_t *off)
{
    off[0] = off[1] = 0;
    for (int d = 0; d < O->ndim; d++) {
        ctr[d] = idx % O->shape[d];
        idx /= O->shape[d];
        if (d > 0) { off[0] += ctr[d] * O->st[0][d]; off[1] += ctr[d] * O->st[1][d]; }
    }
}

/* op, type name, output name, accumulator type, identity, combine, final
 * conversion, element -> accumulator conversion, blocked (BLK: fixed RB_BLK
 * blocks for long rows; NOBLK: one pass).
 * Column mode: when the innermost output dim is contiguous in the input and
 * the (single) reduced dim is not, whole input rows are folded into a block of
 * per-column accumulators (vectorizes, reads memory in order) instead of
 * walking each strided column on its own. */
#define MLXC_COLBLK 256
#define GEN_RED(op, N, ON, AT, INIT, CMB, FIN, EL, BLKD, COLK)                            \
typedef struct { const rctx *C; const STY_##N *x; int64_t s, n; AT *part; } rbt_##op##_##N; \
static void rbt_task_##op##_##N(void *ctx, int64_t b, int tid)                      \
{                                                                                   \
    rbt_##op##_##N *P = ctx;                                                        \
    (void)tid;                                                                      \
    P->part[b] = r1_##op##_##N(P->C, P->x + b * RB_BLK * P->s, P->s,                \
                               imin(RB_BLK, P->n - b * RB_BLK));                    \
}                                                                                   \
static AT r1b_##op##_##N(const rctx *C, const STY_##N *x, int64_t s, int64_t n)     \
{                                                                                   \
    if (!BLKD || n < RB_MIN) return r1_##op##_##N(C, x, s, n);                      \
    int64_t nb = (n + RB_BLK - 1) / RB_BLK;                                         \
    AT acc = INIT, *part = NULL;                                                    \
    if (C->inner && C->nthr > 1) part = malloc((size_t)nb * sizeof(AT));            \
    if (part) {                                                                     \
        rbt_##op##_##N P = {C, x, s, n, part};                                      \
        mlxc_parallel_for(nb, C->nthr, rbt_task_##op##_##N, &P);                    \
        for (int64_t b = 0; b < nb; b++) acc = CMB(acc, part[b]);                   \
        free(part);                                                                 \
        return acc;                                                                 \
    }                                                                               \
    for (int64_t b = 0; b < nb; b++)                                                \
        acc = CMB(acc, r1_##op##_##N(C, x + b * RB_BLK * s, s, imin(RB_BLK, n - b * RB_BLK))); \
    return acc;                                                                     \
}                                                                                   \
static AT rnd_##op##_##N(const rctx *C, const STY_##N *x, const mlxc_nd *R)         \
{                                                                                   \
    if (R->ndim == 1) return r1b_##op##_##N(C, x, R->st[0][0], R->shape[0]);        \
    AT acc = INIT;                                                                  \
    int64_t ctr[MLXC_MAXD] = {0}, off[1] = {0};                                     \
    do {                                                                            \
        AT r = r1b_##op##_##N(C, x + off[0], R->st[0][0], R->shape[0]);             \
        acc = CMB(acc, r);                                                          \
    } while (mlxc_nd_next(R, ctr, off));                                            \
    return acc;                                                                     \
}                                                                                   \
static void col_##op##_##N(const rctx *C, STY_##ON *restrict o, const STY_##N *x,   \
                           int64_t m, int64_t nr, int64_t rs)                       \
{                                                                                   \
    if (COLK(C, o, x, m, nr, rs)) return;                                \
    AT acc[MLXC_COLBLK];                                                            \
    for (int64_t j0 = 0; j0 < m; j0 += MLXC_COLBLK) {                               \
        int64_t jn = m - j0 < MLXC_COLBLK ? m - j0 : MLXC_COLBLK;                   \
        for (int64_t j = 0; j < jn; j++) acc[j] = INIT;                             \
        for (int64_t r = 0; r < nr; r++) {                                          \
            const STY_##N *restrict row = x + r * rs + j0;                          \
            for (int64_t j = 0; j < jn; j++) acc[j] = CMB(acc[j], EL(N, AT, row[j])); \
        }                                                                           \
        for (int64_t j = 0; j < jn; j++) o[j0 + j] = FIN(acc[j]);                   \
    }                                                                               \
}                                                                                   \
static void red_##op##_##N(const rjob *J, int64_t t)                                \
{                                                                                   \
    STY_##ON *o = J->out;                                                           \
    const STY_##N *x = J->in;                                                       \
    const mlxc_nd *O = &J->O, *R = &J->R;                                           \
    if (J->colwise) {                                                               \
        int64_t r = t / J->ncb, j0 = (t % J->ncb) * J->cw;                          \
        col_##op##_##N(&J->C, o + r * O->shape[0] + j0, x + row_off(O, r) + j0,     \
                       imin(J->cw, O->shape[0] - j0), R->shape[0], R->st[0][0]);    \
        return;                                                                     \
    }                                                                               \
    int64_t lo = t * J->chunk, hi = imin(lo + J->chunk, J->nout);                   \
    int64_t ctr[MLXC_MAXD], off[2];                                                 \
    nd_seek(O, lo, ctr, off);                                                       \
    int64_t j = ctr[0], s0 = O->st[1][0];                                           \
    for (int64_t i = lo; i < hi;) {                                                 \
        int64_t e = imin(O->shape[0] - j, hi - i);                                  \
        for (int64_t k = 0; k < e; k++)                                             \
            o[i + k] = FIN(rnd_##op##_##N(&J->C, x + off[1] + (j + k) * s0, R));    \
        i += e;                                                                     \
        j = 0;                                                                      \
        if (i < hi) mlxc_nd_next(O, ctr, off);                                      \
    }                                                                               \
}

#define COLK_NONE(C, o, x, m, nr, rs) ((void)(C), 0)
#define EL_LD(N, AT, v) ((AT)LD_##N(v))
#define EL_NZ(N, AT, v) CV_b(LD_##N(v))
#define FIN_ID(r) (r)
#define GEN_RED_INT(N, u)                                                           \
    GEN_RED(RSUM, N, N, WTY_##N, 0, CMB_ADD, SV_##N, EL_LD, 1, COLK_NONE)                      \
    GEN_RED(RPROD, N, N, WTY_##N, 1, CMB_MUL, SV_##N, EL_LD, 0, COLK_NONE)                     \
    GEN_RED(RMAX, N, N, STY_##N, MINV_##N, CMB_MAXI, FIN_ID, EL_LD, 1, COLK_NONE)              \
    GEN_RED(RMIN, N, N, STY_##N, MAXV_##N, CMB_MINI, FIN_ID, EL_LD, 1, COLK_NONE)
#define GEN_RED_FLT(N, u)                                                           \
    static inline STY_##N fin_##N(double r) { return SV_##N((CTY_##N)r); }          \
    GEN_RED(RSUM, N, N, double, 0.0, CMB_ADD, fin_##N, EL_LD, 0, COLK_RSUM_##N)                    \
    GEN_RED(RPROD, N, N, double, 1.0, CMB_MUL, fin_##N, EL_LD, 0, COLK_NONE)                   \
    GEN_RED(RMAX, N, N, CTY_##N, -(CTY_##N)INFINITY, CMB_MAXF, SV_##N, EL_LD, 1, COLK_NONE)    \
    GEN_RED(RMIN, N, N, CTY_##N, (CTY_##N)INFINITY, CMB_MINF, SV_##N, EL_LD, 1, COLK_NONE)
#define GEN_RED_LOGIC(N, u)                                                         \
    GEN_RED(RALL, N, b, uint8_t, 1, CMB_AND, FIN_ID, EL_NZ, 0, COLK_NONE)                      \
    GEN_RED(RANY, N, b, uint8_t, 0, CMB_OR, FIN_ID, EL_NZ, 0, COLK_NONE)

/* float32 sums have a SIMD column kernel */
#define COLK_SUMF32(C, o, x, m, nr, rs) ((C)->colsum_f32(o, x, rs, nr, m), 1)
#define COLK_RSUM_f32 COLK_SUMF32
#define COLK_RSUM_f16 COLK_NONE
#define COLK_RSUM_bf16 COLK_NONE
#define COLK_RSUM_f64 COLK_NONE

TL_INT(GEN_RED_INT, 0)
TL_FLT(GEN_RED_FLT, 0)
TL_ALL(GEN_RED_LOGIC, 0)
GEN_RED(RSUM, c64, c64, mlxc_c64, CMPLXF(0.0f, 0.0f), CMB_ADD, FIN_ID, EL_LD, 0, COLK_NONE)
GEN_RED(RPROD, c64, c64, mlxc_c64, CMPLXF(1.0f, 0.0f), CMB_CMUL, FIN_ID, EL_LD, 0, COLK_NONE)
GEN_RED(RSUM, b, b, uint8_t, 0, CMB_OR, FIN_ID, EL_NZ, 0, COLK_NONE)
GEN_RED(RMAX, b, b, uint8_t, 0, CMB_OR, FIN_ID, EL_NZ, 0, COLK_NONE)
GEN_RED(RPROD, b, b, uint8_t, 1, CMB_AND, FIN_ID, EL_NZ, 0, COLK_NONE)
GEN_RED(RMIN, b, b, uint8_t, 1, CMB_AND, FIN_ID, EL_NZ, 0, COLK_NONE)

#define ENT4(N, u) [MLXC_RSUM][CODE_##N] = red_RSUM_##N, [MLXC_RPROD][CODE_##N] = red_RPROD_##N, \
    [MLXC_RMAX][CODE_##N] = red_RMAX_##N, [MLXC_RMIN][CODE_##N] = red_RMIN_##N,
#define ENTL(N, u) [MLXC_RALL][CODE_##N] = red_RALL_##N, [MLXC_RANY][CODE_##N] = red_RANY_##N,
static const red_fn red_tab[MLXC_NUM_REDUCE][MLXC_NUM_DTYPES] = {
    TL_BOOL(ENT4, 0) TL_INT(ENT4, 0) TL_FLT(ENT4, 0) TL_ALL(ENTL, 0)
    [MLXC_RSUM][MLXC_COMPLEX64] = red_RSUM_c64, [MLXC_RPROD][MLXC_COMPLEX64] = red_RPROD_c64,
};

static void rctx_init(rctx *C)
{
    int isa = mlxc_isa_pick(mlxc_levels_reduce);
    C->nthr = mlxc_num_threads();
    C->inner = 0;
    C->sum_f32 = sum_f32_scalar;
    C->max_f32 = max_f32_scalar;
    C->min_f32 = min_f32_scalar;
    C->colsum_f32 = colsum_f32_scalar;
#ifdef RED_X86
    if (isa >= MLXC_ISA_AVX512) {
        C->sum_f32 = sum_f32_avx2;        /* reduce_simd.h: streams faster */
        C->max_f32 = max_f32_avx512;
        C->min_f32 = min_f32_avx512;
        C->colsum_f32 = colsum_f32_avx512;
    } else if (isa >= MLXC_ISA_AVX2) {
        C->sum_f32 = sum_f32_avx2;
        C->max_f32 = max_f32_avx2;
        C->min_f32 = min_f32_avx2;
        C->colsum_f32 = colsum_f32_avx2;
    }
#else
    (void)isa;
#endif
}

typedef struct { const rjob *J; red_fn fn; } rtask;
static void red_task(void *ctx, int64_t t, int tid)
{
    const rtask *T = ctx;
    (void)tid;
    T->fn(T->J, t);
}

int mlxc_reduce(int op, int dtype, void *out, const void *in,
                int ndim, const int64_t *shape, const int64_t *strides, int nred)
{
    if (op < 0 || op >= MLXC_NUM_REDUCE || dtype < 0 || dtype >= MLXC_NUM_DTYPES)
        return MLXC_ERR_UNSUPPORTED;
    red_fn fn = red_tab[op][dtype];
    if (!fn || nred < 0 || nred > ndim) return MLXC_ERR_UNSUPPORTED;
    int nout = ndim - nred;
    const int64_t *so[2] = {NULL, strides};
    const int64_t *sr[1] = {strides + nout};
    rjob J;
    int64_t tot_out = mlxc_nd_init(&J.O, 2, nout, shape, so);
    if (tot_out == 0) return MLXC_OK;
    int64_t rlen = mlxc_nd_init(&J.R, 1, nred, shape + nout, sr);   /* 0: identity per output */
    rctx_init(&J.C);
    J.out = out;
    J.in = in;
    J.nout = tot_out;
    int64_t m = J.O.shape[0], nrows = tot_out / m, work = tot_out * imax(rlen, 1);
    int nthr = work < PAR_MIN ? 1 : J.C.nthr;
    int64_t ntask;
    J.colwise = J.R.ndim == 1 && J.O.st[1][0] == 1 && J.R.st[0][0] != 1 && m >= 4 && rlen > 0;
    if (J.colwise) {
        /* column blocks: any split gives the same sums; as wide as the thread
         * count allows (long runs of each row stream faster) */
        J.cw = m;
        if (nthr > 1 && nrows < 4 * nthr) {
            int64_t per = (nthr + nrows - 1) / nrows;
            J.cw = imax(64, (((m + per - 1) / per) + 15) & ~(int64_t)15);
        }
        J.ncb = (m + J.cw - 1) / J.cw;
        ntask = nrows * J.ncb;
    } else {
        J.ncb = J.cw = 0;
        J.chunk = imax(1, TASK_WORK / imax(rlen, 1));
        if (nthr > 1 && tot_out < 2 * nthr) {
            /* few long reductions: one at a time, each split inside */
            J.C.inner = 1;
            J.chunk = 1;
            for (int64_t t = 0; t < tot_out; t++) fn(&J, t);
            return MLXC_OK;
        }
        ntask = (tot_out + J.chunk - 1) / J.chunk;
    }
    if (nthr == 1 || ntask == 1) {
        for (int64_t t = 0; t < ntask; t++) fn(&J, t);
    } else {
        rtask T = {&J, fn};
        mlxc_parallel_for(ntask, nthr, red_task, &T);
    }
    return MLXC_OK;
}

/* -------------------------------------------------------------- argreduce */
typedef struct {
    int op, dtype;
    uint32_t *out;
    const void *in;
    mlxc_nd O;
    int64_t s, n, chunk, nout;
    argf32_fn f32;
} ajob;

#define ARG_ROWS(N, u)                                                              \
static void argrows_##N(const ajob *A, const STY_##N *p, int64_t ps, uint32_t *o, int64_t e) \
{                                                                                   \
    for (int64_t k = 0; k < e; k++)                                                 \
        o[k] = A->op == MLXC_ARGMAX ? arg_ARGMAX_##N(p + k * ps, A->s, A->n)         \
                                    : arg_ARGMIN_##N(p + k * ps, A->s, A->n);       \
}
TL_REAL(ARG_ROWS, 0)
typedef void (*argrows_fn)(const ajob *, const void *, int64_t, uint32_t *, int64_t);
#define ENT_ARG(N, u) [CODE_##N] = (argrows_fn)argrows_##N,
static const argrows_fn arg_tab[MLXC_NUM_DTYPES] = { TL_REAL(ENT_ARG, 0) };

static void arg_task(void *ctx, int64_t t, int tid)
{
    const ajob *A = ctx;
    const mlxc_nd *O = &A->O;
    (void)tid;
    int64_t z = (int64_t)mlxc_itemsize(A->dtype);
    int64_t lo = t * A->chunk, hi = imin(lo + A->chunk, A->nout);
    int64_t ctr[MLXC_MAXD], off[2];
    nd_seek(O, lo, ctr, off);
    int64_t j = ctr[0], s0 = O->st[1][0];
    for (int64_t i = lo; i < hi;) {
        int64_t e = imin(O->shape[0] - j, hi - i);
        const char *p = (const char *)A->in + (off[1] + j * s0) * z;
        if (A->f32) {
            for (int64_t k = 0; k < e; k++) A->out[i + k] = A->f32((const float *)p + k * s0, A->n);
        } else {
            arg_tab[A->dtype](A, p, s0, A->out + i, e);
        }
        i += e;
        j = 0;
        if (i < hi) mlxc_nd_next(O, ctr, off);
    }
}

int mlxc_argreduce(int op, int dtype, uint32_t *out, const void *in,
                   int ndim, const int64_t *shape, const int64_t *strides)
{
    if ((op != MLXC_ARGMAX && op != MLXC_ARGMIN) || dtype < 0 || dtype >= MLXC_NUM_DTYPES
        || !arg_tab[dtype] || ndim < 1)
        return MLXC_ERR_UNSUPPORTED;
    const int64_t *so[2] = {NULL, strides};
    ajob A;
    A.nout = mlxc_nd_init(&A.O, 2, ndim - 1, shape, so);
    if (A.nout == 0) return MLXC_OK;
    A.op = op;
    A.dtype = dtype;
    A.out = out;
    A.in = in;
    A.s = strides[ndim - 1];
    A.n = shape[ndim - 1];
    A.f32 = NULL;
#ifdef RED_X86
    if (dtype == MLXC_FLOAT32 && A.s == 1 && A.n > 0) {
        int isa = mlxc_isa_pick(mlxc_levels_argreduce);
        if (isa >= MLXC_ISA_AVX512) A.f32 = op == MLXC_ARGMAX ? ARGMAX_f32_avx512 : ARGMIN_f32_avx512;
        else if (isa >= MLXC_ISA_AVX2) A.f32 = op == MLXC_ARGMAX ? ARGMAX_f32_avx2 : ARGMIN_f32_avx2;
    }
#endif
    int64_t len = imax(A.n, 1);
    A.chunk = imax(1, TASK_WORK / len);
    int64_t ntask = (A.nout + A.chunk - 1) / A.chunk;
    int nthr = A.nout * len < PAR_MIN ? 1 : mlxc_num_threads();
    if (nthr == 1 || ntask == 1) {
        for (int64_t t = 0; t < ntask; t++) arg_task(&A, t, 0);
    } else {
        mlxc_parallel_for(ntask, nthr, arg_task, &A);
    }
    return MLXC_OK;
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#ifdef RED_X86
const unsigned mlxc_levels_reduce = MLXC_LEVELS_X86;
#else
const unsigned mlxc_levels_reduce = MLXC_LEVELS_SCALAR;
#endif
#ifdef RED_X86
const unsigned mlxc_levels_argreduce = MLXC_LEVELS_X86;
#else
const unsigned mlxc_levels_argreduce = MLXC_LEVELS_SCALAR;
#endif
