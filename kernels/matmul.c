/* mlxc_matmul: blocked GEMM in the GotoBLAS style.  A (MC x KC) and B
 * (KC x NC) blocks are packed into MR-row / NR-column panels (zero padded, so
 * the micro-kernel has no edge cases) and a fixed-size register-blocked
 * micro-kernel accumulates MR x NR tiles that gcc vectorizes.
 * Half types are packed as float and accumulate in float; complex64 runs four
 * real float GEMMs on the real/imag planes. */
#include "internal.h"

#define KC 256
#define MC 64
#define NC 512

/* name, element type of A/B, compute type T, MR, NR */
#define GEN_GEMM(N, T, MR, NR)                                                      \
static void micro_##N(int64_t kc, const T *restrict a, const T *restrict b,         \
                      T *restrict c, int64_t ldc, int64_t mr, int64_t nr)            \
{                                                                                   \
    T acc[MR][NR];                                                                  \
    for (int r = 0; r < MR; r++)                                                    \
        for (int q = 0; q < NR; q++) acc[r][q] = 0;                                 \
    for (int64_t p = 0; p < kc; p++) {                                              \
        const T *ap = a + p * MR, *bp = b + p * NR;                                 \
        for (int r = 0; r < MR; r++)                                                \
            for (int q = 0; q < NR; q++) acc[r][q] += ap[r] * bp[q];                \
    }                                                                               \
    if (mr == MR && nr == NR) {                                                     \
        for (int r = 0; r < MR; r++)                                                \
            for (int q = 0; q < NR; q++) c[r * ldc + q] += acc[r][q];               \
    } else {                                                                        \
        for (int64_t r = 0; r < mr; r++)                                            \
            for (int64_t q = 0; q < nr; q++) c[r * ldc + q] += acc[r][q];           \
    }                                                                               \
}                                                                                   \
/* C (M x N, row stride N, compute type) += sign * A @ B */                         \
static void gemm_##N(int64_t M, int64_t Nn, int64_t K,                              \
                     const STY_##N *A, int64_t ars, int64_t acs,                    \
                     const STY_##N *B, int64_t brs, int64_t bcs,                    \
                     T *C, T sign, T *Ap, T *Bp)                                    \
{                                                                                   \
    for (int64_t jb = 0; jb < Nn; jb += NC) {                                       \
        int64_t nc = Nn - jb < NC ? Nn - jb : NC;                                   \
        for (int64_t pb = 0; pb < K; pb += KC) {                                    \
            int64_t kc = K - pb < KC ? K - pb : KC;                                 \
            /* pack B[pb:pb+kc, jb:jb+nc] into NR-wide panels */                    \
            for (int64_t jp = 0; jp < nc; jp += NR) {                               \
                T *dst = Bp + jp * kc;                                              \
                for (int64_t p = 0; p < kc; p++) {                                  \
                    const STY_##N *src = B + (pb + p) * brs + (jb + jp) * bcs;      \
                    for (int64_t q = 0; q < NR; q++)                                \
                        dst[p * NR + q] = jp + q < nc ? LD_##N(src[q * bcs]) : (T)0; \
                }                                                                   \
            }                                                                       \
            for (int64_t ib = 0; ib < M; ib += MC) {                                \
                int64_t mc = M - ib < MC ? M - ib : MC;                             \
                for (int64_t ip = 0; ip < mc; ip += MR) {                           \
                    T *dst = Ap + ip * kc;                                          \
                    for (int64_t p = 0; p < kc; p++) {                              \
                        const STY_##N *src = A + (ib + ip) * ars + (pb + p) * acs;  \
                        for (int64_t r = 0; r < MR; r++)                            \
                            dst[p * MR + r] = ip + r < mc ? sign * LD_##N(src[r * ars]) : (T)0; \
                    }                                                               \
                }                                                                   \
                for (int64_t jp = 0; jp < nc; jp += NR)                             \
                    for (int64_t ip = 0; ip < mc; ip += MR)                         \
                        micro_##N(kc, Ap + ip * kc, Bp + jp * kc,                   \
                                  C + (ib + ip) * Nn + jb + jp, Nn,                 \
                                  mc - ip < MR ? mc - ip : MR, nc - jp < NR ? nc - jp : NR); \
            }                                                                       \
        }                                                                           \
    }                                                                               \
}

GEN_GEMM(f32, float, 4, 8)
GEN_GEMM(f64, double, 4, 4)
GEN_GEMM(f16, float, 4, 8)
GEN_GEMM(bf16, float, 4, 8)

