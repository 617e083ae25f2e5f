/* mlxc_take, mlxc_take_along, mlxc_scatter.  Indices are validated in a first
 * pass so an error never leaves a half-updated scatter destination. */
#include "internal.h"

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
#define GEN_TAKE(N, u)                                                              \
static void take_##N(void *out_, const void *src_, int64_t outer, int64_t L,        \
                     int64_t inner, const int64_t *idx, int64_t nidx, int along)    \
{                                                                                   \
    STY_##N *restrict out = out_;                                                   \
    const STY_##N *restrict src = src_;                                             \
    for (int64_t o = 0; o < outer; o++) {                                           \
        const STY_##N *s = src + o * L * inner;                                     \
        for (int64_t j = 0; j < nidx; j++) {                                        \
            STY_##N *d = out + (o * nidx + j) * inner;                              \
            if (along) {                                                            \
                const int64_t *ix = idx + (o * nidx + j) * inner;                   \
                for (int64_t k = 0; k < inner; k++)                                 \
                    d[k] = s[wrap_idx(ix[k], L) * inner + k];                       \
            } else {                                                                \
                const STY_##N *r = s + wrap_idx(idx[j], L) * inner;                 \
                for (int64_t k = 0; k < inner; k++) d[k] = r[k];                    \
            }                                                                       \
        }                                                                           \
    }                                                                               \
}
#define TL_RAW(M, ...) M(u8, __VA_ARGS__) M(u16, __VA_ARGS__) M(u32, __VA_ARGS__) M(u64, __VA_ARGS__)
TL_RAW(GEN_TAKE, 0)

typedef void (*take_fn)(void *, const void *, int64_t, int64_t, int64_t, const int64_t *, int64_t, int);
static take_fn take_for(int dtype)
{
    switch (mlxc_itemsize(dtype)) {
    case 1: return take_u8;
    case 2: return take_u16;
    case 4: return take_u32;
    case 8: return take_u64;
    default: return NULL;
    }
}

int mlxc_take(int dtype, void *out, const void *src,
              int64_t outer, int64_t axis_len, int64_t inner,
              const int64_t *idx, int64_t nidx, int64_t *bad)
{
    take_fn fn = take_for(dtype);
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    if (outer <= 0 || inner <= 0 || nidx <= 0) return MLXC_OK;
    int rc = check_idx(idx, nidx, axis_len, bad);
    if (rc) return rc;
    fn(out, src, outer, axis_len, inner, idx, nidx, 0);
    return MLXC_OK;
}

int mlxc_take_along(int dtype, void *out, const void *src,
                    int64_t outer, int64_t axis_len, int64_t inner,
                    const int64_t *idx, int64_t nidx, int64_t *bad)
{
    take_fn fn = take_for(dtype);
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    if (outer <= 0 || inner <= 0 || nidx <= 0) return MLXC_OK;
    int rc = check_idx(idx, outer * nidx * inner, axis_len, bad);
    if (rc) return rc;
    fn(out, src, outer, axis_len, inner, idx, nidx, 1);
    return MLXC_OK;
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

#define ENT_SCAT(N, u) [MLXC_SCATTER_ADD][CODE_##N] = scat_ADD_##N,                 \
    [MLXC_SCATTER_PROD][CODE_##N] = scat_PROD_##N, [MLXC_SCATTER_MAX][CODE_##N] = scat_MAX_##N, \
    [MLXC_SCATTER_MIN][CODE_##N] = scat_MIN_##N,
static const scat_fn scat_tab[MLXC_SCATTER_MIN + 1][MLXC_NUM_DTYPES] = {
    TL_REAL(ENT_SCAT, 0)
    [MLXC_SCATTER_ADD][MLXC_COMPLEX64] = scat_ADD_c64,
    [MLXC_SCATTER_PROD][MLXC_COMPLEX64] = scat_PROD_c64,
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
