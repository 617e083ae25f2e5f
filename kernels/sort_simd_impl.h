/* Sorting of int32 keys (sort_isa.h) for one SIMD level.  The level's file
 * defines, before including this:
 *   V, VW (lanes), LVW (log2 VW), TGT, FN (inlined, target), KFN, SFX(name)
 *   vld/vst (unaligned), vset1, vmin, vmax, vxor, vand, vsrai31,
 *   vld_fill(p, cnt, fill) (lanes >= cnt: fill) / vst_part(p, v, cnt) (0 < cnt < VW),
 *   vxperm(v, c) (lane i gets lane i ^ c; c = 1, 2, 3, 4, 7, ..., VW - 1),
 *   vcmpx(v, p, s) (lanes with bit s set: max(v, p), the others min(v, p)),
 *   vrev (lanes reversed), vtranspose(r) (VW registers as a VW x VW matrix),
 *   vtranspose4(r) (4 registers: a 4 x 4 transpose in each 128-bit lane),
 *   vspecial(x) -> bit i set when float lane i is a NaN or a zero,
 *   vpart(v, pivot, le, left, right_end) -> nl: the lanes
 *   < pivot (<= with le) to left[0, nl) (it may write up to left[VW)), the others
 *   to right_end[-(VW - nl), 0), vpart_exact (the same writing nothing else),
 *   vflags_acc / vflags_done: SK_* flags of float
 *   keys, and optionally SORT_SIMD_INIT (tables made once).
 *
 * Short rows: one bitonic network over the row padded with INT32_MAX to a power
 * of two registers, held in registers from load to store (fully unrolled per
 * size).  First every register is sorted: with VW or more registers, VW at a time
 * by sorting their columns (whole registers compared, no shuffles) and
 * transposing; with 4, columns of 4 and 4 x 4 transposes in 128-bit lanes, then
 * the in-register stages from block size 8; else in-register stages alone (block
 * size k's first step pairs lane i with i ^ (k - 1), the next ones i with i ^ j,
 * j = k/4 .. 1).  Then blocks of kv registers are merged: register p of the lower
 * half against the reverse of register kv-1-p (the upper half comes out reversed
 * as a whole, still bitonic), then registers jv apart, then the strides inside
 * each register.  Float rows holding a NaN or a zero (a vector test on the load)
 * get their exact flags; those needing the stable sort are left as they were.
 * Long rows: quicksort in place whose partition (vpart) moves each register's
 * two sides to the two ends at once; pieces of at most SORT_NET_MAX go through the
 * network.
 * Equal keys are equal bit patterns, so the result does not depend on the
 * algorithm, the level or the pivots. */

#define ALIGNED64 __attribute__((aligned(64)))
#define NET_REGS (SORT_NET_MAX / VW)

/* one in-register step: lane i against lane i ^ c, the lanes with bit s set
 * keep the larger */
FN V step_in(V v, int c, int s) { return vcmpx(v, vxperm(v, c), s); }
/* (the loops below count in log2: GCC fully unrolls loops whose trip count it
 * can compute, not ones stepping by k *= 2) */
/* the half steps j = VW/2 .. 1 */
FN V halves_in(V v)
{
#pragma GCC unroll 8
    for (int lj = LVW - 1; lj >= 0; lj--) v = step_in(v, 1 << lj, 1 << lj);
    return v;
}
/* one register sorted, its aligned groups of 2^(lk0 - 1) lanes already sorted */
FN V sort_in_from(V v, int lk0)
{
#pragma GCC unroll 8
    for (int lk = lk0; lk <= LVW; lk++) {
        v = step_in(v, (1 << lk) - 1, 1 << (lk - 1));
#pragma GCC unroll 8
        for (int lj = lk - 2; lj >= 0; lj--) v = step_in(v, 1 << lj, 1 << lj);
    }
    return v;
}

/* each lane sorted across registers q[0, 2^lq) (a bitonic network of whole
 * registers: no shuffles) */
