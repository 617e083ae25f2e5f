/* mlxc_scan: cumulative op over the last dim.  The accumulator keeps the
 * compute type (float for half types) and is rounded only when stored. */
#include "internal.h"

typedef void (*scan_fn)(void *out, const void *in, int64_t s, int64_t n, int reverse, int inclusive);

#define SC_ADDI(a, v, W) ((a) + (W)(v))
#define SC_MULI(a, v, W) ((a) * (W)(v))
#define SC_ADD(a, v, W) ((a) + (v))
#define SC_MUL(a, v, W) ((a) * (v))
#define SC_CMUL(a, v, W) mlxc_cmul(a, v)
#define SC_MAX(a, v, W) (((v) > (a) || (v) != (v)) ? (v) : (a))   /* NaN sticks */
#define SC_MIN(a, v, W) (((v) < (a) || (v) != (v)) ? (v) : (a))
#define SC_OR(a, v, W) ((uint8_t)((a) | (v)))
#define SC_AND(a, v, W) ((uint8_t)((a) & (v)))

/* op, type name, accumulator type, identity, step */
#define GEN_SCAN(op, N, AT, INIT, STEP)                                             \
static void scan_##op##_##N(void *o_, const void *i_, int64_t s, int64_t n,         \
                            int reverse, int inclusive)                             \
{                                                                                   \
    STY_##N *restrict o = o_;                                                       \
    const STY_##N *restrict x = i_;                                                 \
    AT a = INIT;                                                                    \
    int64_t i0 = reverse ? n - 1 : 0, d = reverse ? -1 : 1;                         \
    if (inclusive) {                                                                \
        for (int64_t k = 0, i = i0; k < n; k++, i += d) {                           \
            CTY_##N v = LD_##N(x[i * s]);                                           \
            a = STEP(a, v, AT);                                                     \
            o[i] = SV_##N(a);                                                       \
        }                                                                           \
    } else {                                                                        \
        for (int64_t k = 0, i = i0; k < n; k++, i += d) {                           \
            CTY_##N v = LD_##N(x[i * s]);                                           \
            o[i] = SV_##N(a);                                                       \
            a = STEP(a, v, AT);                                                     \
        }                                                                           \
    }                                                                               \
}
#define GEN_SCAN_INT(N, u)                                                          \
    GEN_SCAN(CUMSUM, N, WTY_##N, 0, SC_ADDI) GEN_SCAN(CUMPROD, N, WTY_##N, 1, SC_MULI) \
    GEN_SCAN(CUMMAX, N, STY_##N, MINV_##N, SC_MAX) GEN_SCAN(CUMMIN, N, STY_##N, MAXV_##N, SC_MIN)
#define GEN_SCAN_FLT(N, u)                                                          \
    GEN_SCAN(CUMSUM, N, CTY_##N, 0, SC_ADD) GEN_SCAN(CUMPROD, N, CTY_##N, 1, SC_MUL) \
    GEN_SCAN(CUMMAX, N, CTY_##N, -(CTY_##N)INFINITY, SC_MAX)                        \
    GEN_SCAN(CUMMIN, N, CTY_##N, (CTY_##N)INFINITY, SC_MIN)
TL_INT(GEN_SCAN_INT, 0)
TL_FLT(GEN_SCAN_FLT, 0)
GEN_SCAN(CUMSUM, b, uint8_t, 0, SC_OR)
GEN_SCAN(CUMMAX, b, uint8_t, 0, SC_OR)
GEN_SCAN(CUMPROD, b, uint8_t, 1, SC_AND)
GEN_SCAN(CUMMIN, b, uint8_t, 1, SC_AND)
GEN_SCAN(CUMSUM, c64, mlxc_c64, CMPLXF(0.0f, 0.0f), SC_ADD)
GEN_SCAN(CUMPROD, c64, mlxc_c64, CMPLXF(1.0f, 0.0f), SC_CMUL)

#define ENT_SCAN(N, u) [MLXC_CUMSUM][CODE_##N] = scan_CUMSUM_##N, \
    [MLXC_CUMPROD][CODE_##N] = scan_CUMPROD_##N, [MLXC_CUMMAX][CODE_##N] = scan_CUMMAX_##N, \
    [MLXC_CUMMIN][CODE_##N] = scan_CUMMIN_##N,
static const scan_fn scan_tab[4][MLXC_NUM_DTYPES] = {
    TL_REAL(ENT_SCAN, 0)
    [MLXC_CUMSUM][MLXC_COMPLEX64] = scan_CUMSUM_c64, [MLXC_CUMPROD][MLXC_COMPLEX64] = scan_CUMPROD_c64,
};

int mlxc_scan(int op, int dtype, void *out, const void *in,
              int ndim, const int64_t *shape, const int64_t *strides,
              int reverse, int inclusive)
{
    if (op < 0 || op > MLXC_CUMMIN || dtype < 0 || dtype >= MLXC_NUM_DTYPES || ndim < 1)
        return MLXC_ERR_UNSUPPORTED;
    scan_fn fn = scan_tab[op][dtype];
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    int64_t z = (int64_t)mlxc_itemsize(dtype), n = shape[ndim - 1], s = strides[ndim - 1];
    if (n == 0) return MLXC_OK;
    const int64_t *so[2] = {NULL, strides};
    mlxc_nd O;
    if (mlxc_nd_init(&O, 2, ndim - 1, shape, so) == 0) return MLXC_OK;
    /* out rows are contiguous of length n, visited in row-major order */
    int64_t ctr[MLXC_MAXD] = {0}, off[2] = {0, 0};
    do {
        for (int64_t j = 0; j < O.shape[0]; j++)
            fn((char *)out + (off[0] + j) * n * z, (const char *)in + (off[1] + j * O.st[1][0]) * z,
               s, n, reverse, inclusive);
    } while (mlxc_nd_next(&O, ctr, off));
    return MLXC_OK;
}
