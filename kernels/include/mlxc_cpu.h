/* CPU feature probe and SIMD level selection (internal to kernels/).
 * The level is probed once and cached; MLXC_CPU_ISA=scalar|neon|avx2|avx512
 * forces a lower level (never one the CPU or OS lacks). */
#ifndef MLXC_CPU_H
#define MLXC_CPU_H

#include "mlxc_kernels.h"

/* Ordered within an architecture: x86-64 scalar < avx2 < avx512.
 *   avx2   = AVX2 + FMA + F16C with the YMM state enabled by the OS
 *   avx512 = avx2 + AVX-512 F/DQ/BW/VL with the ZMM state enabled
 *   neon   = arm64 Advanced SIMD (always present there) */
enum mlxc_isa {
    MLXC_ISA_SCALAR = 0,
    MLXC_ISA_NEON = 1,
    MLXC_ISA_AVX2 = 2,
    MLXC_ISA_AVX512 = 3,
    MLXC_ISA_COUNT
};

/* the best level this CPU + OS supports (ignores MLXC_CPU_ISA) */
int mlxc_cpu_detected_isa(void);

/* Tests only: force a level (clamped to the detected one) for every kernel
 * called afterwards; a negative value restores the MLXC_CPU_ISA / detected
 * choice.  Returns the level now in force.  Not meant to race with running
 * kernels (a kernel reads the level once per call). */
int mlxc_cpu_set_isa(int isa);

#endif
