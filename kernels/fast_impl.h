/* The mx.fast row and tile kernels, written once over the vector operations of
 * simd_<isa>.h (or fast_scalar.c's one-lane stand-ins) and compiled per SIMD level
 * by fast_scalar.c, fast_avx2.c and fast_avx512.c.  The drivers (threading, dtype
 * conversion, layouts) are fast_norm.c, rope.c and attention.c; they reach these
 * through the table of fast_isa.h.
 *
 * Required besides the vector operations: vhsum / vhmax (horizontal, fixed order),
 * v_exp, v_sin, v_cos.  Every function reads and writes float32.  Reductions run in
 * a fixed order within a row (full vectors, then a scalar tail), so a row's result
 * does not depend on the thread that computes it.
 */
#include <float.h>
#include "fast_isa.h"
#include "mlxc_kernels.h"

/* sum of a[i] * b[i] (b == NULL: of a[i]^2) */
FN float fk_dot(const float *a, const float *b, int64_t n)
{
    VF s0 = vset(0.0f), s1 = vset(0.0f);
    int64_t i = 0;
    for (; i + 2 * VW <= n; i += 2 * VW) {
        VF x0 = vload(a + i), x1 = vload(a + i + VW);
        s0 = vfma(x0, b ? vload(b + i) : x0, s0);
        s1 = vfma(x1, b ? vload(b + i + VW) : x1, s1);
    }
    for (; i + VW <= n; i += VW) {
        VF x = vload(a + i);
        s0 = vfma(x, b ? vload(b + i) : x, s0);
    }
    float t = vhsum(vadd(s0, s1));
    for (; i < n; i++) t += a[i] * (b ? b[i] : a[i]);
    return t;
}

/* sum of (a[i] - c) ^ 2 */
FN float fk_sqdev(const float *a, float c, int64_t n)
{
    VF s0 = vset(0.0f), s1 = vset(0.0f), vc = vset(c);
    int64_t i = 0;
    for (; i + 2 * VW <= n; i += 2 * VW) {
        VF d0 = vsub(vload(a + i), vc), d1 = vsub(vload(a + i + VW), vc);
        s0 = vfma(d0, d0, s0);
        s1 = vfma(d1, d1, s1);
    }
    for (; i + VW <= n; i += VW) {
        VF d = vsub(vload(a + i), vc);
        s0 = vfma(d, d, s0);
    }
    float t = vhsum(vadd(s0, s1));
    for (; i < n; i++) t += (a[i] - c) * (a[i] - c);
    return t;
}

FN float fk_sum(const float *a, int64_t n)
{
    VF s0 = vset(0.0f), s1 = vset(0.0f);
    int64_t i = 0;
    for (; i + 2 * VW <= n; i += 2 * VW) {
        s0 = vadd(s0, vload(a + i));
        s1 = vadd(s1, vload(a + i + VW));
    }
    for (; i + VW <= n; i += VW) s0 = vadd(s0, vload(a + i));
    float t = vhsum(vadd(s0, s1));
    for (; i < n; i++) t += a[i];
    return t;
}

/* y = (x - c) * r * w + b, w and b optional */
FN void fk_affine(float *y, const float *x, float c, float r, const float *w, const float *b,
                  int64_t n)
{
    VF vc = vset(c), vr = vset(r);
    int64_t i = 0;
    for (; i + VW <= n; i += VW) {
        VF v = vmul(vsub(vload(x + i), vc), vr);
        if (w) v = vmul(v, vload(w + i));
        if (b) v = vadd(v, vload(b + i));
        vstore(y + i, v);
    }
    for (; i < n; i++) {
        float v = (x[i] - c) * r;
        if (w) v *= w[i];
        if (b) v += b[i];
        y[i] = v;
    }
}

/* ------------------------------------------------------------------ norms */
/* y = x * rsqrt(mean(x^2) + eps) * w */
KFN void SFX(mlxc_fk_rms_row)(float *y, const float *x, const float *w, int64_t n, float eps)
{
    float r = 1.0f / sqrtf(fk_dot(x, NULL, n) / (float)n + eps);
    fk_affine(y, x, 0.0f, r, w, NULL, n);
}

