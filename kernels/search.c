/* mlxc_searchsorted: binary search of every value in one sorted 1-D sequence.
 *
 * The order is the one mlxc_sort sorts by (so a sorted sequence is searched
 * correctly): NaN is above every number and equal to any NaN, -0 == +0;
 * complex64 orders by real part, then imaginary part, each with that rule.
 * Every value is searched on its own, so the result cannot depend on how the
 * values are split over the threads.  Scalar code at every ISA level: the search is
 * bound by dependent loads, not arithmetic (1M float32 values, one thread: 2-4x
 * numpy.searchsorted's speed for sequences in cache, ~1.4x for a 16 MB sequence). */
#include "internal.h"
#include "mlxc_threads.h"

#define SEARCH_TASK ((int64_t)1 << 12)     /* values per task */
#define SEARCH_PAR_MIN ((int64_t)1 << 14)  /* fewer values than this: one thread */

/* Each element is compared through mlxc_sort's order-preserving key (sortkey.h);
 * complex64 as (key of the real part) << 32 | key of the imaginary part.  Key compares
 * are plain integer compares, so the search below compiles to conditional moves. */
#include "sortkey.h"
static inline uint64_t key_c64(mlxc_c64 z)
{
    return (uint64_t)key_f32(crealf(z)) << 32 | key_f32(cimagf(z));
}
#define KEY_b(x) (x)
#define KEY_u8(x) (x)
#define KEY_u16(x) (x)
#define KEY_u32(x) (x)
#define KEY_u64(x) (x)
#define KEY_i8(x) (x)
#define KEY_i16(x) (x)
#define KEY_i32(x) (x)
#define KEY_i64(x) (x)
#define KEY_f16(x) key_f16(x)
#define KEY_bf16(x) key_bf16(x)
#define KEY_f32(x) key_f32(x)
#define KEY_f64(x) key_f64(x)
#define KEY_c64(x) key_c64(x)
#define KT_b uint8_t
#define KT_u8 uint8_t
#define KT_u16 uint16_t
#define KT_u32 uint32_t
#define KT_u64 uint64_t
#define KT_i8 int8_t
#define KT_i16 int16_t
#define KT_i32 int32_t
#define KT_i64 int64_t
#define KT_f16 uint16_t
#define KT_bf16 uint16_t
#define KT_f32 uint32_t
#define KT_f64 uint64_t
#define KT_c64 uint64_t

/* values [v0, v1): left gives the first i with !(seq[i] < v), right the first i
 * with v < seq[i].  Branch-free halving: every value takes the same number of steps,
 * the step choice is a conditional move, so the loop branches are predicted and the
 * out-of-order core overlaps the loads of consecutive values. */
#if defined(__GNUC__)
/* both candidates for the next probe: out-of-cache sequences then overlap two levels */
#define PREFETCH2(p, a, b) (__builtin_prefetch((p) + (a)), __builtin_prefetch((p) + (b)))
#else
#define PREFETCH2(p, a, b) ((void)0)
#endif
#define GEN_SEARCH(N, u)                                                            \
static void search_##N(uint32_t *out, const void *seq_, int64_t n, const void *val_, \
                       int64_t v0, int64_t v1, int right)                           \
{                                                                                   \
    const STY_##N *seq = seq_, *val = val_;                                         \
    const int big = n * (int64_t)sizeof(STY_##N) > ((int64_t)1 << 20);             \
    if (n == 0) {                                                                   \
        for (int64_t i = v0; i < v1; i++) out[i] = 0;                               \
        return;                                                                     \
    }                                                                               \
    for (int64_t i = v0; i < v1; i++) {                                             \
        KT_##N v = KEY_##N(val[i]);                                                 \
        int64_t base = 0, len = n;                                                  \
        if (right) {                                                                \
            while (len > 1) {                                                       \
                int64_t half = len >> 1;                                            \
                if (big) PREFETCH2(seq, base + (len - half) / 2, base + half + (len - half) / 2); \
                base = v < KEY_##N(seq[base + half]) ? base : base + half;          \
                len -= half;                                                        \
            }                                                                       \
            out[i] = (uint32_t)(base + !(v < KEY_##N(seq[base])));                  \
        } else {                                                                    \
            while (len > 1) {                                                       \
                int64_t half = len >> 1;                                            \
                if (big) PREFETCH2(seq, base + (len - half) / 2, base + half + (len - half) / 2); \
                base = KEY_##N(seq[base + half]) < v ? base + half : base;          \
                len -= half;                                                        \
            }                                                                       \
            out[i] = (uint32_t)(base + (KEY_##N(seq[base]) < v));                   \
        }                                                                           \
    }                                                                               \
}
TL_ALL(GEN_SEARCH, 0)

typedef void (*search_fn)(uint32_t *, const void *, int64_t, const void *, int64_t, int64_t, int);
#define ENT_SEARCH(N, u) [CODE_##N] = search_##N,
static const search_fn search_tab[MLXC_NUM_DTYPES] = { TL_ALL(ENT_SEARCH, 0) };

typedef struct {
    search_fn fn;
    uint32_t *out;
    const void *seq, *val;
    int64_t n, nval;
    int right;
} search_job;

static void search_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    search_job *J = ctx;
    int64_t a = t * SEARCH_TASK, b = a + SEARCH_TASK < J->nval ? a + SEARCH_TASK : J->nval;
    J->fn(J->out, J->seq, J->n, J->val, a, b, J->right);
}

int mlxc_searchsorted(int dtype, uint32_t *out, const void *seq, int64_t n,
                      const void *values, int64_t nvalues, int right)
{
    if (dtype < 0 || dtype >= MLXC_NUM_DTYPES || !search_tab[dtype]) return MLXC_ERR_UNSUPPORTED;
    if (n < 0 || n > (int64_t)UINT32_MAX) return MLXC_ERR_UNSUPPORTED;
    if (nvalues <= 0) return MLXC_OK;
    search_job J = {search_tab[dtype], out, seq, values, n, nvalues, right != 0};
    if (nvalues < SEARCH_PAR_MIN || n < 2) {
        J.fn(out, seq, n, values, 0, nvalues, J.right);
        return MLXC_OK;
    }
    mlxc_parallel_for((nvalues + SEARCH_TASK - 1) / SEARCH_TASK, mlxc_num_threads(),
                      search_task, &J);
    return MLXC_OK;
}
