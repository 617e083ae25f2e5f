/* The per-SIMD-level mx.fast kernels (fast_impl.h, compiled by fast_scalar.c,
 * fast_avx2.c, fast_avx512.c) and the table the drivers (fast_norm.c, rope.c,
 * attention.c) pick them from.  Internal to kernels/. */
#ifndef MLXC_FAST_ISA_H
#define MLXC_FAST_ISA_H

#include <stdint.h>

/* attention tiles: FK_BQ queries x FK_BK keys */
#define FK_BQ 32
#define FK_BK 64

/* One attention task: up to FK_BQ query rows of one (batch, head) against that
 * head's keys and values.  Rows are contiguous float32. */
struct fk_attn {
    int64_t nq, q0;            /* rows in this task, index of its first row */
    int64_t Lk, D, Dv;
    const float *q, *k, *v;    /* q: nq x D; k: Lk x D; v: Lk x Dv */
    float *o;                  /* nq x Dv */
    float scale;
    int mask_kind;             /* MLXC_SDPA_MASK_* */
    int64_t causal_off;        /* Lk - Lq: query i sees keys j <= i + causal_off */
    const void *mask;          /* at (q0, 0) of this (batch, head); element strides: */
    int64_t m_sq, m_sk;
    int has_sink;
    float sink;
};

/* floats of scratch one attention task needs */
static inline int64_t fk_attn_scratch(int64_t D, int64_t Dv)
{
    int64_t dvp = (Dv + 15) / 16 * 16;
    return FK_BQ * D + D * FK_BK + FK_BK * dvp + FK_BQ * FK_BK + FK_BQ * dvp + 2 * FK_BQ + 64;
}

/* One attention-backward task (fast_impl.h): the stats pass takes query rows [i0, i0 + n)
 * of one head, the kv pass keys [i0, i0 + n) of one kv head against its group's G
 * query heads.  Rows are contiguous float32; a group's query heads are consecutive,
 * their q / o / dout rows and statistics one head (Lq rows) apart. */
struct fk_attn_bwd {
    int64_t Lq, Lk, D, Dv, G;
    int64_t i0, n;
    const float *q, *o, *dout; /* at row 0 of the (first) query head */
    const float *k, *v;        /* at key 0 of the kv head */
    float *m, *il, *dd;        /* per query row: the softmax max, 1 / its sum, and
                                  rowsum(dout * o); written by the stats pass */
    float *dqp;                /* kv pass: the partial dq (dS K, unscaled) of the task's
                                  chunk at row 0 of the first head; rows
                                  fk_attn_bwd_dq_row(D) floats, heads
                                  fk_attn_bwd_lqp(Lq) rows apart */
    float *ds;                 /* kv pass, optional: (G x) Lq x Lk score cotangents */
    float *dk, *dv;            /* kv pass: at key 0 of the kv head */
    float scale;
    int mask_kind;             /* as in fk_attn */
    int64_t causal_off;
    const void *mask;          /* at (batch, first head, 0, 0); element strides: */
    int64_t m_sh, m_sq, m_sk;
    int has_sink;              /* stats pass */
    float sink;
};

/* the partial dq's layout: rows of fk_attn_bwd_dq_row(D) floats (D rounded up to a
 * vector at every level), fk_attn_bwd_lqp(Lq) rows a head (Lq rounded up to the
 * register rows of every level) */
static inline int64_t fk_attn_bwd_dq_row(int64_t D) { return (D + 15) / 16 * 16; }
static inline int64_t fk_attn_bwd_lqp(int64_t Lq) { return (Lq + 3) / 4 * 4; }

/* floats of scratch one attention-backward task (either pass) needs */
static inline int64_t fk_attn_bwd_scratch(int64_t D, int64_t Dv)
{
    int64_t dp = (D + 15) / 16 * 16, dvp = (Dv + 15) / 16 * 16;
    return (FK_BQ + FK_BK) * (3 * dp + 2 * dvp) + 4 * FK_BQ * FK_BK + 3 * FK_BQ + 64;
}

struct fk_table {
    void (*rms_row)(float *y, const float *x, const float *w, int64_t n, float eps);
    void (*ln_row)(float *y, const float *x, const float *w, const float *b, int64_t n,
                   float eps);
    void (*sincos)(float *c, float *s, const float *theta, int64_t n);
    void (*rope_row)(float *y, const float *x, const float *c, const float *s, int64_t half,
                     int traditional);
    void (*attn)(const struct fk_attn *a, float *scratch);
    void (*attn_bwd_stats)(const struct fk_attn_bwd *a, float *scratch);
    void (*attn_bwd_kv)(const struct fk_attn_bwd *a, float *scratch);
};

/* the kernels of the SIMD level in force (mlxc_cpu_isa) */
const struct fk_table *mlxc_fk_table(void);

#define FK_DECL(sfx)                                                                \
    void mlxc_fk_rms_row_##sfx(float *, const float *, const float *, int64_t, float); \
    void mlxc_fk_ln_row_##sfx(float *, const float *, const float *, const float *,  \
                              int64_t, float);                                       \
    void mlxc_fk_sincos_##sfx(float *, float *, const float *, int64_t);             \
    void mlxc_fk_rope_row_##sfx(float *, const float *, const float *, const float *, \
                                int64_t, int);                                       \
    void mlxc_fk_attn_##sfx(const struct fk_attn *, float *);                      \
    void mlxc_fk_attn_bwd_stats_##sfx(const struct fk_attn_bwd *, float *);            \
    void mlxc_fk_attn_bwd_kv_##sfx(const struct fk_attn_bwd *, float *);
FK_DECL(scalar)
FK_DECL(avx2)
FK_DECL(avx512)

#endif
