/* The FFT engine, included by fft.c once per (precision, ISA) with
 *   T        float or double (the compute type)
 *   SFX(x)   x with a suffix naming the instantiation (x##_f32_avx2, ...)
 *   TGT      the target attribute of the ISA level (empty for the baseline)
 * The plans (fft_plan, built in fft.c) hold twiddles of type T.
 *
 * Data layout: complex values are split (re and im arrays).  A batch of B lines is
 * interleaved lane by lane: element j of lane b sits at j*B + b, so every Stockham pass
 * runs its inner loop over s*B contiguous values (s = product of the radices done),
 * which the compiler vectorizes; lanes never mix, so a line's result does not depend
 * on B or on the thread that computed it.  Inverse transforms swap re and im on the way
 * in and out (ifft(x) = swap(fft(swap(x)))), so every pass is a forward one. */

#define FN(x) SFX(x)
#define F static TGT

/* Stockham DIF pass of radix 2: y[u + sB(2q + j)] = (DFT_2 of x[u + sB(q + m k)])_j w^{jq} */
F void FN(pass2)(int64_t m, int64_t sB, const T *wr, const T *wi,
                 const T *restrict xr, const T *restrict xi, T *restrict yr, T *restrict yi)
{
    for (int64_t q = 0; q < m; q++) {
        const T w1r = wr[q], w1i = wi[q];
        const T *a0r = xr + sB * q, *a0i = xi + sB * q;
        const T *a1r = a0r + sB * m, *a1i = a0i + sB * m;
        T *b0r = yr + sB * 2 * q, *b0i = yi + sB * 2 * q, *b1r = b0r + sB, *b1i = b0i + sB;
#pragma GCC ivdep
        for (int64_t u = 0; u < sB; u++) {
            T dr = a0r[u] - a1r[u], di = a0i[u] - a1i[u];
            b0r[u] = a0r[u] + a1r[u];
            b0i[u] = a0i[u] + a1i[u];
            b1r[u] = dr * w1r - di * w1i;
            b1i[u] = dr * w1i + di * w1r;
        }
    }
}

F void FN(pass4)(int64_t m, int64_t sB, const T *wr, const T *wi,
                 const T *restrict xr, const T *restrict xi, T *restrict yr, T *restrict yi)
{
    for (int64_t q = 0; q < m; q++) {
        const T w1r = wr[q], w1i = wi[q], w2r = wr[m + q], w2i = wi[m + q];
        const T w3r = wr[2 * m + q], w3i = wi[2 * m + q];
        const int64_t o = sB * m;
        const T *a0r = xr + sB * q, *a0i = xi + sB * q;
        T *b0r = yr + sB * 4 * q, *b0i = yi + sB * 4 * q;
#pragma GCC ivdep
        for (int64_t u = 0; u < sB; u++) {
            T x0r = a0r[u], x0i = a0i[u], x1r = a0r[u + o], x1i = a0i[u + o];
            T x2r = a0r[u + 2 * o], x2i = a0i[u + 2 * o], x3r = a0r[u + 3 * o], x3i = a0i[u + 3 * o];
            T t0r = x0r + x2r, t0i = x0i + x2i, t1r = x0r - x2r, t1i = x0i - x2i;
            T t2r = x1r + x3r, t2i = x1i + x3i;
            /* t3 = -i (x1 - x3) */
            T t3r = x1i - x3i, t3i = x3r - x1r;
            T c1r = t1r + t3r, c1i = t1i + t3i, c2r = t0r - t2r, c2i = t0i - t2i;
            T c3r = t1r - t3r, c3i = t1i - t3i;
            b0r[u] = t0r + t2r;
            b0i[u] = t0i + t2i;
            b0r[u + sB] = c1r * w1r - c1i * w1i;
            b0i[u + sB] = c1r * w1i + c1i * w1r;
            b0r[u + 2 * sB] = c2r * w2r - c2i * w2i;
            b0i[u + 2 * sB] = c2r * w2i + c2i * w2r;
            b0r[u + 3 * sB] = c3r * w3r - c3i * w3i;
            b0i[u + 3 * sB] = c3r * w3i + c3i * w3r;
        }
    }
}

