/* mlxc_sort / mlxc_argsort: stable LSD radix sort on order-preserving unsigned
 * keys, one 8-bit digit per pass.
 *
 * Keys: unsigned ints are their own key; signed ints flip the sign bit; floats
 * flip the sign bit of positives and every bit of negatives, with -0 given the
 * key of +0 and every NaN the top key, so -0 == +0 and NaNs sort last, equal.
 * The elements themselves are moved (only the key is derived), so -0 keeps its
 * sign and NaN its payload.  A stable sort has exactly one result, so this
 * equals any other stable sort bit for bit, whatever the thread count.
 *
 * One histogram pass counts every digit at once; a digit that is the same for
 * all elements costs no pass.  sort moves the elements between the row and a
 * scratch row.  argsort moves (key, index) pairs -- key << 32 | index in a
 * uint64 for keys of up to 32 bits -- made on the fly by the first pass from
 * the input, and its last pass writes only the indices to the output.
 *
 * Short rows (RADIX_MIN) are merge sorted as pairs, whose comparison is then a
 * plain integer one.
 *
 * Threads: many rows are spread over the pool, a chunk of rows per task.  A
 * long row (with fewer rows than threads) gets one pass by its top varying
 * digit (MSD) into up to 256 buckets, which are then LSD sorted on their own,
 * spread over the threads (big buckets one after another with all threads).
 * A pass over all threads splits its input into contiguous blocks: block
 * histograms, offsets from a prefix sum over (bucket, block) in that order,
 * and a scatter in which each block fills its own ranges. */
#define _GNU_SOURCE            /* madvise */
#include "internal.h"
#include "mlxc_cpu.h"
#include "mlxc_threads.h"
#include "mlxc_cpu.h"
#include "sort_isa.h"
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define SORT_RUN 16          /* insertion-sorted runs of the merge sort */
/* shorter rows are merge sorted: a radix pass costs its 256 buckets whatever the
 * row length (measured crossover: ~100 elements for 4-byte keys, ~200 for 8) */
#define RADIX_MIN(kb) (24 * (kb) + 32)
#define PAR_ROW_MIN 65536    /* a row this long is sorted by all threads together */
#define PAR_TOTAL_MIN 32768  /* less work than this in all: one thread */
#define NB 256               /* buckets per digit */
#define MAXKB 8              /* key bytes at most */

/* ------------------------------------------------------------------- keys */
#include "sortkey.h"

/* key bytes, and the argsort pair kind: pk (packed uint64) or p64 (struct) */
#define KB_b 1
#define KB_u8 1
#define KB_i8 1
#define KB_u16 2
#define KB_i16 2
#define KB_f16 2
#define KB_bf16 2
#define KB_u32 4
#define KB_i32 4
#define KB_f32 4
#define KB_u64 8
#define KB_i64 8
#define KB_f64 8
#define PC_b pk
#define PC_u8 pk
#define PC_i8 pk
#define PC_u16 pk
#define PC_i16 pk
#define PC_f16 pk
#define PC_bf16 pk
#define PC_u32 pk
#define PC_i32 pk
#define PC_f32 pk
#define PC_u64 p64
#define PC_i64 p64
#define PC_f64 p64

/* ------------------------------------------------------------------ pairs */
typedef uint64_t pair_pk;                       /* key << 32 | index */
typedef struct { uint64_t k, i; } pair_p64;
static inline pair_pk mk_pk(uint64_t k, int64_t i) { return k << 32 | (uint64_t)i; }
static inline pair_p64 mk_p64(uint64_t k, int64_t i) { pair_p64 e = {k, (uint64_t)i}; return e; }
static inline uint64_t pkey_pk(pair_pk e) { return e >> 32; }
static inline uint64_t pkey_p64(pair_p64 e) { return e.k; }
static inline uint32_t pidx_pk(pair_pk e) { return (uint32_t)e; }
static inline uint32_t pidx_p64(pair_p64 e) { return (uint32_t)e.i; }
/* (key, index) order: a total order, so any sort of pairs is the stable one */
static inline int pless_pk(pair_pk a, pair_pk b) { return a < b; }
static inline int pless_p64(pair_p64 a, pair_p64 b) { return a.k < b.k || (a.k == b.k && a.i < b.i); }

/* ------------------------------------------------------ radix building blocks
 * One signature for all (the passes go through function pointers):
 *   hist(s, lo, m, sh, h): counts of elements s[lo, lo+m) -- every digit into
 *       h[p * NB + digit] when sh < 0, else the digit at shift sh into h[0..NB)
 *   scat(s, d, lo, m, sh, off): s[lo, lo+m) to d[off[digit]++], in order */
