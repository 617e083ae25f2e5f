/* mx.fast.scaled_dot_product_attention, float32: one task per (batch, query head,
 * block of FK_BQ queries); each runs the flash-attention tile kernel of fast_impl.h
 * against its key/value head with per-thread scratch.  Tasks write disjoint output
 * rows and each walks the keys in the same order, so results do not depend on the
 * thread count.  Memory beyond the inputs and output: the scratch, O(FK_BQ * (D + Dv)
 * + D * FK_BK) floats per thread. */
#include <stdlib.h>
#include "internal.h"
#include "fast_isa.h"
#include "mlxc_threads.h"

struct sdpa_job {
    const struct fk_table *fk;
    const struct mlxc_sdpa_args *a;
    int64_t nqb, scratch_floats;
    float *scratch;
};

static void sdpa_task(void *ctx, int64_t task, int tid)
{
    const struct sdpa_job *j = (const struct sdpa_job *)ctx;
    const struct mlxc_sdpa_args *a = j->a;
    int64_t qb = task % j->nqb, bh = task / j->nqb;
    int64_t h = bh % a->Hq, b = bh / a->Hq;
    int64_t hk = h / (a->Hq / a->Hk);
    struct fk_attn t;
    t.q0 = qb * FK_BQ;
    t.nq = a->Lq - t.q0 < FK_BQ ? a->Lq - t.q0 : FK_BQ;
    t.Lk = a->Lk;
    t.D = a->D;
    t.Dv = a->Dv;
    t.q = a->q + ((b * a->Hq + h) * a->Lq + t.q0) * a->D;
    t.k = a->k + (b * a->Hk + hk) * a->Lk * a->D;
    t.v = a->v + (b * a->Hk + hk) * a->Lk * a->Dv;
    t.o = a->out + ((b * a->Hq + h) * a->Lq + t.q0) * a->Dv;
    t.scale = a->scale;
    t.mask_kind = a->mask_kind;
    t.causal_off = a->Lk - a->Lq;
    t.mask = NULL;
    t.m_sq = a->m_sq;
    t.m_sk = a->m_sk;
    if (a->mask_kind == MLXC_SDPA_MASK_ADD || a->mask_kind == MLXC_SDPA_MASK_BOOL) {
        size_t z = a->mask_kind == MLXC_SDPA_MASK_ADD ? sizeof(float) : 1;
        t.mask = (const char *)a->mask + (size_t)(b * a->m_sb + h * a->m_sh + t.q0 * a->m_sq) * z;
    }
    t.has_sink = a->sinks != NULL;
    t.sink = a->sinks ? a->sinks[h] : 0.0f;
    j->fk->attn(&t, j->scratch + (size_t)tid * j->scratch_floats);
}

int mlxc_sdpa(const struct mlxc_sdpa_args *a)
{
    if (a->Hk <= 0 || a->Hq % a->Hk) return MLXC_ERR_UNSUPPORTED;
    if (a->B <= 0 || a->Hq <= 0 || a->Lq <= 0 || a->Dv <= 0) return MLXC_OK;
    struct sdpa_job j;
    j.fk = mlxc_fk_table();
    j.a = a;
    j.nqb = (a->Lq + FK_BQ - 1) / FK_BQ;
    j.scratch_floats = fk_attn_scratch(a->D, a->Dv);
    int nt = mlxc_num_threads();
    j.scratch = (float *)malloc(sizeof(float) * (size_t)j.scratch_floats * (size_t)nt);
    if (!j.scratch) return MLXC_ERR_NOMEM;
    mlxc_parallel_for(a->B * a->Hq * j.nqb, nt, sdpa_task, &j);
    free(j.scratch);
    return MLXC_OK;
}
