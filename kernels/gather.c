/* mlxc_take, mlxc_take_along, mlxc_scatter.  Gathers check each index as they
 * read it; scatters validate all indices in a first pass so an error never
 * leaves a half-updated destination. */
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"

static int check_idx(const int64_t *idx, int64_t n, int64_t axis_len, int64_t *bad)
{
    for (int64_t i = 0; i < n; i++) {
        if (idx[i] < -axis_len || idx[i] >= axis_len) {
            if (bad) *bad = idx[i];
            return MLXC_ERR_INDEX;
        }
    }
    return MLXC_OK;
}

static inline int64_t wrap_idx(int64_t i, int64_t len) { return i < 0 ? i + len : i; }

/* ------------------------------------------------------------- take */
/* The gather runs over "rows" (o, j) — for take_along also k — in tasks of
 * TAKE_TASK output elements on the thread pool.  Indices are checked as they
 * are read (the output is garbage on error; the caller discards it) and each
 * task remembers its first bad position, so the index reported is the first
 * bad one in order, whatever the thread count.  inner == 1 (a gather of single
 * elements, the common take(x_1d, idx)) has its own loop: no per-row call.
 * (Software prefetch of indices 16-64 ahead was tried: no gain, the
 * out-of-order core already overlaps the independent random reads.) */
#define TAKE_TASK ((int64_t)1 << 15)
#define TAKE_PAR_MIN ((int64_t)1 << 16)

static inline int idx_ok(int64_t i, int64_t len) { return (uint64_t)(i + len) < (uint64_t)(2 * len); }

/* rows [r0, r1) of take: row r = (o, j); returns the first bad row or -1.
 * IT: the index type (int32 or int64: the engine passes these as they are). */
#define GEN_TAKE_I(N, IT, ISFX)                                                     \
static int64_t take_##N##ISFX(void *out_, const void *src_, int64_t L, int64_t inner, \
                              const void *idx_, int64_t nidx, int64_t r0, int64_t r1) \
{                                                                                   \
    const IT *idx = idx_;                                                           \
    STY_##N *restrict out = out_;                                                   \
    const STY_##N *restrict src = src_;                                             \
    int64_t bad = -1;                                                               \
    int64_t o = r0 / nidx, j = r0 - o * nidx;          /* one division per task */ \
    if (inner == 1) {                                                               \
        /* a run of indices within one o: when all are in [0, L) (one cheap       \
         * vectorized pass tells), a loop of just load-index, load, store keeps   \
         * many more random reads in flight than the checking loop */            \
        for (int64_t r = r0; r < r1;) {                                             \
            int64_t n = nidx - j < r1 - r ? nidx - j : r1 - r;                      \
            const STY_##N *s = src + o * L;                                         \
            const IT *ix = idx + j;                                                 \
            STY_##N *d = out + r;                                                   \
            uint64_t umax = 0;                                                      \
            for (int64_t q = 0; q < n; q++) {                                       \
                uint64_t u = (uint64_t)(int64_t)ix[q];                              \
                umax = u > umax ? u : umax;                                         \
            }                                                                       \
            if (umax < (uint64_t)L) {                                               \
                for (int64_t q = 0; q < n; q++) d[q] = s[ix[q]];                    \
            } else {                                                                \
                for (int64_t q = 0; q < n; q++) {                                   \
                    int64_t i = ix[q];                                              \
                    if (idx_ok(i, L)) d[q] = s[wrap_idx(i, L)];                     \
                    else if (bad < 0) bad = r + q;                                  \
                }                                                                   \
            }                                                                       \
            r += n;                                                                 \
            j += n;                                                                 \
            if (j == nidx) { j = 0; o++; }                                          \
        }                                                                           \
        return bad;                                                                 \
    }                                                                               \
    for (int64_t r = r0; r < r1; r++) {                                             \
        int64_t i = idx[j];                                                         \
        if (idx_ok(i, L)) {                                                         \
            const STY_##N *s = src + (o * L + wrap_idx(i, L)) * inner;              \
            STY_##N *d = out + r * inner;                                           \
            for (int64_t k = 0; k < inner; k++) d[k] = s[k];                        \
        } else if (bad < 0) {                                                       \
            bad = r;                                                                \
        }                                                                           \
        if (++j == nidx) { j = 0; o++; }                                            \
    }                                                                               \
    return bad;                                                                     \
}                                                                                   \
/* elements [e0, e1) of take_along (element e = (o, j, k)); first bad element or -1 */ \
static int64_t along_##N##ISFX(void *out_, const void *src_, int64_t L, int64_t inner, \
                               const void *idx_, int64_t nidx, int64_t e0, int64_t e1) \
{                                                                                   \
    const IT *idx = idx_;                                                           \
    STY_##N *restrict out = out_;                                                   \
    const STY_##N *restrict src = src_;                                             \
    int64_t bad = -1, row = nidx * inner;                                           \
    int64_t o = e0 / row, k = e0 % inner;                 /* divisions once per task */ \
    int64_t left = row - e0 % row;                        /* elements left in row o */ \
    for (int64_t e = e0; e < e1; e++) {                                             \
        int64_t i = idx[e];                                                         \
        if (idx_ok(i, L)) out[e] = src[(o * L + wrap_idx(i, L)) * inner + k];       \
        else if (bad < 0) bad = e;                                                  \
        if (++k == inner) k = 0;                                                    \
        if (--left == 0) { left = row; o++; }                                       \
    }                                                                               \
    return bad;                                                                     \
}
#define TL_RAW(M, ...) M(u8, __VA_ARGS__) M(u16, __VA_ARGS__) M(u32, __VA_ARGS__) M(u64, __VA_ARGS__)
#define GEN_TAKE(N, u) GEN_TAKE_I(N, int32_t, _i32) GEN_TAKE_I(N, int64_t, _i64)
TL_RAW(GEN_TAKE, 0)

