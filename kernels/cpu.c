/* CPU feature probe: which SIMD level the kernels may use.
 * x86-64: cpuid says what the CPU implements, xgetbv says what the OS saves
 * on a context switch; wide registers are only usable when both agree.
 * The answer is computed once and cached (a benign race: every thread
 * computes the same value). */
#include <stdlib.h>
#include <string.h>
#include "mlxc_cpu.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define MLXC_X86 1
#include <cpuid.h>

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    /* xgetbv with ecx = 0 reads XCR0; encoded as bytes so no -mxsave is needed */
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int probe(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return MLXC_ISA_SCALAR;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1,
        f16c = (c >> 29) & 1;
    if (!(osxsave && avx && fma && f16c)) return MLXC_ISA_SCALAR;
    uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return MLXC_ISA_SCALAR;        /* XMM + YMM state */
    if (__get_cpuid_max(0, NULL) < 7) return MLXC_ISA_SCALAR;
    __cpuid_count(7, 0, a, b, c, d);
    if (!((b >> 5) & 1)) return MLXC_ISA_SCALAR;            /* AVX2 */
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    if (f && dq && bw && vl && (xcr0 & 0xe0) == 0xe0)      /* opmask + ZMM state */
        return MLXC_ISA_AVX512;
    return MLXC_ISA_AVX2;
}
#elif defined(__aarch64__) || defined(_M_ARM64)
static int probe(void) { return MLXC_ISA_NEON; }          /* Advanced SIMD is mandatory */
#else
static int probe(void) { return MLXC_ISA_SCALAR; }
#endif

static const char *const names[MLXC_ISA_COUNT] = {"scalar", "neon", "avx2", "avx512"};

const char *mlxc_isa_name(int isa)
{
    return isa >= 0 && isa < MLXC_ISA_COUNT ? names[isa] : "unknown";
}

/* is level `want` usable on a CPU whose best level is `have`? */
static int allowed(int want, int have)
{
    if (want == MLXC_ISA_SCALAR) return 1;
    if (want == MLXC_ISA_NEON) return have == MLXC_ISA_NEON;
    return have != MLXC_ISA_NEON && want <= have;          /* x86 levels are ordered */
}

static int detected = -1, env_choice = -1, forced = -1;

int mlxc_cpu_detected_isa(void)
{
    int d = __atomic_load_n(&detected, __ATOMIC_RELAXED);
    if (d < 0) {
        d = probe();
        __atomic_store_n(&detected, d, __ATOMIC_RELAXED);
    }
    return d;
}

static int from_env(void)
{
    int e = __atomic_load_n(&env_choice, __ATOMIC_RELAXED);
    if (e >= 0) return e;
    int have = mlxc_cpu_detected_isa();
    e = have;
    const char *s = getenv("MLXC_CPU_ISA");
    if (s) {
        for (int i = 0; i < MLXC_ISA_COUNT; i++)
            if (strcmp(s, names[i]) == 0) {
                /* a level above the CPU's is clamped to the CPU's */
                e = allowed(i, have) ? i : have;
                break;
            }
    }
    __atomic_store_n(&env_choice, e, __ATOMIC_RELAXED);
    return e;
}

int mlxc_cpu_isa(void)
{
    int f = __atomic_load_n(&forced, __ATOMIC_RELAXED);
    return f >= 0 ? f : from_env();
}

int mlxc_isa_pick(unsigned levels)
{
    int cur = mlxc_cpu_isa();
    for (int i = MLXC_ISA_COUNT - 1; i > 0; i--)
        if ((levels & MLXC_LEVEL(i)) && allowed(i, cur)) return i;
    return MLXC_ISA_SCALAR;
}

int mlxc_cpu_set_isa(int isa)
{
    int have = mlxc_cpu_detected_isa();
    int f = isa < 0 ? -1 : isa >= MLXC_ISA_COUNT || !allowed(isa, have) ? have : isa;
    __atomic_store_n(&forced, f, __ATOMIC_RELAXED);
    return mlxc_cpu_isa();
}
