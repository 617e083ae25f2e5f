/* The vjp of mx.fast.scaled_dot_product_attention, float32 (mlxc_sdpa_vjp): the passes
 * of fast_impl.h's attention backward.
 *   stats: one task per (batch, query head, block of FK_BQ queries): the rows' softmax
 *     statistics (kept: 3 floats a row);
 *   the sinks' cotangents from those statistics, serially;
 *   kv: one task per (batch, kv head, chunk): the chunk's key blocks in order, each
 *     writing its dk, dv rows (summed over the group's query heads in head order) and
 *     adding dS K into the chunk's partial dq;
 *   dq: the chunks' partials summed in chunk order, one task per (batch, head).
 * The chunks are a fixed split of the key blocks (block c, c + C, ...: causal work
 * spreads evenly), C chosen from the shapes alone, so results do not depend on the
 * thread count.  Memory: the statistics, C partial dq (C <= 8 times q's size) and
 * per-thread scratch; nothing of size Lq x Lk. */
#include <math.h>
#include <stdlib.h>
#include "internal.h"
#include "fast_isa.h"
#include "mlxc_threads.h"

struct vjp_job {
    const struct fk_table *fk;
    const struct mlxc_sdpa_vjp_args *a;
    int64_t nqb, nkb, nchunk, scratch_floats, dq_row, lqp;
    float *scratch, *m, *il, *dd, *dqp;
};

/* the task's fields common to both passes, for query head h (the group's first in the
 * kv pass) of batch item b */
static void vjp_common(const struct vjp_job *j, struct fk_attn_bwd *t, int64_t b, int64_t h)
{
    const struct mlxc_sdpa_args *f = &j->a->f;
    int64_t G = f->Hq / f->Hk, hk = h / G;
    int64_t bh = b * f->Hq + h, row = bh * f->Lq;
    t->Lq = f->Lq;
    t->Lk = f->Lk;
    t->D = f->D;
    t->Dv = f->Dv;
    t->G = G;
    t->q = f->q + row * f->D;
    t->o = f->out + row * f->Dv;
    t->dout = j->a->dout + row * f->Dv;
    t->k = f->k + (b * f->Hk + hk) * f->Lk * f->D;
    t->v = f->v + (b * f->Hk + hk) * f->Lk * f->Dv;
    t->m = j->m + row;
    t->il = j->il + row;
    t->dd = j->dd + row;
    t->dqp = j->dqp + bh * j->lqp * j->dq_row;
    t->ds = j->a->ds ? j->a->ds + row * f->Lk : NULL;
    t->dk = j->a->dk + (b * f->Hk + hk) * f->Lk * f->D;
    t->dv = j->a->dv + (b * f->Hk + hk) * f->Lk * f->Dv;
    t->scale = f->scale;
    t->mask_kind = f->mask_kind;
    t->causal_off = f->Lk - f->Lq;
    t->mask = NULL;
    t->m_sh = f->m_sh;
    t->m_sq = f->m_sq;
    t->m_sk = f->m_sk;
    if (f->mask_kind == MLXC_SDPA_MASK_ADD)
        t->mask = (const float *)f->mask + b * f->m_sb + h * f->m_sh;
    else if (f->mask_kind == MLXC_SDPA_MASK_BOOL)
        t->mask = (const uint8_t *)f->mask + b * f->m_sb + h * f->m_sh;
    t->has_sink = f->sinks != NULL;
    t->sink = f->sinks ? f->sinks[h] : 0.0f;
}

static void stats_task(void *ctx, int64_t task, int tid)
{
    const struct vjp_job *j = (const struct vjp_job *)ctx;
    const struct mlxc_sdpa_args *f = &j->a->f;
    int64_t qb = task % j->nqb, bh = task / j->nqb;
    struct fk_attn_bwd t;
    vjp_common(j, &t, bh / f->Hq, bh % f->Hq);
    t.i0 = qb * FK_BQ;
    t.n = f->Lq - t.i0 < FK_BQ ? f->Lq - t.i0 : FK_BQ;
    j->fk->attn_bwd_stats(&t, j->scratch + (size_t)tid * j->scratch_floats);
}

static void kv_task(void *ctx, int64_t task, int tid)
{
    const struct vjp_job *j = (const struct vjp_job *)ctx;
    const struct mlxc_sdpa_args *f = &j->a->f;
    int64_t c = task % j->nchunk, bh = task / j->nchunk;
    int64_t b = bh / f->Hk, hk = bh % f->Hk;
    struct fk_attn_bwd t;
    vjp_common(j, &t, b, hk * (f->Hq / f->Hk));
    /* chunk c's partial dq */
    t.dqp += c * f->B * f->Hq * j->lqp * j->dq_row;
    for (int64_t kb = c; kb < j->nkb; kb += j->nchunk) {
        t.i0 = kb * FK_BK;
        t.n = f->Lk - t.i0 < FK_BK ? f->Lk - t.i0 : FK_BK;
        j->fk->attn_bwd_kv(&t, j->scratch + (size_t)tid * j->scratch_floats);
    }
}

