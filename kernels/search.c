/* mlxc_searchsorted: binary search of every value in one sorted 1-D sequence.
 *
 * The order is the one mlxc_sort sorts by (so a sorted sequence is searched
 * correctly): NaN is above every number and equal to any NaN, -0 == +0;
 * complex64 orders by real part, then imaginary part, each with that rule.
 * Every value is searched on its own, so the result cannot depend on how the
 * values are split over the threads. */
#include "internal.h"
#include "mlxc_threads.h"

#define SEARCH_TASK ((int64_t)1 << 12)     /* values per task */
#define SEARCH_PAR_MIN ((int64_t)1 << 14)  /* fewer values than this: one thread */

/* a < b in the sort order, and a == b, for real floats */
static inline int flt_lt(double a, double b) { return a < b || (b != b && a == a); }
static inline int flt_eq(double a, double b) { return a == b || (a != a && b != b); }

#define LT_B(a, b) ((a) < (b))
#define LT_U(a, b) ((a) < (b))
#define LT_S(a, b) ((a) < (b))
#define LT_F(a, b) flt_lt((a), (b))
#define LT_C(a, b) (flt_lt(crealf(a), crealf(b)) ||                                  \
                    (flt_eq(crealf(a), crealf(b)) && flt_lt(cimagf(a), cimagf(b))))
#define LTC2(c) LT_##c
#define LTC(c) LTC2(c)

/* values [v0, v1): left gives the first i with !(seq[i] < v), right the first i
 * with v < seq[i] */
#define GEN_SEARCH(N, u)                                                            \
static void search_##N(uint32_t *out, const void *seq_, int64_t n, const void *val_, \
                       int64_t v0, int64_t v1, int right)                           \
{                                                                                   \
    const STY_##N *seq = seq_, *val = val_;                                         \
    for (int64_t i = v0; i < v1; i++) {                                             \
        CTY_##N v = LD_##N(val[i]);                                                 \
        int64_t lo = 0, hi = n;                                                     \
        if (right) {                                                                \
            while (lo < hi) {                                                       \
                int64_t mid = lo + (hi - lo) / 2;                                   \
                CTY_##N s = LD_##N(seq[mid]);                                       \
                if (LTC(CL_##N)(v, s)) hi = mid; else lo = mid + 1;                 \
            }                                                                       \
        } else {                                                                    \
            while (lo < hi) {                                                       \
                int64_t mid = lo + (hi - lo) / 2;                                   \
                CTY_##N s = LD_##N(seq[mid]);                                       \
                if (LTC(CL_##N)(s, v)) lo = mid + 1; else hi = mid;                 \
            }                                                                       \
        }                                                                           \
        out[i] = (uint32_t)lo;                                                      \
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