F void FN(pass3)(int64_t m, int64_t sB, const T *wr, const T *wi,
                 const T *restrict xr, const T *restrict xi, T *restrict yr, T *restrict yi)
{
    const T s3 = (T)0.86602540378443864676;   /* sin(2 pi / 3) */
    for (int64_t q = 0; q < m; q++) {
        const T w1r = wr[q], w1i = wi[q], w2r = wr[m + q], w2i = wi[m + q];
        const int64_t o = sB * m;
        const T *a0r = xr + sB * q, *a0i = xi + sB * q;
        T *b0r = yr + sB * 3 * q, *b0i = yi + sB * 3 * q;
#pragma GCC ivdep
        for (int64_t u = 0; u < sB; u++) {
            T x0r = a0r[u], x0i = a0i[u], x1r = a0r[u + o], x1i = a0i[u + o];
            T x2r = a0r[u + 2 * o], x2i = a0i[u + 2 * o];
            T pr = x1r + x2r, pi = x1i + x2i, dr = (x1r - x2r) * s3, di = (x1i - x2i) * s3;
            T er = x0r - (T)0.5 * pr, ei = x0i - (T)0.5 * pi;
            T c1r = er + di, c1i = ei - dr, c2r = er - di, c2i = ei + dr;
            b0r[u] = x0r + pr;
            b0i[u] = x0i + pi;
            b0r[u + sB] = c1r * w1r - c1i * w1i;
            b0i[u + sB] = c1r * w1i + c1i * w1r;
            b0r[u + 2 * sB] = c2r * w2r - c2i * w2i;
            b0i[u + 2 * sB] = c2r * w2i + c2i * w2r;
        }
    }
}

F void FN(pass5)(int64_t m, int64_t sB, const T *wr, const T *wi,
                 const T *restrict xr, const T *restrict xi, T *restrict yr, T *restrict yi)
{
    const T c1 = (T)0.30901699437494742410, c2 = (T)-0.80901699437494742410;  /* cos 2pi/5, 4pi/5 */
    const T s1 = (T)0.95105651629515357212, s2 = (T)0.58778525229247312917;   /* sin 2pi/5, 4pi/5 */
    for (int64_t q = 0; q < m; q++) {
        T w[4][2];
        for (int j = 0; j < 4; j++) { w[j][0] = wr[j * m + q]; w[j][1] = wi[j * m + q]; }
        const int64_t o = sB * m;
        const T *a0r = xr + sB * q, *a0i = xi + sB * q;
        T *b0r = yr + sB * 5 * q, *b0i = yi + sB * 5 * q;
#pragma GCC ivdep
        for (int64_t u = 0; u < sB; u++) {
            T x0r = a0r[u], x0i = a0i[u];
            T p1r = a0r[u + o] + a0r[u + 4 * o], p1i = a0i[u + o] + a0i[u + 4 * o];
            T m1r = a0r[u + o] - a0r[u + 4 * o], m1i = a0i[u + o] - a0i[u + 4 * o];
            T p2r = a0r[u + 2 * o] + a0r[u + 3 * o], p2i = a0i[u + 2 * o] + a0i[u + 3 * o];
            T m2r = a0r[u + 2 * o] - a0r[u + 3 * o], m2i = a0i[u + 2 * o] - a0i[u + 3 * o];
            T e1r = x0r + c1 * p1r + c2 * p2r, e1i = x0i + c1 * p1i + c2 * p2i;
            T e2r = x0r + c2 * p1r + c1 * p2r, e2i = x0i + c2 * p1i + c1 * p2i;
            T o1r = s1 * m1r + s2 * m2r, o1i = s1 * m1i + s2 * m2i;
            T o2r = s2 * m1r - s1 * m2r, o2i = s2 * m1i - s1 * m2i;
            /* X_j = E_j - i O_j, X_{5-j} = E_j + i O_j */
            T cr[4] = {e1r + o1i, e2r + o2i, e2r - o2i, e1r - o1i};
            T ci[4] = {e1i - o1r, e2i - o2r, e2i + o2r, e1i + o1r};
            b0r[u] = x0r + p1r + p2r;
            b0i[u] = x0i + p1i + p2i;
            for (int j = 0; j < 4; j++) {
                b0r[u + (j + 1) * sB] = cr[j] * w[j][0] - ci[j] * w[j][1];
                b0i[u + (j + 1) * sB] = cr[j] * w[j][1] + ci[j] * w[j][0];
            }
        }
    }
}