static void dq_task(void *ctx, int64_t bh, int tid)
{
    const struct vjp_job *j = (const struct vjp_job *)ctx;
    const struct mlxc_sdpa_args *f = &j->a->f;
    const int64_t D = f->D, part = f->B * f->Hq * j->lqp * j->dq_row;
    (void)tid;
    for (int64_t i = 0; i < f->Lq; i++) {
        float *dq = j->a->dq + (bh * f->Lq + i) * D;
        const float *p = j->dqp + (bh * j->lqp + i) * j->dq_row;
        for (int64_t d = 0; d < D; d++) {
            float acc = 0.0f;
            for (int64_t c = 0; c < j->nchunk; c++) acc += p[c * part + d];
            dq[d] = acc * f->scale;
        }
    }
}

int mlxc_sdpa_vjp(const struct mlxc_sdpa_vjp_args *a)
{
    const struct mlxc_sdpa_args *f = &a->f;
    if (f->Hk <= 0 || f->Hq % f->Hk) return MLXC_ERR_UNSUPPORTED;
    if (f->B <= 0 || f->Hq <= 0) return MLXC_OK;
    int64_t nrows = f->B * f->Hq * f->Lq;
    if (nrows == 0) {
        /* no queries: nothing reaches the keys, values or sinks */
        for (int64_t i = 0; i < f->B * f->Hk * f->Lk * f->D; i++) a->dk[i] = 0.0f;
        for (int64_t i = 0; i < f->B * f->Hk * f->Lk * f->Dv; i++) a->dv[i] = 0.0f;
        if (a->dsinks)
            for (int64_t i = 0; i < f->B * f->Hq; i++) a->dsinks[i] = 0.0f;
        return MLXC_OK;
    }
    struct vjp_job j;
    j.fk = mlxc_fk_table();
    j.a = a;
    j.nqb = (f->Lq + FK_BQ - 1) / FK_BQ;
    j.nkb = (f->Lk + FK_BK - 1) / FK_BK;
    /* chunks: enough kv tasks (about 64) to keep a pool busy, at most 8 */
    int64_t want = (64 + f->B * f->Hk - 1) / (f->B * f->Hk);
    j.nchunk = want < 8 ? want : 8;
    if (j.nchunk > j.nkb) j.nchunk = j.nkb > 0 ? j.nkb : 1;
    j.dq_row = fk_attn_bwd_dq_row(f->D);
    j.lqp = fk_attn_bwd_lqp(f->Lq);
    j.scratch_floats = fk_attn_bwd_scratch(f->D, f->Dv);
    int nt = mlxc_num_threads();
    size_t ndqp = (size_t)j.nchunk * (size_t)(f->B * f->Hq * j.lqp * j.dq_row);
    size_t nscr = (size_t)j.scratch_floats * (size_t)nt;
    j.scratch = (float *)malloc(sizeof(float) * (nscr + 3 * (size_t)nrows));
    j.dqp = (float *)calloc(ndqp, sizeof(float));
    if (!j.scratch || !j.dqp) {
        free(j.scratch);
        free(j.dqp);
        return MLXC_ERR_NOMEM;
    }
    j.m = j.scratch + nscr;
    j.il = j.m + nrows;
    j.dd = j.il + nrows;
    mlxc_parallel_for(f->B * f->Hq * j.nqb, nt, stats_task, &j);
    if (a->dsinks && f->sinks) {
        /* the sink's probability p_s = exp(sink - m) / l takes -p_s * rowsum(dout * o) */
        for (int64_t bh = 0; bh < f->B * f->Hq; bh++) {
            float sink = f->sinks[bh % f->Hq], acc = 0.0f;
            for (int64_t i = bh * f->Lq; i < (bh + 1) * f->Lq; i++)
                acc -= expf(sink - j.m[i]) * j.il[i] * j.dd[i];
            a->dsinks[bh] = acc;
        }
    }
    mlxc_parallel_for(f->B * f->Hk * j.nchunk, nt, kv_task, &j);
    mlxc_parallel_for(f->B * f->Hq, nt, dq_task, &j);
    free(j.scratch);
    free(j.dqp);
    return MLXC_OK;
}
