/* mx.fast.rms_norm and mx.fast.layer_norm: one pass of the row kernels (fast_impl.h)
 * per row, rows split over the thread pool in fixed chunks.  Half types are
 * converted a row at a time into per-thread float32 scratch. */
#include <stdlib.h>
#include "internal.h"
#include "fast_isa.h"
#include "mlxc_threads.h"

struct norm_job {
    const struct fk_table *fk;
    int dtype, layer;
    char *out;
    const char *x;
    const float *w, *b;
    int64_t nrows, n, rows_per_task;
    float eps;
    float *scratch;          /* 2 * n floats per thread (half types) */
};

static void to_f32(int dtype, float *dst, const void *src, int64_t n)
{
    if (dtype == MLXC_FLOAT16) mlxc_h2f_n(dst, (const uint16_t *)src, n);
    else mlxc_bf2f_n(dst, (const uint16_t *)src, n);
}

static void from_f32(int dtype, void *dst, const float *src, int64_t n)
{
    if (dtype == MLXC_FLOAT16) mlxc_f2h_n((uint16_t *)dst, src, n);
    else mlxc_f2bf_n((uint16_t *)dst, src, n);
}

static void norm_task(void *ctx, int64_t task, int tid)
{
    const struct norm_job *j = (const struct norm_job *)ctx;
    int64_t r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task;
    if (r1 > j->nrows) r1 = j->nrows;
    size_t z = mlxc_itemsize(j->dtype);
    for (int64_t r = r0; r < r1; r++) {
        const char *xr = j->x + (size_t)(r * j->n) * z;
        char *yr = j->out + (size_t)(r * j->n) * z;
        const float *xf = (const float *)xr;
        float *yf = (float *)yr;
        if (j->dtype != MLXC_FLOAT32) {
            float *s = j->scratch + (size_t)tid * 2 * j->n;
            to_f32(j->dtype, s, xr, j->n);
            xf = s;
            yf = s + j->n;
        }
        if (j->layer) j->fk->ln_row(yf, xf, j->w, j->b, j->n, j->eps);
        else j->fk->rms_row(yf, xf, j->w, j->n, j->eps);
        if (j->dtype != MLXC_FLOAT32) from_f32(j->dtype, yr, yf, j->n);
    }
}

static int run_norm(int layer, int dtype, void *out, const void *x, const void *w,
                    const void *b, int64_t nrows, int64_t n, float eps)
{
    if (dtype != MLXC_FLOAT32 && dtype != MLXC_FLOAT16 && dtype != MLXC_BFLOAT16)
        return MLXC_ERR_UNSUPPORTED;
    if (nrows <= 0 || n <= 0) return MLXC_OK;
    struct norm_job j = {mlxc_fk_table(), dtype, layer, (char *)out, (const char *)x,
                         NULL, NULL, nrows, n, 1, eps, NULL};
    int nt = mlxc_num_threads();
    float *wb = NULL;
    if (dtype != MLXC_FLOAT32) {
        /* weight and bias once as float32, then per-thread row scratch */
        wb = (float *)malloc(sizeof(float) * (size_t)n * (2 + 2 * (size_t)nt));
        if (!wb) return MLXC_ERR_NOMEM;
        if (w) { to_f32(dtype, wb, w, n); j.w = wb; }
        if (b) { to_f32(dtype, wb + n, b, n); j.b = wb + n; }
        j.scratch = wb + 2 * n;
    } else {
        j.w = (const float *)w;
        j.b = (const float *)b;
    }
    /* about 32k elements per task; the split does not change any row's result */
    j.rows_per_task = (32768 + n - 1) / n;
    int64_t tasks = (nrows + j.rows_per_task - 1) / j.rows_per_task;
    mlxc_parallel_for(tasks, nt, norm_task, &j);
    free(wb);
    return MLXC_OK;
}

int mlxc_rms_norm(int dtype, void *out, const void *x, const void *w, int64_t nrows,
                  int64_t n, float eps)
{
    return run_norm(0, dtype, out, x, w, NULL, nrows, n, eps);
}

int mlxc_layer_norm(int dtype, void *out, const void *x, const void *w, const void *b,
                    int64_t nrows, int64_t n, float eps)
{
    return run_norm(1, dtype, out, x, w, b, nrows, n, eps);
}