/* Any odd radix p (7, 11, 13, ... <= FFT_MAX_ODD): X_j = x_0 + sum_k c_jk (x_k + x_{p-k})
 * - i s_jk (x_k - x_{p-k}), k = 1..(p-1)/2, in chunks of the u loop so every inner
 * loop runs over contiguous values.  cs/sn: cos/sin(2 pi t / p), t < p. */
#define ODD_CHUNK 64
F void FN(pass_odd)(int p, int64_t m, int64_t sB, const T *wr, const T *wi,
                    const T *cs, const T *sn,
                    const T *restrict xr, const T *restrict xi, T *restrict yr, T *restrict yi)
{
    const int h = (p - 1) / 2;
    const int64_t o = sB * m;
    T er[ODD_CHUNK], ei[ODD_CHUNK], orr[ODD_CHUNK], oi[ODD_CHUNK];
    for (int64_t q = 0; q < m; q++) {
        for (int64_t u0 = 0; u0 < sB; u0 += ODD_CHUNK) {
            const int64_t nu = sB - u0 < ODD_CHUNK ? sB - u0 : ODD_CHUNK;
            const T *a0r = xr + sB * q + u0, *a0i = xi + sB * q + u0;
            T *b0r = yr + sB * p * q + u0, *b0i = yi + sB * p * q + u0;
            for (int64_t u = 0; u < nu; u++) { b0r[u] = a0r[u]; b0i[u] = a0i[u]; }
            for (int k = 1; k < p; k++) {
#pragma GCC ivdep
                for (int64_t u = 0; u < nu; u++) {
                    b0r[u] += a0r[u + k * o];
                    b0i[u] += a0i[u + k * o];
                }
            }
            for (int j = 1; j <= h; j++) {
                for (int64_t u = 0; u < nu; u++) { er[u] = a0r[u]; ei[u] = a0i[u]; orr[u] = 0; oi[u] = 0; }
                for (int k = 1; k <= h; k++) {
                    const T c = cs[(j * k) % p], s = sn[(j * k) % p];
                    const T *akr = a0r + k * o, *aki = a0i + k * o;
                    const T *anr = a0r + (p - k) * o, *ani = a0i + (p - k) * o;
#pragma GCC ivdep
                    for (int64_t u = 0; u < nu; u++) {
                        er[u] += c * (akr[u] + anr[u]);
                        ei[u] += c * (aki[u] + ani[u]);
                        orr[u] += s * (akr[u] - anr[u]);
                        oi[u] += s * (aki[u] - ani[u]);
                    }
                }
                const T vr = wr[(j - 1) * m + q], vi = wi[(j - 1) * m + q];
                const T zr = wr[(p - j - 1) * m + q], zi = wi[(p - j - 1) * m + q];
                T *bjr = b0r + j * sB, *bji = b0i + j * sB;
                T *bnr = b0r + (p - j) * sB, *bni = b0i + (p - j) * sB;
#pragma GCC ivdep
                for (int64_t u = 0; u < nu; u++) {
                    T c1r = er[u] + oi[u], c1i = ei[u] - orr[u];
                    T c2r = er[u] - oi[u], c2i = ei[u] + orr[u];
                    bjr[u] = c1r * vr - c1i * vi;
                    bji[u] = c1r * vi + c1i * vr;
                    bnr[u] = c2r * zr - c2i * zi;
                    bni[u] = c2r * zi + c2i * zr;
                }
            }
        }
    }
}

/* All passes of a Stockham plan over B lanes; x and y are ping-pong buffers of n*B
 * values each.  Returns 1 when the result ended in y, 0 when in x. */
F int FN(stockham)(const fft_plan *P, int64_t B, T *xr, T *xi, T *yr, T *yi)
{
    int64_t ncur = P->n, sB = B;
    int flip = 0;
    const T *twr = (const T *)P->twr, *twi = (const T *)P->twi;
    for (int st = 0; st < P->nstage; st++) {
        const int p = P->radix[st];
        const int64_t m = ncur / p;
        const T *wr = twr + P->twoff[st], *wi = twi + P->twoff[st];
        switch (p) {
        case 2: FN(pass2)(m, sB, wr, wi, xr, xi, yr, yi); break;
        case 3: FN(pass3)(m, sB, wr, wi, xr, xi, yr, yi); break;
        case 4: FN(pass4)(m, sB, wr, wi, xr, xi, yr, yi); break;
        case 5: FN(pass5)(m, sB, wr, wi, xr, xi, yr, yi); break;
        default:
            FN(pass_odd)(p, m, sB, wr, wi, (const T *)P->gc + P->goff[st],
                         (const T *)P->gs + P->goff[st], xr, xi, yr, yi);
        }
        T *t;
        t = xr; xr = yr; yr = t;
        t = xi; xi = yi; yi = t;
        flip ^= 1;
        ncur = m;
        sB *= p;
    }
    return flip;
}

