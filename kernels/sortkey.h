/* Order-preserving integer keys of every sortable dtype, shared by mlxc_sort
 * (radix digits, merge compares) and mlxc_searchsorted (binary-search compares):
 * unsigned integers as they are, signed with the sign bit flipped, floats by FKEY
 * below.  Comparing keys as unsigned integers gives the dtype's order with NaN last
 * (all NaNs equal) and -0 == +0. */
#ifndef MLXC_SORTKEY_H
#define MLXC_SORTKEY_H
#include <stdint.h>
#include <string.h>

static inline uint8_t key_b(uint8_t x) { return x; }
static inline uint8_t key_u8(uint8_t x) { return x; }
static inline uint16_t key_u16(uint16_t x) { return x; }
static inline uint32_t key_u32(uint32_t x) { return x; }
static inline uint64_t key_u64(uint64_t x) { return x; }
static inline uint8_t key_i8(int8_t x) { return (uint8_t)((uint8_t)x ^ 0x80u); }
static inline uint16_t key_i16(int16_t x) { return (uint16_t)((uint16_t)x ^ 0x8000u); }
static inline uint32_t key_i32(int32_t x) { return (uint32_t)x ^ 0x80000000u; }
static inline uint64_t key_i64(int64_t x) { return (uint64_t)x ^ 0x8000000000000000ull; }

/* float bits u (type T) with sign bit SIGN and infinity's magnitude INF:
 * positives get the sign bit set, negatives are complemented (larger magnitude,
 * smaller key); zeros of either sign -> the +0 key, NaN -> the top key */
#define FKEY(T, u, SIGN, INF)                                                       \
    T a_ = (T)((u) & (T)~(SIGN));                                                   \
    T k_ = ((u) & (SIGN)) ? (T)~(u) : (T)((u) | (SIGN));                            \
    k_ = a_ == 0 ? (T)(SIGN) : k_;                                                  \
    return a_ > (INF) ? (T)~(T)0 : k_
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
#undef FKEY

#endif
