/* Batched LAPACK drivers (built into mlxc/_core/prims/lapack only: the one extension
 * that links the scipy-openblas32 library).  One LAPACK call per matrix; a batch is
 * spread over mlxc's thread pool with OpenBLAS held to one thread per call, a single
 * matrix runs on the caller, OpenBLAS single-threaded unless MLXC_LAPACK_THREADS asks
 * for more (see batched.c), so the two pools never oversubscribe the cores.
 *
 * Matrices are read through element strides (any layout) and written row-major,
 * batch-contiguous.  A matrix holding NaN or Inf is not passed to LAPACK: its outputs
 * are NaN (pivots the identity), as LAPACK's own results would be for most routines,
 * and no routine can loop or fail on it. */
#ifndef MLXC_LAPACK_H
#define MLXC_LAPACK_H

#include <stdint.h>

enum mlxc_lapack_op {
    MLXC_LP_CHOLESKY,   /* A n*n (that triangle read) -> L (flag 1: upper U), other
                           triangle zero                                   potrf */
    MLXC_LP_SOLVE,      /* A n*n, B n*k -> X                                      gesv  */
    MLXC_LP_SOLVE_TRI,  /* A n*n triangular (flag 1: upper), B n*k -> X           trtrs */
    MLXC_LP_TRI_INV,    /* A n*n triangular (flag 1: upper) -> inverse            trtri */
    MLXC_LP_LU,         /* A m*n -> LU m*n, pivots uint32 min(m,n) (0-based); flag 1: also
                           P uint32 m with A = (L U)[P]                    getrf */
    MLXC_LP_QR,         /* A m*n -> Q m*p, R p*n, p = min(m,n)            geqrf, orgqr */
    MLXC_LP_SVD,        /* A m*n -> flag 0: S; 1: U m*m, S, Vt n*n; 2: U m*p, S, Vt p*n  gesdd */
    MLXC_LP_EIGH,       /* A n*n symmetric -> w n, V n*n (flag bit0: upper, bit1: vectors) syevd */
    MLXC_LP_EIG,        /* A n*n -> w n, V n*n complex64 (flag 1: vectors)        geev  */
    MLXC_LP_SLOGDET,    /* A n*n -> sign, log|det|                                getrf */
    MLXC_LP_INV,        /* A n*n -> inverse (2n^3 flops; a solve against I: 8n^3/3) getrf, getri */
};

/* a LAPACK routine reported a failure (args->fail_* say where and what) */
#define MLXC_ERR_LAPACK 100

struct mlxc_lapack_args {
    int op, dtype, flag;                 /* dtype MLXC_FLOAT32 or MLXC_FLOAT64 */
    int64_t batch, m, n, k;              /* A is m*n; k: right-hand sides (solves) */
    const char *a; const int64_t *a_off; int64_t a_rs, a_cs;  /* per-matrix element offsets */
    const char *b; const int64_t *b_off; int64_t b_rs, b_cs;  /* solves only */
    char *out[3];
    int64_t fail_index;                  /* out: lowest failing matrix, -1 if none */
    int fail_info;                       /* out: its LAPACK info */
};

int mlxc_lapack(struct mlxc_lapack_args *args);

#endif