F int FN(cline)(const fft_plan *P, T *xr, T *xi, T *outr, T *outi);

/* ---- four-step: n = n1 * n2, x[j1 n2 + j2]; column FFTs (length n1) over blocks of
 * FS_BLOCK columns, times w_n^{k1 j2}, written back in place; then row FFTs (length n2)
 * over blocks of FS_BLOCK rows, X[k1 + n1 k2] written as contiguous runs of the block. */
typedef struct {
    const fft_plan *P;
    T *ar, *ai, *xr, *xi;
    T *scr;
    int64_t per;
    const fft_args *A;   /* set: a C2C line read from / written to the user's arrays */
    int64_t line;
} FN(fs_job);

/* element idx of the job's user line as (re, im), swapped for an inverse transform */
#define FS_IN(J, idx, re, im)                                                         \
    do {                                                                              \
        const fft_args *A_ = (J)->A;                                                  \
        const int64_t p_ = A_->in_base + (idx) * A_->inner;                           \
        T a_, b_;                                                                     \
        if (A_->in_dt == MLXC_COMPLEX64) {                                            \
            a_ = (T)((const float *)A_->in)[2 * p_];                                  \
            b_ = (T)((const float *)A_->in)[2 * p_ + 1];                              \
        } else if (A_->in_dt == MLXC_FLOAT64) {                                       \
            a_ = (T)((const double *)A_->in)[p_]; b_ = 0;                             \
        } else {                                                                      \
            a_ = (T)((const float *)A_->in)[p_]; b_ = 0;                              \
        }                                                                             \
        if (A_->kind == MLXC_FFT_C2C_INV) { (re) = b_; (im) = a_; }                   \
        else { (re) = a_; (im) = b_; }                                                \
    } while (0)

F void FN(fs_cols)(void *ctx, int64_t t, int tid)
{
    FN(fs_job) *J = ctx;
    const fft_plan *P = J->P;
    const int64_t n1 = P->n1, n2 = P->n2, c0 = t * FS_BLOCK;
    const int64_t cb = n2 - c0 < FS_BLOCK ? n2 - c0 : FS_BLOCK;
    T *sr = J->scr + tid * J->per, *si = sr + n1 * cb, *tr = si + n1 * cb, *ti = tr + n1 * cb;
    T *ar = J->ar + c0, *ai = J->ai + c0;
    if (J->A && J->A->in_dt == MLXC_COMPLEX64 && J->A->inner == 1) {
        /* the common case: contiguous complex64, deinterleaved a row of the block at a time */
        const int inv = J->A->kind == MLXC_FFT_C2C_INV;
        const float *in = (const float *)J->A->in + 2 * (J->A->in_base + c0);
        T *dr = inv ? si : sr, *di = inv ? sr : si;
        for (int64_t j = 0; j < n1; j++) {
            const float *src = in + 2 * j * n2;
#pragma GCC ivdep
            for (int64_t b = 0; b < cb; b++) {
                dr[j * cb + b] = (T)src[2 * b];
                di[j * cb + b] = (T)src[2 * b + 1];
            }
        }
    } else if (J->A) {
        for (int64_t j = 0; j < n1; j++)
            for (int64_t b = 0; b < cb; b++)
                FS_IN(J, j * n2 + c0 + b, sr[j * cb + b], si[j * cb + b]);
    } else {
        for (int64_t j = 0; j < n1; j++)
            for (int64_t b = 0; b < cb; b++) {
                sr[j * cb + b] = ar[j * n2 + b];
                si[j * cb + b] = ai[j * n2 + b];
            }
    }
    if (FN(stockham)(P->p1, cb, sr, si, tr, ti)) { sr = tr; si = ti; }
    const T *fr = (const T *)P->fwr + c0, *fi = (const T *)P->fwi + c0;
    for (int64_t k = 0; k < n1; k++) {
#pragma GCC ivdep
        for (int64_t b = 0; b < cb; b++) {
            T rr = sr[k * cb + b], ri = si[k * cb + b], wr = fr[k * n2 + b], wi = fi[k * n2 + b];
            ar[k * n2 + b] = rr * wr - ri * wi;
            ai[k * n2 + b] = rr * wi + ri * wr;
        }
    }
}

