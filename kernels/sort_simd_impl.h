/* Sorting of int32 keys (sort_isa.h) for one SIMD level.  The level's file
 * defines, before including this:
 *   V, VW (lanes), VMK (a lane mask), TGT, FN (inlined, target), KFN, SFX(name)
 *   vld/vst (unaligned), vset1, viota, vmin, vmax, vxor, vand, vsrai31, vpermx(v, idx),
 *   vbit(iota, s) -> VMK of the lanes with bit s set, vblend(m, a, b) (b where m),
 *   vrev (lanes reversed), vpart(v, pivot, le, left, right_end) -> nl: the lanes
 *   < pivot (<= with le) to left[0, nl) (it may write up to left[VW)), the others
 *   to right_end[-(VW - nl), 0), vpart_exact (the same writing nothing else),
 *   vflags_acc / vflags_done: SK_* flags of float
 *   keys, and optionally SORT_SIMD_INIT (tables made once).
 *
 * Short rows: one bitonic network over the row padded with INT32_MAX to a power
 * of two (at least VW).  In the network every comparator is ascending: block size
 * k's first step pairs i with i ^ (k - 1), the next ones i with i ^ j (j = k/4 ..
 * 1); strides below VW are lane permutations inside a register, larger ones pair
 * whole registers (the first step with one of them reversed).
 * Long rows: quicksort in place whose partition (vpart) moves each register's
 * two sides to the two ends at once; pieces of at most SORT_NET_MAX go through the
 * network.
 * Equal keys are equal bit patterns, so the result does not depend on the
 * algorithm, the level or the pivots. */

#define ALIGNED64 __attribute__((aligned(64)))

/* one in-register step: lane i against lane i ^ c, the lanes with bit s set
 * keep the larger */
FN V step_in(V v, int c, int s)
{
    V iota = viota();
    V p = vpermx(v, vxor(iota, vset1(c)));
    return vblend(vbit(iota, s), vmin(v, p), vmax(v, p));
}
/* the steps of block size k inside a register, from its flip on (k <= VW) */
FN V block_in(V v, int k)
{
    v = step_in(v, k - 1, k / 2);
    for (int j = k / 4; j >= 1; j /= 2) v = step_in(v, j, j);
    return v;
}
/* the half steps j = VW/2 .. 1 */
FN V halves_in(V v)
{
    for (int j = VW / 2; j >= 1; j /= 2) v = step_in(v, j, j);
    return v;
}

/* bitonic sort of buf[0, m), m a power of two >= VW (a constant after inlining) */
FN void bitonic(int32_t *buf, int m)
{
    int nv = m / VW;
    for (int p = 0; p < nv; p++) {
        V v = vld(buf + p * VW);
        for (int k = 2; k <= VW; k *= 2) v = block_in(v, k);
        vst(buf + p * VW, v);
    }
    for (int kv = 2; kv <= nv; kv *= 2) {             /* block of kv registers */
        for (int p = 0; p < nv; p++) {                /* the flip */
            int q = p ^ (kv - 1);
            if (q < p) continue;
            V a = vld(buf + p * VW), b = vrev(vld(buf + q * VW));
            vst(buf + p * VW, vmin(a, b));
            vst(buf + q * VW, vrev(vmax(a, b)));
        }
        for (int jv = kv / 4; jv >= 1; jv /= 2)
            for (int p = 0; p < nv; p++) {
                if (p & jv) continue;
                V a = vld(buf + p * VW), b = vld(buf + (p + jv) * VW);
                vst(buf + p * VW, vmin(a, b));
                vst(buf + (p + jv) * VW, vmax(a, b));
            }
        for (int p = 0; p < nv; p++) vst(buf + p * VW, halves_in(vld(buf + p * VW)));
    }
}
/* buf[0, m) with m the smallest power of two >= n and >= VW, each size compiled
 * on its own so its loops unroll */
FN void bitonic_any(int32_t *buf, int64_t n)
{
    if (n <= VW) bitonic(buf, VW);
    else if (n <= 2 * VW) bitonic(buf, 2 * VW);
    else if (n <= 4 * VW) bitonic(buf, 4 * VW);
    else if (n <= 8 * VW) bitonic(buf, 8 * VW);
    else if (n <= 16 * VW) bitonic(buf, 16 * VW);
    else if (n <= 32 * VW) bitonic(buf, 32 * VW);
    else bitonic(buf, 64 * VW);
}
#define NET_BUF (SORT_NET_MAX > 64 * VW ? 64 * VW : SORT_NET_MAX)

/* the key map (its own inverse): x ^ ((x >> 31) & a) ^ b */
static inline void kind_ab(int kind, int32_t *a, int32_t *b)
{
    *a = kind == SK_FLOAT ? 0x7fffffff : 0;
    *b = kind == SK_UINT ? (int32_t)0x80000000u : 0;
}
FN V vkey(V x, V a, V b) { return vxor(vxor(x, vand(vsrai31(x), a)), b); }
static inline int32_t skey(int32_t x, int32_t a, int32_t b) { return x ^ ((x >> 31) & a) ^ b; }

/* n <= NET_BUF elements src (mapped by a, b) into buf, padded to the network size */
FN void net_load(int32_t *buf, const int32_t *src, int64_t n, int32_t a, int32_t b)
{
    V va = vset1(a), vb = vset1(b);
    int64_t i = 0;
    for (; i + VW <= n; i += VW) vst(buf + i, vkey(vld(src + i), va, vb));
    for (; i < n; i++) buf[i] = skey(src[i], a, b);
    int64_t m = VW;
    while (m < n) m *= 2;
    V top = vset1(INT32_MAX);
    for (; i < m && (i & (VW - 1)); i++) buf[i] = INT32_MAX;
    for (; i < m; i += VW) vst(buf + i, top);
}
FN void net_store(int32_t *dst, const int32_t *buf, int64_t n, int32_t a, int32_t b)
{
    V va = vset1(a), vb = vset1(b);
    int64_t i = 0;
    for (; i + VW <= n; i += VW) vst(dst + i, vkey(vld(buf + i), va, vb));
    for (; i < n; i++) dst[i] = skey(buf[i], a, b);
}

/* SK_* flags of sorted float keys k[0, n): NaNs sit at the ends, zeros side by side */
static int sorted_flags(const int32_t *k, int64_t n)
{
    int f = n > 0 && (k[0] < (int32_t)0x807fffffu || k[n - 1] > 0x7f800000) ? SK_NAN : 0;
    int64_t lo = 0, hi = n;                  /* the first key >= 0 */
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (k[mid] < 0) lo = mid + 1;
        else hi = mid;
    }
    if (lo < n && k[lo] == 0) f |= SK_PZERO;
    if (lo > 0 && k[lo - 1] == -1) f |= SK_NZERO;
    return f;
}

KFN static int SFX(row)(int32_t *row, int64_t n, int kind)
{
    int32_t buf[NET_BUF] ALIGNED64, a, b;
    if (n > NET_BUF) return 1;
    kind_ab(kind, &a, &b);
    net_load(buf, row, n, a, b);
    bitonic_any(buf, n);
    if (kind == SK_FLOAT && sk_needs_stable(sorted_flags(buf, n))) return 1;
    net_store(row, buf, n, a, b);
    return 0;
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
    bitonic(buf, 64);
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
    while (n > NET_BUF) {
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
    int32_t buf[NET_BUF] ALIGNED64;
    net_load(buf, a, n, 0, 0);
    bitonic_any(buf, n);
    net_store(a, buf, n, 0, 0);
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
