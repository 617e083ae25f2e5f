/* mlxc_reduce and mlxc_argreduce.
 * The reduced dims are collapsed on their own; each output element reduces one
 * (possibly multi-dim) block: every innermost row with a 1-D kernel r1_*, rows
 * combined in an accumulator type AT (double for float sums). */
#include "internal.h"

typedef void (*red_fn)(void *out, const void *in, const mlxc_nd *O, const mlxc_nd *R);

/* ---------------------------------------------------------- 1-D kernels */
/* integer sum / product wrap in the unsigned type */
#define GEN_R1_INT(N, u)                                                            \
static WTY_##N r1_RSUM_##N(const STY_##N *restrict x, int64_t s, int64_t n)         \
{                                                                                   \
    WTY_##N a = 0;                                                                  \
    if (s == 1) { for (int64_t i = 0; i < n; i++) a += (WTY_##N)x[i]; }             \
    else { for (int64_t i = 0; i < n; i++) a += (WTY_##N)x[i * s]; }                \
    return a;                                                                       \
}                                                                                   \
static WTY_##N r1_RPROD_##N(const STY_##N *restrict x, int64_t s, int64_t n)        \
{                                                                                   \
    WTY_##N a = 1;                                                                  \
    for (int64_t i = 0; i < n; i++) a *= (WTY_##N)x[i * s];                         \
    return a;                                                                       \
}                                                                                   \
static STY_##N r1_RMAX_##N(const STY_##N *restrict x, int64_t s, int64_t n)         \
{                                                                                   \
    STY_##N m = MINV_##N;                                                           \
    for (int64_t i = 0; i < n; i++) m = x[i * s] > m ? x[i * s] : m;                \
    return m;                                                                       \
}                                                                                   \
static STY_##N r1_RMIN_##N(const STY_##N *restrict x, int64_t s, int64_t n)         \
{                                                                                   \
    STY_##N m = MAXV_##N;                                                           \
    for (int64_t i = 0; i < n; i++) m = x[i * s] < m ? x[i * s] : m;                \
    return m;                                                                       \
}

/* float sums: blocks of <= 256 summed with 8 interleaved accumulators, blocks
 * combined pairwise.  Fixed order, error O(log n). */
#define GEN_R1_FLT(N, u)                                                            \
static CTY_##N psum_##N(const STY_##N *restrict x, int64_t s, int64_t n)            \
{                                                                                   \
    if (n > 256) {                                                                  \
        int64_t h = (n / 2) & ~(int64_t)7;                                          \
        return psum_##N(x, s, h) + psum_##N(x + h * s, s, n - h);                   \
    }                                                                               \
    CTY_##N a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, t = 0;                                 \
    int64_t i = 0;                                                                  \
    if (s == 1) {                                                                   \
        for (; i + 8 <= n; i += 8)                                                  \
            for (int k = 0; k < 8; k++) a[k] += LD_##N(x[i + k]);                   \
    } else {                                                                        \
        for (; i + 8 <= n; i += 8)                                                  \
            for (int k = 0; k < 8; k++) a[k] += LD_##N(x[(i + k) * s]);             \
    }                                                                               \
    for (; i < n; i++) t += LD_##N(x[i * s]);                                       \
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + t;   \
}                                                                                   \
static double r1_RSUM_##N(const STY_##N *restrict x, int64_t s, int64_t n)          \
{                                                                                   \
    return psum_##N(x, s, n);                                                       \
}                                                                                   \
/* products run in double: no float32 overflow/underflow midway */              \
static double r1_RPROD_##N(const STY_##N *restrict x, int64_t s, int64_t n)         \
{                                                                                   \
    double a = 1;                                                                   \
    for (int64_t i = 0; i < n; i++) a *= LD_##N(x[i * s]);                          \
    return a;                                                                       \
}                                                                                   \
/* NaN propagates: once m is NaN neither test can replace it.  Contiguous
 * rows use 8 independent lanes plus a NaN flag so the loop vectorizes. */     \
static CTY_##N r1_RMAX_##N(const STY_##N *restrict x, int64_t s, int64_t n)         \
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
static CTY_##N r1_RMIN_##N(const STY_##N *restrict x, int64_t s, int64_t n)         \
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
}

/* ALL / ANY for every dtype (also bool SUM/MAX = ANY, PROD/MIN = ALL) */
#define GEN_R1_LOGIC(N, u)                                                          \
static uint8_t r1_RALL_##N(const STY_##N *restrict x, int64_t s, int64_t n)         \
{                                                                                   \
    for (int64_t i = 0; i < n; i++) { CTY_##N v = LD_##N(x[i * s]); if (!CV_b(v)) return 0; } \
    return 1;                                                                       \
}                                                                                   \
static uint8_t r1_RANY_##N(const STY_##N *restrict x, int64_t s, int64_t n)         \
{                                                                                   \
    for (int64_t i = 0; i < n; i++) { CTY_##N v = LD_##N(x[i * s]); if (CV_b(v)) return 1; } \
    return 0;                                                                       \
}

TL_INT(GEN_R1_INT, 0)
TL_FLT(GEN_R1_FLT, 0)
TL_ALL(GEN_R1_LOGIC, 0)
static mlxc_c64 r1_RSUM_c64(const mlxc_c64 *x, int64_t s, int64_t n)
{
    const float *f = (const float *)x;
    return CMPLXF(psum_f32(f, 2 * s, n), psum_f32(f + 1, 2 * s, n));
}
static mlxc_c64 r1_RPROD_c64(const mlxc_c64 *x, int64_t s, int64_t n)
{
    mlxc_c64 a = CMPLXF(1.0f, 0.0f);
    for (int64_t i = 0; i < n; i++) a = mlxc_cmul(a, x[i * s]);
    return a;
}

#define r1_RSUM_b r1_RANY_b
#define r1_RMAX_b r1_RANY_b
#define r1_RPROD_b r1_RALL_b
#define r1_RMIN_b r1_RALL_b

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

/* op, type name, output name, accumulator type, identity, combine, final
 * conversion, element -> accumulator conversion.
 * Column mode: when the innermost output dim is contiguous in the input and
 * the (single) reduced dim is not, whole input rows are folded into a block of
 * per-column accumulators (vectorizes, reads memory in order) instead of
 * walking each strided column on its own. */
#define MLXC_COLBLK 256
#define GEN_RED(op, N, ON, AT, INIT, CMB, FIN, EL)                                  \
static AT rnd_##op##_##N(const STY_##N *x, const mlxc_nd *R)                        \
{                                                                                   \
    if (R->ndim == 1) return r1_##op##_##N(x, R->st[0][0], R->shape[0]);            \
    AT acc = INIT;                                                                  \
    int64_t ctr[MLXC_MAXD] = {0}, off[1] = {0};                                     \
    do {                                                                            \
        AT r = r1_##op##_##N(x + off[0], R->st[0][0], R->shape[0]);                 \
        acc = CMB(acc, r);                                                          \
    } while (mlxc_nd_next(R, ctr, off));                                            \
    return acc;                                                                     \
}                                                                                   \
static void col_##op##_##N(STY_##ON *restrict o, const STY_##N *x, int64_t m,       \
                           int64_t nr, int64_t rs)                                  \
{                                                                                   \
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
static void red_##op##_##N(void *out, const void *in, const mlxc_nd *O, const mlxc_nd *R) \
{                                                                                   \
    STY_##ON *o = out;                                                              \
    const STY_##N *x = in;                                                          \
    int colwise = R->ndim == 1 && O->st[1][0] == 1 && R->st[0][0] != 1 && O->shape[0] >= 4; \
    int64_t ctr[MLXC_MAXD] = {0}, off[2] = {0, 0};                                  \
    do {                                                                            \
        if (colwise) {                                                              \
            col_##op##_##N(o + off[0], x + off[1], O->shape[0], R->shape[0], R->st[0][0]); \
            continue;                                                               \
        }                                                                           \
        for (int64_t j = 0; j < O->shape[0]; j++) {                                 \
            AT r = rnd_##op##_##N(x + off[1] + j * O->st[1][0], R);                 \
            o[off[0] + j] = FIN(r);                                                 \
        }                                                                           \
    } while (mlxc_nd_next(O, ctr, off));                                            \
}

#define EL_LD(N, AT, v) ((AT)LD_##N(v))
#define EL_NZ(N, AT, v) CV_b(LD_##N(v))
#define FIN_ID(r) (r)
#define GEN_RED_INT(N, u)                                                           \
    GEN_RED(RSUM, N, N, WTY_##N, 0, CMB_ADD, SV_##N, EL_LD)                                \
    GEN_RED(RPROD, N, N, WTY_##N, 1, CMB_MUL, SV_##N, EL_LD)                               \
    GEN_RED(RMAX, N, N, STY_##N, MINV_##N, CMB_MAXI, FIN_ID, EL_LD)                        \
    GEN_RED(RMIN, N, N, STY_##N, MAXV_##N, CMB_MINI, FIN_ID, EL_LD)
#define GEN_RED_FLT(N, u)                                                           \
    static inline STY_##N fin_##N(double r) { return SV_##N((CTY_##N)r); }          \
    GEN_RED(RSUM, N, N, double, 0.0, CMB_ADD, fin_##N, EL_LD)                              \
    GEN_RED(RPROD, N, N, double, 1.0, CMB_MUL, fin_##N, EL_LD)                               \
    GEN_RED(RMAX, N, N, CTY_##N, -(CTY_##N)INFINITY, CMB_MAXF, SV_##N, EL_LD)              \
    GEN_RED(RMIN, N, N, CTY_##N, (CTY_##N)INFINITY, CMB_MINF, SV_##N, EL_LD)
#define GEN_RED_LOGIC(N, u)                                                         \
    GEN_RED(RALL, N, b, uint8_t, 1, CMB_AND, FIN_ID, EL_NZ)                                \
    GEN_RED(RANY, N, b, uint8_t, 0, CMB_OR, FIN_ID, EL_NZ)

TL_INT(GEN_RED_INT, 0)
TL_FLT(GEN_RED_FLT, 0)
TL_ALL(GEN_RED_LOGIC, 0)
GEN_RED(RSUM, c64, c64, mlxc_c64, CMPLXF(0.0f, 0.0f), CMB_ADD, FIN_ID, EL_LD)
GEN_RED(RPROD, c64, c64, mlxc_c64, CMPLXF(1.0f, 0.0f), CMB_CMUL, FIN_ID, EL_LD)
GEN_RED(RSUM, b, b, uint8_t, 0, CMB_OR, FIN_ID, EL_NZ)
GEN_RED(RMAX, b, b, uint8_t, 0, CMB_OR, FIN_ID, EL_NZ)
GEN_RED(RPROD, b, b, uint8_t, 1, CMB_AND, FIN_ID, EL_NZ)
GEN_RED(RMIN, b, b, uint8_t, 1, CMB_AND, FIN_ID, EL_NZ)

#define ENT4(N, u) [MLXC_RSUM][CODE_##N] = red_RSUM_##N, [MLXC_RPROD][CODE_##N] = red_RPROD_##N, \
    [MLXC_RMAX][CODE_##N] = red_RMAX_##N, [MLXC_RMIN][CODE_##N] = red_RMIN_##N,
#define ENTL(N, u) [MLXC_RALL][CODE_##N] = red_RALL_##N, [MLXC_RANY][CODE_##N] = red_RANY_##N,
static const red_fn red_tab[MLXC_NUM_REDUCE][MLXC_NUM_DTYPES] = {
    TL_BOOL(ENT4, 0) TL_INT(ENT4, 0) TL_FLT(ENT4, 0) TL_ALL(ENTL, 0)
    [MLXC_RSUM][MLXC_COMPLEX64] = red_RSUM_c64, [MLXC_RPROD][MLXC_COMPLEX64] = red_RPROD_c64,
};

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
    mlxc_nd O, R;
    if (mlxc_nd_init(&O, 2, nout, shape, so) == 0) return MLXC_OK;
    mlxc_nd_init(&R, 1, nred, shape + nout, sr);   /* empty: identity per output */
    fn(out, in, &O, &R);
    return MLXC_OK;
}

/* -------------------------------------------------------------- argreduce */
/* first occurrence wins; the first NaN wins over everything */
#define GEN_ARG(N, u)                                                               \
static uint32_t arg_ARGMAX_##N(const STY_##N *x, int64_t s, int64_t n)              \
{                                                                                   \
    if (n <= 0) return 0;                                                           \
    CTY_##N best = LD_##N(x[0]);                                                    \
    uint32_t bi = 0;                                                                \
    if (best != best) return 0;                                                     \
    for (int64_t i = 1; i < n; i++) {                                               \
        CTY_##N v = LD_##N(x[i * s]);                                               \
        if (v != v) return (uint32_t)i;                                             \
        if (v > best) { best = v; bi = (uint32_t)i; }                               \
    }                                                                               \
    return bi;                                                                      \
}                                                                                   \
static uint32_t arg_ARGMIN_##N(const STY_##N *x, int64_t s, int64_t n)              \
{                                                                                   \
    if (n <= 0) return 0;                                                           \
    CTY_##N best = LD_##N(x[0]);                                                    \
    uint32_t bi = 0;                                                                \
    if (best != best) return 0;                                                     \
    for (int64_t i = 1; i < n; i++) {                                               \
        CTY_##N v = LD_##N(x[i * s]);                                               \
        if (v != v) return (uint32_t)i;                                             \
        if (v < best) { best = v; bi = (uint32_t)i; }                               \
    }                                                                               \
    return bi;                                                                      \
}                                                                                   \
static void argred_##N(int op, uint32_t *out, const void *in, const mlxc_nd *O,     \
                       int64_t s, int64_t n)                                        \
{                                                                                   \
    const STY_##N *x = in;                                                          \
    int64_t ctr[MLXC_MAXD] = {0}, off[2] = {0, 0};                                  \
    do {                                                                            \
        for (int64_t j = 0; j < O->shape[0]; j++) {                                 \
            const STY_##N *p = x + off[1] + j * O->st[1][0];                        \
            out[off[0] + j] = op == MLXC_ARGMAX ? arg_ARGMAX_##N(p, s, n)            \
                                                : arg_ARGMIN_##N(p, s, n);          \
        }                                                                           \
    } while (mlxc_nd_next(O, ctr, off));                                            \
}
TL_REAL(GEN_ARG, 0)
typedef void (*argred_fn)(int, uint32_t *, const void *, const mlxc_nd *, int64_t, int64_t);
#define ENT_ARG(N, u) [CODE_##N] = argred_##N,
static const argred_fn arg_tab[MLXC_NUM_DTYPES] = { TL_REAL(ENT_ARG, 0) };

int mlxc_argreduce(int op, int dtype, uint32_t *out, const void *in,
                   int ndim, const int64_t *shape, const int64_t *strides)
{
    if ((op != MLXC_ARGMAX && op != MLXC_ARGMIN) || dtype < 0 || dtype >= MLXC_NUM_DTYPES
        || !arg_tab[dtype] || ndim < 1)
        return MLXC_ERR_UNSUPPORTED;
    const int64_t *so[2] = {NULL, strides};
    mlxc_nd O;
    if (mlxc_nd_init(&O, 2, ndim - 1, shape, so) == 0) return MLXC_OK;
    arg_tab[dtype](op, out, in, &O, strides[ndim - 1], shape[ndim - 1]);
    return MLXC_OK;
}