F void FN(fs_rows)(void *ctx, int64_t t, int tid)
{
    FN(fs_job) *J = ctx;
    const fft_plan *P = J->P;
    const int64_t n1 = P->n1, n2 = P->n2, r0 = t * FS_BLOCK;
    const int64_t rb = n1 - r0 < FS_BLOCK ? n1 - r0 : FS_BLOCK;
    T *sr = J->scr + tid * J->per, *si = sr + n2 * rb, *tr = si + n2 * rb, *ti = tr + n2 * rb;
    /* a 16-row transpose in tiles of 8 columns: every cache line read is used at once */
    for (int64_t j0 = 0; j0 < n2; j0 += 8) {
        const int64_t je = j0 + 8 < n2 ? j0 + 8 : n2;
        for (int64_t b = 0; b < rb; b++) {
            const T *ar = J->ar + (r0 + b) * n2, *ai = J->ai + (r0 + b) * n2;
            for (int64_t j = j0; j < je; j++) {
                sr[j * rb + b] = ar[j];
                si[j * rb + b] = ai[j];
            }
        }
    }
    if (FN(stockham)(P->p2, rb, sr, si, tr, ti)) { sr = tr; si = ti; }
    if (J->A) {   /* straight to the user's complex64 output, scaled (swapped back) */
        const fft_args *A = J->A;
        const int inv = A->kind == MLXC_FFT_C2C_INV;
        const T sc = (T)A->scale;
        float *out = (float *)A->out;
        if (A->inner == 1) {
            const T *vr_ = inv ? si : sr, *vi_ = inv ? sr : si;
            for (int64_t k = 0; k < n2; k++) {
                float *dst = out + 2 * (A->out_base + k * n1 + r0);
#pragma GCC ivdep
                for (int64_t b = 0; b < rb; b++) {
                    dst[2 * b] = (float)(sc * vr_[k * rb + b]);
                    dst[2 * b + 1] = (float)(sc * vi_[k * rb + b]);
                }
            }
            return;
        }
        for (int64_t k = 0; k < n2; k++)
            for (int64_t b = 0; b < rb; b++) {
                const int64_t p = A->out_base + (k * n1 + r0 + b) * A->inner;
                T vr = sc * sr[k * rb + b], vi = sc * si[k * rb + b];
                out[2 * p] = (float)(inv ? vi : vr);
                out[2 * p + 1] = (float)(inv ? vr : vi);
            }
        return;
    }
    T *xr = J->xr + r0, *xi = J->xi + r0;
    for (int64_t k = 0; k < n2; k++)
        for (int64_t b = 0; b < rb; b++) {
            xr[k * n1 + b] = sr[k * rb + b];
            xi[k * n1 + b] = si[k * rb + b];
        }
}

/* A set: the line is read from and written to the user's arrays (A->in_base / out_base),
 * x is only the workspace between the two steps and out is unused */
F int FN(fourstep)(const fft_plan *P, T *xr, T *xi, T *outr, T *outi, const fft_args *A)
{
    const int64_t big = P->n1 > P->n2 ? P->n1 : P->n2;
    /* shorter lines run on one thread: waking the pool costs more than it saves */
    const int nt = P->n >= FFT_PAR_MIN ? mlxc_num_threads() : 1;
    FN(fs_job) J = {P, xr, xi, outr, outi, NULL, 4 * FS_BLOCK * big, A, 0};
    J.scr = malloc((size_t)nt * J.per * sizeof(T));
    if (!J.scr) return MLXC_ERR_NOMEM;
    mlxc_parallel_for((P->n2 + FS_BLOCK - 1) / FS_BLOCK, nt, FN(fs_cols), &J);
    mlxc_parallel_for((P->n1 + FS_BLOCK - 1) / FS_BLOCK, nt, FN(fs_rows), &J);
    free(J.scr);
    return MLXC_OK;
}

/* ---- Bluestein: X_k = h_k sum_j (x_j h_j) conj(h_{k-j}), h_t = exp(-pi i t^2 / n); the
 * convolution runs through the length-m plan (m >= 2n - 1), its kernel's transform
 * (scaled by 1/m) precomputed in the plan. */
