/* Vector math at the AVX2 + FMA level: the operations vmath_impl.h needs, on
 * 8 float32 lanes (__m256), then the shared algorithms. */
#include <math.h>
#include <stdint.h>
#include "vmath.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd_avx2.h"
#include "vmath_impl.h"

#endif
