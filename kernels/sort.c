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
 * sort moves the elements; argsort moves (key, index) pairs -- packed as
 * key << 32 | index in a uint64 for keys up to 32 bits -- and keeps the index.
 * One histogram pass counts every digit at once; passes whose digit is the same
 * for all elements are skipped.  Rows shorter than RADIX_MIN use a merge sort
 * (a radix pass costs 256 buckets whatever the length).
 *
 * Threads: many rows are spread over the pool a chunk of rows per task; a long
 * row (few rows) is sorted with every pass split into contiguous blocks: block
 * histograms, a bucket-major prefix sum over (bucket, block) and a scatter in
 * which each block writes its own disjoint ranges. */
#include "internal.h"
#include "mlxc_threads.h"

#define SORT_RUN 32          /* insertion-sorted runs of the merge sort */
#define RADIX_MIN 192        /* shorter rows: merge sort */
#define PAR_ROW_MIN 65536    /* a row this long is sorted by all threads together */
#define PAR_TOTAL_MIN 32768  /* less work than this in all: one thread */
#define NB 256               /* buckets per digit */

/* ------------------------------------------------------------------- keys */
static inline uint8_t key_b(uint8_t x) { return x; }
static inline uint8_t key_u8(uint8_t x) { return x; }
static inline uint16_t key_u16(uint16_t x) { return x; }
static inline uint32_t key_u32(uint32_t x) { return x; }
static inline uint64_t key_u64(uint64_t x) { return x; }
static inline uint8_t key_i8(int8_t x) { return (uint8_t)((uint8_t)x ^ 0x80u); }
static inline uint16_t key_i16(int16_t x) { return (uint16_t)((uint16_t)x ^ 0x8000u); }
static inline uint32_t key_i32(int32_t x) { return (uint32_t)x ^ 0x80000000u; }
static inline uint64_t key_i64(int64_t x) { return (uint64_t)x ^ 0x8000000000000000ull; }

/* float bits u of width W with the exponent-all-ones magnitude INF: positives
 * get the sign bit set, negatives are complemented (larger magnitude, smaller
 * key); zeros of either sign -> the +0 key, NaN -> the top key */
#define FKEY(T, u, SIGN, INF)                                                       \
    do {                                                                            \
        T a_ = (T)((u) & (T)~(SIGN));                                               \
        T k_ = ((u) & (SIGN)) ? (T)~(u) : (T)((u) | (SIGN));                        \
        k_ = a_ == 0 ? (T)(SIGN) : k_;                                              \
        return a_ > (INF) ? (T)~(T)0 : k_;                                          \
    } while (0)
static inline uint16_t key_f16(uint16_t u) { FKEY(uint16_t, u, 0x8000u, 0x7c00u); }
static inline uint16_t key_bf16(uint16_t u) { FKEY(uint16_t, u, 0x8000u, 0x7f80u); }
static inline uint32_t key_f32(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    FKEY(uint32_t, u, 0x80000000u, 0x7f800000u);
}
static inline uint64_t key_f64(double x)
{
    uint64_t u;
    memcpy(&u, &x, 8);
    FKEY(uint64_t, u, 0x8000000000000000ull, 0x7ff0000000000000ull);
}

/* key bytes per dtype */
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

/* argsort elements: packed key << 32 | index (keys <= 32 bits), or a pair */
typedef struct { uint64_t k; uint64_t i; } pair64;
#define PKEY(e) ((e) >> 32)
#define P64KEY(e) ((e).k)

/* ------------------------------------------------------------ the engine */
/* GEN_ENGINE(name, E, KEY, KB): sorting of E arrays by the KB-byte key KEY(e).
 *   msort_name(a, tmp, n)     stable merge sort (short rows)
 *   rsort_name(a, tmp, n)     radix sort, one thread; returns the buffer
 *                             (a or tmp) that holds the result
 *   row_name(a, tmp, n)       either, by length
 *   psort_name(a, tmp, n, nt, h)  radix sort split over nt blocks; h: scratch
 *                             for nt * KB * NB counts */