/* y = (x - mean) * rsqrt(var + eps) * w + b; the variance is taken around the mean
 * (a second pass over a row in cache: no cancellation) */
KFN void SFX(mlxc_fk_ln_row)(float *y, const float *x, const float *w, const float *b,
                             int64_t n, float eps)
{
    float mu = fk_sum(x, n) / (float)n;
    float r = 1.0f / sqrtf(fk_sqdev(x, mu, n) / (float)n + eps);
    fk_affine(y, x, mu, r, w, b, n);
}

/* ------------------------------------------------------------------- rope */
KFN void SFX(mlxc_fk_sincos)(float *c, float *s, const float *th, int64_t n)
{
    int64_t i = 0;
    for (; i + VW <= n; i += VW) {
        VF x = vload(th + i);
        vstore(c + i, v_cos(x));
        vstore(s + i, v_sin(x));
    }
    for (; i < n; i++) {
        c[i] = (float)cos((double)th[i]);
        s[i] = (float)sin((double)th[i]);
    }
    /* the vector polynomials are accurate up to |x| = 65536; beyond, libm in double */
    for (i = 0; i < n; i++)
        if (!(fabsf(th[i]) <= 65536.0f)) {
            c[i] = (float)cos((double)th[i]);
            s[i] = (float)sin((double)th[i]);
        }
}

/* rotate the first 2 * half features of a row: pairs (j, j + half), or (2j, 2j + 1)
 * when traditional, by the angles whose cos / sin are c[j] / s[j] */
KFN void SFX(mlxc_fk_rope_row)(float *y, const float *x, const float *c, const float *s,
                               int64_t half, int traditional)
{
    if (traditional) {
        for (int64_t j = 0; j < half; j++) {
            float a = x[2 * j], b = x[2 * j + 1];
            y[2 * j] = a * c[j] - b * s[j];
            y[2 * j + 1] = a * s[j] + b * c[j];
        }
        return;
    }
    int64_t j = 0;
    for (; j + VW <= half; j += VW) {
        VF a = vload(x + j), b = vload(x + half + j), vc = vload(c + j), vs = vload(s + j);
        vstore(y + j, vsub(vmul(a, vc), vmul(b, vs)));
        vstore(y + half + j, vadd(vmul(a, vs), vmul(b, vc)));
    }
    for (; j < half; j++) {
        float a = x[j], b = x[half + j];
        y[j] = a * c[j] - b * s[j];
        y[half + j] = a * s[j] + b * c[j];
    }
}

/* -------------------------------------------------------------- attention */
/* Flash attention over key blocks of FK_BK with an online softmax: a block of
 * scores S = Q K^T is computed, masked, exponentiated against the running row
 * maximum, and accumulated into O with P V; O and the row sums are rescaled when the
 * maximum grows.  Nothing of size Lq x Lk exists. */
#if VW >= 16
#define FK_MR 4
#elif VW >= 8
#define FK_MR 2
#else
#define FK_MR 1
#endif
#define FK_NS (FK_BK / VW)     /* vectors per score row */
#define FK_NO (VW >= 8 ? 4 : 8) /* vectors of an output chunk */

/* S[r][0:BK] = sum_{d < D} Qp[r][d] Kt[d][0:BK] for r < rows (a multiple of FK_MR);
 * Qp rows lda apart */
FN void fk_qk(float *S, const float *Qp, int64_t lda, const float *Kt, int64_t D, int64_t rows)
{
    for (int64_t r0 = 0; r0 < rows; r0 += FK_MR) {
        VF acc[FK_MR][FK_NS];
        for (int i = 0; i < FK_MR; i++)
            for (int j = 0; j < FK_NS; j++) acc[i][j] = vset(0.0f);
        for (int64_t d = 0; d < D; d++) {
            const float *kt = Kt + d * FK_BK;
            VF kv[FK_NS];
            for (int j = 0; j < FK_NS; j++) kv[j] = vload(kt + j * VW);
            for (int i = 0; i < FK_MR; i++) {
                VF qv = vset(Qp[(r0 + i) * lda + d]);
                for (int j = 0; j < FK_NS; j++) acc[i][j] = vfma(qv, kv[j], acc[i][j]);
            }
        }
        for (int i = 0; i < FK_MR; i++)
            for (int j = 0; j < FK_NS; j++) vstore(S + (r0 + i) * FK_BK + j * VW, acc[i][j]);
    }
}

