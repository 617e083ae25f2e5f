/* Vector math for float32 (internal to kernels/): SIMD polynomial kernels per
 * ISA level, used by unary.c (float32, and float16/bfloat16 through float32)
 * and binary.c (POWER).  The algorithms live once in vmath_impl.h and are
 * compiled per level by vmath_avx2.c and vmath_avx512.c; vmath.c holds the
 * dispatch table and the stated error bounds.
 *
 * Every kernel maps element i of `in` to element i of `out` alone (n >= 0,
 * out may equal in), so any split of the work gives bit-identical results,
 * and the result of an element does not depend on its position (the tail of
 * an array is computed by the same vector code as its body). */
#ifndef MLXC_VMATH_H
#define MLXC_VMATH_H

#include <stdint.h>

enum mlxc_vm_func {
    MLXC_VM_EXP = 0, MLXC_VM_EXPM1, MLXC_VM_LOG, MLXC_VM_LOG1P, MLXC_VM_LOG2,
    MLXC_VM_SIN, MLXC_VM_COS, MLXC_VM_TAN, MLXC_VM_TANH, MLXC_VM_SIGMOID,
    MLXC_VM_ERF, MLXC_VM_ERFINV,
    MLXC_VM_NUM
};

typedef void (*mlxc_vm_fn)(float *out, const float *in, int64_t n);
/* out[i] = pow(a[i * sa], b[i * sb]), sa and sb in {0, 1} */
typedef void (*mlxc_vm_pow_fn)(float *out, const float *a, int64_t sa,
                               const float *b, int64_t sb, int64_t n);

/* the kernel of `func` at SIMD level `isa` (enum mlxc_isa); NULL when that
 * level has none (scalar, neon): the caller keeps its libm loop */
mlxc_vm_fn mlxc_vm_f32(int func, int isa);
mlxc_vm_pow_fn mlxc_vm_pow_f32(int isa);

/* the vector-math function computing unary op `op` (enum mlxc_unary_op), or -1 */
int mlxc_vm_of_unary(int op);

/* stated maximum error in ulp of each function (and of pow, MLXC_VM_NUM),
 * checked by tests/c/test_vmath.c against a float64 reference */
extern const double mlxc_vm_ulp_bound[MLXC_VM_NUM + 1];
const char *mlxc_vm_name(int func);

/* per-level kernels (defined only on x86-64 with gcc/clang) */
#define MLXC_VM_DECL(sfx)                                                           \
    void mlxc_vm_exp_f32_##sfx(float *, const float *, int64_t);                     \
    void mlxc_vm_expm1_f32_##sfx(float *, const float *, int64_t);                   \
    void mlxc_vm_log_f32_##sfx(float *, const float *, int64_t);                     \
    void mlxc_vm_log1p_f32_##sfx(float *, const float *, int64_t);                   \
    void mlxc_vm_log2_f32_##sfx(float *, const float *, int64_t);                    \
    void mlxc_vm_sin_f32_##sfx(float *, const float *, int64_t);                     \
    void mlxc_vm_cos_f32_##sfx(float *, const float *, int64_t);                     \
    void mlxc_vm_tan_f32_##sfx(float *, const float *, int64_t);                     \
    void mlxc_vm_tanh_f32_##sfx(float *, const float *, int64_t);                    \
    void mlxc_vm_sigmoid_f32_##sfx(float *, const float *, int64_t);                 \
    void mlxc_vm_erf_f32_##sfx(float *, const float *, int64_t);                     \
    void mlxc_vm_erfinv_f32_##sfx(float *, const float *, int64_t);                  \
    void mlxc_vm_pow_f32_##sfx(float *, const float *, int64_t, const float *, int64_t, int64_t);
MLXC_VM_DECL(avx2)
MLXC_VM_DECL(avx512)

#endif
