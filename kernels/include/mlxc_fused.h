/* mlxc_fused: run a program of elementwise kernels tile by tile (mx.compile's fusion).
 *
 * The program works on registers: 0..ninputs-1 are the inputs, the others are
 * written by one instruction each, in order.  Each instruction is one of the
 * elementwise families with the dtype the unfused op would run (MLXC_FK_UNARY /
 * BINARY: `op` of dtype `dtype`; SELECT: values of `dtype`, cond bool;
 * CAST: `dtype` to the destination register's dtype).  The output is split into
 * tiles small enough for the L1/L2 caches; for each tile every instruction runs
 * over the tile in per-thread scratch, and only registers named as outputs are
 * written to memory (directly into the output where possible).  A register
 * whose inputs are all one-element values is computed once per tile as one
 * element.  Every element is computed by the same row kernels as mlxc_unary,
 * mlxc_binary, mlxc_select and mlxc_copy use, so results are bit-identical to
 * the unfused ops, and independent of the thread count.
 *
 * Shapes: ndim >= 1 dims, row-major, the output shape; in_strides[k] are input
 * k's element strides over that shape (0 where it is broadcast).  Outputs are
 * contiguous, of their register's dtype, and must not overlap the inputs. */
#ifndef MLXC_FUSED_H
#define MLXC_FUSED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mlxc_fused_plan;

enum mlxc_fused_kind { MLXC_FK_UNARY = 0, MLXC_FK_BINARY, MLXC_FK_SELECT, MLXC_FK_CAST,
                       MLXC_FK_REDUCE };

typedef struct {
    int kind;     /* enum mlxc_fused_kind */
    int op;       /* unary / binary op code */
    int dtype;    /* operand dtype (see above) */
    int dst;      /* register written */
    int src[3];   /* registers read (1, 2 or 3 of them) */
} mlxc_fused_instr;

/* The resolved kernels and scratch plan of a program's last run, kept by the caller
 * (zero-initialized; one per program) so repeated runs skip that work.  Safe to
 * share between threads; mlxc_fused_cache_clear frees it. */
typedef struct { struct mlxc_fused_plan *plan; } mlxc_fused_cache;
void mlxc_fused_cache_clear(mlxc_fused_cache *cache);

/* MLXC_OK, or MLXC_ERR_UNSUPPORTED when an instruction names a kernel that does
 * not exist (nothing is written then), MLXC_ERR_NOMEM.  cache may be NULL. */
int mlxc_fused(int ninstr, const mlxc_fused_instr *code, int nregs, const int *reg_dtype,
               int ninputs, const void *const *in_data, const int64_t *const *in_strides,
               int noutputs, void *const *out_data, const int *out_reg,
               int ndim, const int64_t *shape, mlxc_fused_cache *cache);

/* Row programs (mlxc_fused_rows): elementwise work and reductions over the
 * trailing dims of one domain, run block of rows by block of rows, so a
 * hand-written softmax / layer norm reads its input once and writes its output
 * once.  The domain (ndim dims, shape) splits at dim a0 into rows (dims < a0)
 * and a row of L = prod(shape[a0:]) elements.  Every register has a level:
 *   SCALAR one value; ROW one value per row; COL one row of L values shared by
 *   every row (a broadcast weight); FULL the domain.
 * An instruction's destination level is given by reg_level; its sources may be
 * any level at or below it (ROW and COL broadcast into FULL as numpy would).
 * MLXC_FK_REDUCE (op: enum mlxc_reduce_op, dtype: the source dtype) reduces a
 * FULL register over each row into a ROW register by calling mlxc_reduce on the
 * block of rows in scratch, contiguous, so every row gets the same reduction
 * tree (and bits) as mlxc_reduce over a contiguous array of the domain; a float
 * sum ending a chain of arithmetic (rows of <= 2048) is added up inside the chain
 * in that same order instead, without storing the values.
 * Inputs: in_level[k] and element strides over the domain's dims (ROW inputs
 * use dims < a0, COL inputs dims >= a0, 0 where broadcast).  Output k is the
 * register out_reg[k] written at level out_level[k] (>= the register's level:
 * a broadcast is expanded), contiguous.  Rows are independent, so results do
 * not depend on the thread count.  L must be <= MLXC_FUSED_ROW_MAX. */
enum mlxc_fused_level { MLXC_FL_SCALAR = 0, MLXC_FL_ROW, MLXC_FL_COL, MLXC_FL_FULL };
#define MLXC_FUSED_ROW_MAX ((int64_t)1 << 16)
int mlxc_fused_rows(int ninstr, const mlxc_fused_instr *code, int nregs, const int *reg_dtype,
                    const int *reg_level, int ninputs, const void *const *in_data,
                    const int64_t *const *in_strides, int noutputs, void *const *out_data,
                    const int *out_reg, const int *out_level, int ndim, const int64_t *shape,
                    int a0);

/* how many chain passes (runs of float arithmetic in one pass) have run: tests */
int64_t mlxc_fused_chain_runs(void);

/* 1 if mlxc_fused can run the instruction (its kernel exists), else 0 */
int mlxc_fused_supported(int kind, int op, int dtype, int dtype_out);

#ifdef __cplusplus
}
#endif
#endif