typedef void (*hist_fn)(const void *s, int64_t lo, int64_t m, int sh, int64_t *h);
typedef void (*scat_fn)(const void *s, void *d, int64_t lo, int64_t m, int sh, int64_t *off);

/* GEN_RADIX(name, E, KEY, KB): hist_name and scat_name for elements E */
#define GEN_RADIX(name, E, KEY, KB)                                                 \
static void hist_##name(const void *vs, int64_t lo, int64_t m, int sh, int64_t *h) \
{                                                                                   \
    const E *s = (const E *)vs + lo;                                                \
    if (sh < 0) {                                                                   \
        memset(h, 0, sizeof(int64_t) * KB * NB);                                    \
        for (int64_t i = 0; i < m; i++) {                                           \
            uint64_t k = KEY(s[i]);                                                 \
            for (int p = 0; p < KB; p++) h[p * NB + ((k >> (8 * p)) & (NB - 1))]++; \
        }                                                                           \
    } else {                                                                        \
        memset(h, 0, sizeof(int64_t) * NB);                                         \
        for (int64_t i = 0; i < m; i++) h[((uint64_t)KEY(s[i]) >> sh) & (NB - 1)]++; \
    }                                                                               \
}                                                                                   \
static void scat_##name(const void *vs, void *vd, int64_t lo, int64_t m, int sh, int64_t *off) \
{                                                                                   \
    const E *s = (const E *)vs + lo;                                                \
    E *d = vd;                                                                      \
    for (int64_t i = 0; i < m; i++) {                                               \
        E e = s[i];                                                                 \
        d[off[((uint64_t)KEY(e) >> sh) & (NB - 1)]++] = e;                          \
    }                                                                               \
}
#define GEN_RADIX_VAL(N, u) GEN_RADIX(v_##N, STY_##N, key_##N, KB_##N)
TL_REAL(GEN_RADIX_VAL, 0)
/* pairs: only the one-digit histogram is used (the first pass reads values) */
GEN_RADIX(pk, pair_pk, pkey_pk, 4)
GEN_RADIX(p64, pair_p64, pkey_p64, 8)

/* argsort passes: the first makes pairs from the values (index lo + i), the
 * last keeps only the indices, and a lone pass goes from values to indices */