F int FN(bluestein)(const fft_plan *P, T *xr, T *xi, T *outr, T *outi)
{
    const int64_t n = P->n, m = P->m;
    const T *hr = (const T *)P->hr, *hi = (const T *)P->hi;
    const T *bfr = (const T *)P->bfr, *bfi = (const T *)P->bfi;
    T *ar = malloc((size_t)4 * m * sizeof(T));
    if (!ar) return MLXC_ERR_NOMEM;
    T *ai = ar + m, *br = ai + m, *bi = br + m;
    for (int64_t j = 0; j < n; j++) {
        ar[j] = xr[j] * hr[j] - xi[j] * hi[j];
        ai[j] = xr[j] * hi[j] + xi[j] * hr[j];
    }
    for (int64_t j = n; j < m; j++) ar[j] = ai[j] = 0;
    int st = FN(cline)(P->pm, ar, ai, br, bi);
    if (st) { free(ar); return st; }
    /* product, stored swapped: the inverse transform is swap(fft(swap(.))) */
    for (int64_t k = 0; k < m; k++) {
        T pr = br[k] * bfr[k] - bi[k] * bfi[k], pi = br[k] * bfi[k] + bi[k] * bfr[k];
        ar[k] = pi;
        ai[k] = pr;
    }
    st = FN(cline)(P->pm, ar, ai, br, bi);
    if (st) { free(ar); return st; }
    for (int64_t k = 0; k < n; k++) {
        T cr = bi[k], ci = br[k];
        outr[k] = cr * hr[k] - ci * hi[k];
        outi[k] = cr * hi[k] + ci * hr[k];
    }
    free(ar);
    return MLXC_OK;
}

/* One complex line of P->n values: x is overwritten, the result lands in out. */
F int FN(cline)(const fft_plan *P, T *xr, T *xi, T *outr, T *outi)
{
    switch (P->mode) {
    case FFT_FOURSTEP: return FN(fourstep)(P, xr, xi, outr, outi, NULL);
    case FFT_BLUESTEIN: return FN(bluestein)(P, xr, xi, outr, outi);
    default:
        if (!FN(stockham)(P, 1, xr, xi, outr, outi)) {
            memcpy(outr, xr, (size_t)P->n * sizeof(T));
            memcpy(outi, xi, (size_t)P->n * sizeof(T));
        }
        return MLXC_OK;
    }
}

/* ---- lines in and out of the user's arrays ----
 * Line l of the call is (o, i) = (l / inner, l % inner): input element j at
 * o*in_len*inner + i + j*inner, output element k at o*out_len*inner + i + k*inner. */
#define RD(dt, p, idx, re, im)                                                  \
    do {                                                                        \
        if ((dt) == MLXC_COMPLEX64) {                                           \
            (re) = (T)((const float *)(p))[2 * (idx)];                          \
            (im) = (T)((const float *)(p))[2 * (idx) + 1];                      \
        } else if ((dt) == MLXC_FLOAT64) {                                      \
            (re) = (T)((const double *)(p))[idx]; (im) = 0;                     \
        } else {                                                                \
            (re) = (T)((const float *)(p))[idx]; (im) = 0;                      \
        }                                                                       \
    } while (0)

