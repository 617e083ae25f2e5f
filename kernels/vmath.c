/* Vector math dispatch: which kernel computes a function at a SIMD level, and
 * the error bound each function is stated (and tested) to meet. */
#include <stddef.h>
#include "mlxc_cpu.h"
#include "vmath.h"

/* Maximum error in ulp against the exact value (float64 reference), over all
 * float32 inputs, at every level; see tests/c/test_vmath.c.  Measured maxima
 * (dense sweep, AVX2 and AVX-512 agree bit for bit) are in vmath_impl.h.
 * Target of the kernels issue: <= 2 for the exp/log family, <= 4 elsewhere. */
const double mlxc_vm_ulp_bound[MLXC_VM_NUM + 1] = {
    [MLXC_VM_EXP] = 2, [MLXC_VM_EXPM1] = 2, [MLXC_VM_LOG] = 2, [MLXC_VM_LOG1P] = 2,
    [MLXC_VM_LOG2] = 2, [MLXC_VM_SIN] = 4, [MLXC_VM_COS] = 4, [MLXC_VM_TAN] = 4,
    [MLXC_VM_TANH] = 4, [MLXC_VM_SIGMOID] = 4, [MLXC_VM_ERF] = 4, [MLXC_VM_ERFINV] = 4,
    [MLXC_VM_NUM] = 2,   /* pow */
};

static const char *const vm_names[MLXC_VM_NUM + 1] = {
    "exp", "expm1", "log", "log1p", "log2", "sin", "cos", "tan", "tanh", "sigmoid",
    "erf", "erfinv", "pow",
};

const char *mlxc_vm_name(int func)
{
    return func >= 0 && func <= MLXC_VM_NUM ? vm_names[func] : "unknown";
}

int mlxc_vm_of_unary(int op)
{
    switch (op) {
    case MLXC_EXP: return MLXC_VM_EXP;
    case MLXC_EXPM1: return MLXC_VM_EXPM1;
    case MLXC_LOG: return MLXC_VM_LOG;
    case MLXC_LOG1P: return MLXC_VM_LOG1P;
    case MLXC_LOG2: return MLXC_VM_LOG2;
    case MLXC_SIN: return MLXC_VM_SIN;
    case MLXC_COS: return MLXC_VM_COS;
    case MLXC_TAN: return MLXC_VM_TAN;
    case MLXC_TANH: return MLXC_VM_TANH;
    case MLXC_SIGMOID: return MLXC_VM_SIGMOID;
    case MLXC_ERF: return MLXC_VM_ERF;
    case MLXC_ERFINV: return MLXC_VM_ERFINV;
    default: return -1;
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VM_ROW(sfx)                                                                 \
    {mlxc_vm_exp_f32_##sfx, mlxc_vm_expm1_f32_##sfx, mlxc_vm_log_f32_##sfx,           \
     mlxc_vm_log1p_f32_##sfx, mlxc_vm_log2_f32_##sfx, mlxc_vm_sin_f32_##sfx,          \
     mlxc_vm_cos_f32_##sfx, mlxc_vm_tan_f32_##sfx, mlxc_vm_tanh_f32_##sfx,            \
     mlxc_vm_sigmoid_f32_##sfx, mlxc_vm_erf_f32_##sfx, mlxc_vm_erfinv_f32_##sfx}
static const mlxc_vm_fn vm_tab[MLXC_ISA_COUNT][MLXC_VM_NUM] = {
    [MLXC_ISA_AVX2] = VM_ROW(avx2),
    [MLXC_ISA_AVX512] = VM_ROW(avx512),
};
static const mlxc_vm_pow_fn vm_pow_tab[MLXC_ISA_COUNT] = {
    [MLXC_ISA_AVX2] = mlxc_vm_pow_f32_avx2,
    [MLXC_ISA_AVX512] = mlxc_vm_pow_f32_avx512,
};
#else
static const mlxc_vm_fn vm_tab[MLXC_ISA_COUNT][MLXC_VM_NUM];
static const mlxc_vm_pow_fn vm_pow_tab[MLXC_ISA_COUNT];
#endif

/* the levels vm_tab has rows for: the unary family's (and the fused programs') SIMD
 * levels (mlxc_cpu.h: cpu_info reports the pick) */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
const unsigned mlxc_levels_unary = MLXC_LEVELS_X86;
#else
const unsigned mlxc_levels_unary = MLXC_LEVELS_SCALAR;
#endif

mlxc_vm_fn mlxc_vm_f32(int func, int isa)
{
    if (func < 0 || func >= MLXC_VM_NUM || isa < 0 || isa >= MLXC_ISA_COUNT) return NULL;
    return vm_tab[isa][func];
}

mlxc_vm_pow_fn mlxc_vm_pow_f32(int isa)
{
    return isa >= 0 && isa < MLXC_ISA_COUNT ? vm_pow_tab[isa] : NULL;
}
