/* One matrix of a batched LAPACK call, for the type T (X(name): the s/d routine,
 * F(name): this type's copy of a helper).  Included twice by batched.c. */

/* column-major copy (leading dim ld) of the m*n matrix at element offset off; returns 0
 * when an entry the routine reads (tri 0: all, 1: lower, 2: upper) is NaN or Inf.
 * Tiled, so that a row-major source (the usual case: a transposing copy) stays in cache;
 * the check is a second, contiguous pass over the copy. */
#define TILE 64
static int F(load)(T *dst, int64_t ld, const char *base, int64_t off, int64_t rs, int64_t cs,
                   int64_t m, int64_t n, int tri)
{
    const T *src = (const T *)base + off;
    for (int64_t ib = 0; ib < m; ib += TILE)
        for (int64_t jb = 0; jb < n; jb += TILE) {
            int64_t ie = ib + TILE < m ? ib + TILE : m, je = jb + TILE < n ? jb + TILE : n;
            for (int64_t i = ib; i < ie; i++) {
                const T *s = src + i * rs;
                T *d = dst + i;
                for (int64_t j = jb; j < je; j++) d[j * ld] = s[j * cs];
            }
        }
    int bad = 0;
    for (int64_t j = 0; j < n; j++) {
        int64_t lo = tri == 1 ? j : 0, hi = tri == 2 ? (j + 1 < m ? j + 1 : m) : m;
        const T *col = dst + j * ld;
        for (int64_t i = lo; i < hi; i++) bad |= !(col[i] - col[i] == 0);  /* NaN, +-Inf */
    }
    return !bad;
}

/* row-major m*n output from a column-major source; tri 1/2 keeps the lower/upper
 * triangle and writes zeros elsewhere */
static void F(store)(T *out, const T *src, int64_t ld, int64_t m, int64_t n, int tri)
{
    for (int64_t ib = 0; ib < m; ib += TILE)
        for (int64_t jb = 0; jb < n; jb += TILE) {
            int64_t ie = ib + TILE < m ? ib + TILE : m, je = jb + TILE < n ? jb + TILE : n;
            for (int64_t i = ib; i < ie; i++) {
                T *o = out + i * n;
                const T *s = src + i;
                for (int64_t j = jb; j < je; j++) o[j] = s[j * ld];
            }
        }
    if (tri == 0) return;
    for (int64_t i = 0; i < m; i++) {
        T *o = out + i * n;
        if (tri == 1) { for (int64_t j = i + 1; j < n; j++) o[j] = 0; }
        else { for (int64_t j = 0; j < i && j < n; j++) o[j] = 0; }
    }
}
#undef TILE

static void F(fill_nan)(T *out, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = (T)NAN;
}

/* LAPACK's optimal workspace size from a query's answer */
static lpint F(lwork)(T q) { return q < 1 ? 1 : (lpint)q + 1; }