#define GEN_ARG_FIRST(N, u)                                                         \
static void first_##N(const void *vs, void *vd, int64_t lo, int64_t m, int sh, int64_t *off) \
{                                                                                   \
    const STY_##N *s = vs;                                                          \
    MLXC_CAT(pair_, PC_##N) *d = vd;                                                \
    for (int64_t i = lo; i < lo + m; i++) {                                         \
        uint64_t k = key_##N(s[i]);                                                 \
        d[off[(k >> sh) & (NB - 1)]++] = MLXC_CAT(mk_, PC_##N)(k, i);               \
    }                                                                               \
}                                                                                   \
static void only_##N(const void *vs, void *vd, int64_t lo, int64_t m, int sh, int64_t *off) \
{                                                                                   \
    const STY_##N *s = vs;                                                          \
    uint32_t *d = vd;                                                               \
    for (int64_t i = lo; i < lo + m; i++)                                           \
        d[off[((uint64_t)key_##N(s[i]) >> sh) & (NB - 1)]++] = (uint32_t)i;         \
}
TL_REAL(GEN_ARG_FIRST, 0)
#define GEN_ARG_LAST(P)                                                             \
static void last_##P(const void *vs, void *vd, int64_t lo, int64_t m, int sh, int64_t *off) \
{                                                                                   \
    const pair_##P *s = (const pair_##P *)vs + lo;                                  \
    uint32_t *d = vd;                                                               \
    for (int64_t i = 0; i < m; i++)                                                 \
        d[off[(pkey_##P(s[i]) >> sh) & (NB - 1)]++] = pidx_##P(s[i]);              \
}
GEN_ARG_LAST(pk)
GEN_ARG_LAST(p64)

/* ------------------------------------------------------------- short rows */
/* pairs of row[0, n) into e; merge sort them (tmp: n more); the sorted pairs
 * are returned (e or tmp) */
typedef void (*build_fn)(const void *row, void *e, int64_t n);
typedef void *(*psort_fn)(void *e, void *tmp, int64_t n);
#define GEN_BUILD(N, u)                                                             \
static void build_##N(const void *row, void *ve, int64_t n)                         \
{                                                                                   \
    const STY_##N *s = row;                                                         \
    MLXC_CAT(pair_, PC_##N) *e = ve;                                                \
    for (int64_t i = 0; i < n; i++) e[i] = MLXC_CAT(mk_, PC_##N)(key_##N(s[i]), i); \
}
TL_REAL(GEN_BUILD, 0)

#define GEN_MSORT(P)                                                                \
static void ins_##P(pair_##P *a, int64_t n)                                         \
{                                                                                   \
    for (int64_t i = 1; i < n; i++) {                                               \
        pair_##P v = a[i];                                                          \
        int64_t j = i;                                                              \
        while (j > 0 && pless_##P(v, a[j - 1])) { a[j] = a[j - 1]; j--; }           \
        a[j] = v;                                                                   \
    }                                                                               \
}                                                                                   \
static void *msort_##P(void *va, void *vt, int64_t n)                               \
{                                                                                   \
    pair_##P *src = va, *dst = vt;                                                  \
    for (int64_t lo = 0; lo < n; lo += SORT_RUN)                                    \
        ins_##P(src + lo, n - lo < SORT_RUN ? n - lo : SORT_RUN);                   \
    for (int64_t w = SORT_RUN; w < n; w *= 2) {                                     \
        for (int64_t lo = 0; lo < n; lo += 2 * w) {                                 \
            int64_t i = lo, mid = lo + w < n ? lo + w : n, j = mid;                 \
            int64_t hi = lo + 2 * w < n ? lo + 2 * w : n, k = lo;                   \
            while (i < mid && j < hi) {     /* branch-free: ties take the left */   \
                pair_##P x = src[i], y = src[j];                                    \
                int tj = pless_##P(y, x);                                           \
                dst[k++] = tj ? y : x;                                              \
                j += tj;                                                            \
                i += !tj;                                                           \
            }                                                                       \
            while (i < mid) dst[k++] = src[i++];                                    \
            while (j < hi) dst[k++] = src[j++];                                     \
        }                                                                           \
        pair_##P *t = src; src = dst; dst = t;                                      \
    }                                                                               \
    return src;                                                                     \
}
GEN_MSORT(pk)
GEN_MSORT(p64)

/* ------------------------------------------------------------ dispatch */
typedef struct {
    int kb;                  /* key bytes */
    size_t psz;              /* bytes per argsort pair */
    hist_fn vhist, phist;    /* histograms of values / pairs */
    scat_fn vscat, pscat;    /* value pass (sort) / pair pass (argsort middle) */
    scat_fn first, last, only;
    build_fn build;
    psort_fn psort;
    uint32_t (*pidx)(const void *e, int64_t i);
} sorter;
static uint32_t pidx_at_pk(const void *e, int64_t i) { return pidx_pk(((const pair_pk *)e)[i]); }
static uint32_t pidx_at_p64(const void *e, int64_t i) { return pidx_p64(((const pair_p64 *)e)[i]); }
#define ENT(N, u)                                                                   \
    [CODE_##N] = {KB_##N, sizeof(MLXC_CAT(pair_, PC_##N)), hist_v_##N,              \
                  MLXC_CAT(hist_, PC_##N), scat_v_##N, MLXC_CAT(scat_, PC_##N),     \
                  first_##N, MLXC_CAT(last_, PC_##N), only_##N, build_##N,          \
                  MLXC_CAT(msort_, PC_##N), MLXC_CAT(pidx_at_, PC_##N)},
static const sorter sorters[MLXC_NUM_DTYPES] = { TL_REAL(ENT, 0) };

/* ------------------------------------------------------------ radix driver */
/* A pass over n elements in blocks of bs (the last one shorter), run on up to
 * nt threads: block t counts/scatters with h + (t * MAXKB + digit) * NB. */
typedef struct {
    const void *src;
    void *dst;
    scat_fn scat;
    hist_fn hist;
    int64_t n, bs;
    int sh;
    int64_t *h;
} pass_ctx;

static void hist_task(void *vc, int64_t t, int tid)
{
    (void)tid;
    pass_ctx *c = vc;
    int64_t lo = t * c->bs, m = c->n - lo < c->bs ? c->n - lo : c->bs;
    int p = c->sh < 0 ? 0 : c->sh / 8;
    c->hist(c->src, lo, m, c->sh, c->h + (t * MAXKB + p) * NB);
}
static void scat_task(void *vc, int64_t t, int tid)
{
    (void)tid;
    pass_ctx *c = vc;
    int64_t lo = t * c->bs, m = c->n - lo < c->bs ? c->n - lo : c->bs;
    c->scat(c->src, c->dst, lo, m, c->sh, c->h + (t * MAXKB + c->sh / 8) * NB);
}
static void run_blocks(int64_t nb, int nt, mlxc_task_fn fn, pass_ctx *c)
{
    if (nb == 1) fn(c, 0, 0);
    else mlxc_parallel_for(nb, nt, fn, c);
}
/* blocks of about n / nb; returns their number */
static int64_t set_blocks(pass_ctx *c, int64_t n, int64_t nb)
{
    c->n = n;
    c->bs = (n + nb - 1) / nb;
    return (n + c->bs - 1) / c->bs;
}
/* the digits (of the kb counted) that vary: a constant one has all n in a bucket */
static int varying_digits(const int64_t *h, int64_t nb, int kb, int64_t n, int *pass)
{
    int np = 0;
    for (int p = 0; p < kb; p++) {
        int constant = 0;
        for (int d = 0; d < NB && !constant; d++) {
            int64_t cnt = 0;
            for (int64_t t = 0; t < nb; t++) cnt += h[(t * MAXKB + p) * NB + d];
            constant = cnt == n;
        }
        if (!constant) pass[np++] = p;
    }
    return np;
}
/* the scatter by digit p: block t's range of bucket d follows those of blocks
 * < t (stability) */
static void scatter_pass(pass_ctx *c, int64_t nb, int nt, int p)
{
    int64_t sum = 0;
    c->sh = 8 * p;
    for (int d = 0; d < NB; d++)
        for (int64_t t = 0; t < nb; t++) {
            int64_t *q = &c->h[(t * MAXKB + p) * NB + d], cnt = *q;
            *q = sum;
            sum += cnt;
        }
    run_blocks(nb, nt, scat_task, c);
}

/* One LSD sort of n elements by their digits below pmax.
 * sort (idx NULL): the values start in x, ping-pong with y and end in out (x
 * or y).  argsort: the input is values in x, or pairs in a (from_pairs); pairs
 * move between a and b; the indices go to idx.  nb blocks on nt threads; h:
 * nb * MAXKB * NB counts. */
typedef struct {
    void *x, *y, *out;
    uint32_t *idx;
    void *a, *b;
    int from_pairs;
} lsd_job;

static void lsd(const sorter *so, size_t isz, const lsd_job *J, int64_t n, int pmax,
                int64_t nb, int nt, int64_t *h)
{
    int arg = J->idx != NULL, fp = arg && J->from_pairs;
    pass_ctx c = {fp ? J->a : J->x, NULL, NULL, fp ? so->phist : so->vhist, 0, 0, -1, h};
    nb = set_blocks(&c, n, nb);
    run_blocks(nb, nt, hist_task, &c);
    int pass[MAXKB];
    int np = varying_digits(h, nb, pmax, n, pass);
    if (arg && np == 0) {
        if (fp) for (int64_t i = 0; i < n; i++) J->idx[i] = so->pidx(J->a, i);
        else for (int64_t i = 0; i < n; i++) J->idx[i] = (uint32_t)i;
    }
    for (int j = 0; j < np; j++) {
        if (!arg) { c.scat = so->vscat; c.dst = c.src == J->x ? J->y : J->x; }
        else if (j == np - 1) { c.scat = np == 1 && !fp ? so->only : so->last; c.dst = J->idx; }
        else if (j == 0 && !fp) { c.scat = so->first; c.dst = J->a; }
        else { c.scat = so->pscat; c.dst = c.src == J->a ? J->b : J->a; }
        /* block counts: the first pass reads the input, counted above; later
         * sources are recounted (one block: a digit's counts never change) */
        if (j > 0 && nb > 1) {
            c.hist = arg ? so->phist : so->vhist;
            c.sh = 8 * pass[j];
            run_blocks(nb, nt, hist_task, &c);
        }
        scatter_pass(&c, nb, nt, pass[j]);
        c.src = c.dst;
    }
    if (!arg && c.src != J->out) memcpy(J->out, c.src, (size_t)n * isz);
}

/* A long row: one scatter by the top varying digit (MSD) splits it into up to
 * 256 buckets in order, then each bucket is LSD sorted by the lower digits on
 * its own -- in cache, and buckets spread over the threads.  Buckets of more
 * than an nt-th of the row are sorted one after another with all threads.
 * sort: data in place with tmp; argsort: pairs in a and b, indices to idx.
 * h: nt * MAXKB * NB counts, hb: the same for the bucket tasks. */
typedef struct {
    const sorter *so;
    size_t isz;
    lsd_job whole;           /* the row's buffers; a bucket is a window of them */
    const int64_t *start;    /* bucket d: [start[d], start[d + 1]) */
    const int *todo;         /* the buckets for the tasks */
    int pmax;
    int64_t *hb;
} bucket_ctx;

static lsd_job bucket_job(const bucket_ctx *c, int64_t lo)
{
    const lsd_job *W = &c->whole;
    lsd_job J = {NULL, NULL, NULL, NULL, NULL, NULL, 1};
    if (W->idx) {
        J.idx = W->idx + lo;
        J.a = (char *)W->a + (size_t)lo * c->so->psz;
        J.b = (char *)W->b + (size_t)lo * c->so->psz;
    } else {                 /* the MSD pass left the values in tmp (y) */
        J.x = (char *)W->y + (size_t)lo * c->isz;
        J.y = J.out = (char *)W->x + (size_t)lo * c->isz;
    }
    return J;
}
static void bucket_task(void *vc, int64_t t, int tid)
{
    bucket_ctx *c = vc;
    int d = c->todo[t];
    int64_t lo = c->start[d];
    lsd_job J = bucket_job(c, lo);
    lsd(c->so, c->isz, &J, c->start[d + 1] - lo, c->pmax, 1, 1, c->hb + (size_t)tid * MAXKB * NB);
}

static void long_row(const sorter *so, size_t isz, void *data, void *tmp, uint32_t *idx,
                     void *a, void *b, int64_t n, int nt, int64_t *h, int64_t *hb)
{
    pass_ctx c = {data, NULL, NULL, so->vhist, 0, 0, -1, h};
    int64_t nb = set_blocks(&c, n, nt);
    run_blocks(nb, nt, hist_task, &c);
    int pass[MAXKB];
    int np = varying_digits(h, nb, so->kb, n, pass);
    if (np == 0) {
        if (idx) for (int64_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
        return;
    }
    int top = pass[np - 1];
    int64_t start[NB + 1];
    start[0] = 0;
    for (int d = 0; d < NB; d++) {
        int64_t cnt = 0;
        for (int64_t t = 0; t < nb; t++) cnt += h[(t * MAXKB + top) * NB + d];
        start[d + 1] = start[d] + cnt;
    }
    if (idx) { c.scat = np == 1 ? so->only : so->first; c.dst = np == 1 ? (void *)idx : a; }
    else { c.scat = so->vscat; c.dst = tmp; }
    scatter_pass(&c, nb, nt, top);
    if (np == 1) {
        if (!idx) memcpy(data, tmp, (size_t)n * isz);
        return;
    }
    bucket_ctx bc = {so, isz, {data, tmp, data, idx, a, b, 0}, start, NULL, top, hb};
    int todo[NB], ntodo = 0;
    for (int d = 0; d < NB; d++) {
        int64_t lo = start[d], m = start[d + 1] - lo;
        if (m == 0) continue;
        if (nt > 1 && m * nt > n) {          /* a big bucket: all threads on it */
            lsd_job J = bucket_job(&bc, lo);
            lsd(so, isz, &J, m, top, nt, nt, h);
        } else {
            todo[ntodo++] = d;
        }
    }
    bc.todo = todo;
    if (nt > 1 && ntodo > 1) mlxc_parallel_for(ntodo, nt, bucket_task, &bc);
    else for (int t = 0; t < ntodo; t++) bucket_task(&bc, t, 0);
}

/* a short row by merge sorting pairs: into idx (argsort) or the row in place
 * (sort; the values gathered through tmp) */
static void short_row(const sorter *so, size_t isz, void *row, void *tmp, uint32_t *idx,
                      void *a, void *b, int64_t n)
{
    so->build(row, a, n);
    const void *e = so->psort(a, b, n);
    if (idx) {
        for (int64_t i = 0; i < n; i++) idx[i] = so->pidx(e, i);
    } else {
        for (int64_t i = 0; i < n; i++)
            memcpy((char *)tmp + (size_t)i * isz, (const char *)row + (size_t)so->pidx(e, i) * isz, isz);
        memcpy(row, tmp, (size_t)n * isz);
    }
}


/* ------------------------------------------------------------ SIMD keys */
/* 32-bit rows sort through the level's int32 key kernels (sort_isa.h) where
 * there are some; their result equals the stable sort's bit for bit. */
const struct sort_simd *mlxc_sort_simd(void)
{
    const struct sort_simd *s = NULL;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    int isa = mlxc_isa_pick(mlxc_levels_sort);
    if (isa == MLXC_ISA_AVX512) s = &mlxc_sort_simd_avx512;
    else if (isa == MLXC_ISA_AVX2) s = &mlxc_sort_simd_avx2;
#endif
    if (s) s->init();
    return s;
}
static int simd_kind(int dtype)
{
    switch (dtype) {
    case MLXC_INT32: return SK_INT;
    case MLXC_UINT32: return SK_UINT;
    case MLXC_FLOAT32: return SK_FLOAT;
    default: return -1;
    }
}

/* One row of n on this thread by the key kernels from src (row itself, or another
 * row when n <= SORT_NET_MAX) into row (tmp: n more); returns 1 with the row as it
 * was when it needs the stable sort. */
static int simd_row(const struct sort_simd *S, int kind, int32_t *row, const int32_t *src,
                    int32_t *tmp, int64_t n)
{
    if (n <= SORT_NET_MAX) return S->row(row, src, n, kind);
    if (sk_needs_stable(S->to_keys(row, row, n, kind))) {
        S->from_keys(row, row, n, kind);
        return 1;
    }
    S->keys(row, tmp, n);
    S->from_keys(row, row, n, kind);
    return 0;
}

/* A long row on nt threads: keys made in place, nt pieces sorted each on its
 * own, then merged in rounds of pairs (every merge split over all threads by
 * merge path), the elements made back from the last round's keys. */
typedef struct {
    const struct sort_simd *S;
    int kind, nt;
    int32_t *d, *tmp;
    int64_t n;
    int flags[64];
    /* the merge round: runs [b[r], b[r + 1]) of src, pairs merged into dst */
    const int32_t *src;
    int32_t *dst;
    const int64_t *b;
    int last;                /* the last round: elements out */
    int32_t ma, mb;          /* the key map of kind: k ^ ((k >> 31) & ma) ^ mb */
} longk_ctx;

static int64_t piece(int64_t n, int64_t parts, int64_t t) { return n / parts * t + (n % parts * t) / parts; }

static void to_keys_task(void *vc, int64_t t, int tid)
{
    (void)tid;
    longk_ctx *c = vc;
    int64_t lo = piece(c->n, c->nt, t), hi = piece(c->n, c->nt, t + 1);
    c->flags[t] = c->S->to_keys(c->dst + lo, c->d + lo, hi - lo, c->kind);
}
static void from_keys_task(void *vc, int64_t t, int tid)
{
    (void)tid;
    longk_ctx *c = vc;
    int64_t lo = piece(c->n, c->nt, t), hi = piece(c->n, c->nt, t + 1);
    c->S->from_keys(c->d + lo, c->src + lo, hi - lo, c->kind);
}
static void sort_piece_task(void *vc, int64_t t, int tid)
{
    (void)tid;
    longk_ctx *c = vc;
    int64_t lo = piece(c->n, c->nt, t), hi = piece(c->n, c->nt, t + 1);
    c->S->keys(c->dst + lo, NULL, hi - lo);
}
/* how many of the first k outputs of merging a[0, na) and b[0, nb) come from a */
static int64_t merge_split(const int32_t *a, int64_t na, const int32_t *b, int64_t nb, int64_t k)
{
    int64_t lo = k > nb ? k - nb : 0, hi = k < na ? k : na;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= b[k - 1 - mid]) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}
/* task t: part t % nt of the merge of pair t / nt (a lone last run is copied) */
static void merge_task(void *vc, int64_t t, int tid)
{
    (void)tid;
    longk_ctx *c = vc;
    int64_t p = t / c->nt, part = t % c->nt;
    int64_t a0 = c->b[2 * p], a1 = c->b[2 * p + 1], b1 = c->b[2 * p + 2];
    const int32_t *a = c->src + a0, *b = c->src + a1;
    int64_t na = a1 - a0, nb = b1 - a1;
    int64_t k0 = piece(na + nb, c->nt, part), k1 = piece(na + nb, c->nt, part + 1);
    int64_t i = merge_split(a, na, b, nb, k0), j = k0 - i;
    int64_t ie = merge_split(a, na, b, nb, k1), je = k1 - ie;
    int32_t *o = c->dst + a0 + k0;
    /* the last round writes elements (key map ma, mb), the others keys (0, 0) */
    int32_t ma = c->last ? c->ma : 0, mb = c->last ? c->mb : 0;
    while (i < ie && j < je) {               /* branch-free: equal keys are equal */
        int32_t x = a[i], y = b[j];
        int tb = y < x;
        int32_t k = tb ? y : x;
        *o++ = k ^ ((k >> 31) & ma) ^ mb;
        j += tb;
        i += !tb;
    }
    for (; i < ie; i++) *o++ = a[i] ^ ((a[i] >> 31) & ma) ^ mb;
    for (; j < je; j++) *o++ = b[j] ^ ((b[j] >> 31) & ma) ^ mb;
}

static int simd_long_row(const struct sort_simd *S, int kind, int32_t *d, int32_t *tmp,
                         int64_t n, int nt)
{
    if (nt > 64) nt = 64;
    int rounds = 0;
    while ((1 << rounds) < nt) rounds++;
    /* the keys start where an odd number of merge rounds takes them to d */
    int32_t *keys = rounds & 1 ? tmp : d;
    longk_ctx c = {S, kind, nt, d, tmp, n, {0}, NULL, keys, NULL, 0, 0, 0};
    c.ma = kind == SK_FLOAT ? 0x7fffffff : 0;
    c.mb = kind == SK_UINT ? (int32_t)0x80000000u : 0;
    mlxc_parallel_for(nt, nt, to_keys_task, &c);
    int f = 0;
    for (int t = 0; t < nt; t++) f |= c.flags[t];
    if (sk_needs_stable(f)) {
        if (keys == d) {
            c.src = d;
            mlxc_parallel_for(nt, nt, from_keys_task, &c);
        }
        return 1;
    }
    mlxc_parallel_for(nt, nt, sort_piece_task, &c);
    int64_t b[65 + 1];
    int nr = nt;
    for (int r = 0; r <= nr; r++) b[r] = piece(n, nt, r);
    const int32_t *src = keys;
    int32_t *dst = keys == d ? tmp : d;
    while (nr > 1) {
        int pairs = nr / 2;
        c.src = src;
        c.dst = dst;
        c.b = b;
        c.last = nr <= 2;
        mlxc_parallel_for((int64_t)pairs * nt, nt, merge_task, &c);
        if (nr & 1) {
            int64_t lo = b[nr - 1];
            if (c.last) S->from_keys(dst + lo, src + lo, n - lo, kind);
            else memcpy(dst + lo, src + lo, (size_t)(n - lo) * 4);
        }
        int m = 0;
        for (int r = 0; r <= nr; r += 2) b[m++] = b[r];
        if (nr & 1) b[m++] = n;
        nr = m - 1;
        src = dst;
        dst = src == d ? tmp : d;
    }
    return 0;
}

/* ------------------------------------------------------------ drivers */
/* Scratch for one call.  Large blocks are asked to be backed by huge pages:
 * the buffers are new to every call, and faulting in 4K pages one by one cost
 * about as much as the argsort of 2^22 floats itself. */
#define HUGE_MIN ((size_t)4 << 20)
static void *scratch_alloc(size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (n >= HUGE_MIN) {
        void *p;
        if (posix_memalign(&p, (size_t)2 << 20, n) != 0) return NULL;
        madvise(p, n, MADV_HUGEPAGE);      /* advice only: failure is harmless */
        return p;
    }
#endif
    return malloc(n);
}

/* scratch of one sort of a row of len: the value copy, two pair arrays, counts */
typedef struct {
    size_t vals, pairs, bytes;    /* offsets of the pair arrays and the counts */
} layout;
static int scratch_layout(const sorter *so, size_t isz, int argsort, int64_t len,
                          int64_t nb, layout *L)
{
    /* sort of a long row needs the value copy only; short rows and argsort pairs */
    size_t n = (size_t)len, npair = argsort || len < RADIX_MIN(so->kb) ? 2 : 0;
    if (n > (SIZE_MAX / 4) / (isz + npair * so->psz + 64)) return 0;
    L->vals = (n * isz + 63) & ~(size_t)63;
    L->pairs = (n * so->psz + 63) & ~(size_t)63;
    L->bytes = L->vals + npair * L->pairs + (size_t)nb * MAXKB * NB * sizeof(int64_t);
    return 1;
}

typedef struct {
    const sorter *so;
    size_t isz;
    char *data;              /* the rows: sorted in place, or argsort's input */
    const char *src;         /* sort: the rows to sort into data, or NULL (in place) */
    uint32_t *idx;           /* argsort output, or NULL */
    char *scratch;           /* per thread: L.bytes */
    layout L;
    int64_t nrows, len, rows_per_task;
    const struct sort_simd *S;   /* sort of 32-bit rows by the key kernels, or NULL */
    int kind;
} rows_ctx;

static void rows_task(void *vc, int64_t t, int tid)
{
    rows_ctx *c = vc;
    int64_t len = c->len, r1 = (t + 1) * c->rows_per_task;
    if (r1 > c->nrows) r1 = c->nrows;
    char *tmp = c->scratch + (size_t)tid * c->L.bytes, *a = tmp + c->L.vals, *b = a + c->L.pairs;
    int64_t *h = (int64_t *)(tmp + c->L.bytes) - MAXKB * NB;
    for (int64_t r = t * c->rows_per_task; r < r1; r++) {
        char *row = c->data + (size_t)r * (size_t)len * c->isz;
        uint32_t *ix = c->idx ? c->idx + r * len : NULL;
        const char *srow = c->src ? c->src + (size_t)r * (size_t)len * c->isz : row;
        if (c->S && simd_row(c->S, c->kind, (int32_t *)row, (const int32_t *)srow, (int32_t *)tmp,
                             len) == 0)
            continue;
        if (srow != row) memcpy(row, srow, (size_t)len * c->isz);
        /* (long_row on one thread measured slower than plain LSD: float keys
         * cluster in few top-byte buckets, so the buckets rarely fit in cache) */
        if (len < RADIX_MIN(c->so->kb)) {
            short_row(c->so, c->isz, row, tmp, ix, a, b, len);
        } else {
            lsd_job J = {row, tmp, row, ix, a, b, 0};
            lsd(c->so, c->isz, &J, len, c->so->kb, 1, 1, h);
        }
    }
}

/* sort (idx == NULL: data in place, or from src into data) or argsort (into idx) */
static int sort_any(int dtype, uint32_t *idx, void *data, const void *src, int64_t nrows,
                    int64_t len)
{
    if (dtype < 0 || dtype >= MLXC_NUM_DTYPES || !sorters[dtype].kb) return MLXC_ERR_UNSUPPORTED;
    if (idx && len > (int64_t)UINT32_MAX) return MLXC_ERR_UNSUPPORTED;
    if (nrows <= 0 || len <= 0) return MLXC_OK;
    const sorter *so = &sorters[dtype];
    size_t isz = mlxc_itemsize(dtype);
    int kind = idx ? -1 : simd_kind(dtype);
    const struct sort_simd *S = kind >= 0 ? mlxc_sort_simd() : NULL;
    if (src == data) src = NULL;
    /* only the networks read their rows from src: the rest sort in place */
    if (src && !(S && len <= SORT_NET_MAX)) {
        memcpy(data, src, (size_t)nrows * (size_t)len * isz);
        src = NULL;
    }
    if (!idx && len == 1) {
        if (src) memcpy(data, src, (size_t)nrows * isz);
        return MLXC_OK;
    }
    int nt = mlxc_num_threads();
    if (nrows * len < PAR_TOTAL_MIN) nt = 1;
    layout L;

    if (S && nt > 1 && nrows < nt && len >= PAR_ROW_MIN) {
        /* few long 32-bit rows: the key kernels, each row by all threads; a
         * row they leave (NaN or both zeros) goes on to the radix sort below */
        int32_t *t = scratch_alloc((size_t)len * 4);
        if (!t) return MLXC_ERR_NOMEM;
        int64_t left = 0;
        for (int64_t r = 0; r < nrows; r++)
            left += simd_long_row(S, kind, (int32_t *)data + r * len, t, len, nt);
        free(t);
        if (left == 0) return MLXC_OK;
        S = NULL;
    }
    if (nt > 1 && nrows < nt && len >= PAR_ROW_MIN) {
        /* few long rows: each row by all threads */
        if (!scratch_layout(so, isz, idx != NULL, len, 2 * nt, &L)) return MLXC_ERR_NOMEM;
        char *s = scratch_alloc(L.bytes);
        if (!s) return MLXC_ERR_NOMEM;
        int64_t *h = (int64_t *)(s + L.bytes) - (size_t)2 * nt * MAXKB * NB;
        for (int64_t r = 0; r < nrows; r++)
            long_row(so, isz, (char *)data + (size_t)r * (size_t)len * isz, s, idx ? idx + r * len : NULL,
                     s + L.vals, s + L.vals + L.pairs, len, nt, h, h + (size_t)nt * MAXKB * NB);
        free(s);
        return MLXC_OK;
    }
    /* rows over the threads, a chunk of rows (~16K elements, >= 4 chunks a thread) a task */
    int64_t per = (16384 + len - 1) / len;
    if (per * nt * 4 > nrows) per = nrows / (nt * 4) > 0 ? nrows / (nt * 4) : 1;
    int64_t ntask = (nrows + per - 1) / per;
    if (nt > ntask) nt = (int)ntask;
    if (!scratch_layout(so, isz, idx != NULL, len, 1, &L)) return MLXC_ERR_NOMEM;
    if ((size_t)nt > SIZE_MAX / L.bytes) return MLXC_ERR_NOMEM;
    char *scratch = scratch_alloc(L.bytes * (size_t)nt);
    if (!scratch) return MLXC_ERR_NOMEM;
    rows_ctx c = {so, isz, data, src, idx, scratch, L, nrows, len, per, S, kind};
    mlxc_parallel_for(ntask, nt, rows_task, &c);
    free(scratch);
    return MLXC_OK;
}

int mlxc_sort(int dtype, void *data, int64_t nrows, int64_t len)
{
    return sort_any(dtype, NULL, data, NULL, nrows, len);
}

int mlxc_sort_from(int dtype, void *out, const void *src, int64_t nrows, int64_t len)
{
    return sort_any(dtype, NULL, out, src, nrows, len);
}

int mlxc_argsort(int dtype, uint32_t *idx, const void *data, int64_t nrows, int64_t len)
{
    return sort_any(dtype, idx, (void *)data, NULL, nrows, len);
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
const unsigned mlxc_levels_sort = MLXC_LEVELS_X86;     /* 32-bit keys; other dtypes portable C */
#else
const unsigned mlxc_levels_sort = MLXC_LEVELS_SCALAR;
#endif
