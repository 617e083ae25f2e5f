/* The mx.fast kernels (fast_impl.h) at the AVX512 level, with vmath_impl.h's
 * exp / sin / cos inlined. */
#include <math.h>
#include <stdint.h>
#include "vmath.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd_avx512.h"
#define VMATH_ALGORITHMS_ONLY
#include "vmath_impl.h"
#include "fast_impl.h"

#endif
