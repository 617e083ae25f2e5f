/* mlxc_sort / mlxc_argsort against a reference: qsort of the indices with the
 * value order (NaN last and all NaNs equal, -0 == +0, decoded to double or
 * 64-bit integers here, independently of the kernel's bit keys) and the index
 * as the tiebreak, i.e. the one stable order.  argsort must equal it exactly
 * and sort must equal the input permuted by it, bit for bit (so -0 keeps its
 * sign and NaN its payload).  Every real dtype, inputs with NaN, inf, +-0,
 * subnormals, ties, sorted/reversed/constant runs, keys that differ only in
 * their top byte and keys that mostly share it (one big bucket); lengths
 * around the merge/radix/long-row and one-/all-thread switches; 1-3 threads.
 * Prints a summary; exit status 1 on failure. */
#include "mlxc_kernels.h"
#include "mlxc_threads.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long n_checks, n_fail;
static char ctx[200];
#define CHECK(cond, ...)                                                            \
    do {                                                                            \
        n_checks++;                                                                 \
        if (!(cond) && n_fail++ < 40) {                                             \
            printf("FAIL [%s] line %d: ", ctx, __LINE__);                           \
            printf(__VA_ARGS__);                                                    \
            printf("\n");                                                           \
        }                                                                           \
    } while (0)

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const char *dtname[] = {"bool", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64",
                               "f16", "bf16", "f32", "f64", "c64"};
static const int isz[] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 2, 2, 4, 8, 8};
static int is_flt(int dt) { return dt >= MLXC_FLOAT16 && dt <= MLXC_FLOAT64; }

/* ------------------------------------------------------------ decoding */
static double half_to_double(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    double s = (h & 0x8000) ? -1.0 : 1.0;
    if (e == 31) return m ? NAN : s * INFINITY;
    if (e == 0) return s * ldexp(m, -24);
    return s * ldexp(1024 + m, e - 25);
}
static double fval(int dt, const char *p)
{
    uint16_t h; uint32_t u; float f; double d;
    switch (dt) {
    case MLXC_FLOAT16: memcpy(&h, p, 2); return half_to_double(h);
    case MLXC_BFLOAT16: memcpy(&h, p, 2); u = (uint32_t)h << 16; memcpy(&f, &u, 4); return f;
    case MLXC_FLOAT32: memcpy(&f, p, 4); return f;
    default: memcpy(&d, p, 8); return d;
    }
}
static int64_t ival(int dt, const char *p)
{
    switch (dt) {
    case MLXC_BOOL: case MLXC_UINT8: return *(const uint8_t *)p;
    case MLXC_UINT16: { uint16_t v; memcpy(&v, p, 2); return v; }
    case MLXC_UINT32: { uint32_t v; memcpy(&v, p, 4); return v; }
    case MLXC_INT8: return *(const int8_t *)p;
    case MLXC_INT16: { int16_t v; memcpy(&v, p, 2); return v; }
    case MLXC_INT32: { int32_t v; memcpy(&v, p, 4); return v; }
    default: { int64_t v; memcpy(&v, p, 8); return v; }
    }
}