typedef int64_t (*take_fn)(void *, const void *, int64_t, int64_t, const void *, int64_t,
                           int64_t, int64_t);

typedef struct {
    take_fn fn;
    char *out;
    const char *src;
    int64_t L, inner, nidx, n, per_task;  /* n work items, per_task of them a task */
    const void *idx;
    int64_t *first_bad;                          /* per task: first bad item or -1 */
} take_job;

static void take_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    take_job *J = ctx;
    int64_t a = t * J->per_task, b = a + J->per_task < J->n ? a + J->per_task : J->n;
    J->first_bad[t] = J->fn(J->out, J->src, J->L, J->inner, J->idx, J->nidx, a, b);
}

static int raw_index(int dtype)
{
    switch (mlxc_itemsize(dtype)) {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    case 8: return 3;
    default: return -1;
    }
}
/* [element size][index is int64] */
static const take_fn take_tab[4][2] = {{take_u8_i32, take_u8_i64}, {take_u16_i32, take_u16_i64},
                                       {take_u32_i32, take_u32_i64}, {take_u64_i32, take_u64_i64}};
static const take_fn along_tab[4][2] = {{along_u8_i32, along_u8_i64}, {along_u16_i32, along_u16_i64},
                                        {along_u32_i32, along_u32_i64}, {along_u64_i32, along_u64_i64}};

/* take (along == 0: items are rows (o, j) of `inner` elements reading idx[j])
 * or take_along (items are elements reading idx[item]) on the pool */
static int gather(int along, int dtype, void *out, const void *src, int64_t outer, int64_t L,
                  int64_t inner, const void *idx, int idx_dtype, int64_t nidx, int64_t *bad)
{
    int k = raw_index(dtype);
    if (k < 0 || (idx_dtype != MLXC_INT32 && idx_dtype != MLXC_INT64)) return MLXC_ERR_UNSUPPORTED;
    int wide = idx_dtype == MLXC_INT64;
    if (outer <= 0 || inner <= 0 || nidx <= 0) return MLXC_OK;
    int64_t unit = along ? 1 : inner, n = outer * nidx * (along ? inner : 1);
    int64_t per = TAKE_TASK / unit > 0 ? TAKE_TASK / unit : 1;
    int64_t ntask = n * unit < TAKE_PAR_MIN ? 1 : (n + per - 1) / per;
    int64_t one;
    int64_t *fb = ntask > 1 ? malloc((size_t)ntask * sizeof(int64_t)) : &one;
    if (!fb) return MLXC_ERR_NOMEM;
    take_job J = {(along ? along_tab : take_tab)[k][wide], out, src, L, inner, nidx, n,
                  ntask > 1 ? per : n, idx, fb};
    if (ntask == 1) take_task(&J, 0, 0);
    else mlxc_parallel_for(ntask, mlxc_num_threads(), take_task, &J);
    int64_t first = -1;
    for (int64_t t = 0; t < ntask && first < 0; t++) first = fb[t];
    if (fb != &one) free(fb);
    if (first < 0) return MLXC_OK;
    int64_t at = along ? first : first % nidx;
    if (bad) *bad = wide ? ((const int64_t *)idx)[at] : ((const int32_t *)idx)[at];
    return MLXC_ERR_INDEX;
}