FN void cols_sort(V *q, int lq)
{
    int nq = 1 << lq;
#pragma GCC unroll 8
    for (int lk = 1; lk <= lq; lk++) {
#pragma GCC unroll 32
        for (int p = 0; p < nq; p++) {
            int o = p ^ ((1 << lk) - 1);
            if (o < p) continue;
            V x = q[p], y = q[o];
            q[p] = vmin(x, y);
            q[o] = vmax(x, y);
        }
#pragma GCC unroll 8
        for (int lj = lk - 2; lj >= 0; lj--)
#pragma GCC unroll 32
            for (int p = 0; p < nq; p++) {
                if (p & (1 << lj)) continue;
                V x = q[p], y = q[p + (1 << lj)];
                q[p] = vmin(x, y);
                q[p + (1 << lj)] = vmax(x, y);
            }
    }
}

/* registers r[0, 2^lnr) sorted as one sequence (lnr a constant after inlining:
 * the loops unroll and r stays in registers) */
FN void net_regs(V *r, int lnr)
{
    int nr = 1 << lnr;
    if (lnr >= LVW) {
        /* VW registers at a time: their columns sorted (registers compared whole,
         * no shuffles), then transposed */
#pragma GCC unroll 4
        for (int g = 0; g < nr; g += VW) {
            cols_sort(r + g, LVW);
            vtranspose(r + g);
        }
    } else if (lnr == 2) {
        /* columns of 4 sorted, then 4 x 4 transposes in each 128-bit lane: each
         * register holds sorted groups of 4 lanes */
        cols_sort(r, 2);
        vtranspose4(r);
#pragma GCC unroll 4
        for (int p = 0; p < 4; p++) r[p] = sort_in_from(r[p], 3);
    } else {
#pragma GCC unroll 32
        for (int p = 0; p < nr; p++) r[p] = sort_in_from(r[p], 1);
    }
#pragma GCC unroll 8
    for (int lkv = 1; lkv <= lnr; lkv++) {
        int kv = 1 << lkv, m = kv / 2;
#pragma GCC unroll 32
        for (int b = 0; b < nr; b += kv) {
            V hi[NET_REGS / 2];
#pragma GCC unroll 32
            for (int j = 0; j < m; j++) {
                V x = r[b + j], y = vrev(r[b + kv - 1 - j]);
                r[b + j] = vmin(x, y);
                hi[j] = vmax(x, y);
            }
#pragma GCC unroll 32
            for (int j = 0; j < m; j++) r[b + m + j] = hi[j];
        }
#pragma GCC unroll 8
        for (int ljv = lkv - 2; ljv >= 0; ljv--)
#pragma GCC unroll 32
            for (int p = 0; p < nr; p++) {
                int jv = 1 << ljv;
                if (p & jv) continue;
                V x = r[p], y = r[p + jv];
                r[p] = vmin(x, y);
                r[p + jv] = vmax(x, y);
            }
#pragma GCC unroll 32
        for (int p = 0; p < nr; p++) r[p] = halves_in(r[p]);
    }
}

/* the key map (its own inverse): x ^ ((x >> 31) & a) ^ b */
static inline void kind_ab(int kind, int32_t *a, int32_t *b)
{
    *a = kind == SK_FLOAT ? 0x7fffffff : 0;
    *b = kind == SK_UINT ? (int32_t)0x80000000u : 0;
}
FN V vkey(V x, V a, V b) { return vxor(vxor(x, vand(vsrai31(x), a)), b); }
static inline int32_t skey(int32_t x, int32_t a, int32_t b) { return x ^ ((x >> 31) & a) ^ b; }

/* SK_* flags of float elements x[0, n) */
static int raw_flags(const int32_t *x, int64_t n)
{
    int f = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t u = x[i];
        f |= (u & 0x7fffffff) > 0x7f800000 ? SK_NAN : 0;
        f |= u == 0 ? SK_PZERO : u == INT32_MIN ? SK_NZERO : 0;
    }
    return f;
}

/* src[0, n) of kind sorted into dst by the network over nr = 2^lnr registers
 * (n <= nr VW); returns 1 with dst untouched when it needs the stable sort */