/* value order: -1, 0, 1 */
static int val_cmp(int dt, const char *a, const char *b)
{
    if (is_flt(dt)) {
        double x = fval(dt, a), y = fval(dt, b);
        int nx = isnan(x), ny = isnan(y);
        if (nx || ny) return nx - ny;
        return (x > y) - (x < y);
    }
    if (dt == MLXC_UINT64) {
        uint64_t x, y;
        memcpy(&x, a, 8); memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    int64_t x = ival(dt, a), y = ival(dt, b);
    return (x > y) - (x < y);
}

static int g_dt;
static const char *g_row;
static int ref_cmp(const void *pa, const void *pb)
{
    uint32_t i = *(const uint32_t *)pa, j = *(const uint32_t *)pb;
    int c = val_cmp(g_dt, g_row + (size_t)i * isz[g_dt], g_row + (size_t)j * isz[g_dt]);
    return c ? c : (i > j) - (i < j);
}

/* ------------------------------------------------------------ inputs */
/* an edge value's bits for a float dtype: NaNs of both signs and several
 * payloads, infinities, zeros, the smallest subnormal, the largest finite */
static uint64_t special_bits(int dt, int k)
{
    static const uint64_t h[] = {0x7e00, 0xfe00, 0x7c01, 0x7c00, 0xfc00, 0x0000, 0x8000, 0x0001, 0x8001, 0x7bff, 0xfbff};
    static const uint64_t bf[] = {0x7fc0, 0xffc0, 0x7f81, 0x7f80, 0xff80, 0x0000, 0x8000, 0x0001, 0x8001, 0x7f7f, 0xff7f};
    static const uint64_t f[] = {0x7fc00000, 0xffc00000, 0x7f800001, 0x7f800000, 0xff800000, 0, 0x80000000,
                                 1, 0x80000001, 0x7f7fffff, 0xff7fffff};
    static const uint64_t d[] = {0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff0000000000001ull,
                                 0x7ff0000000000000ull, 0xfff0000000000000ull, 0, 0x8000000000000000ull,
                                 1, 0x8000000000000001ull, 0x7fefffffffffffffull, 0xffefffffffffffffull};
    k %= 11;
    return dt == MLXC_FLOAT16 ? h[k] : dt == MLXC_BFLOAT16 ? bf[k] : dt == MLXC_FLOAT32 ? f[k] : d[k];
}
static void put(int dt, char *p, uint64_t bits)
{
    if (dt == MLXC_BOOL) bits &= 1;
    memcpy(p, &bits, (size_t)isz[dt]);   /* little-endian low bytes */
}
/* one random element: random bits, for floats an edge value one time in 6 */
static uint64_t rand_bits(int dt)
{
    if (is_flt(dt) && rnd() % 6 == 0) return special_bits(dt, (int)(rnd() % 11));
    return rnd();
}

enum { P_RANDOM, P_FEW, P_SORTED, P_REVERSED, P_CONST, P_ZEROS, P_TOPBYTE, P_SKEW, P_NPAT };
static const char *patname[] = {"random", "few", "sorted", "reversed", "const", "zeros", "topbyte", "skew"};

static void fill(int dt, char *row, int64_t len, int pat)
{
    size_t z = (size_t)isz[dt];
    uint64_t pool[7];
    for (int i = 0; i < 7; i++) pool[i] = rand_bits(dt);
    if (is_flt(dt)) { pool[0] = special_bits(dt, 5); pool[1] = special_bits(dt, 6); pool[2] = special_bits(dt, 0); }
    uint64_t low = rnd();
    for (int64_t i = 0; i < len; i++) {
        uint64_t b;
        switch (pat) {
        case P_FEW: b = pool[rnd() % 7]; break;
        case P_CONST: b = pool[2]; break;          /* NaN for floats */
        case P_ZEROS: b = is_flt(dt) ? special_bits(dt, 5 + (int)(rnd() % 2)) : rnd() % 2; break;
        case P_TOPBYTE: {                           /* only the top byte varies */
            int sh = 8 * (isz[dt] - 1);
            b = sh ? (low & ((1ull << sh) - 1)) | ((rnd() & 0xff) << sh) : rnd();
            break;
        }
        case P_SKEW: {                              /* 3/4 share the top byte */
            int sh = 8 * (isz[dt] - 1);
            b = rnd() % 4 ? (low << sh) ^ (rnd() & ((1ull << sh) - 1)) : rnd();
            break;
        }
        default: b = rand_bits(dt);
        }
        put(dt, row + (size_t)i * z, b);
    }
    if (pat == P_SORTED || pat == P_REVERSED) {
        /* sort the random row with the reference itself (then maybe reverse) */
        uint32_t *ix = malloc(sizeof(uint32_t) * (size_t)(len + 1));
        char *tmp = malloc((size_t)len * z + 1);
        for (int64_t i = 0; i < len; i++) ix[i] = (uint32_t)i;
        g_dt = dt; g_row = row;
        qsort(ix, (size_t)len, sizeof(uint32_t), ref_cmp);
        for (int64_t i = 0; i < len; i++) {
            int64_t o = pat == P_SORTED ? i : len - 1 - i;
            memcpy(tmp + (size_t)o * z, row + (size_t)ix[i] * z, z);
        }
        memcpy(row, tmp, (size_t)len * z);
        free(ix);
        free(tmp);
    }
}

/* ------------------------------------------------------------ the test */
static void check_case(int dt, int64_t nrows, int64_t len, int pat)
{
    size_t z = (size_t)isz[dt], n = (size_t)(nrows * len);
    char *data = malloc(n * z + 1), *sorted = malloc(n * z + 1);
    uint32_t *ref = malloc(sizeof(uint32_t) * (n + 1)), *idx = malloc(sizeof(uint32_t) * (n + 1));
    for (int64_t r = 0; r < nrows; r++) {
        char *row = data + (size_t)(r * len) * z;
        fill(dt, row, len, pat);
        uint32_t *rr = ref + r * len;
        for (int64_t i = 0; i < len; i++) rr[i] = (uint32_t)i;
        g_dt = dt; g_row = row;
        qsort(rr, (size_t)len, sizeof(uint32_t), ref_cmp);
    }
    static const int threads[] = {1, 2, 3};
    for (int ti = 0; ti < 3; ti++) {
        snprintf(ctx, sizeof ctx, "%s %lldx%lld %s threads=%d", dtname[dt], (long long)nrows,
                 (long long)len, patname[pat], threads[ti]);
        mlxc_set_num_threads(threads[ti]);
        memcpy(sorted, data, n * z);
        memset(idx, 0xee, sizeof(uint32_t) * n);
        int rc1 = mlxc_sort(dt, sorted, nrows, len);
        int rc2 = mlxc_argsort(dt, idx, data, nrows, len);
        CHECK(rc1 == MLXC_OK && rc2 == MLXC_OK, "rc %d %d", rc1, rc2);
        size_t bad_i = n, bad_s = n;
        for (size_t k = 0; k < n; k++) {
            if (idx[k] != ref[k] && bad_i == n) bad_i = k;
            size_t row0 = k / (size_t)len * (size_t)len;
            if (memcmp(sorted + k * z, data + (row0 + ref[k]) * z, z) != 0 && bad_s == n) bad_s = k;
        }
        CHECK(bad_i == n, "argsort differs at %zu: %u, want %u", bad_i, bad_i < n ? idx[bad_i] : 0,
              bad_i < n ? ref[bad_i] : 0);
        CHECK(bad_s == n, "sort differs at %zu", bad_s);
    }
    mlxc_set_num_threads(0);
    free(data); free(sorted); free(ref); free(idx);
}

int main(void)
{
    const char *s = getenv("MLXC_TEST_SEED");
    if (s && *s) rng ^= strtoull(s, NULL, 10) * 0x9e3779b97f4a7c15ull;
    /* around the merge/radix switch of each key width (56, 80, 128, 224) */
    static const int64_t lens[] = {0, 1, 2, 16, 17, 33, 55, 56, 79, 80, 127, 128, 223, 224, 256, 1000, 100000};
    for (int dt = 0; dt < MLXC_NUM_DTYPES; dt++) {
        if (dt == MLXC_COMPLEX64) {
            snprintf(ctx, sizeof ctx, "complex64");
            char buf[16] = {0};
            uint32_t ix[2];
            CHECK(mlxc_sort(dt, buf, 1, 2) == MLXC_ERR_UNSUPPORTED, "complex sort accepted");
            CHECK(mlxc_argsort(dt, ix, buf, 1, 2) == MLXC_ERR_UNSUPPORTED, "complex argsort accepted");
            continue;
        }
        for (int pat = 0; pat < P_NPAT; pat++) {
            for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
                check_case(dt, 1, lens[l], pat);
            /* many rows: one-thread rows, rows over threads, two long rows */
            check_case(dt, 50, 33, pat);
            check_case(dt, 40, 1000, pat);
            check_case(dt, 2, 70000, pat);
        }
        check_case(dt, 0, 10, P_RANDOM);
        check_case(dt, 4, 0, P_RANDOM);
    }
    printf("test_sort: %ld checks, %ld failed\n", n_checks, n_fail);
    return n_fail != 0;
}
