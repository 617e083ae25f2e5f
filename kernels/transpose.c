/* mlxc_transpose_copy: out[j * ldo + i] = in[i * ldi + j] for i < ni, j < nj,
 * elements of `z` bytes moved as bits (mlxc_copy's transposing, same-dtype case).
 *
 * Why not a plain tiled loop: with a power-of-two row pitch (a 4096-wide
 * float32 matrix is 16 KiB a row) every row of a tile maps to the same L1 set,
 * so a 32 x 32 tile thrashes the cache.  Here the work is cut into strips of
 * SJ output rows (one 64-byte line of input columns); a strip walks down all
 * input rows 8 at a time, so each input line is read once, whole, and each
 * output row is written front to back.  8 x 8 blocks are transposed in
 * registers at the AVX2 level (4-byte elements), by scalar code otherwise.
 * Strips run on the thread pool; each writes only its own output rows. */
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TR_X86 1
#define TGT_AVX2 __attribute__((target("avx2,fma")))
#endif

#define SJ 16                          /* output rows per strip: 64 bytes of float32 input */
#define PAR_MIN ((int64_t)1 << 16)     /* elements below which the caller runs alone */
#define STRIPS_PER_TASK 4

typedef void (*strip_fn)(char *out, int64_t ldo, const char *in, int64_t ldi,
                         int64_t ni, int64_t j0, int64_t nj);

/* one strip (output rows j0 .. j0+nj-1, nj <= SJ) of element type T */
#define GEN_STRIP(T)                                                                \
static void strip_##T(char *out_, int64_t ldo, const char *in_, int64_t ldi,        \
                      int64_t ni, int64_t j0, int64_t nj)                           \
{                                                                                   \
    T *out = (T *)out_;                                                             \
    const T *in = (const T *)in_;                                                   \
    for (int64_t i0 = 0; i0 < ni; i0 += 8) {                                        \
        int64_t mi = ni - i0 < 8 ? ni - i0 : 8;                                     \
        for (int64_t j = j0; j < j0 + nj; j++)                                      \
            for (int64_t i = i0; i < i0 + mi; i++)                                  \
                out[j * ldo + i] = in[i * ldi + j];                                 \
    }                                                                               \
}
GEN_STRIP(uint8_t)
GEN_STRIP(uint16_t)
GEN_STRIP(uint32_t)
GEN_STRIP(uint64_t)

#ifdef TR_X86
/* 8 x 8 float32 block: rows r[0..7] of the input become rows of the output */
TGT_AVX2 static inline void tr8x8(float *o, int64_t ldo, const float *x, int64_t ldx)
{
    __m256 r0 = _mm256_loadu_ps(x), r1 = _mm256_loadu_ps(x + ldx);
    __m256 r2 = _mm256_loadu_ps(x + 2 * ldx), r3 = _mm256_loadu_ps(x + 3 * ldx);
    __m256 r4 = _mm256_loadu_ps(x + 4 * ldx), r5 = _mm256_loadu_ps(x + 5 * ldx);
    __m256 r6 = _mm256_loadu_ps(x + 6 * ldx), r7 = _mm256_loadu_ps(x + 7 * ldx);
    /* interleave pairs of rows, then pairs of pairs, then swap 128-bit halves */
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    _mm256_storeu_ps(o, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(o + ldo, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(o + 2 * ldo, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(o + 3 * ldo, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(o + 4 * ldo, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(o + 5 * ldo, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(o + 6 * ldo, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(o + 7 * ldo, _mm256_permute2f128_ps(u3, u7, 0x31));
}

TGT_AVX2 static void strip_u32_avx2(char *out_, int64_t ldo, const char *in_, int64_t ldi,
                                    int64_t ni, int64_t j0, int64_t nj)
{
    if (nj != SJ) {   /* the ragged last strip */
        strip_uint32_t(out_, ldo, in_, ldi, ni, j0, nj);
        return;
    }
    float *out = (float *)out_;
    const float *in = (const float *)in_;
    int64_t i0 = 0;
    for (; i0 + 8 <= ni; i0 += 8) {
        tr8x8(out + j0 * ldo + i0, ldo, in + i0 * ldi + j0, ldi);
        tr8x8(out + (j0 + 8) * ldo + i0, ldo, in + i0 * ldi + j0 + 8, ldi);
    }
    for (int64_t j = j0; j < j0 + nj; j++)   /* the last ni % 8 input rows */
        for (int64_t i = i0; i < ni; i++) out[j * ldo + i] = in[i * ldi + j];
}
#endif

typedef struct {
    strip_fn fn;
    char *out;
    const char *in;
    int64_t ldo, ldi, ni, nj;
} tr_job;

static void tr_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    const tr_job *J = ctx;
    for (int64_t s = t * STRIPS_PER_TASK; s < (t + 1) * STRIPS_PER_TASK; s++) {
        int64_t j0 = s * SJ;
        if (j0 >= J->nj) break;
        J->fn(J->out, J->ldo, J->in, J->ldi, J->ni, j0, J->nj - j0 < SJ ? J->nj - j0 : SJ);
    }
}

int mlxc_transpose_copy(size_t z, void *out, int64_t ldo, const void *in, int64_t ldi,
                        int64_t ni, int64_t nj)
{
    strip_fn fn;
    switch (z) {
    case 1: fn = strip_uint8_t; break;
    case 2: fn = strip_uint16_t; break;
    case 4: fn = strip_uint32_t; break;
    case 8: fn = strip_uint64_t; break;
    default: return MLXC_ERR_UNSUPPORTED;
    }
#ifdef TR_X86
    if (z == 4 && mlxc_isa_pick(mlxc_levels_copy) >= MLXC_ISA_AVX2) fn = strip_u32_avx2;
#endif
    if (ni <= 0 || nj <= 0) return MLXC_OK;
    tr_job J = {fn, out, in, ldo, ldi, ni, nj};
    int64_t strips = (nj + SJ - 1) / SJ;
    int64_t tasks = (strips + STRIPS_PER_TASK - 1) / STRIPS_PER_TASK;
    if (ni * nj < PAR_MIN || tasks == 1) {
        for (int64_t t = 0; t < tasks; t++) tr_task(&J, t, 0);
    } else {
        mlxc_parallel_for(tasks, mlxc_num_threads(), tr_task, &J);
    }
    return MLXC_OK;
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#ifdef TR_X86
const unsigned mlxc_levels_copy = MLXC_LEVELS_AVX2;
#else
const unsigned mlxc_levels_copy = MLXC_LEVELS_SCALAR;
#endif