int mlxc_take(int dtype, void *out, const void *src, int64_t outer, int64_t axis_len,
              int64_t inner, const void *idx, int idx_dtype, int64_t nidx, int64_t *bad)
{
    return gather(0, dtype, out, src, outer, axis_len, inner, idx, idx_dtype, nidx, bad);
}

int mlxc_take_along(int dtype, void *out, const void *src, int64_t outer, int64_t axis_len,
                    int64_t inner, const void *idx, int idx_dtype, int64_t nidx, int64_t *bad)
{
    return gather(1, dtype, out, src, outer, axis_len, inner, idx, idx_dtype, nidx, bad);
}

/* ----------------------------------------------------------- scatter */
#define SU_SET(a, b, T, W) ((void)(a), (b))
#define SU_ADD_INT(a, b, T, W) ((T)((W)(a) + (W)(b)))
#define SU_MUL_INT(a, b, T, W) ((T)((W)(a) * (W)(b)))
#define SU_ADD_F(a, b, T, W) ((a) + (b))
#define SU_MUL_F(a, b, T, W) ((a) * (b))
#define SU_MUL_C(a, b, T, W) mlxc_cmul(a, b)
#define SU_MAX(a, b, T, W) (((b) > (a) || (b) != (b)) ? (b) : (a))   /* NaN propagates */
#define SU_MIN(a, b, T, W) (((b) < (a) || (b) != (b)) ? (b) : (a))
/* complex64: by real part, then imaginary part (as MLX) */
static inline int c64_less(mlxc_c64 a, mlxc_c64 b)
{
    return crealf(a) < crealf(b) || (crealf(a) == crealf(b) && cimagf(a) < cimagf(b));
}
#define SU_MAX_C(a, b, T, W) (c64_less(a, b) ? (b) : (a))
#define SU_MIN_C(a, b, T, W) (c64_less(b, a) ? (b) : (a))
#define SU_OR(a, b, T, W) ((uint8_t)((a) | (b)))
#define SU_AND(a, b, T, W) ((uint8_t)((a) & (b)))

typedef void (*scat_fn)(void *, const void *, int64_t, int64_t, int64_t, const int64_t *, int64_t, int);

#define GEN_SCAT(mode, N, F)                                                        \
static void scat_##mode##_##N(void *dst_, const void *upd_, int64_t outer, int64_t L, \
                              int64_t inner, const int64_t *idx, int64_t nidx, int along) \
{                                                                                   \
    STY_##N *dst = dst_;                                                            \
    const STY_##N *upd = upd_;                                                      \
    for (int64_t o = 0; o < outer; o++) {                                           \
        STY_##N *d = dst + o * L * inner;                                           \
        for (int64_t j = 0; j < nidx; j++) {                                        \
            const STY_##N *u = upd + (o * nidx + j) * inner;                        \
            const int64_t *ix = idx + (o * nidx + j) * inner;                       \
            int64_t row = along ? 0 : wrap_idx(idx[j], L) * inner;                  \
            for (int64_t k = 0; k < inner; k++) {                                   \
                STY_##N *p = d + (along ? wrap_idx(ix[k], L) * inner : row) + k;    \
                CTY_##N a = LD_##N(*p), b = LD_##N(u[k]);                           \
                *p = SV_##N(F(a, b, CTY_##N, WTY_##N));                             \
            }                                                                       \
        }                                                                           \
    }                                                                               \
}
#define GEN_SCAT_PLAIN(N, u) GEN_SCAT(PLAIN, N, SU_SET)
TL_RAW(GEN_SCAT_PLAIN, 0)
#define GEN_SCAT_INT(N, u) GEN_SCAT(ADD, N, SU_ADD_INT) GEN_SCAT(PROD, N, SU_MUL_INT) \
    GEN_SCAT(MAX, N, SU_MAX) GEN_SCAT(MIN, N, SU_MIN)
#define GEN_SCAT_FLT(N, u) GEN_SCAT(ADD, N, SU_ADD_F) GEN_SCAT(PROD, N, SU_MUL_F)     \
    GEN_SCAT(MAX, N, SU_MAX) GEN_SCAT(MIN, N, SU_MIN)
TL_INT(GEN_SCAT_INT, 0)
TL_FLT(GEN_SCAT_FLT, 0)
GEN_SCAT(ADD, b, SU_OR)
GEN_SCAT(MAX, b, SU_OR)
GEN_SCAT(PROD, b, SU_AND)
GEN_SCAT(MIN, b, SU_AND)
GEN_SCAT(ADD, c64, SU_ADD_F)
GEN_SCAT(PROD, c64, SU_MUL_C)
GEN_SCAT(MAX, c64, SU_MAX_C)
GEN_SCAT(MIN, c64, SU_MIN_C)

