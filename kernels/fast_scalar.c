/* The mx.fast kernels (fast_impl.h) at the scalar level: one-lane stand-ins for the
 * vector operations, libm for the transcendental functions.  Also the table that
 * picks a level's kernels. */
#include <math.h>
#include <stdint.h>
#include "mlxc_cpu.h"

#define VW 1
#define FN static inline
#define KFN
#define SFX(name) name##_scalar
typedef float VF;

FN VF vset(float a) { return a; }
FN VF vadd(VF a, VF b) { return a + b; }
FN VF vsub(VF a, VF b) { return a - b; }
FN VF vmul(VF a, VF b) { return a * b; }
FN VF vfma(VF a, VF b, VF c) { return a * b + c; }
FN VF vmax(VF a, VF b) { return a > b ? a : b; }
FN VF vload(const float *p) { return *p; }
FN void vstore(float *p, VF v) { *p = v; }
FN float vhsum(VF a) { return a; }
FN float vhmax(VF a) { return a; }
FN VF v_exp(VF x) { return expf(x); }
FN VF v_sin(VF x) { return sinf(x); }
FN VF v_cos(VF x) { return cosf(x); }

#include "fast_impl.h"

#define FK_ROW(sfx) {mlxc_fk_rms_row_##sfx, mlxc_fk_ln_row_##sfx, mlxc_fk_sincos_##sfx, \
                     mlxc_fk_rope_row_##sfx, mlxc_fk_attn_##sfx, mlxc_fk_attn_bwd_stats_##sfx, \
                     mlxc_fk_attn_bwd_kv_##sfx}
static const struct fk_table fk_scalar = FK_ROW(scalar);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
static const struct fk_table fk_avx2 = FK_ROW(avx2);
static const struct fk_table fk_avx512 = FK_ROW(avx512);
#endif

const struct fk_table *mlxc_fk_table(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    int isa = mlxc_isa_pick(mlxc_levels_fast);
    if (isa == MLXC_ISA_AVX512) return &fk_avx512;
    if (isa == MLXC_ISA_AVX2) return &fk_avx2;
#endif
    return &fk_scalar;
}

/* the SIMD levels this family has code for (mlxc_cpu.h: cpu_info reports the pick) */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
const unsigned mlxc_levels_fast = MLXC_LEVELS_X86;
#else
const unsigned mlxc_levels_fast = MLXC_LEVELS_SCALAR;
#endif