static int F(one)(struct mlxc_lapack_args *g, int64_t t)
{
    const lpint m = (lpint)g->m, n = (lpint)g->n, k = (lpint)g->k;
    const lpint p = m < n ? m : n;
    /* leading dimension: a column stride of a multiple of 1 KiB maps a tile's columns to
       the same cache sets (the transposing copies thrash), so pad it */
    const lpint ld = m <= 1 ? 1 : (m >= 64 && (m * sizeof(T)) % 1024 == 0) ? m + 16 : m;
    const char *up = (g->flag & 1) ? "U" : "L";
    const int tri = (g->flag & 1) ? 2 : 1;
    lpint info = 0, lw = -1;
    T q = 0;
    int st = MLXC_OK;
    int64_t mn = (int64_t)m * n, wsz = (int64_t)ld * n;
    T *a = malloc(sizeof(T) * (wsz > 0 ? wsz : 1));
    if (!a) return MLXC_ERR_NOMEM;
    T *out0 = (T *)g->out[0], *out1 = (T *)g->out[1], *out2 = (T *)g->out[2];
    int ok;

    switch (g->op) {
    case MLXC_LP_CHOLESKY:
    case MLXC_LP_TRI_INV: {
        out0 += t * mn;
        ok = F(load)(a, ld, g->a, g->a_off[t], g->a_rs, g->a_cs, n, n, tri);
        if (!ok) { F(fill_nan)(out0, mn); break; }
        if (n == 0) break;
        if (g->op == MLXC_LP_CHOLESKY) SYM(X(potrf))(up, &n, a, &ld, &info, 1);
        else SYM(X(trtri))(up, "N", &n, a, &ld, &info, 1, 1);
        if (info != 0) { record_failure(g, t, info); F(fill_nan)(out0, mn); break; }
        F(store)(out0, a, ld, n, n, tri);
        break;
    }
    case MLXC_LP_SOLVE:
    case MLXC_LP_SOLVE_TRI: {
        int64_t nk = (int64_t)n * k;
        out0 += t * nk;
        T *b = malloc(sizeof(T) * ((int64_t)ld * k > 0 ? (int64_t)ld * k : 1));
        lpint *piv = malloc(sizeof(lpint) * (n > 0 ? n : 1));
        if (!b || !piv) { free(b); free(piv); st = MLXC_ERR_NOMEM; break; }
        ok = F(load)(a, ld, g->a, g->a_off[t], g->a_rs, g->a_cs, n, n,
                     g->op == MLXC_LP_SOLVE ? 0 : tri);
        F(load)(b, ld, g->b, g->b_off[t], g->b_rs, g->b_cs, n, k, 0);
        if (!ok) F(fill_nan)(out0, nk);
        else if (n > 0 && k > 0) {
            if (g->op == MLXC_LP_SOLVE) SYM(X(gesv))(&n, &k, a, &ld, piv, b, &ld, &info);
            else SYM(X(trtrs))(up, "N", "N", &n, &k, a, &ld, b, &ld, &info, 1, 1, 1);
            if (info != 0) { record_failure(g, t, info); F(fill_nan)(out0, nk); }
            else F(store)(out0, b, ld, n, k, 0);
        }
        free(b);
        free(piv);
        break;
    }
    case MLXC_LP_LU:
    case MLXC_LP_SLOGDET: {
        lpint *piv = malloc(sizeof(lpint) * (p > 0 ? p : 1));
        if (!piv) { st = MLXC_ERR_NOMEM; break; }
        ok = F(load)(a, ld, g->a, g->a_off[t], g->a_rs, g->a_cs, m, n, 0);
        if (ok && p > 0) SYM(X(getrf))(&m, &n, a, &ld, piv, &info);   /* info > 0: U singular, fine */
        if (g->op == MLXC_LP_LU) {
            uint32_t *pv = (uint32_t *)g->out[1] + t * p;
            for (lpint i = 0; i < p; i++) pv[i] = ok ? (uint32_t)(piv[i] - 1) : (uint32_t)i;
            if (g->flag & 1) {
                /* P with A = (L U)[P]: apply the row swaps to the identity, then invert */
                uint32_t *P = (uint32_t *)g->out[2] + t * m, *perm = malloc(sizeof(uint32_t) * (m + 1));
                if (!perm) { free(piv); st = MLXC_ERR_NOMEM; break; }
                for (lpint i = 0; i < m; i++) perm[i] = (uint32_t)i;
                for (lpint i = 0; i < p; i++) {
                    uint32_t j = pv[i], tmp = perm[i];
                    perm[i] = perm[j];
                    perm[j] = tmp;
                }
                for (lpint i = 0; i < m; i++) P[perm[i]] = (uint32_t)i;
                free(perm);
            }
            if (ok) F(store)(out0 + t * mn, a, ld, m, n, 0);
            else F(fill_nan)(out0 + t * mn, mn);
        } else {
            T sign = 1, logabs = 0;
            if (!ok) sign = logabs = (T)NAN;
            for (lpint i = 0; ok && i < n; i++) {
                T d = a[i + (int64_t)i * ld];
                if (piv[i] != i + 1) sign = -sign;
                if (d < 0) sign = -sign;
                if (d == 0) { sign = 0; logabs = -(T)INFINITY; break; }
                logabs += log(fabs((double)d));
            }
            out0[t] = sign;
            out1[t] = logabs;
        }
        free(piv);
        break;
    }
    case MLXC_LP_INV: {
        lpint *piv = malloc(sizeof(lpint) * (n > 0 ? n : 1));
        T *work = NULL;
        out0 += t * mn;
        if (!piv) { st = MLXC_ERR_NOMEM; break; }
        ok = F(load)(a, ld, g->a, g->a_off[t], g->a_rs, g->a_cs, n, n, 0);
        if (!ok) F(fill_nan)(out0, mn);
        else if (n > 0) {
            SYM(X(getrf))(&n, &n, a, &ld, piv, &info);
            if (info == 0) {
                SYM(X(getri))(&n, a, &ld, piv, &q, &lw, &info);
                lw = F(lwork)(q);
                work = malloc(sizeof(T) * lw);
                if (!work) { free(piv); st = MLXC_ERR_NOMEM; break; }
                SYM(X(getri))(&n, a, &ld, piv, work, &lw, &info);
            }
            if (info != 0) { record_failure(g, t, info); F(fill_nan)(out0, mn); }
            else F(store)(out0, a, ld, n, n, 0);
        }
        free(work);
        free(piv);
        break;
    }
    case MLXC_LP_QR: {
        T *tau = malloc(sizeof(T) * (p > 0 ? p : 1)), *work = NULL;
        if (!tau) { st = MLXC_ERR_NOMEM; break; }
        T *Q = out0 + t * (int64_t)m * p, *R = out1 + t * (int64_t)p * n;
        ok = F(load)(a, ld, g->a, g->a_off[t], g->a_rs, g->a_cs, m, n, 0);
        if (!ok) { F(fill_nan)(Q, (int64_t)m * p); F(fill_nan)(R, (int64_t)p * n); free(tau); break; }
        if (p == 0) { free(tau); break; }
        SYM(X(geqrf))(&m, &n, a, &ld, tau, &q, &lw, &info);
        lpint lw1 = F(lwork)(q);
        lw = -1;
        SYM(X(orgqr))(&m, &p, &p, a, &ld, tau, &q, &lw, &info);
        lw = F(lwork)(q) > lw1 ? F(lwork)(q) : lw1;
        work = malloc(sizeof(T) * lw);
        if (!work) { free(tau); st = MLXC_ERR_NOMEM; break; }
        SYM(X(geqrf))(&m, &n, a, &ld, tau, work, &lw, &info);
        F(store)(R, a, ld, p, n, 2);          /* R: the upper triangle of the first p rows */
        SYM(X(orgqr))(&m, &p, &p, a, &ld, tau, work, &lw, &info);
        F(store)(Q, a, ld, m, p, 0);
        free(work);
        free(tau);
        break;
    }
    case MLXC_LP_SVD: {
        const char *jobz = g->flag == 0 ? "N" : g->flag == 1 ? "A" : "S";
        lpint ucols = g->flag == 1 ? m : p, vrows = g->flag == 1 ? n : p;
        lpint ldu = g->flag ? ld : 1, ldvt = g->flag ? (vrows > 1 ? vrows : 1) : 1;
        T *S = (g->flag ? out1 : out0) + t * p;
        T *U = g->flag ? out0 + t * (int64_t)m * ucols : NULL;
        T *V = g->flag ? out2 + t * (int64_t)vrows * n : NULL;
        int64_t usz = g->flag ? (int64_t)ld * ucols : 1, vsz = g->flag ? (int64_t)vrows * n : 1;
        T *u = malloc(sizeof(T) * (usz > 0 ? usz : 1)), *vt = malloc(sizeof(T) * (vsz > 0 ? vsz : 1));
        lpint *iw = malloc(sizeof(lpint) * (8 * (int64_t)p + 1));
        T *work = NULL;
        if (!u || !vt || !iw) { st = MLXC_ERR_NOMEM; goto svd_done; }
        ok = F(load)(a, ld, g->a, g->a_off[t], g->a_rs, g->a_cs, m, n, 0);
        if (ok && m > 0 && n > 0) {
            SYM(X(gesdd))(jobz, &m, &n, a, &ld, S, u, &ldu, vt, &ldvt, &q, &lw, iw, &info, 1);
            lw = F(lwork)(q);
            work = malloc(sizeof(T) * lw);
            if (!work) { st = MLXC_ERR_NOMEM; goto svd_done; }
            SYM(X(gesdd))(jobz, &m, &n, a, &ld, S, u, &ldu, vt, &ldvt, work, &lw, iw, &info, 1);
            if (info != 0) { record_failure(g, t, info); ok = 0; }
        } else if (ok && g->flag) {
            /* an empty side: U or Vt is the identity of the other size */
            for (int64_t j = 0; j < ucols; j++)
                for (int64_t i = 0; i < m; i++) u[i + j * ldu] = i == j;
            for (int64_t i = 0; i < vsz; i++) vt[i] = (i % (vrows + 1)) == 0;
        }
        if (!ok) {
            F(fill_nan)(S, p);
            if (g->flag) { F(fill_nan)(U, (int64_t)m * ucols); F(fill_nan)(V, (int64_t)vrows * n); }
        } else if (g->flag) {
            F(store)(U, u, ldu, m, ucols, 0);
            F(store)(V, vt, ldvt, vrows, n, 0);
        }
    svd_done:
        free(work);
        free(u);
        free(vt);
        free(iw);
        break;
    }
    case MLXC_LP_EIGH: {
        const char *jobz = (g->flag & 2) ? "V" : "N";
        T *w = out0 + t * n;
        T *work = NULL;
        lpint *iw = NULL, liw = -1, iq = 0;
        ok = F(load)(a, ld, g->a, g->a_off[t], g->a_rs, g->a_cs, n, n, tri);
        if (ok && n > 0) {
            SYM(X(syevd))(jobz, up, &n, a, &ld, w, &q, &lw, &iq, &liw, &info, 1, 1);
            lw = F(lwork)(q);
            liw = iq > 1 ? iq : 1;
            work = malloc(sizeof(T) * lw);
            iw = malloc(sizeof(lpint) * liw);
            if (!work || !iw) { free(work); free(iw); st = MLXC_ERR_NOMEM; break; }
            SYM(X(syevd))(jobz, up, &n, a, &ld, w, work, &lw, iw, &liw, &info, 1, 1);
            if (info != 0) { record_failure(g, t, info); ok = 0; }
        }
        if (!ok) {
            F(fill_nan)(w, n);
            if (g->flag & 2) F(fill_nan)(out1 + t * mn, mn);
        } else if (g->flag & 2) {
            F(store)(out1 + t * mn, a, ld, n, n, 0);
        }
        free(work);
        free(iw);
        break;
    }
    case MLXC_LP_EIG: {
        /* outputs are complex64 (float pairs) whatever T is, as MLX */
        float *w = (float *)g->out[0] + 2 * t * n;
        float *V = (g->flag & 1) ? (float *)g->out[1] + 2 * t * mn : NULL;
        const char *jobvr = (g->flag & 1) ? "V" : "N";
        T *wr = malloc(sizeof(T) * (2 * (int64_t)n + 1)), *wi = wr + n;
        T *vr = malloc(sizeof(T) * (wsz > 0 ? wsz : 1)), *work = NULL, dummy = 0;
        lpint one = 1, ldv = (g->flag & 1) ? ld : 1;
        if (!wr || !vr) { free(wr); free(vr); st = MLXC_ERR_NOMEM; break; }
        ok = F(load)(a, ld, g->a, g->a_off[t], g->a_rs, g->a_cs, n, n, 0);
        if (ok && n > 0) {
            SYM(X(geev))("N", jobvr, &n, a, &ld, wr, wi, &dummy, &one, vr, &ldv, &q, &lw, &info, 1, 1);
            lw = F(lwork)(q);
            work = malloc(sizeof(T) * lw);
            if (!work) { free(wr); free(vr); st = MLXC_ERR_NOMEM; break; }
            SYM(X(geev))("N", jobvr, &n, a, &ld, wr, wi, &dummy, &one, vr, &ldv, work, &lw, &info, 1, 1);
            if (info != 0) { record_failure(g, t, info); ok = 0; }
        }
        for (lpint j = 0; j < n; j++) {
            w[2 * j] = ok ? (float)wr[j] : NAN;
            w[2 * j + 1] = ok ? (float)wi[j] : NAN;
        }
        if (V) {
            /* real eigenvector: column j; a conjugate pair j, j+1 (wi[j] > 0):
               v_j = vr[:, j] + i vr[:, j+1], v_{j+1} its conjugate */
            for (lpint j = 0; j < n; j++) {
                int pair = ok && wi[j] != 0 && j + 1 < n;
                for (lpint i = 0; i < n; i++) {
                    float re, im;
                    if (!ok) re = im = NAN;
                    else if (!pair) { re = (float)vr[i + (int64_t)j * ld]; im = 0; }
                    else {
                        re = (float)vr[i + (int64_t)j * ld];
                        im = (float)vr[i + (int64_t)(j + 1) * ld];
                    }
                    V[2 * ((int64_t)i * n + j)] = re;
                    V[2 * ((int64_t)i * n + j) + 1] = im;
                    if (pair) {
                        V[2 * ((int64_t)i * n + j + 1)] = re;
                        V[2 * ((int64_t)i * n + j + 1) + 1] = -im;
                    }
                }
                if (pair) j++;
            }
        }
        free(work);
        free(wr);
        free(vr);
        break;
    }
    default:
        st = MLXC_ERR_UNSUPPORTED;
    }
    free(a);
    return st;
}
