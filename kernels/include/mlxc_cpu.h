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

/* Per family: the levels it has code for in this build, as a mask of MLXC_LEVEL bits.
 * A family dispatches to mlxc_isa_pick(its mask): the highest of its levels that the
 * level in force allows (scan, with AVX2 code only, runs AVX2 code on an AVX-512
 * machine).  cpu_info() reports the same pick per family, so what it says is what runs. */
#define MLXC_LEVEL(isa) (1u << (isa))
#define MLXC_LEVELS_SCALAR MLXC_LEVEL(MLXC_ISA_SCALAR)
#define MLXC_LEVELS_X86 (MLXC_LEVELS_SCALAR | MLXC_LEVEL(MLXC_ISA_AVX2) | MLXC_LEVEL(MLXC_ISA_AVX512))
#define MLXC_LEVELS_AVX2 (MLXC_LEVELS_SCALAR | MLXC_LEVEL(MLXC_ISA_AVX2))
int mlxc_isa_pick(unsigned levels);
extern const unsigned mlxc_levels_matmul, mlxc_levels_unary, mlxc_levels_binary,
    mlxc_levels_reduce, mlxc_levels_argreduce, mlxc_levels_scan, mlxc_levels_copy,
    mlxc_levels_cast, mlxc_levels_select, mlxc_levels_sort, mlxc_levels_gather, mlxc_levels_fft,
    mlxc_levels_conv, mlxc_levels_random, mlxc_levels_fast, mlxc_levels_quant;

#endif