FN int net_row(int32_t *dst, const int32_t *src, int64_t n, int kind, int lnr)
{
    int nr = 1 << lnr;
    V r[NET_REGS];
    int32_t a, b;
    kind_ab(kind, &a, &b);
    V va = vset1(a), vb = vset1(b);
    unsigned sp = 0;                 /* lanes holding float NaNs or zeros */
#pragma GCC unroll 32
    for (int p = 0; p < nr; p++) {
        int64_t left = n - (int64_t)p * VW;
        V x;
        if (left >= VW) {
            x = vld(src + p * VW);
            sp |= vspecial(x);
        } else if (left > 0) {
            /* the fill maps to the key INT32_MAX */
            x = vld_fill(src + p * VW, (int)left, skey(INT32_MAX, a, b));
            sp |= vspecial(x) & ((1u << left) - 1);
        } else {
            r[p] = vset1(INT32_MAX);
            continue;
        }
        r[p] = vkey(x, va, vb);
    }
    if (kind == SK_FLOAT && sp && sk_needs_stable(raw_flags(src, n))) return 1;
    net_regs(r, lnr);
#pragma GCC unroll 32
    for (int p = 0; p < nr; p++) {
        int64_t left = n - (int64_t)p * VW;
        if (left >= VW) vst(dst + p * VW, vkey(r[p], va, vb));
        else if (left > 0) vst_part(dst + p * VW, vkey(r[p], va, vb), (int)left);
    }
    return 0;
}

/* src[0, n) (n <= SORT_NET_MAX) into dst by the network of the smallest fitting
 * size, each size compiled on its own */
KFN static int SFX(row)(int32_t *dst, const int32_t *src, int64_t n, int kind)
{
    if (n <= VW) return net_row(dst, src, n, kind, 0);
    if (n <= 2 * VW) return net_row(dst, src, n, kind, 1);
    if (n <= 4 * VW) return net_row(dst, src, n, kind, 2);
    if (n <= 8 * VW) return net_row(dst, src, n, kind, 3);
    if (NET_REGS >= 16 && n <= 16 * VW) return net_row(dst, src, n, kind, 4);
    if (NET_REGS >= 32 && n <= 32 * VW) return net_row(dst, src, n, kind, 5);
    return 1;
}

/* ------------------------------------------------------------ quicksort */
static void heap_sift(int32_t *a, int64_t i, int64_t n)
{
    int32_t v = a[i];
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && a[c + 1] > a[c]) c++;
        if (a[c] <= v) break;
        a[i] = a[c];
        i = c;
    }
    a[i] = v;
}
/* the depth limit's way out (inputs that defeat the sampled pivots) */
static void heap_sort(int32_t *a, int64_t n)
{
    for (int64_t i = n / 2; i-- > 0;) heap_sift(a, i, n);
    for (int64_t e = n - 1; e > 0; e--) {
        int32_t t = a[0];
        a[0] = a[e];
        a[e] = t;
        heap_sift(a, 0, e);
    }
}

/* the middle of 64 keys spread over the piece */
FN int32_t pivot_of(const int32_t *s, int64_t n)
{
    int32_t buf[64] ALIGNED64;
    int64_t step = n / 64;
    for (int i = 0; i < 64; i++) buf[i] = s[i * step + step / 2];
    SFX(row)(buf, buf, 64, SK_INT);
    return buf[32];
}

/* a[0, n) (n >= 2 PU VW) partitioned in place: the keys < pivot (<= with le) to
 * the front; returns how many.  PU registers at each end are held aside, so
 * each side always has room: the next PU registers are read from the side with
 * less free space, giving it at least PU VW, and the two sides' room adds up to
 * 2 PU VW.  (PU registers a side choice: the choice is a branch the predictor
 * cannot learn.) */
