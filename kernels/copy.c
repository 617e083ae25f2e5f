/* mlxc_copy (strided cast), mlxc_fill, mlxc_arange. */
#include "internal.h"

typedef void (*cast_fn)(void *out, int64_t so, const void *in, int64_t si, int64_t n);

/* one kernel per (src, dst) pair; the contiguous and broadcast loops are kept
 * separate and simple so gcc vectorizes them */
#define GEN_CAST(dst, src)                                                          \
static void cast_##src##_##dst(void *o_, int64_t so, const void *i_, int64_t si,    \
                               int64_t n)                                           \
{                                                                                   \
    STY_##dst *restrict o = o_;                                                     \
    const STY_##src *restrict x = i_;                                               \
    if (so == 1 && si == 1) {                                                       \
        for (int64_t i = 0; i < n; i++) { CTY_##src v = LD_##src(x[i]); o[i] = CV_##dst(v); } \
    } else if (so == 1 && si == 0) {                                                \
        CTY_##src v = LD_##src(x[0]);                                               \
        STY_##dst r = CV_##dst(v);                                                  \
        for (int64_t i = 0; i < n; i++) o[i] = r;                                   \
    } else {                                                                        \
        for (int64_t i = 0; i < n; i++) {                                           \
            CTY_##src v = LD_##src(x[i * si]);                                      \
            o[i * so] = CV_##dst(v);                                                \
        }                                                                           \
    }                                                                               \
}
#define GEN_CAST_ROW(src, unused) TL_ALL2(GEN_CAST, src)
TL_ALL(GEN_CAST_ROW, 0)

#define ENT_CAST(dst, src) [CODE_##dst] = cast_##src##_##dst,
#define ENT_CAST_ROW(src, unused) [CODE_##src] = { TL_ALL2(ENT_CAST, src) },
static const cast_fn cast_tab[MLXC_NUM_DTYPES][MLXC_NUM_DTYPES] = { TL_ALL(ENT_CAST_ROW, 0) };

/* half <-> float32 runs: the block converters (F16C where the CPU has it) */
#define GEN_HALF_CAST(src, dst, block)                                              \
static void hcast_##src##_##dst(void *o, int64_t so, const void *i, int64_t si, int64_t n) \
{                                                                                   \
    if (so == 1 && si == 1) block(o, i, n);                                         \
    else cast_##src##_##dst(o, so, i, si, n);                                       \
}
GEN_HALF_CAST(f16, f32, mlxc_h2f_n)
GEN_HALF_CAST(f32, f16, mlxc_f2h_n)
GEN_HALF_CAST(bf16, f32, mlxc_bf2f_n)
GEN_HALF_CAST(f32, bf16, mlxc_f2bf_n)

static cast_fn cast_for(int din, int dout)
{
    if (din == MLXC_FLOAT16 && dout == MLXC_FLOAT32) return hcast_f16_f32;
    if (din == MLXC_FLOAT32 && dout == MLXC_FLOAT16) return hcast_f32_f16;
    if (din == MLXC_BFLOAT16 && dout == MLXC_FLOAT32) return hcast_bf16_f32;
    if (din == MLXC_FLOAT32 && dout == MLXC_BFLOAT16) return hcast_f32_bf16;
    return cast_tab[din][dout];
}

/* same dtype: move bits (keeps NaN payloads of half types exact) */
#define GEN_RAW(T)                                                                  \
static void raw_##T(void *o_, int64_t so, const void *i_, int64_t si, int64_t n)    \
{                                                                                   \
    T *restrict o = o_;                                                             \
    const T *restrict x = i_;                                                       \
    if (so == 1 && si == 1) { for (int64_t i = 0; i < n; i++) o[i] = x[i]; }        \
    else if (so == 1 && si == 0) { T r = x[0]; for (int64_t i = 0; i < n; i++) o[i] = r; } \
    else { for (int64_t i = 0; i < n; i++) o[i * so] = x[i * si]; }                 \
}
GEN_RAW(uint8_t)
GEN_RAW(uint16_t)
GEN_RAW(uint32_t)
GEN_RAW(uint64_t)

static cast_fn raw_fn(size_t itemsize)
{
    switch (itemsize) {
    case 1: return raw_uint8_t;
    case 2: return raw_uint16_t;
    case 4: return raw_uint32_t;
    default: return raw_uint64_t;
    }
}

int mlxc_copy(int dtype_in, int dtype_out, void *out, const int64_t *out_strides,
              const void *in, const int64_t *in_strides, int ndim, const int64_t *shape)
{
    if (dtype_in < 0 || dtype_in >= MLXC_NUM_DTYPES || dtype_out < 0 || dtype_out >= MLXC_NUM_DTYPES)
        return MLXC_ERR_UNSUPPORTED;
    cast_fn fn = dtype_in == dtype_out ? raw_fn(mlxc_itemsize(dtype_in)) : cast_for(dtype_in, dtype_out);
    size_t zo = mlxc_itemsize(dtype_out), zi = mlxc_itemsize(dtype_in);
    const int64_t *st[2] = {out_strides, in_strides};
    mlxc_nd L;
    if (mlxc_nd_init(&L, 2, ndim, shape, st) == 0) return MLXC_OK;
    int64_t ctr[MLXC_MAXD] = {0}, off[2] = {0, 0};
    /* transpose-like copies (out walks dim 0 contiguously, in walks dim 1):
     * go through TILE x TILE tiles so both sides stay in cache */
    const int64_t TILE = 32;
    int tiled = L.ndim >= 2 && L.st[0][0] == 1 && (L.st[1][1] == 1 || L.st[1][1] == -1)
                && L.st[1][0] != 1 && L.shape[0] >= TILE && L.shape[1] >= TILE;
    if (tiled) {
        /* dims 0 and 1 are handled here; dims >= 2 by the iterator */
        mlxc_nd O = L;
        O.ndim = L.ndim - 1;
        for (int d = 1; d < O.ndim; d++) {
            O.shape[d] = L.shape[d + 1];
            O.st[0][d] = L.st[0][d + 1];
            O.st[1][d] = L.st[1][d + 1];
        }
        if (dtype_in == dtype_out && L.st[1][1] == 1) {   /* a plain transpose: no cast */
            do {
                mlxc_transpose_copy(zi, (char *)out + off[0] * (int64_t)zo, L.st[0][1],
                                    (const char *)in + off[1] * (int64_t)zi, L.st[1][0],
                                    L.shape[0], L.shape[1]);
            } while (mlxc_nd_next(&O, ctr, off));
            return MLXC_OK;
        }
        do {
            for (int64_t j0 = 0; j0 < L.shape[1]; j0 += TILE)
                for (int64_t i0 = 0; i0 < L.shape[0]; i0 += TILE) {
                    int64_t jn = L.shape[1] - j0 < TILE ? L.shape[1] - j0 : TILE;
                    int64_t in0 = L.shape[0] - i0 < TILE ? L.shape[0] - i0 : TILE;
                    for (int64_t j = j0; j < j0 + jn; j++)
                        fn((char *)out + (off[0] + j * L.st[0][1] + i0) * (int64_t)zo, 1,
                           (const char *)in + (off[1] + j * L.st[1][1] + i0 * L.st[1][0]) * (int64_t)zi,
                           L.st[1][0], in0);
                }
        } while (mlxc_nd_next(&O, ctr, off));
        return MLXC_OK;
    }
    do {
        fn((char *)out + off[0] * (int64_t)zo, L.st[0][0],
           (const char *)in + off[1] * (int64_t)zi, L.st[1][0], L.shape[0]);
    } while (mlxc_nd_next(&L, ctr, off));
    return MLXC_OK;
}

int mlxc_fill(int dtype, void *out, int64_t n, const void *value)
{
    size_t z = mlxc_itemsize(dtype);
    if (z == 0) return MLXC_ERR_UNSUPPORTED;
    if (n > 0) raw_fn(z)(out, 1, value, 0, n);
    return MLXC_OK;
}

#define GEN_ARANGE(N, unused)                                                       \
static void arange_##N(void *o_, int64_t n, double start, double step)              \
{                                                                                   \
    STY_##N *restrict o = o_;                                                       \
    for (int64_t i = 0; i < n; i++) { double v = start + (double)i * step; o[i] = CV_##N(v); } \
}
TL_ALL(GEN_ARANGE, 0)
#define ENT_ARANGE(N, unused) [CODE_##N] = arange_##N,
static void (*const arange_tab[MLXC_NUM_DTYPES])(void *, int64_t, double, double) = {
    TL_ALL(ENT_ARANGE, 0)
};

int mlxc_arange(int dtype, void *out, int64_t n, double start, double step)
{
    if (dtype < 0 || dtype >= MLXC_NUM_DTYPES) return MLXC_ERR_UNSUPPORTED;
    if (n > 0) arange_tab[dtype](out, n, start, step);
    return MLXC_OK;
}

/* ------------------------------------------------- row kernel (fused.c) */
static void cast_row(const mlxc_rowop *r, void *out, const void *const *src, const int64_t *s,
                     int64_t n)
{
    ((cast_fn)r->fn)(out, 1, src[0], s[0], n);
}

int mlxc_cast_rowop(int dtype_in, int dtype_out, mlxc_rowop *r)
{
    if (dtype_in < 0 || dtype_in >= MLXC_NUM_DTYPES || dtype_out < 0 || dtype_out >= MLXC_NUM_DTYPES)
        return MLXC_ERR_UNSUPPORTED;
    cast_fn fn = dtype_in == dtype_out ? raw_fn(mlxc_itemsize(dtype_in)) : cast_for(dtype_in, dtype_out);
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    r->run = cast_row;
    r->fn = (mlxc_anyfn)fn;
    r->vfn = NULL;
    r->dtype = dtype_in;
    return MLXC_OK;
}