/* O[r][0:Dvp] += sum_{j < kn} P[r][j] V[j][0:Dvp] for r < rows (a multiple of FK_MR);
 * O and V rows Dvp and ldv apart; P[r][j] at P + r * pr + j * pc (pc = 1, pr = its row
 * length; or, to read P transposed, pr = 1 and pc the row length) */
FN void fk_pv(float *O, int64_t Dvp, const float *P, int64_t pr, int64_t pc, const float *V,
              int64_t ldv, int64_t kn, int64_t rows)
{
    for (int64_t r0 = 0; r0 < rows; r0 += FK_MR) {
        int64_t c = 0;
        for (; c + FK_NO * VW <= Dvp; c += FK_NO * VW) {
            VF acc[FK_MR][FK_NO];
            for (int i = 0; i < FK_MR; i++)
                for (int t = 0; t < FK_NO; t++) acc[i][t] = vload(O + (r0 + i) * Dvp + c + t * VW);
            for (int64_t j = 0; j < kn; j++) {
                VF vv[FK_NO];
                for (int t = 0; t < FK_NO; t++) vv[t] = vload(V + j * ldv + c + t * VW);
                for (int i = 0; i < FK_MR; i++) {
                    VF p = vset(P[(r0 + i) * pr + j * pc]);
                    for (int t = 0; t < FK_NO; t++) acc[i][t] = vfma(p, vv[t], acc[i][t]);
                }
            }
            for (int i = 0; i < FK_MR; i++)
                for (int t = 0; t < FK_NO; t++) vstore(O + (r0 + i) * Dvp + c + t * VW, acc[i][t]);
        }
        for (; c < Dvp; c += VW) {
            VF acc[FK_MR];
            for (int i = 0; i < FK_MR; i++) acc[i] = vload(O + (r0 + i) * Dvp + c);
            for (int64_t j = 0; j < kn; j++) {
                VF vv = vload(V + j * ldv + c);
                for (int i = 0; i < FK_MR; i++)
                    acc[i] = vfma(vset(P[(r0 + i) * pr + j * pc]), vv, acc[i]);
            }
            for (int i = 0; i < FK_MR; i++) vstore(O + (r0 + i) * Dvp + c, acc[i]);
        }
    }
}

/* the one-row case of fk_pv (decoding) */
FN void fk_pv1(float *O, int64_t Dvp, const float *P, const float *V, int64_t ldv, int64_t kn)
{
    int64_t c = 0;
    for (; c + FK_NO * VW <= Dvp; c += FK_NO * VW) {
        VF acc[FK_NO];
        for (int t = 0; t < FK_NO; t++) acc[t] = vload(O + c + t * VW);
        for (int64_t j = 0; j < kn; j++) {
            VF p = vset(P[j]);
            for (int t = 0; t < FK_NO; t++) acc[t] = vfma(p, vload(V + j * ldv + c + t * VW), acc[t]);
        }
        for (int t = 0; t < FK_NO; t++) vstore(O + c + t * VW, acc[t]);
    }
    for (; c < Dvp; c += VW) {
        VF acc = vload(O + c);
        for (int64_t j = 0; j < kn; j++) acc = vfma(vset(P[j]), vload(V + j * ldv + c), acc);
        vstore(O + c, acc);
    }
}

/* Xt[d][0:FK_BK] = X[0:kn][d] for d < n, zero from column kn on: a block of kn rows of
 * n floats, transposed */
FN void fk_block_t(float *Xt, const float *X, int64_t n, int64_t kn)
{
    for (int64_t d = 0; d < n; d++) {
        float *xt = Xt + d * FK_BK;
        for (int64_t j = 0; j < kn; j++) xt[j] = X[j * n + d];
        for (int64_t j = kn; j < FK_BK; j++) xt[j] = 0.0f;
    }
}

