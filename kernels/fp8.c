/* mlxc_to_fp8 / mlxc_from_fp8: float8 e4m3 ("fn": bias 7, no infinities, 0x7f and 0xff
 * are NaN, largest finite +-448) held in uint8, as MLX's to_fp8 / from_fp8 use it.
 *
 * to_fp8 rounds to nearest, ties to even.  Like MLX it saturates: every |x| > 448,
 * +-inf and NaN give +-448 (0x7e with x's sign bit).  Integer bit arithmetic on the
 * input's bits, so the result does not depend on the FPU's rounding or denormal modes,
 * and the loops vectorize at the baseline ISA (a conversion is a few integer ops per
 * element; no per-ISA variants).  float16 / bfloat16 widen exactly to float32 first;
 * float64 rounds from its own bits (one rounding, never through float32).
 * from_fp8 is exact in every floating output type; NaN codes give MLX's NaN bits. */
#include "internal.h"
#include "mlxc_threads.h"
#include "e4m3.h"

static inline uint8_t e4m3_from_f64(uint64_t u)
{
    uint32_t sign = (uint32_t)(u >> 56) & 0x80u;
    uint64_t a = u & 0x7fffffffffffffffull;
    uint64_t r;
    if (a > 0x407c000000000000ull) {        /* above 448 (inf, NaN too): saturate */
        r = 0x7eu;
    } else if (a < 0x3f90000000000000ull) { /* below 2^-6 */
        uint64_t e = a >> 52;
        uint64_t m = (a & 0xfffffffffffffull) | (e ? 0x10000000000000ull : 0u);
        uint64_t shift = 52u + 1023u - 9u - (e ? e : 1u);
        if (shift > 63u) {
            r = 0u;
        } else {
            uint64_t q = m >> shift, rem = m & ((1ull << shift) - 1u), half = 1ull << (shift - 1u);
            r = q + (rem > half || (rem == half && (q & 1u)));
        }
    } else {
        r = ((a + 0xffffffffffffull + ((a >> 49) & 1u)) >> 49) - ((1023u - 7u) << 3);
    }
    return (uint8_t)(sign | r);
}

typedef struct {
    int dtype;
    void *out;
    const void *in;
    int64_t n, chunk;
    int to;
} fp8_job;

static void fp8_range(const fp8_job *j, int64_t lo, int64_t hi)
{
    if (j->to) {
        uint8_t *o = j->out;
        switch (j->dtype) {
        case MLXC_FLOAT32: {
            const uint32_t *x = j->in;
            for (int64_t i = lo; i < hi; i++) o[i] = e4m3_from_f32(x[i]);
            break;
        }
        case MLXC_FLOAT16: {
            const uint16_t *x = j->in;
            for (int64_t i = lo; i < hi; i++) o[i] = e4m3_from_f32(mlxc_f2u(mlxc_h2f(x[i])));
            break;
        }
        case MLXC_BFLOAT16: {
            const uint16_t *x = j->in;
            for (int64_t i = lo; i < hi; i++) o[i] = e4m3_from_f32((uint32_t)x[i] << 16);
            break;
        }
        default: {                                   /* MLXC_FLOAT64 */
            const uint64_t *x = j->in;
            for (int64_t i = lo; i < hi; i++) o[i] = e4m3_from_f64(x[i]);
            break;
        }
        }
        return;
    }
    const uint8_t *c = j->in;
    switch (j->dtype) {
    case MLXC_FLOAT32: {
        uint32_t *o = j->out;
        for (int64_t i = lo; i < hi; i++) o[i] = e4m3_to_f32(c[i]);
        break;
    }
    case MLXC_FLOAT16: {
        uint16_t *o = j->out;
        for (int64_t i = lo; i < hi; i++)
            o[i] = mlxc_f2h_mlx(mlxc_u2f(e4m3_to_f32(c[i])));
        break;
    }
    case MLXC_BFLOAT16: {
        uint16_t *o = j->out;     /* every e4m3 value has <= 4 significant bits: exact */
        for (int64_t i = lo; i < hi; i++)
            o[i] = mlxc_f2bf_mlx(mlxc_u2f(e4m3_to_f32(c[i])));
        break;
    }
    default: {                                       /* MLXC_FLOAT64 */
        double *o = j->out;
        for (int64_t i = lo; i < hi; i++)
            o[i] = E4M3_NAN(c[i]) ? ((c[i] & 0x80u) ? -NAN : NAN)
                                  : (double)mlxc_u2f(e4m3_to_f32(c[i]));
        break;
    }
    }
}

static void fp8_task(void *ctx, int64_t t, int tid)
{
    (void)tid;
    const fp8_job *j = ctx;
    int64_t lo = t * j->chunk, hi = lo + j->chunk < j->n ? lo + j->chunk : j->n;
    fp8_range(j, lo, hi);
}

static int fp8_run(fp8_job *j)
{
    if (j->dtype != MLXC_FLOAT32 && j->dtype != MLXC_FLOAT16 && j->dtype != MLXC_BFLOAT16 &&
        j->dtype != MLXC_FLOAT64)
        return MLXC_ERR_UNSUPPORTED;
    if (j->n <= 0) return MLXC_OK;
    j->chunk = 1 << 16;                  /* elementwise: the split never changes a result */
    int64_t tasks = (j->n + j->chunk - 1) / j->chunk;
    if (tasks == 1) fp8_range(j, 0, j->n);
    else mlxc_parallel_for(tasks, mlxc_num_threads(), fp8_task, j);
    return MLXC_OK;
}

int mlxc_to_fp8(int dtype, uint8_t *out, const void *in, int64_t n)
{
    fp8_job j = {dtype, out, in, n, 0, 1};
    return fp8_run(&j);
}

int mlxc_from_fp8(int dtype, void *out, const uint8_t *in, int64_t n)
{
    fp8_job j = {dtype, out, in, n, 0, 0};
    return fp8_run(&j);
}
