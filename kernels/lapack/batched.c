/* Batched LAPACK drivers: see mlxc_lapack.h.  The routines are OpenBLAS's LAPACK from
 * the scipy-openblas32 wheel (32-bit integers); setup.py passes its symbol prefix and
 * suffix (BLAS_SYMBOL_PREFIX / BLAS_SYMBOL_SUFFIX) from the wheel's own helpers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mlxc_kernels.h"
#include "mlxc_threads.h"
#include "mlxc_lapack.h"

#ifndef BLAS_SYMBOL_PREFIX
#define BLAS_SYMBOL_PREFIX
#endif
#ifndef BLAS_SYMBOL_SUFFIX
#define BLAS_SYMBOL_SUFFIX
#endif
#define CAT2_(a, b) a##b
#define CAT2(a, b) CAT2_(a, b)
/* Fortran LAPACK routine `name`: prefix, name, the Fortran underscore, suffix */
#define SYM(name) CAT2(CAT2(BLAS_SYMBOL_PREFIX, name), CAT2(_, BLAS_SYMBOL_SUFFIX))
#define OBSYM(name) CAT2(CAT2(BLAS_SYMBOL_PREFIX, name), BLAS_SYMBOL_SUFFIX)

typedef int lpint;          /* scipy-openblas32: LP64, 32-bit LAPACK integers */
typedef size_t flen;        /* gfortran's hidden CHARACTER lengths, passed last */

void OBSYM(openblas_set_num_threads)(int n);

/* OpenBLAS's thread count is process-wide: set it only between calls, from the caller */
static int ob_threads;
static void set_openblas_threads(int n)
{
    if (__atomic_exchange_n(&ob_threads, n, __ATOMIC_RELAXED) != n)
        OBSYM(openblas_set_num_threads)(n);
}

/* Prototypes for float (s) and double (d). */
#define PROTOS(x, T)                                                                     \
    void SYM(x##potrf)(const char *, const lpint *, T *, const lpint *, lpint *, flen);   \
    void SYM(x##gesv)(const lpint *, const lpint *, T *, const lpint *, lpint *, T *,     \
                      const lpint *, lpint *);                                           \
    void SYM(x##trtrs)(const char *, const char *, const char *, const lpint *,          \
                       const lpint *, const T *, const lpint *, T *, const lpint *,      \
                       lpint *, flen, flen, flen);                                       \
    void SYM(x##trtri)(const char *, const char *, const lpint *, T *, const lpint *,     \
                       lpint *, flen, flen);                                             \
    void SYM(x##getrf)(const lpint *, const lpint *, T *, const lpint *, lpint *, lpint *); \
    void SYM(x##getri)(const lpint *, T *, const lpint *, const lpint *, T *, const lpint *,  \
                       lpint *);                                                         \
    void SYM(x##geqrf)(const lpint *, const lpint *, T *, const lpint *, T *, T *,       \
                       const lpint *, lpint *);                                          \
    void SYM(x##orgqr)(const lpint *, const lpint *, const lpint *, T *, const lpint *,   \
                       const T *, T *, const lpint *, lpint *);                          \
    void SYM(x##gesdd)(const char *, const lpint *, const lpint *, T *, const lpint *,    \
                       T *, T *, const lpint *, T *, const lpint *, T *, const lpint *,  \
                       lpint *, lpint *, flen);                                          \
    void SYM(x##syevd)(const char *, const char *, const lpint *, T *, const lpint *,    \
                       T *, T *, const lpint *, lpint *, const lpint *, lpint *, flen, flen); \
    void SYM(x##geev)(const char *, const char *, const lpint *, T *, const lpint *,     \
                      T *, T *, T *, const lpint *, T *, const lpint *, T *,             \
                      const lpint *, lpint *, flen, flen);
PROTOS(s, float)
PROTOS(d, double)

static void record_failure(struct mlxc_lapack_args *g, int64_t t, int info)
{
    /* keep the lowest failing index, so the message does not depend on thread timing */
    int64_t cur = __atomic_load_n(&g->fail_index, __ATOMIC_RELAXED);
    while (cur < 0 || t < cur) {
        if (__atomic_compare_exchange_n(&g->fail_index, &cur, t, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED)) {
            __atomic_store_n(&g->fail_info, info, __ATOMIC_RELAXED);
            break;
        }
    }
}

#define T float
#define X(name) s##name
#define F(name) name##_f32
#include "batched_impl.h"
#undef T
#undef X
#undef F

#define T double
#define X(name) d##name
#define F(name) name##_f64
#include "batched_impl.h"
#undef T
#undef X
#undef F

struct run { struct mlxc_lapack_args *g; int status; };

static void task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    struct run *r = ctx;
    int st = r->g->dtype == MLXC_FLOAT64 ? one_f64(r->g, t) : one_f32(r->g, t);
    if (st != MLXC_OK) __atomic_store_n(&r->status, st, __ATOMIC_RELAXED);
}

/* OpenBLAS threads for a lone matrix: MLXC_LAPACK_THREADS (default 1).  OpenBLAS's
 * workers wait for each other by spinning and yielding; on cores shared with mlxc's pool
 * or other processes that costs far more than it gains (a 256x256 solve measured 280 ms
 * with 2 OpenBLAS threads on a loaded 2-core machine, 0.25 ms with 1), so by default
 * LAPACK is single-threaded and mlxc's pool provides the parallelism, across a batch. */
static int lone_threads(void)
{
    static int n;
    int v = __atomic_load_n(&n, __ATOMIC_RELAXED);
    if (v == 0) {
        const char *s = getenv("MLXC_LAPACK_THREADS");
        v = s && *s ? atoi(s) : 1;
        if (v < 1) v = 1;
        if (v > 256) v = 256;
        __atomic_store_n(&n, v, __ATOMIC_RELAXED);
    }
    return v;
}

int mlxc_lapack(struct mlxc_lapack_args *g)
{
    if (g->dtype != MLXC_FLOAT32 && g->dtype != MLXC_FLOAT64) return MLXC_ERR_UNSUPPORTED;
    if (g->m > 0x7fffffff || g->n > 0x7fffffff || g->k > 0x7fffffff) return MLXC_ERR_UNSUPPORTED;
    g->fail_index = -1;
    g->fail_info = 0;
    struct run r = { g, MLXC_OK };
    int nt = mlxc_num_threads();
    if (g->batch == 1 || nt == 1) {
        /* one matrix at a time on the caller (OpenBLAS threads only if asked for) */
        set_openblas_threads(g->batch == 1 ? lone_threads() : 1);
        for (int64_t t = 0; t < g->batch; t++) task(&r, t, 0);
    } else {
        /* many matrices: one per pool task, each LAPACK call single-threaded */
        set_openblas_threads(1);
        mlxc_parallel_for(g->batch, nt, task, &r);
    }
    if (r.status != MLXC_OK) return r.status;
    return g->fail_index >= 0 ? MLXC_ERR_LAPACK : MLXC_OK;
}
