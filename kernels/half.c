/* float16 / bfloat16 <-> float32 conversions exported for the engine.
 * The branch-free inline versions live in internal.h so every kernel shares
 * the same rounding. */
#include "internal.h"

float mlxc_half_to_float(uint16_t h) { return mlxc_h2f(h); }
uint16_t mlxc_float_to_half(float f) { return mlxc_f2h(f); }
float mlxc_bf16_to_float(uint16_t h) { return mlxc_bf2f(h); }
uint16_t mlxc_float_to_bf16(float f) { return mlxc_f2bf(f); }
