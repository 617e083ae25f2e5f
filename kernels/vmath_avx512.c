/* Vector math at the AVX-512 (F/DQ/BW/VL) level: the operations vmath_impl.h
 * needs, on 16 float32 lanes (__m512) with mask registers, then the shared
 * algorithms. */
#include <math.h>
#include <stdint.h>
#include "vmath.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include "simd_avx512.h"
#include "vmath_impl.h"

#endif