/* lanes l0 .. l0+B-1 into (xr, xi), element j of lane b at j*B + b */
F void FN(load)(const fft_args *A, int64_t l0, int64_t B, T *xr, T *xi)
{
    const int64_t inner = A->inner, nc = A->P->n;
    const int dt = A->in_dt;
    for (int64_t b = 0; b < B; b++) {
        const int64_t l = l0 + b;
        const int64_t base = (l / inner) * A->in_len * inner + l % inner;
        const char *in = (const char *)A->in;
        int64_t j;
        T re, im;
        switch (A->kind) {
        case MLXC_FFT_C2C: case MLXC_FFT_C2C_INV: {
            const int inv = A->kind == MLXC_FFT_C2C_INV;
            for (j = 0; j < nc; j++) {
                RD(dt, in, base + j * inner, re, im);
                xr[j * B + b] = inv ? im : re;
                xi[j * B + b] = inv ? re : im;
            }
            break;
        }
        case MLXC_FFT_R2C:
            if (A->R) {   /* even n: z_j = x_2j + i x_2j+1 */
                for (j = 0; j < nc; j++) {
                    RD(dt, in, base + 2 * j * inner, re, im);
                    xr[j * B + b] = re;
                    RD(dt, in, base + (2 * j + 1) * inner, re, im);
                    xi[j * B + b] = re;
                }
            } else {
                for (j = 0; j < nc; j++) {
                    RD(dt, in, base + j * inner, re, im);
                    xr[j * B + b] = re;
                    xi[j * B + b] = 0;
                }
            }
            break;
        default: /* C2R: the half spectrum X_0..X_{n/2}; the imaginary parts of X_0 (and
                  * X_{n/2} for even n) are ignored, as every real inverse FFT does */
            if (A->R) {
                /* Z'_k = (X_k + conj X_{h-k}) + i w^-k (X_k - conj X_{h-k}), inverse-transformed
                 * (so stored swapped) gives n x_2j + i n x_2j+1 */
                const T *rc = (const T *)A->R->rc, *rs = (const T *)A->R->rs;
                const int64_t h = nc;
                for (j = 0; j < h; j++) {
                    T ar_, ai_, cr_, ci_;
                    RD(dt, in, base + j * inner, ar_, ai_);
                    RD(dt, in, base + (h - j) * inner, cr_, ci_);
                    if (j == 0) { ai_ = 0; ci_ = 0; }
                    ci_ = -ci_;
                    T sr_ = ar_ + cr_, si_ = ai_ + ci_, dr_ = ar_ - cr_, di_ = ai_ - ci_;
                    T c = rc[j], s = rs[j];
                    T zr = sr_ - s * dr_ - c * di_, zi = si_ - s * di_ + c * dr_;
                    xr[j * B + b] = zi;
                    xi[j * B + b] = zr;
                }
            } else {
                const int64_t half = nc / 2;
                for (j = 0; j < nc; j++) {
                    const int64_t k = j <= half ? j : nc - j;
                    RD(dt, in, base + k * inner, re, im);
                    if (j == 0) im = 0;
                    if (j > half) im = -im;
                    xr[j * B + b] = im;
                    xi[j * B + b] = re;
                }
            }
        }
    }
}

/* result lanes (rr, ri) (element k of lane b at k*B + b) out to the user's array */
F void FN(store)(const fft_args *A, int64_t l0, int64_t B, const T *rr, const T *ri)
{
    const int64_t inner = A->inner, nc = A->P->n;
    const T sc = (T)A->scale;
    for (int64_t b = 0; b < B; b++) {
        const int64_t l = l0 + b;
        const int64_t base = (l / inner) * A->out_len * inner + l % inner;
        float *out = A->out;
        int64_t k;
        switch (A->kind) {
        case MLXC_FFT_C2C:
            for (k = 0; k < nc; k++) {
                out[2 * (base + k * inner)] = (float)(sc * rr[k * B + b]);
                out[2 * (base + k * inner) + 1] = (float)(sc * ri[k * B + b]);
            }
            break;
        case MLXC_FFT_C2C_INV:
            for (k = 0; k < nc; k++) {
                out[2 * (base + k * inner)] = (float)(sc * ri[k * B + b]);
                out[2 * (base + k * inner) + 1] = (float)(sc * rr[k * B + b]);
            }
            break;
        case MLXC_FFT_R2C:
            if (A->R) {
                /* X_k = E + w^k O, E = (Z_k + conj Z_{h-k}) / 2, O = -i (Z_k - conj Z_{h-k}) / 2 */
                const T *rc = (const T *)A->R->rc, *rs = (const T *)A->R->rs;
                const int64_t h = nc;
                for (k = 0; k <= h; k++) {
                    const int64_t k1 = k == h ? 0 : k, k2 = k == 0 ? 0 : h - k;
                    T zr = rr[k1 * B + b], zi = ri[k1 * B + b];
                    T yr = rr[k2 * B + b], yi = -ri[k2 * B + b];
                    T er = (T)0.5 * (zr + yr), ei = (T)0.5 * (zi + yi);
                    T orr = (T)0.5 * (zi - yi), oi = (T)-0.5 * (zr - yr);
                    T c = rc[k], s = rs[k];
                    out[2 * (base + k * inner)] = (float)(sc * (er + c * orr + s * oi));
                    out[2 * (base + k * inner) + 1] = (float)(sc * (ei + c * oi - s * orr));
                }
            } else {
                for (k = 0; k <= nc / 2; k++) {
                    out[2 * (base + k * inner)] = (float)(sc * rr[k * B + b]);
                    out[2 * (base + k * inner) + 1] = (float)(sc * ri[k * B + b]);
                }
            }
            break;
        default:   /* C2R: results are swapped (inverse) */
            if (A->R) {
                for (k = 0; k < nc; k++) {
                    out[base + 2 * k * inner] = (float)(sc * ri[k * B + b]);
                    out[base + (2 * k + 1) * inner] = (float)(sc * rr[k * B + b]);
                }
            } else {
                for (k = 0; k < nc; k++) out[base + k * inner] = (float)(sc * ri[k * B + b]);
            }
        }
    }
}