/* The mask of row r of a block: `mask` advanced by off elements (float for an
 * additive mask, uint8 for a boolean one); NULL for the other kinds. */
FN const void *fk_mask_at(int kind, const void *mask, int64_t off)
{
    if (kind == MLXC_SDPA_MASK_ADD) return (const float *)mask + off;
    if (kind == MLXC_SDPA_MASK_BOOL) return (const uint8_t *)mask + off;
    return NULL;
}

/* The score row s[0:FK_BK] of query qi against keys [k0, k0 + kn): causal- or
 * boolean-masked entries become `fill`, an additive mask is added when `add`, the
 * columns from kn on become -inf.  mrow: the row's mask at key 0 (fk_mask_at), NULL
 * for a padding row (a boolean / additive mask is then not read). */
FN void fk_mask_row(float *s, int kind, int64_t qi, int64_t causal_off, const void *mrow,
                    int64_t m_sk, int64_t k0, int64_t kn, float fill, int add)
{
    if (kind == MLXC_SDPA_MASK_CAUSAL) {
        for (int64_t j = qi + causal_off + 1 - k0 < 0 ? 0 : qi + causal_off + 1 - k0; j < kn; j++)
            s[j] = fill;
    } else if (kind == MLXC_SDPA_MASK_BOOL && mrow) {
        const uint8_t *mk = (const uint8_t *)mrow + k0 * m_sk;
        for (int64_t j = 0; j < kn; j++)
            if (!mk[j * m_sk]) s[j] = fill;
    } else if (kind == MLXC_SDPA_MASK_ADD && mrow && add) {
        const float *mk = (const float *)mrow + k0 * m_sk;
        for (int64_t j = 0; j < kn; j++) s[j] += mk[j * m_sk];
    }
    for (int64_t j = kn; j < FK_BK; j++) s[j] = -INFINITY;
}

/* One key block of a row's online softmax: s[0:FK_BK] (masked) becomes exp(s - the new
 * running max m), 0 from column kn on; the row sum l is updated.  Returns the factor
 * earlier sums were rescaled by. */
FN float fk_online_row(float *s, int64_t kn, float *m, float *l)
{
    VF mx = vload(s);
    for (int j = 1; j < FK_NS; j++) mx = vmax(mx, vload(s + j * VW));
    float bmax = vhmax(mx);
    float mnew = *m > bmax ? *m : bmax;
    float corr = expf(*m - mnew);
    VF vm = vset(mnew), sum = vset(0.0f);
    for (int j = 0; j < FK_NS; j++) vstore(s + j * VW, v_exp(vsub(vload(s + j * VW), vm)));
    for (int64_t j = kn; j < FK_BK; j++) s[j] = 0.0f;
    for (int j = 0; j < FK_NS; j++) sum = vadd(sum, vload(s + j * VW));
    *l = *l * corr + vhsum(sum);
    *m = mnew;
    return corr;
}