int mlxc_matmul(int dtype, int64_t batch, int64_t M, int64_t N, int64_t K,
                const void *A, int64_t a_bs, int64_t a_rs, int64_t a_cs,
                const void *B, int64_t b_bs, int64_t b_rs, int64_t b_cs,
                void *C)
{
    if (dtype != MLXC_FLOAT32 && dtype != MLXC_FLOAT64 && dtype != MLXC_FLOAT16
        && dtype != MLXC_BFLOAT16 && dtype != MLXC_COMPLEX64)
        return MLXC_ERR_UNSUPPORTED;
    if (batch <= 0 || M <= 0 || N <= 0) return MLXC_OK;
    size_t z = mlxc_itemsize(dtype), mn = (size_t)(M * N);
    if (K <= 0) { memset(C, 0, (size_t)batch * mn * z); return MLXC_OK; }
    size_t ts = dtype == MLXC_FLOAT64 ? sizeof(double) : sizeof(float);
    size_t kc = (size_t)(K < KC ? K : KC);
    /* packing buffers (+ a float accumulator for half and complex) */
    size_t nap = (size_t)MC * kc, nbp = kc * (size_t)(NC + 8);
    size_t nacc = dtype == MLXC_COMPLEX64 ? 2 * mn : (dtype == MLXC_FLOAT16 || dtype == MLXC_BFLOAT16) ? mn : 0;
    char *buf = malloc((nap + nbp + nacc) * ts);
    if (!buf) return MLXC_ERR_NOMEM;
    void *Ap = buf, *Bp = buf + nap * ts;
    float *acc = (float *)(buf + (nap + nbp) * ts);
    for (int64_t bi = 0; bi < batch; bi++) {
        const char *a = (const char *)A + bi * a_bs * (int64_t)z;
        const char *b = (const char *)B + bi * b_bs * (int64_t)z;
        char *c = (char *)C + (size_t)bi * mn * z;
        switch (dtype) {
        case MLXC_FLOAT32:
            memset(c, 0, mn * z);
            gemm_f32(M, N, K, (const float *)a, a_rs, a_cs, (const float *)b, b_rs, b_cs,
                     (float *)c, 1.0f, Ap, Bp);
            break;
        case MLXC_FLOAT64:
            memset(c, 0, mn * z);
            gemm_f64(M, N, K, (const double *)a, a_rs, a_cs, (const double *)b, b_rs, b_cs,
                     (double *)c, 1.0, Ap, Bp);
            break;
        case MLXC_FLOAT16:
        case MLXC_BFLOAT16: {
            memset(acc, 0, mn * sizeof(float));
            uint16_t *o = (uint16_t *)c;
            if (dtype == MLXC_FLOAT16) {
                gemm_f16(M, N, K, (const uint16_t *)a, a_rs, a_cs, (const uint16_t *)b, b_rs, b_cs,
                         acc, 1.0f, Ap, Bp);
                for (size_t i = 0; i < mn; i++) o[i] = mlxc_f2h(acc[i]);
            } else {
                gemm_bf16(M, N, K, (const uint16_t *)a, a_rs, a_cs, (const uint16_t *)b, b_rs, b_cs,
                          acc, 1.0f, Ap, Bp);
                for (size_t i = 0; i < mn; i++) o[i] = mlxc_f2bf(acc[i]);
            }
            break;
        }
        default: {  /* complex: planes re = f[0::2], im = f[1::2] */
            const float *af = (const float *)a, *bf = (const float *)b;
            float *cr = acc, *ci = acc + mn;
            memset(acc, 0, 2 * mn * sizeof(float));
            gemm_f32(M, N, K, af, 2 * a_rs, 2 * a_cs, bf, 2 * b_rs, 2 * b_cs, cr, 1.0f, Ap, Bp);
            gemm_f32(M, N, K, af + 1, 2 * a_rs, 2 * a_cs, bf + 1, 2 * b_rs, 2 * b_cs, cr, -1.0f, Ap, Bp);
            gemm_f32(M, N, K, af, 2 * a_rs, 2 * a_cs, bf + 1, 2 * b_rs, 2 * b_cs, ci, 1.0f, Ap, Bp);
            gemm_f32(M, N, K, af + 1, 2 * a_rs, 2 * a_cs, bf, 2 * b_rs, 2 * b_cs, ci, 1.0f, Ap, Bp);
            float *o = (float *)c;
            for (size_t i = 0; i < mn; i++) { o[2 * i] = cr[i]; o[2 * i + 1] = ci[i]; }
            break;
        }
        }
    }
    free(buf);
    return MLXC_OK;
}