/* ---- the call: groups of B lines through a Stockham plan, or line by line through
 * the four-step / Bluestein plans (lines over the pool when there are several). */
typedef struct {
    const fft_args *A;
    int64_t B, L;
    T *scr;
    int64_t per;
    int status;
} FN(run_job);

F void FN(group_task)(void *ctx, int64_t g, int tid)
{
    FN(run_job) *J = ctx;
    const int64_t nc = J->A->P->n, l0 = g * J->B;
    const int64_t B = J->L - l0 < J->B ? J->L - l0 : J->B;
    T *xr = J->scr + tid * J->per, *xi = xr + nc * B, *yr = xi + nc * B, *yi = yr + nc * B;
    FN(load)(J->A, l0, B, xr, xi);
    if (FN(stockham)(J->A->P, B, xr, xi, yr, yi)) { xr = yr; xi = yi; }
    FN(store)(J->A, l0, B, xr, xi);
}

F void FN(line_task)(void *ctx, int64_t l, int tid)
{
    FN(run_job) *J = ctx;
    const int64_t nc = J->A->P->n;
    T *xr = J->scr + tid * J->per, *xi = xr + nc, *yr = xi + nc, *yi = yr + nc;
    const fft_args *A = J->A;
    if (A->P->mode == FFT_FOURSTEP && (A->kind == MLXC_FFT_C2C || A->kind == MLXC_FFT_C2C_INV)) {
        /* read and write the user's line inside the two steps: two passes fewer */
        fft_args a = *A;
        a.in_base = (l / A->inner) * A->in_len * A->inner + l % A->inner;
        a.out_base = (l / A->inner) * A->out_len * A->inner + l % A->inner;
        int st = FN(fourstep)(A->P, xr, xi, yr, yi, &a);
        if (st) J->status = st;
        return;
    }
    FN(load)(J->A, l, 1, xr, xi);
    int st = FN(cline)(J->A->P, xr, xi, yr, yi);
    if (st) { J->status = st; return; }
    FN(store)(J->A, l, 1, yr, yi);
}

F int FN(run)(const fft_args *A)
{
    const int64_t nc = A->P->n, L = A->outer * A->inner;
    const int nt = mlxc_num_threads();
    FN(run_job) J = {A, 1, L, NULL, 0, MLXC_OK};
    if (L == 0) return MLXC_OK;
    if (A->P->mode == FFT_STOCKHAM) {
        /* lanes per group: a group's four buffers stay within ~512 KB */
        int64_t B = FFT_LANE_BUDGET / (nc > 0 ? nc : 1);
        B = B < 1 ? 1 : B > FFT_MAX_LANES ? FFT_MAX_LANES : B;
        J.B = B < L ? B : L;
        J.per = 4 * nc * J.B;
        const int64_t groups = (L + J.B - 1) / J.B;
        const int use = L * nc < FFT_PAR_MIN ? 1 : groups < nt ? (int)groups : nt;
        J.scr = malloc((size_t)use * J.per * sizeof(T));
        if (!J.scr) return MLXC_ERR_NOMEM;
        mlxc_parallel_for(groups, use, FN(group_task), &J);
    } else {
        J.per = 4 * nc;
        /* one line: its passes go over the pool (when long enough) */
        const int use = L * nc < FFT_PAR_MIN ? 1 : L < nt ? (int)L : nt;
        J.scr = malloc((size_t)use * J.per * sizeof(T));
        if (!J.scr) return MLXC_ERR_NOMEM;
        if (use > 1) mlxc_parallel_for(L, use, FN(line_task), &J);
        else for (int64_t l = 0; l < L; l++) FN(line_task)(&J, l, 0);
    }
    free(J.scr);
    return J.status;
}

#undef RD
#undef FS_IN
#undef FN
#undef F