KFN void SFX(mlxc_fk_attn)(const struct fk_attn *a, float *scratch)
{
    const int64_t D = a->D, Dv = a->Dv, Lk = a->Lk, nq = a->nq;
    const int64_t Dvp = (Dv + VW - 1) / VW * VW;
    const int64_t rows = (nq + FK_MR - 1) / FK_MR * FK_MR;
    /* 64-byte aligned pieces of the scratch */
    float *Qp = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    float *Kt = Qp + FK_BQ * D;
    float *Vp = Kt + D * FK_BK;
    float *S = Vp + FK_BK * Dvp;
    float *O = S + FK_BQ * FK_BK;
    float *m = O + FK_BQ * Dvp;
    float *l = m + FK_BQ;

    for (int64_t r = 0; r < rows; r++)
        for (int64_t d = 0; d < D; d++) Qp[r * D + d] = r < nq ? a->q[r * D + d] * a->scale : 0.0f;
    for (int64_t r = 0; r < rows; r++) {
        m[r] = a->has_sink ? a->sink : -INFINITY;
        l[r] = a->has_sink ? 1.0f : 0.0f;
        for (int64_t c = 0; c < Dvp; c++) O[r * Dvp + c] = 0.0f;
    }
    /* causal: keys past the last row's diagonal are masked for every row (skipped),
     * unless some row sees no key at all (Lq > Lk): those rows average every key,
     * as a row of equal (masked) scores does */
    int64_t kend = Lk;
    if (a->mask_kind == MLXC_SDPA_MASK_CAUSAL && a->q0 + a->causal_off >= 0) {
        int64_t last = a->q0 + nq - 1 + a->causal_off + 1;
        kend = last < Lk ? last : Lk;
    }
    const int direct_v = Dv == Dvp;
    if (!direct_v)
        for (int64_t i = 0; i < FK_BK * Dvp; i++) Vp[i] = 0.0f;

    for (int64_t k0 = 0; k0 < kend; k0 += FK_BK) {
        const int64_t kn = kend - k0 < FK_BK ? kend - k0 : FK_BK;
        const float *kb = a->k + k0 * D;
        if (nq == 1) {
            /* one query (decoding): dot products, no transposed copy of the keys */
            for (int64_t j = 0; j < kn; j++) S[j] = fk_dot(Qp, kb + j * D, D);
        } else {
            fk_block_t(Kt, kb, D, kn);
            fk_qk(S, Qp, D, Kt, D, rows);
        }
        const float *V = a->v + k0 * Dv;
        if (!direct_v) {
            for (int64_t j = 0; j < kn; j++)
                for (int64_t c = 0; c < Dv; c++) Vp[j * Dvp + c] = V[j * Dv + c];
            V = Vp;
        }
        const int64_t prow = nq == 1 ? 1 : rows;
        for (int64_t r = 0; r < prow; r++) {
            float *s = S + r * FK_BK;
            fk_mask_row(s, a->mask_kind, a->q0 + r, a->causal_off,
                        r < nq ? fk_mask_at(a->mask_kind, a->mask, r * a->m_sq) : NULL,
                        a->m_sk, k0, kn, -FLT_MAX, 1);
            float corr = fk_online_row(s, kn, &m[r], &l[r]);
            if (corr != 1.0f) {
                VF vc = vset(corr);
                for (int64_t c = 0; c < Dvp; c += VW) vstore(O + r * Dvp + c, vmul(vload(O + r * Dvp + c), vc));
            }
        }
        if (nq == 1) fk_pv1(O, Dvp, S, V, direct_v ? Dv : Dvp, kn);
        else fk_pv(O, Dvp, S, FK_BK, 1, V, direct_v ? Dv : Dvp, kn, rows);
    }
    for (int64_t r = 0; r < nq; r++) {
        /* no keys at all (Lk = 0, no sink): zeros, as MLX gives */
        float inv = l[r] == 0.0f ? 0.0f : 1.0f / l[r];
        for (int64_t c = 0; c < Dv; c++) a->o[r * Dv + c] = O[r * Dvp + c] * inv;
    }
}

/* ------------------------------------------------------ attention backward */
/* FlashAttention-2's backward without float atomics or thread-dependent order:
 *   stats pass, per block of queries: the softmax statistics m, l over all keys (a
 *     sweep of scores only, as the forward does) and Dd = rowsum(dO o);
 *   kv pass, per block of keys: for each query head of its group and block of queries,
 *     P = exp(S - m) / l, dP = dO V^T, dS = P (dP - Dd); dV += P^T dO, dK += dS^T Q
 *     (owned by the task), and dQ += dS K into the partial dQ of the task's chunk of
 *     key blocks (a fixed split; the driver sums the chunks in order).
 * Entries a causal / boolean mask hides are constants: their dS is 0. */

/* rows [0, nr) of a block: X[r][0:n] * mul, rows ld apart, zero in the columns up to
 * ldx and in the rows up to rows (padding) */
FN void fk_rows_in(float *X, int64_t ldx, const float *src, int64_t n, int64_t nr,
                   int64_t rows, float mul)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < ldx; c++)
            X[r * ldx + c] = r < nr && c < n ? src[r * n + c] * mul : 0.0f;
}

/* row s[0:FK_BK] = exp(s - m) * il, the probabilities */
FN void fk_probs_row(float *s, float m, float il)
{
    VF vm = vset(m), vi = vset(il);
    for (int j = 0; j < FK_NS; j++)
        vstore(s + j * VW, vmul(v_exp(vsub(vload(s + j * VW), vm)), vi));
}

