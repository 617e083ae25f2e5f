/* The per-SIMD-level sorting kernels of 32-bit keys (sort_simd_impl.h, compiled
 * by sort_avx2.c and sort_avx512.c) and the table mlxc_sort picks them from.
 * Internal to kernels/.
 *
 * Keys are signed int32.  A 32-bit element of kind SK_INT is its own key, SK_UINT
 * flips the sign bit, SK_FLOAT flips the magnitude bits of negatives: every map is
 * its own inverse and a bijection, so equal keys are equal bit patterns and any
 * sort of the keys is the stable sort of the elements -- except that the float
 * order mlxc sorts by has -0 == +0 and NaNs last in input order, which the keys
 * do not give: rows with a NaN or with zeros of both signs go to the stable
 * radix / merge sorts instead (SK_NAN, SK_NZERO, SK_PZERO say which are there). */
#ifndef MLXC_SORT_ISA_H
#define MLXC_SORT_ISA_H

#include <stdint.h>

enum { SK_INT = 0, SK_UINT = 1, SK_FLOAT = 2 };
enum { SK_NAN = 1, SK_NZERO = 2, SK_PZERO = 4 };
/* a row of floats with these flags needs the stable sort */
static inline int sk_needs_stable(int flags)
{
    return (flags & SK_NAN) || (flags & (SK_NZERO | SK_PZERO)) == (SK_NZERO | SK_PZERO);
}

#define SORT_NET_MAX 256       /* rows up to this long: one bitonic network */

struct sort_simd {
    void (*init)(void);        /* once before use (idempotent, thread-safe) */
    /* keys a[0, n) sorted in place (tmp: unused, may be NULL) */
    void (*keys)(int32_t *a, int32_t *tmp, int64_t n);
    /* a row of n <= SORT_NET_MAX elements of kind sorted from src into dst (may be
     * the same); returns 0, or 1 with dst untouched when it needs the stable sort */
    int (*row)(int32_t *dst, const int32_t *src, int64_t n, int kind);
    /* elements of kind from src -> keys to dst (may be the same); returns the SK_*
     * flags of what was seen (floats only) */
    int (*to_keys)(int32_t *dst, const int32_t *src, int64_t n, int kind);
    /* keys -> elements of kind, from src to dst (may be the same) */
    void (*from_keys)(int32_t *dst, const int32_t *src, int64_t n, int kind);
};

/* the kernels of the SIMD level in force, or NULL at the scalar level */
const struct sort_simd *mlxc_sort_simd(void);

extern const struct sort_simd mlxc_sort_simd_avx2, mlxc_sort_simd_avx512;

#endif