#define PU 4
FN int64_t partition(int32_t *a, int64_t n, int32_t pivot, int le)
{
    V pv = vset1(pivot), held[2 * PU];
    for (int u = 0; u < PU; u++) {
        held[u] = vld(a + u * VW);
        held[PU + u] = vld(a + n - (u + 1) * VW);
    }
    int64_t lr = PU * VW, rr = n - PU * VW, lw = 0, rw = n;    /* unread: [lr, rr) */
    while (rr - lr >= PU * VW) {
        const int32_t *src;
        if (lr - lw <= rw - rr) {
            src = a + lr;
            lr += PU * VW;
        } else {
            rr -= PU * VW;
            src = a + rr;
        }
        V v[PU];
        for (int u = 0; u < PU; u++) v[u] = vld(src + u * VW);
        for (int u = 0; u < PU; u++) {
            int nl = vpart(v[u], pv, le, a + lw, a + rw);
            lw += nl;
            rw -= VW - nl;
        }
    }
    /* the rest and the held registers: every write now lands in free space */
    int32_t rest[PU * VW] ALIGNED64;
    int64_t m = rr - lr, i = 0;
    memcpy(rest, a + lr, (size_t)m * 4);
    for (; i + VW <= m; i += VW) {
        int nl = vpart_exact(vld(rest + i), pv, le, a + lw, a + rw);
        lw += nl;
        rw -= VW - nl;
    }
    for (; i < m; i++) {
        int32_t x = rest[i];
        if (le ? x <= pivot : x < pivot) a[lw++] = x;
        else a[--rw] = x;
    }
    for (int u = 0; u < 2 * PU; u++) {
        int nl = vpart_exact(held[u], pv, le, a + lw, a + rw);
        lw += nl;
        rw -= VW - nl;
    }
    return lw;
}

/* a[0, n) sorted in place */
KFN static void SFX(qsort)(int32_t *a, int64_t n, int depth)
{
    while (n > SORT_NET_MAX) {
        if (depth-- == 0) {
            heap_sort(a, n);
            return;
        }
        int32_t pivot = pivot_of(a, n);
        int64_t nl = partition(a, n, pivot, 0);
        if (nl == 0) {
            /* the pivot is the least key: its copies are a finished piece */
            int64_t skip = partition(a, n, pivot, 1);
            a += skip;
            n -= skip;
            continue;
        }
        /* the smaller piece recursively, the larger one by the loop */
        if (nl < n - nl) {
            SFX(qsort)(a, nl, depth);
            a += nl;
            n -= nl;
        } else {
            SFX(qsort)(a + nl, n - nl, depth);
            n = nl;
        }
    }
    SFX(row)(a, a, n, SK_INT);
}

KFN static void SFX(keys)(int32_t *a, int32_t *tmp, int64_t n)
{
    int depth = 8;
    for (int64_t m = n; m > 1; m >>= 1) depth += 2;
    (void)tmp;
    SFX(qsort)(a, n, depth);
}

KFN static int SFX(to_keys)(int32_t *y, const int32_t *x, int64_t n, int kind)
{
    int32_t a, b;
    kind_ab(kind, &a, &b);
    V va = vset1(a), vb = vset1(b);
    int64_t i = 0;
    int f = 0;
    if (kind == SK_FLOAT) {
        V acc_nan = vset1(0), acc_nz = vset1(0), acc_pz = vset1(0);
        for (; i + VW <= n; i += VW) {
            V k = vkey(vld(x + i), va, vb);
            vflags_acc(k, &acc_nan, &acc_nz, &acc_pz);
            vst(y + i, k);
        }
        f = vflags_done(acc_nan, acc_nz, acc_pz);
        for (; i < n; i++) {
            int32_t k = skey(x[i], a, b);
            f |= k > 0x7f800000 || k < (int32_t)0x807fffffu ? SK_NAN : 0;
            f |= k == -1 ? SK_NZERO : k == 0 ? SK_PZERO : 0;
            y[i] = k;
        }
        return f;
    }
    for (; i + VW <= n; i += VW) vst(y + i, vkey(vld(x + i), va, vb));
    for (; i < n; i++) y[i] = skey(x[i], a, b);
    return 0;
}

KFN static void SFX(from_keys)(int32_t *d, const int32_t *s, int64_t n, int kind)
{
    int32_t a, b;
    kind_ab(kind, &a, &b);
    V va = vset1(a), vb = vset1(b);
    int64_t i = 0;
    for (; i + VW <= n; i += VW) vst(d + i, vkey(vld(s + i), va, vb));
    for (; i < n; i++) d[i] = skey(s[i], a, b);
}

static void SFX(init)(void)
{
#ifdef SORT_SIMD_INIT
    SORT_SIMD_INIT();
#endif
}

const struct sort_simd SFX(mlxc_sort_simd) = {SFX(init), SFX(keys), SFX(row), SFX(to_keys),
                                              SFX(from_keys)};