/* row dp[0:FK_BK] = p * (dp - dd), the score cotangents */
FN void fk_dscore_row(float *dp, const float *p, float dd)
{
    VF vd = vset(dd);
    for (int j = 0; j < FK_NS; j++)
        vstore(dp + j * VW, vmul(vload(p + j * VW), vsub(vload(dp + j * VW), vd)));
}

KFN void SFX(mlxc_fk_attn_bwd_stats)(const struct fk_attn_bwd *a, float *scratch)
{
    const int64_t D = a->D, Dv = a->Dv, Lk = a->Lk, nq = a->n, q0 = a->i0;
    const int64_t rows = (nq + FK_MR - 1) / FK_MR * FK_MR;
    float *Qp = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    float *Kt = Qp + FK_BQ * D;
    float *S = Kt + D * FK_BK;
    float *m = S + FK_BQ * FK_BK;
    float *l = m + FK_BQ;

    fk_rows_in(Qp, D, a->q + q0 * D, D, nq, rows, a->scale);
    for (int64_t r = 0; r < rows; r++) {
        m[r] = a->has_sink ? a->sink : -INFINITY;
        l[r] = a->has_sink ? 1.0f : 0.0f;
    }
    /* the keys the forward visits (see mlxc_fk_attn) */
    int64_t kend = Lk;
    if (a->mask_kind == MLXC_SDPA_MASK_CAUSAL && q0 + a->causal_off >= 0) {
        int64_t last = q0 + nq - 1 + a->causal_off + 1;
        kend = last < Lk ? last : Lk;
    }
    for (int64_t k0 = 0; k0 < kend; k0 += FK_BK) {
        const int64_t kn = kend - k0 < FK_BK ? kend - k0 : FK_BK;
        fk_block_t(Kt, a->k + k0 * D, D, kn);
        fk_qk(S, Qp, D, Kt, D, rows);
        for (int64_t r = 0; r < nq; r++) {
            fk_mask_row(S + r * FK_BK, a->mask_kind, q0 + r, a->causal_off,
                        fk_mask_at(a->mask_kind, a->mask, (q0 + r) * a->m_sq), a->m_sk, k0,
                        kn, -FLT_MAX, 1);
            fk_online_row(S + r * FK_BK, kn, &m[r], &l[r]);
        }
    }
    for (int64_t r = 0; r < nq; r++) {
        a->m[q0 + r] = m[r];
        a->il[q0 + r] = l[r] == 0.0f ? 0.0f : 1.0f / l[r];
        a->dd[q0 + r] = fk_dot(a->dout + (q0 + r) * Dv, a->o + (q0 + r) * Dv, Dv);
    }
}

