/* mlxc_sort / mlxc_argsort: stable bottom-up merge sort (insertion sort on
 * runs of 32, then ping-pong merges), NaN after everything else. */
#include "internal.h"

#define SORT_RUN 32

/* name, element type, LESS(a, b) (may use the context pointer ctx) */
#define GEN_MSORT(name, T, LESS)                                                    \
static void ins_##name(T *a, int64_t n, const void *ctx)                            \
{                                                                                   \
    (void)ctx;                                                                      \
    for (int64_t i = 1; i < n; i++) {                                               \
        T v = a[i];                                                                 \
        int64_t j = i;                                                              \
        while (j > 0 && LESS(v, a[j - 1])) { a[j] = a[j - 1]; j--; }                \
        a[j] = v;                                                                   \
    }                                                                               \
}                                                                                   \
/* stable: on ties the left run's element goes first */                            \
static void merge_##name(const T *src, T *dst, int64_t lo, int64_t mid, int64_t hi, \
                         const void *ctx)                                           \
{                                                                                   \
    (void)ctx;                                                                      \
    int64_t i = lo, j = mid, k = lo;                                                \
    if (!LESS(src[mid], src[mid - 1])) {   /* already in order */                   \
        memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(T));                  \
        return;                                                                     \
    }                                                                               \
    while (i < mid && j < hi) dst[k++] = LESS(src[j], src[i]) ? src[j++] : src[i++]; \
    while (i < mid) dst[k++] = src[i++];                                            \
    while (j < hi) dst[k++] = src[j++];                                             \
}                                                                                   \
static void msort_##name(T *a, T *tmp, int64_t n, const void *ctx)                  \
{                                                                                   \
    for (int64_t lo = 0; lo < n; lo += SORT_RUN)                                    \
        ins_##name(a + lo, n - lo < SORT_RUN ? n - lo : SORT_RUN, ctx);             \
    T *src = a, *dst = tmp;                                                         \
    for (int64_t w = SORT_RUN; w < n; w *= 2) {                                     \
        for (int64_t lo = 0; lo < n; lo += 2 * w) {                                 \
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n; \
            if (mid >= hi) memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(T)); \
            else merge_##name(src, dst, lo, mid, hi, ctx);                          \
        }                                                                           \
        T *t = src; src = dst; dst = t;                                             \
    }                                                                               \
    if (src != a) memcpy(a, src, (size_t)n * sizeof(T));                            \
}

/* ordering of compute values: NaN greater than everything, NaNs equal */
#define KLESS_INT(x, y) ((x) < (y))
#define KLESS_FLT(x, y) ((x) < (y) || ((y) != (y) && (x) == (x)))
#define KLESS_U KLESS_INT
#define KLESS_S KLESS_INT
#define KLESS_B KLESS_INT
#define KLESS_F KLESS_FLT
#define KLESS(N) MLXC_CAT(KLESS_, CL_##N)

#define GEN_SORT(N, u)                                                              \
static inline int vless_##N(STY_##N a, STY_##N b)                                   \
{                                                                                   \
    CTY_##N x = LD_##N(a), y = LD_##N(b);                                           \
    return KLESS(N)(x, y);                                                          \
}                                                                                   \
static inline int iless_##N(uint32_t i, uint32_t j, const void *ctx)                \
{                                                                                   \
    const STY_##N *d = ctx;                                                         \
    return vless_##N(d[i], d[j]);                                                   \
}                                                                                   \
GEN_MSORT(v_##N, STY_##N, vless_##N)                                                \
GEN_MSORT(i_##N, uint32_t, ILESS_##N)
#define ILESS_b(a, b) iless_b(a, b, ctx)
#define ILESS_u8(a, b) iless_u8(a, b, ctx)
#define ILESS_u16(a, b) iless_u16(a, b, ctx)
#define ILESS_u32(a, b) iless_u32(a, b, ctx)
#define ILESS_u64(a, b) iless_u64(a, b, ctx)
#define ILESS_i8(a, b) iless_i8(a, b, ctx)
#define ILESS_i16(a, b) iless_i16(a, b, ctx)
#define ILESS_i32(a, b) iless_i32(a, b, ctx)
#define ILESS_i64(a, b) iless_i64(a, b, ctx)
#define ILESS_f16(a, b) iless_f16(a, b, ctx)
#define ILESS_bf16(a, b) iless_bf16(a, b, ctx)
#define ILESS_f32(a, b) iless_f32(a, b, ctx)
#define ILESS_f64(a, b) iless_f64(a, b, ctx)
TL_REAL(GEN_SORT, 0)

typedef void (*vsort_fn)(void *a, void *tmp, int64_t n, const void *ctx);
typedef void (*isort_fn)(uint32_t *a, uint32_t *tmp, int64_t n, const void *ctx);
#define ENT_I(N, u) [CODE_##N] = msort_i_##N,
/* msort_v_N takes typed pointers; wrap them so the table has one signature */
#define GEN_VWRAP(N, u)                                                             \
static void vsort_##N(void *a, void *tmp, int64_t n, const void *ctx) { msort_v_##N(a, tmp, n, ctx); }
TL_REAL(GEN_VWRAP, 0)
#define ENT_VW(N, u) [CODE_##N] = vsort_##N,
static const vsort_fn vsort_tab[MLXC_NUM_DTYPES] = { TL_REAL(ENT_VW, 0) };
static const isort_fn isort_tab[MLXC_NUM_DTYPES] = { TL_REAL(ENT_I, 0) };

int mlxc_sort(int dtype, void *data, int64_t nrows, int64_t len)
{
    if (dtype < 0 || dtype >= MLXC_NUM_DTYPES || !vsort_tab[dtype]) return MLXC_ERR_UNSUPPORTED;
    if (len <= 1 || nrows <= 0) return MLXC_OK;
    size_t z = mlxc_itemsize(dtype);
    void *tmp = malloc((size_t)len * z);
    if (!tmp) return MLXC_ERR_NOMEM;
    for (int64_t r = 0; r < nrows; r++)
        vsort_tab[dtype]((char *)data + (size_t)(r * len) * z, tmp, len, NULL);
    free(tmp);
    return MLXC_OK;
}

int mlxc_argsort(int dtype, uint32_t *idx, const void *data, int64_t nrows, int64_t len)
{
    if (dtype < 0 || dtype >= MLXC_NUM_DTYPES || !isort_tab[dtype]) return MLXC_ERR_UNSUPPORTED;
    if (len <= 0 || nrows <= 0) return MLXC_OK;
    if (len > (int64_t)UINT32_MAX) return MLXC_ERR_UNSUPPORTED;
    size_t z = mlxc_itemsize(dtype);
    uint32_t *tmp = malloc((size_t)len * sizeof(uint32_t));
    if (!tmp) return MLXC_ERR_NOMEM;
    for (int64_t r = 0; r < nrows; r++) {
        uint32_t *row = idx + r * len;
        for (int64_t i = 0; i < len; i++) row[i] = (uint32_t)i;
        isort_tab[dtype](row, tmp, len, (const char *)data + (size_t)(r * len) * z);
    }
    free(tmp);
    return MLXC_OK;
}
