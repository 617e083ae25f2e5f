/* float8 e4m3 ("fn": bias 7, no infinities, 0x7f/0xff NaN, largest finite +-448)
 * from and to float32 bits: shared by fp8.c (to_fp8 / from_fp8) and quant.c (the
 * mxfp8 elements and nvfp4 scales of quantize).  Conversion rules: see fp8.c. */
#ifndef MLXC_E4M3_H
#define MLXC_E4M3_H
#include "internal.h"

static inline uint8_t e4m3_from_f32(uint32_t u)
{
    uint32_t sign = (u >> 24) & 0x80u;
    uint32_t a = u & 0x7fffffffu;
    uint32_t r;
    if (a > 0x43e00000u) {                 /* above 448 (inf, NaN too): saturate */
        r = 0x7eu;
    } else if (a < 0x3c800000u) {          /* below 2^-6: multiples of 2^-9 */
        /* a / 2^-9 < 8 as an integer, rounding half to even by hand: the quotient's
         * integer part and the dropped bits of the mantissa, from the bits alone */
        uint32_t e = a >> 23;              /* biased exponent, < 121 */
        uint32_t m = (a & 0x7fffffu) | (e ? 0x800000u : 0u);
        uint32_t shift = 23u + 127u - 9u - (e ? e : 1u);   /* value = m * 2^-shift * 2^-9 */
        if (shift > 31u) {
            r = 0u;                        /* below 2^-10 (or zero): rounds to 0 */
        } else {
            uint32_t q = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
            r = q + (rem > half || (rem == half && (q & 1u)));
        }
    } else {                               /* normal: keep 3 mantissa bits, ties to even */
        r = ((a + 0x7ffffu + ((a >> 20) & 1u)) >> 20) - ((127u - 7u) << 3);
    }
    return (uint8_t)(sign | r);
}

/* NaN codes decode to MLX's bit patterns: float32 sign | 0x7ff00000, float16
 * sign | 0x7d00, bfloat16 0x7fc0 (sign dropped); float64 sign | the quiet NaN. */
#define E4M3_NAN(c) (((c) & 0x7fu) == 0x7fu)

/* The value of an e4m3 code as float32 bits (exact). */
static inline uint32_t e4m3_to_f32(uint8_t c)
{
    uint32_t sign = (uint32_t)(c & 0x80u) << 24;
    uint32_t e = (c >> 3) & 15u, m = c & 7u;
    if (E4M3_NAN(c)) return sign | 0x7ff00000u;
    if (e == 0u) return sign | mlxc_f2u((float)m * 0x1p-9f);      /* subnormal (exact) */
    return sign | ((e + 127u - 7u) << 23) | (m << 20);
}

#endif