#define ENT_SCAT(N, u) [MLXC_SCATTER_ADD][CODE_##N] = scat_ADD_##N,                 \
    [MLXC_SCATTER_PROD][CODE_##N] = scat_PROD_##N, [MLXC_SCATTER_MAX][CODE_##N] = scat_MAX_##N, \
    [MLXC_SCATTER_MIN][CODE_##N] = scat_MIN_##N,
static const scat_fn scat_tab[MLXC_SCATTER_MIN + 1][MLXC_NUM_DTYPES] = {
    TL_REAL(ENT_SCAT, 0)
    [MLXC_SCATTER_ADD][MLXC_COMPLEX64] = scat_ADD_c64,
    [MLXC_SCATTER_PROD][MLXC_COMPLEX64] = scat_PROD_c64,
    [MLXC_SCATTER_MAX][MLXC_COMPLEX64] = scat_MAX_c64,
    [MLXC_SCATTER_MIN][MLXC_COMPLEX64] = scat_MIN_c64,
};

int mlxc_scatter(int mode, int dtype, void *dst, const void *upd,
                 int64_t outer, int64_t axis_len, int64_t inner,
                 const int64_t *idx, int64_t nidx, int along, int64_t *bad)
{
    if (dtype < 0 || dtype >= MLXC_NUM_DTYPES || mode < 0 || mode > MLXC_SCATTER_MIN)
        return MLXC_ERR_UNSUPPORTED;
    scat_fn fn = NULL;
    if (mode == MLXC_SCATTER_PLAIN) {
        switch (mlxc_itemsize(dtype)) {
        case 1: fn = scat_PLAIN_u8; break;
        case 2: fn = scat_PLAIN_u16; break;
        case 4: fn = scat_PLAIN_u32; break;
        default: fn = scat_PLAIN_u64; break;
        }
    } else {
        fn = scat_tab[mode][dtype];
    }
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    if (outer <= 0 || inner <= 0 || nidx <= 0) return MLXC_OK;
    int rc = check_idx(idx, along ? outer * nidx * inner : nidx, axis_len, bad);
    if (rc) return rc;
    fn(dst, upd, outer, axis_len, inner, idx, nidx, along != 0);
    return MLXC_OK;
}

/* ----------------------------------------------------- masked scatter */
/* Per row o: the k-th set entry of mask row o takes src[o, k].  Rows are counted
 * first, so a short src leaves dst untouched. */
#define GEN_MSCAT(N, u)                                                             \
static void mscat_##N(void *dst_, const uint8_t *mask, const void *src_, int64_t outer, \
                      int64_t n, int64_t src_n)                                     \
{                                                                                   \
    STY_##N *dst = dst_;                                                            \
    const STY_##N *src = src_;                                                      \
    for (int64_t o = 0; o < outer; o++) {                                           \
        const STY_##N *s = src + o * src_n;                                         \
        STY_##N *d = dst + o * n;                                                   \
        const uint8_t *m = mask + o * n;                                            \
        int64_t k = 0;                                                              \
        for (int64_t i = 0; i < n; i++) {                                           \
            if (m[i]) d[i] = s[k++];                                                \
        }                                                                           \
    }                                                                               \
}
TL_RAW(GEN_MSCAT, 0)

int mlxc_masked_scatter(int dtype, void *dst, const uint8_t *mask, const void *src,
                        int64_t outer, int64_t n, int64_t src_n, int64_t *bad)
{
    if (dtype < 0 || dtype >= MLXC_NUM_DTYPES) return MLXC_ERR_UNSUPPORTED;
    if (outer <= 0 || n <= 0) return MLXC_OK;
    for (int64_t o = 0; o < outer; o++) {
        const uint8_t *m = mask + o * n;
        int64_t c = 0;
        for (int64_t i = 0; i < n; i++) c += m[i] != 0;
        if (c > src_n) {
            if (bad) *bad = c;
            return MLXC_ERR_INDEX;
        }
    }
    switch (mlxc_itemsize(dtype)) {
    case 1: mscat_u8(dst, mask, src, outer, n, src_n); break;
    case 2: mscat_u16(dst, mask, src, outer, n, src_n); break;
    case 4: mscat_u32(dst, mask, src, outer, n, src_n); break;
    default: mscat_u64(dst, mask, src, outer, n, src_n); break;
    }
    return MLXC_OK;
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
const unsigned mlxc_levels_gather = MLXC_LEVELS_SCALAR;   /* portable C */