KFN void SFX(mlxc_fk_attn_bwd_kv)(const struct fk_attn_bwd *a, float *scratch)
{
    const int64_t D = a->D, Dv = a->Dv, Lq = a->Lq, Lk = a->Lk, kn = a->n, k0 = a->i0;
    const int64_t Dp = fk_attn_bwd_dq_row(D), Dvp = (Dv + VW - 1) / VW * VW;
    const int64_t Lqp = fk_attn_bwd_lqp(Lq);
    float *Kt = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    float *Vt = Kt + D * FK_BK;
    float *Kp = Vt + Dv * FK_BK;
    float *dK = Kp + FK_BK * Dp;
    float *dV = dK + FK_BK * Dp;
    float *Qp = dV + FK_BK * Dvp;
    float *dO = Qp + FK_BQ * Dp;
    float *S = dO + FK_BQ * Dvp;
    float *dP = S + FK_BQ * FK_BK;

    /* the scale goes on the keys' transposed copy (S = Q (scale K)^T), so whole blocks of
     * q and dout are read in place; dK = scale dS^T Q and dQ = scale dS K take it later */
    const float *kb = a->k + k0 * D;
    fk_block_t(Kt, kb, D, kn);
    for (int64_t i = 0; i < D * FK_BK; i++) Kt[i] *= a->scale;
    fk_block_t(Vt, a->v + k0 * Dv, Dv, kn);
    const float *K = kb;
    if (D != Dp) {
        for (int64_t j = 0; j < kn; j++)
            for (int64_t c = 0; c < Dp; c++) Kp[j * Dp + c] = c < D ? kb[j * D + c] : 0.0f;
        K = Kp;
    }
    for (int64_t i = 0; i < FK_BK * Dp; i++) dK[i] = 0.0f;
    for (int64_t i = 0; i < FK_BK * Dvp; i++) dV[i] = 0.0f;
    for (int64_t g = 0; g < a->G; g++) {
        const float *q = a->q + g * Lq * D, *dout = a->dout + g * Lq * Dv;
        const float *m = a->m + g * Lq, *il = a->il + g * Lq, *dd = a->dd + g * Lq;
        float *dqp = a->dqp + g * Lqp * Dp;
        float *ds = a->ds ? a->ds + g * Lq * Lk : NULL;
        const void *mask = fk_mask_at(a->mask_kind, a->mask, g * a->m_sh);
        for (int64_t q0 = 0; q0 < Lq; q0 += FK_BQ) {
            const int64_t nq = Lq - q0 < FK_BQ ? Lq - q0 : FK_BQ;
            const int64_t rows = (nq + FK_MR - 1) / FK_MR * FK_MR;
            /* causal: every row sees some key but none of this block (P = 0) */
            if (a->mask_kind == MLXC_SDPA_MASK_CAUSAL && q0 + a->causal_off >= 0 &&
                q0 + nq - 1 + a->causal_off < k0)
                continue;
            const float *Q = q + q0 * D, *dOb = dout + q0 * Dv;
            int64_t ldq = D, ldo = Dv;
            if (D != Dp || rows != nq) {
                fk_rows_in(Qp, Dp, Q, D, nq, rows, 1.0f);
                Q = Qp;
                ldq = Dp;
            }
            if (Dv != Dvp || rows != nq) {
                fk_rows_in(dO, Dvp, dOb, Dv, nq, rows, 1.0f);
                dOb = dO;
                ldo = Dvp;
            }
            fk_qk(S, Q, ldq, Kt, D, rows);
            fk_qk(dP, dOb, ldo, Vt, Dv, rows);
            for (int64_t r = 0; r < rows; r++) {
                float *s = S + r * FK_BK, *dp = dP + r * FK_BK;
                const int64_t qi = q0 + r;
                if (r >= nq) {          /* padding rows: nothing flows into dq's rows */
                    for (int64_t j = 0; j < FK_BK; j++) dp[j] = 0.0f;
                    continue;
                }
                const void *mrow = fk_mask_at(a->mask_kind, mask, qi * a->m_sq);
                fk_mask_row(s, a->mask_kind, qi, a->causal_off, mrow, a->m_sk, k0, kn,
                            -FLT_MAX, 1);
                fk_probs_row(s, m[qi], il[qi]);
                fk_dscore_row(dp, s, dd[qi]);
                fk_mask_row(dp, a->mask_kind, qi, a->causal_off, mrow, a->m_sk, k0, kn,
                            0.0f, 0);
                for (int64_t j = kn; j < FK_BK; j++) dp[j] = 0.0f;
                if (ds)
                    for (int64_t j = 0; j < kn; j++) ds[qi * Lk + k0 + j] = dp[j];
            }
            /* dV += P^T dO, dK += dS^T Q (P and dS read transposed), dQ += dS K */
            fk_pv(dV, Dvp, S, 1, FK_BK, dOb, ldo, nq, FK_BK);
            fk_pv(dK, Dp, dP, 1, FK_BK, Q, ldq, nq, FK_BK);
            fk_pv(dqp + q0 * Dp, Dp, dP, FK_BK, 1, K, D != Dp ? Dp : D, kn, rows);
        }
    }
    for (int64_t j = 0; j < kn; j++) {
        for (int64_t c = 0; c < D; c++) a->dk[(k0 + j) * D + c] = dK[j * Dp + c] * a->scale;
        for (int64_t c = 0; c < Dv; c++) a->dv[(k0 + j) * Dv + c] = dV[j * Dvp + c];
    }
}
