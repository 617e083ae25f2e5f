/* mx.fast.rope: a table of cos / sin for every (offset, position, frequency) is
 * built once (vector sin / cos, threaded over positions), then every row is rotated
 * by the row kernel of fast_impl.h (threaded over rows).  Half types go through
 * per-thread float32 scratch rows. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "fast_isa.h"
#include "mlxc_threads.h"

struct rope_job {
    const struct fk_table *fk;
    int dtype, traditional;
    char *out;
    const char *x;
    int64_t nb, nmid, T, D, half, noff, rows_per_task;
    const float *inv_freq;
    float scale;
    const int64_t *offset;
    float *cs;               /* noff * T rows of (cos[half], sin[half]) */
    float *scratch;          /* 2 * D floats per thread (half types) */
};

static void table_task(void *ctx, int64_t task, int tid)
{
    const struct rope_job *j = (const struct rope_job *)ctx;
    (void)tid;
    int64_t o = task / j->T, t = task % j->T;
    float *c = j->cs + (size_t)task * 2 * j->half, *s = c + j->half;
    /* the angle as MLX forms it in float32: position * scale, times the frequency */
    float pos = (float)(j->offset[o] + t) * j->scale;
    for (int64_t k = 0; k < j->half; k++) c[k] = pos * j->inv_freq[k];
    memcpy(s, c, sizeof(float) * (size_t)j->half);
    j->fk->sincos(c, s, s, j->half);
}

static void rope_task(void *ctx, int64_t task, int tid)
{
    const struct rope_job *j = (const struct rope_job *)ctx;
    int64_t nrows = j->nb * j->nmid * j->T;
    int64_t r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task;
    if (r1 > nrows) r1 = nrows;
    size_t z = mlxc_itemsize(j->dtype);
    for (int64_t r = r0; r < r1; r++) {
        int64_t t = r % j->T, b = r / (j->nmid * j->T);
        const float *c = j->cs + (size_t)((j->noff > 1 ? b : 0) * j->T + t) * 2 * j->half;
        const char *xr = j->x + (size_t)(r * j->D) * z;
        char *yr = j->out + (size_t)(r * j->D) * z;
        const float *xf = (const float *)xr;
        float *yf = (float *)yr;
        if (j->dtype != MLXC_FLOAT32) {
            float *s = j->scratch + (size_t)tid * 2 * j->D;
            if (j->dtype == MLXC_FLOAT16) mlxc_h2f_n(s, (const uint16_t *)xr, j->D);
            else mlxc_bf2f_n(s, (const uint16_t *)xr, j->D);
            xf = s;
            yf = s + j->D;
        }
        j->fk->rope_row(yf, xf, c, c + j->half, j->half, j->traditional);
        int64_t rot = 2 * j->half;
        if (j->dtype != MLXC_FLOAT32) {
            if (j->dtype == MLXC_FLOAT16) mlxc_f2h_n((uint16_t *)yr, yf, rot);
            else mlxc_f2bf_n((uint16_t *)yr, yf, rot);
        }
        if (rot < j->D && yr != xr)
            memcpy(yr + (size_t)rot * z, xr + (size_t)rot * z, (size_t)(j->D - rot) * z);
    }
}

int mlxc_rope(int dtype, void *out, const void *x, int64_t nb, int64_t nmid, int64_t T,
              int64_t D, int64_t dims, int traditional, const float *inv_freq, float scale,
              const int64_t *offset, int64_t noff)
{
    if (dtype != MLXC_FLOAT32 && dtype != MLXC_FLOAT16 && dtype != MLXC_BFLOAT16)
        return MLXC_ERR_UNSUPPORTED;
    if (dims < 0 || dims % 2 || dims > D || (noff != 1 && noff != nb)) return MLXC_ERR_UNSUPPORTED;
    int64_t nrows = nb * nmid * T;
    if (nrows <= 0 || D <= 0) return MLXC_OK;
    int nt = mlxc_num_threads();
    struct rope_job j = {mlxc_fk_table(), dtype, traditional, (char *)out, (const char *)x,
                         nb, nmid, T, D, dims / 2, noff, 1, inv_freq, scale, offset, NULL, NULL};
    size_t ntab = (size_t)(noff * T) * (size_t)dims;
    size_t nscr = dtype == MLXC_FLOAT32 ? 0 : (size_t)nt * 2 * (size_t)D;
    float *mem = (float *)malloc(sizeof(float) * (ntab + nscr + 1));
    if (!mem) return MLXC_ERR_NOMEM;
    j.cs = mem;
    j.scratch = mem + ntab;
    if (dims > 0) mlxc_parallel_for(noff * T, nt, table_task, &j);
    j.rows_per_task = (32768 + D - 1) / D;
    mlxc_parallel_for((nrows + j.rows_per_task - 1) / j.rows_per_task, nt, rope_task, &j);
    free(mem);
    return MLXC_OK;
}