#define GEN_ENGINE(name, E, KEY, KB)                                                \
static void ins_##name(E *a, int64_t n)                                             \
{                                                                                   \
    for (int64_t i = 1; i < n; i++) {                                               \
        E v = a[i];                                                                 \
        uint64_t kv = KEY(v);                                                       \
        int64_t j = i;                                                              \
        while (j > 0 && kv < (uint64_t)KEY(a[j - 1])) { a[j] = a[j - 1]; j--; }     \
        a[j] = v;                                                                   \
    }                                                                               \
}                                                                                   \
/* on ties the left run's element goes first (stable) */                           \
static void merge_##name(const E *src, E *dst, int64_t lo, int64_t mid, int64_t hi) \
{                                                                                   \
    int64_t i = lo, j = mid, k = lo;                                                \
    while (i < mid && j < hi)                                                       \
        dst[k++] = (uint64_t)KEY(src[j]) < (uint64_t)KEY(src[i]) ? src[j++] : src[i++]; \
    while (i < mid) dst[k++] = src[i++];                                            \
    while (j < hi) dst[k++] = src[j++];                                             \
}                                                                                   \
static E *msort_##name(E *a, E *tmp, int64_t n)                                     \
{                                                                                   \
    for (int64_t lo = 0; lo < n; lo += SORT_RUN)                                    \
        ins_##name(a + lo, n - lo < SORT_RUN ? n - lo : SORT_RUN);                  \
    E *src = a, *dst = tmp;                                                         \
    for (int64_t w = SORT_RUN; w < n; w *= 2) {                                     \
        for (int64_t lo = 0; lo < n; lo += 2 * w) {                                 \
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n; \
            merge_##name(src, dst, lo, mid, hi);                                    \
        }                                                                           \
        E *t = src; src = dst; dst = t;                                             \
    }                                                                               \
    return src;                                                                     \
}                                                                                   \
/* counts of every digit: h[p * NB + digit p of the key] */                         \
static void hist_##name(const E *s, int64_t n, int64_t *h)                          \
{                                                                                   \
    memset(h, 0, sizeof(int64_t) * KB * NB);                                        \
    for (int64_t i = 0; i < n; i++) {                                               \
        uint64_t k = KEY(s[i]);                                                     \
        for (int p = 0; p < KB; p++) h[p * NB + ((k >> (8 * p)) & (NB - 1))]++;     \
    }                                                                               \
}                                                                                   \
static void hist1_##name(const E *s, int64_t n, int sh, int64_t *h)                 \
{                                                                                   \
    memset(h, 0, sizeof(int64_t) * NB);                                             \
    for (int64_t i = 0; i < n; i++) h[((uint64_t)KEY(s[i]) >> sh) & (NB - 1)]++;    \
}                                                                                   \
/* stable scatter by the digit at shift sh; off: each bucket's next slot */         \
static void scat_##name(const E *s, E *d, int64_t n, int sh, int64_t *off)          \
{                                                                                   \
    for (int64_t i = 0; i < n; i++) {                                               \
        E e = s[i];                                                                 \
        d[off[((uint64_t)KEY(e) >> sh) & (NB - 1)]++] = e;                          \
    }                                                                               \
}                                                                                   \
static E *rsort_##name(E *a, E *tmp, int64_t n)                                     \
{                                                                                   \
    int64_t h[KB * NB];                                                             \
    hist_##name(a, n, h);                                                           \
    uint64_t k0 = KEY(a[0]);                                                        \
    E *src = a, *dst = tmp;                                                         \
    for (int p = 0; p < KB; p++) {                                                  \
        int64_t *hp = h + p * NB;                                                   \
        if (hp[(k0 >> (8 * p)) & (NB - 1)] == n) continue;   /* constant digit */  \
        int64_t sum = 0;                                                            \
        for (int d = 0; d < NB; d++) { int64_t c = hp[d]; hp[d] = sum; sum += c; }  \
        scat_##name(src, dst, n, 8 * p, hp);                                        \
        E *t = src; src = dst; dst = t;                                             \
    }                                                                               \
    return src;                                                                     \
}                                                                                   \
static E *row_##name(E *a, E *tmp, int64_t n)                                       \
{                                                                                   \
    return n < RADIX_MIN ? msort_##name(a, tmp, n) : rsort_##name(a, tmp, n);       \
}                                                                                   \
static void task_hist_##name(void *vc, int64_t t, int tid)                          \
{                                                                                   \
    (void)tid;                                                                      \
    par_ctx *c = vc;                                                                \
    int64_t lo = t * c->bs, m = c->n - lo < c->bs ? c->n - lo : c->bs;              \
    const E *s = c->src;                                                            \
    if (c->sh < 0) hist_##name(s + lo, m, c->h + t * KB * NB);                      \
    else hist1_##name(s + lo, m, c->sh, c->h + (t * KB + c->sh / 8) * NB);          \
}                                                                                   \
static void task_scat_##name(void *vc, int64_t t, int tid)                          \
{                                                                                   \
    (void)tid;                                                                      \
    par_ctx *c = vc;                                                                \
    int64_t lo = t * c->bs, m = c->n - lo < c->bs ? c->n - lo : c->bs;              \
    const E *s = c->src;                                                            \
    scat_##name(s + lo, c->dst, m, c->sh, c->h + (t * KB + c->sh / 8) * NB);        \
}                                                                                   \
static E *psort_##name(E *a, E *tmp, int64_t n, int nt, int64_t *h)                 \
{                                                                                   \
    par_ctx c = {a, tmp, n, (n + nt - 1) / nt, -1, h};                              \
    int64_t nb = (n + c.bs - 1) / c.bs;                                             \
    mlxc_parallel_for(nb, nt, task_hist_##name, &c);                                \
    uint64_t k0 = KEY(a[0]);                                                        \
    int first = 1;                                                                  \
    for (int p = 0; p < KB; p++) {                                                  \
        int d0 = (int)((k0 >> (8 * p)) & (NB - 1));                                 \
        int64_t c0 = 0;                                                             \
        for (int64_t t = 0; t < nb; t++) c0 += h[(t * KB + p) * NB + d0];           \
        if (c0 == n) continue;                        /* constant digit */          \
        c.sh = 8 * p;                                                               \
        /* the first pass reads the input, whose block counts we have */           \
        if (!first) mlxc_parallel_for(nb, nt, task_hist_##name, &c);                \
        first = 0;                                                                  \
        int64_t sum = 0;                                                            \
        for (int d = 0; d < NB; d++)                                                \
            for (int64_t t = 0; t < nb; t++) {                                      \
                int64_t *q = &h[(t * KB + p) * NB + d], cnt = *q;                   \
                *q = sum;                                                           \
                sum += cnt;                                                         \
            }                                                                       \
        mlxc_parallel_for(nb, nt, task_scat_##name, &c);                            \
        void *x = c.src; c.src = c.dst; c.dst = x;                                  \
    }                                                                               \
    return c.src;                                                                   \
}

/* one parallel radix sort: blocks of bs elements of src scattered into dst by
 * the digit at shift sh (sh < 0: count every digit) */
typedef struct {
    void *src, *dst;
    int64_t n, bs;
    int sh;
    int64_t *h;      /* per block: KB x NB counts, then offsets */
} par_ctx;

#define GEN_VAL_ENGINE(N, u) GEN_ENGINE(v_##N, STY_##N, key_##N, KB_##N)
TL_REAL(GEN_VAL_ENGINE, 0)
GEN_ENGINE(pk1, uint64_t, PKEY, 1)
GEN_ENGINE(pk2, uint64_t, PKEY, 2)
GEN_ENGINE(pk4, uint64_t, PKEY, 4)
GEN_ENGINE(p64, pair64, P64KEY, 8)

/* ------------------------------------------------------- argsort pairs */
/* (key, index) elements of data[lo, hi) into e[lo, hi), and the indices back */
#define GEN_BUILD_PK(N, u)                                                          \
static void build_##N(const void *data, void *e, int64_t lo, int64_t hi)            \
{                                                                                   \
    const STY_##N *d = data;                                                        \
    uint64_t *o = e;                                                                \
    for (int64_t i = lo; i < hi; i++) o[i] = (uint64_t)key_##N(d[i]) << 32 | (uint64_t)i; \
}
#define GEN_BUILD_P64(N, u)                                                         \
static void build_##N(const void *data, void *e, int64_t lo, int64_t hi)            \
{                                                                                   \
    const STY_##N *d = data;                                                        \
    pair64 *o = e;                                                                  \
    for (int64_t i = lo; i < hi; i++) { o[i].k = key_##N(d[i]); o[i].i = (uint64_t)i; } \
}
GEN_BUILD_PK(b, 0) GEN_BUILD_PK(u8, 0) GEN_BUILD_PK(i8, 0)
GEN_BUILD_PK(u16, 0) GEN_BUILD_PK(i16, 0) GEN_BUILD_PK(f16, 0) GEN_BUILD_PK(bf16, 0)
GEN_BUILD_PK(u32, 0) GEN_BUILD_PK(i32, 0) GEN_BUILD_PK(f32, 0)
GEN_BUILD_P64(u64, 0) GEN_BUILD_P64(i64, 0) GEN_BUILD_P64(f64, 0)

static void take_pk(const void *e, uint32_t *idx, int64_t lo, int64_t hi)
{
    const uint64_t *s = e;
    for (int64_t i = lo; i < hi; i++) idx[i] = (uint32_t)s[i];
}
static void take_p64(const void *e, uint32_t *idx, int64_t lo, int64_t hi)
{
    const pair64 *s = e;
    for (int64_t i = lo; i < hi; i++) idx[i] = (uint32_t)s[i].i;
}

/* ------------------------------------------------------------ dispatch */
typedef void *(*row_fn)(void *a, void *tmp, int64_t n);
typedef void *(*par_fn)(void *a, void *tmp, int64_t n, int nt, int64_t *h);
typedef void (*build_fn)(const void *data, void *e, int64_t lo, int64_t hi);
typedef void (*take_fn)(const void *e, uint32_t *idx, int64_t lo, int64_t hi);
typedef struct {
    row_fn row;
    par_fn par;
    size_t esz;      /* bytes per engine element */
    int kb;          /* key bytes */
} engine;

/* the engines take typed pointers; wrappers give the tables one signature */
#define GEN_WRAP(name, E)                                                           \
static void *row_w_##name(void *a, void *tmp, int64_t n) { return row_##name(a, tmp, n); } \
static void *par_w_##name(void *a, void *tmp, int64_t n, int nt, int64_t *h)       \
{ return psort_##name(a, tmp, n, nt, h); }
#define GEN_VAL_WRAP(N, u) GEN_WRAP(v_##N, STY_##N)
TL_REAL(GEN_VAL_WRAP, 0)
GEN_WRAP(pk1, uint64_t) GEN_WRAP(pk2, uint64_t) GEN_WRAP(pk4, uint64_t) GEN_WRAP(p64, pair64)

#define ENG(name, E, kb) {row_w_##name, par_w_##name, sizeof(E), kb}
#define ENT_VAL(N, u) [CODE_##N] = ENG(v_##N, STY_##N, KB_##N),
static const engine val_eng[MLXC_NUM_DTYPES] = { TL_REAL(ENT_VAL, 0) };
static const engine pk_eng[4] = {ENG(pk1, uint64_t, 1), ENG(pk2, uint64_t, 2),
                                 ENG(pk4, uint64_t, 4), ENG(p64, pair64, 8)};
static const engine *arg_engine(int dtype)
{
    int kb = val_eng[dtype].kb;
    return &pk_eng[kb == 1 ? 0 : kb == 2 ? 1 : kb == 4 ? 2 : 3];
}
#define ENT_BUILD(N, u) [CODE_##N] = build_##N,
static const build_fn build_tab[MLXC_NUM_DTYPES] = { TL_REAL(ENT_BUILD, 0) };

/* ------------------------------------------------------------ drivers */
/* one call: rows [r0, r1) of rows of len elements, each thread its scratch */
typedef struct {
    const engine *eng;
    build_fn build;          /* argsort only */
    take_fn take;
    char *data;              /* sort: the rows, in place; argsort: the input */
    uint32_t *idx;           /* argsort output */
    char *scratch;           /* per thread: stride bytes */
    size_t stride, isz;
    int64_t nrows, len, rows_per_task;
} rows_ctx;

static void sort_rows_task(void *vc, int64_t t, int tid)
{
    rows_ctx *c = vc;
    int64_t len = c->len, r1 = (t + 1) * c->rows_per_task;
    if (r1 > c->nrows) r1 = c->nrows;
    char *a = c->scratch + (size_t)tid * c->stride, *b = a + (size_t)len * c->eng->esz;
    for (int64_t r = t * c->rows_per_task; r < r1; r++) {
        if (c->idx) {   /* argsort: pairs in a, sorted with b */
            c->build(c->data + (size_t)r * (size_t)len * c->isz, a, 0, len);
            void *res = c->eng->row(a, b, len);
            c->take(res, c->idx + r * len, 0, len);
        } else {        /* sort in place with a as the scratch */
            char *row = c->data + (size_t)r * (size_t)len * c->isz;
            void *res = c->eng->row(row, a, len);
            if (res != row) memcpy(row, res, (size_t)len * c->isz);
        }
    }
}

/* argsort of one long row with all threads: pair building and index taking in
 * blocks too */
typedef struct {
    build_fn build;
    take_fn take;
    const void *data;
    void *e;
    uint32_t *idx;
    int64_t n, bs;
} io_ctx;
static void task_build(void *vc, int64_t t, int tid)
{
    (void)tid;
    io_ctx *c = vc;
    int64_t lo = t * c->bs, hi = lo + c->bs < c->n ? lo + c->bs : c->n;
    c->build(c->data, c->e, lo, hi);
}
static void task_take(void *vc, int64_t t, int tid)
{
    (void)tid;
    io_ctx *c = vc;
    int64_t lo = t * c->bs, hi = lo + c->bs < c->n ? lo + c->bs : c->n;
    c->take(c->e, c->idx, lo, hi);
}

/* sort (idx == NULL: data in place) or argsort (into idx) */
static int sort_any(int dtype, uint32_t *idx, void *data, int64_t nrows, int64_t len)
{
    if (dtype < 0 || dtype >= MLXC_NUM_DTYPES || !val_eng[dtype].row) return MLXC_ERR_UNSUPPORTED;
    if (idx && len > (int64_t)UINT32_MAX) return MLXC_ERR_UNSUPPORTED;
    if (nrows <= 0 || len <= 0 || (!idx && len == 1)) return MLXC_OK;
    size_t isz = mlxc_itemsize(dtype);
    const engine *eng = idx ? arg_engine(dtype) : &val_eng[dtype];
    build_fn build = idx ? build_tab[dtype] : NULL;
    take_fn take = eng->kb == 8 && idx ? take_p64 : take_pk;
    int nt = mlxc_num_threads();
    if (nrows * len < PAR_TOTAL_MIN) nt = 1;
    /* scratch per row: one array (sort) or two (argsort: pairs and their copy) */
    int narr = idx ? 2 : 1;
    if ((uint64_t)len > SIZE_MAX / 4 / (eng->esz * (size_t)narr)) return MLXC_ERR_NOMEM;
    size_t row_bytes = (size_t)len * eng->esz * (size_t)narr;

    if (nt > 1 && nrows < nt && len >= PAR_ROW_MIN) {
        /* few long rows: each row by all threads */
        char *buf = malloc(row_bytes);
        int64_t *h = malloc(sizeof(int64_t) * (size_t)nt * 8 * NB);
        if (!buf || !h) { free(buf); free(h); return MLXC_ERR_NOMEM; }
        io_ctx io = {build, take, NULL, buf, idx, len, (len + nt - 1) / nt};
        int64_t nb = (len + io.bs - 1) / io.bs;
        for (int64_t r = 0; r < nrows; r++) {
            char *row = (char *)data + (size_t)r * (size_t)len * isz;
            if (idx) {
                char *b = buf + (size_t)len * eng->esz;
                io.data = row;
                io.idx = idx + r * len;
                io.e = buf;
                mlxc_parallel_for(nb, nt, task_build, &io);
                io.e = eng->par(buf, b, len, nt, h);
                mlxc_parallel_for(nb, nt, task_take, &io);
            } else {
                void *res = eng->par(row, buf, len, nt, h);
                if (res != row) memcpy(row, res, (size_t)len * isz);
            }
        }
        free(buf);
        free(h);
        return MLXC_OK;
    }
    /* rows spread over the threads, a chunk of rows (>= ~16K elements) a task */
    int64_t per = (16384 + len - 1) / len;
    if (per * nt * 4 > nrows) per = nrows / (nt * 4) > 0 ? nrows / (nt * 4) : 1;
    int64_t ntask = (nrows + per - 1) / per;
    if (nt > ntask) nt = (int)ntask;
    char *scratch = malloc(row_bytes * (size_t)nt);
    if (!scratch) return MLXC_ERR_NOMEM;
    rows_ctx c = {eng, build, take, data, idx, scratch, row_bytes, isz, nrows, len, per};
    mlxc_parallel_for(ntask, nt, sort_rows_task, &c);
    free(scratch);
    return MLXC_OK;
}

int mlxc_sort(int dtype, void *data, int64_t nrows, int64_t len)
{
    return sort_any(dtype, NULL, data, nrows, len);
}

int mlxc_argsort(int dtype, uint32_t *idx, const void *data, int64_t nrows, int64_t len)
{
    return sort_any(dtype, idx, (void *)data, nrows, len);
}
