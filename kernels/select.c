/* mlxc_select: out[i] = cond[i] ? a[i] : b[i].  Dtype-agnostic: moves
 * elements as unsigned integers of the item size. */
#include "internal.h"
#include "mlxc_cpu.h"

typedef void (*sel_fn)(void *out, const uint8_t *c, int64_t sc, const void *a, int64_t sa,
                       const void *b, int64_t sb, int64_t n);

/* one kernel per element size and SIMD level (TGT: the level's target attribute;
 * the loops are the same C, gcc vectorizes them at the level's width) */
#define GEN_SEL(T, SFX, TGT)                                                        \
TGT static void sel_##T##SFX(void *o_, const uint8_t *restrict c, int64_t sc, const void *a_, \
                    int64_t sa, const void *b_, int64_t sb, int64_t n)              \
{                                                                                   \
    T *restrict o = o_;                                                             \
    const T *restrict a = a_;                                                       \
    const T *restrict b = b_;                                                       \
    /* masks instead of branches: random conditions would mispredict, and     \
     * gcc vectorizes the mask form */                                              \
    if (sc == 1 && sa == 1 && sb == 1) {                                            \
        for (int64_t i = 0; i < n; i++) {                                           \
            T m = (T)0 - (T)(c[i] != 0);                                            \
            o[i] = (T)((a[i] & m) | (b[i] & (T)~m));                                \
        }                                                                           \
    } else if (sc == 1 && sa == 0 && sb == 0) {                                     \
        T x = a[0], y = b[0];                                                       \
        for (int64_t i = 0; i < n; i++) {                                           \
            T m = (T)0 - (T)(c[i] != 0);                                            \
            o[i] = (T)((x & m) | (y & (T)~m));                                      \
        }                                                                           \
    } else if (sc == 1 && (sa == 0 || sb == 0)) {                                   \
        for (int64_t i = 0; i < n; i++) {                                           \
            T m = (T)0 - (T)(c[i] != 0);                                            \
            o[i] = (T)((a[i * sa] & m) | (b[i * sb] & (T)~m));                      \
        }                                                                           \
    } else if (sc == 0) {                                                           \
        const T *p = c[0] ? a : b;                                                  \
        int64_t s = c[0] ? sa : sb;                                                 \
        for (int64_t i = 0; i < n; i++) o[i] = p[i * s];                            \
    } else {                                                                        \
        for (int64_t i = 0; i < n; i++) o[i] = c[i * sc] ? a[i * sa] : b[i * sb];   \
    }                                                                               \
}
#define GEN_SEL_LEVEL(SFX, TGT) GEN_SEL(uint8_t, SFX, TGT) GEN_SEL(uint16_t, SFX, TGT) \
    GEN_SEL(uint32_t, SFX, TGT) GEN_SEL(uint64_t, SFX, TGT)
GEN_SEL_LEVEL(, )
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SEL_X86 1
GEN_SEL_LEVEL(_avx2, __attribute__((target("avx2"))))
GEN_SEL_LEVEL(_avx512, __attribute__((target("avx512f,avx512bw,avx512vl,avx2,prefer-vector-width=512"))))
#endif

/* the kernel for elements of z bytes at the current SIMD level, or NULL */
static sel_fn sel_pick(size_t z)
{
    static const sel_fn tab[3][4] = {
        {sel_uint8_t, sel_uint16_t, sel_uint32_t, sel_uint64_t},
#ifdef SEL_X86
        {sel_uint8_t_avx2, sel_uint16_t_avx2, sel_uint32_t_avx2, sel_uint64_t_avx2},
        {sel_uint8_t_avx512, sel_uint16_t_avx512, sel_uint32_t_avx512, sel_uint64_t_avx512},
#endif
    };
    int k = z == 1 ? 0 : z == 2 ? 1 : z == 4 ? 2 : z == 8 ? 3 : -1;
    if (k < 0) return NULL;
    int lvl = 0;
#ifdef SEL_X86
    int isa = mlxc_isa_pick(mlxc_levels_select);
    lvl = isa == MLXC_ISA_AVX512 ? 2 : isa == MLXC_ISA_AVX2 ? 1 : 0;
#endif
    return tab[lvl][k];
}

int mlxc_select(int dtype, void *out,
                const void *cond, const int64_t *cond_strides,
                const void *a, const int64_t *a_strides,
                const void *b, const int64_t *b_strides,
                int ndim, const int64_t *shape)
{
    int64_t z = (int64_t)mlxc_itemsize(dtype);
    sel_fn fn = sel_pick((size_t)z);
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    const int64_t *st[4] = {NULL, cond_strides, a_strides, b_strides};
    mlxc_nd L;
    if (mlxc_nd_init(&L, 4, ndim, shape, st) == 0) return MLXC_OK;
    int64_t ctr[MLXC_MAXD] = {0}, off[4] = {0, 0, 0, 0};
    do {
        fn((char *)out + off[0] * z, (const uint8_t *)cond + off[1], L.st[1][0],
           (const char *)a + off[2] * z, L.st[2][0], (const char *)b + off[3] * z, L.st[3][0],
           L.shape[0]);
    } while (mlxc_nd_next(&L, ctr, off));
    return MLXC_OK;
}

/* ------------------------------------------------- row kernel (fused.c) */
static void sel_row(const mlxc_rowop *r, void *out, const void *const *src, const int64_t *s,
                    int64_t n)
{
    ((sel_fn)r->fn)(out, src[0], s[0], src[1], s[1], src[2], s[2], n);
}

int mlxc_select_rowop(int dtype, mlxc_rowop *r)
{
    if (dtype < 0 || dtype >= MLXC_NUM_DTYPES) return MLXC_ERR_UNSUPPORTED;
    sel_fn fn = sel_pick(mlxc_itemsize(dtype));
    if (!fn) return MLXC_ERR_UNSUPPORTED;
    r->run = sel_row;
    r->fn = (mlxc_anyfn)fn;
    r->vfn = NULL;
    r->dtype = dtype;
    return MLXC_OK;
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#ifdef SEL_X86
const unsigned mlxc_levels_select = MLXC_LEVELS_X86;
#else
const unsigned mlxc_levels_select = MLXC_LEVELS_SCALAR;   /* portable C */
#endif
