/* mlxc kernel ABI: the only interface between the Cython engine and the C kernels.
 *
 * Conventions (every function below):
 *  - dtype codes are enum mlxc_dtype; they match mlxc/_core/dtype.pyx.
 *  - pointers point at element 0 of the operand (the byte offset is already applied);
 *    strides are in ELEMENTS, may be 0 (broadcast) or negative (flip).
 *  - shapes have ndim >= 0 dimensions; ndim == 0 means one element.
 *  - outputs are row-major contiguous unless the function takes output strides.
 *  - float16 / bfloat16 are storage types: kernels load them as float32, compute in
 *    float32 and round to nearest-even on store.
 *  - functions return MLXC_OK or an error status; they never crash on the inputs
 *    the engine validates and never write outside the output.
 *  - every function may be called without the GIL and from several threads at once.
 */
#ifndef MLXC_KERNELS_H
#define MLXC_KERNELS_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mlxc_dtype {
    MLXC_BOOL = 0,   /* 1 byte, 0 or 1 */
    MLXC_UINT8, MLXC_UINT16, MLXC_UINT32, MLXC_UINT64,
    MLXC_INT8, MLXC_INT16, MLXC_INT32, MLXC_INT64,
    MLXC_FLOAT16,    /* IEEE binary16 */
    MLXC_BFLOAT16,   /* upper 16 bits of a binary32 */
    MLXC_FLOAT32, MLXC_FLOAT64,
    MLXC_COMPLEX64,  /* two float32: real, imag */
    MLXC_NUM_DTYPES
};

enum mlxc_status {
    MLXC_OK = 0,
    MLXC_ERR_UNSUPPORTED = 1,  /* op not defined for this dtype */
    MLXC_ERR_INDEX = 2,        /* an index array held a value out of range */
    MLXC_ERR_NOMEM = 3
};

/* ---- unary: out[i] = f(in[i]); out contiguous ----
 * Output dtype: same as input, except
 *   ISNAN..ISNEGINF -> MLXC_BOOL;  ABS, REAL, IMAG of complex64 -> float32.
 * Float-only ops (EXP..ERFINV, SQRT, RSQRT, RECIPROCAL) receive float or complex
 * inputs only (the engine casts integers first).  Integer ABS/NEG/SIGN/SQUARE
 * wrap like C unsigned arithmetic.  ROUND is round-half-to-even.  FLOOR/CEIL/ROUND
 * on integers are the identity.  LOGICAL_NOT takes and returns bool.
 * BITWISE_INVERT takes integers and bool (bool: logical not).
 * Details (as MLX): SIGN(NaN) = 0; SIGMOID is 1/(1+exp(-x)); ERFINV(+-1) = +-inf.
 * complex64 is accepted by ABS NEG SIGN (z/|z|, 0 at 0) SQUARE SQRT RSQRT
 * RECIPROCAL EXP LOG LOG2 LOG10 SIN..ARCTANH ISNAN ISINF ISFINITE CONJ REAL IMAG;
 * not by EXPM1 LOG1P SIGMOID ERF ERFINV FLOOR CEIL ROUND ISPOSINF ISNEGINF.
 * Bool is accepted by ABS SIGN SQUARE FLOOR CEIL ROUND (identity), the IS* ops,
 * CONJ REAL IMAG; NEG of bool is unsupported. */
enum mlxc_unary_op {
    MLXC_ABS = 0, MLXC_NEG, MLXC_SIGN, MLXC_SQRT, MLXC_RSQRT, MLXC_SQUARE, MLXC_RECIPROCAL,
    MLXC_EXP, MLXC_EXPM1, MLXC_LOG, MLXC_LOG1P, MLXC_LOG2, MLXC_LOG10,
    MLXC_SIN, MLXC_COS, MLXC_TAN, MLXC_ARCSIN, MLXC_ARCCOS, MLXC_ARCTAN,
    MLXC_SINH, MLXC_COSH, MLXC_TANH, MLXC_ARCSINH, MLXC_ARCCOSH, MLXC_ARCTANH,
    MLXC_SIGMOID, MLXC_ERF, MLXC_ERFINV,
    MLXC_FLOOR, MLXC_CEIL, MLXC_ROUND,
    MLXC_ISNAN, MLXC_ISINF, MLXC_ISFINITE, MLXC_ISPOSINF, MLXC_ISNEGINF,
    MLXC_LOGICAL_NOT, MLXC_BITWISE_INVERT,
    MLXC_CONJ, MLXC_REAL, MLXC_IMAG,
    MLXC_NUM_UNARY
};
int mlxc_unary(int op, int dtype, void *out, const void *in,
               int ndim, const int64_t *shape, const int64_t *in_strides);

/* ---- binary: out[i] = f(a[i], b[i]); a and b have the same dtype (the engine
 * promotes first); out contiguous.  Output dtype: same as inputs, except the
 * comparisons EQ..GE -> MLXC_BOOL.
 * Integer semantics: DIV is C truncation; FLOOR_DIV rounds toward -inf;
 * REMAINDER has the sign of b (Python's %); integer division by 0 gives 0 and
 * remainder by 0 gives a, as in MLX (never a trap); shifts by a count < 0 or >= the bit width give 0
 * (left) or the sign fill (right); POWER with a negative integer exponent gives 0
 * (except base 1 and -1).
 * Float semantics (as MLX): FLOOR_DIV is floor(a/b); REMAINDER is r = fmod(a, b)
 * plus b when r != 0 and r, b differ in sign (5 % inf = 5, -5 % inf = inf,
 * x % 0 = NaN, -6 % 3 = -0); half types compute each op in float32 and round
 * once, so float16 FLOOR_DIV can differ from MLX, which rounds a/b to half first.
 * LOGICAL_* take bool.  BITWISE_* take integers or bool.  MAXIMUM/MINIMUM
 * propagate NaN.  ARCTAN2, LOGADDEXP are float only.  Bool ADD/MAXIMUM = or,
 * MUL/MINIMUM = and, SUB = xor (MLX); bool DIV/FLOOR_DIV/REMAINDER/POWER/shifts
 * are unsupported.  complex64: ADD SUB MUL DIV POWER (exp(b*log(a))) EQ NE. */
enum mlxc_binary_op {
    MLXC_ADD = 0, MLXC_SUB, MLXC_MUL, MLXC_DIV, MLXC_FLOOR_DIV, MLXC_REMAINDER, MLXC_POWER,
    MLXC_MAXIMUM, MLXC_MINIMUM,
    MLXC_EQ, MLXC_NE, MLXC_LT, MLXC_LE, MLXC_GT, MLXC_GE,
    MLXC_LOGICAL_AND, MLXC_LOGICAL_OR, MLXC_LOGICAL_XOR,
    MLXC_BITWISE_AND, MLXC_BITWISE_OR, MLXC_BITWISE_XOR, MLXC_LEFT_SHIFT, MLXC_RIGHT_SHIFT,
    MLXC_ARCTAN2, MLXC_LOGADDEXP,
    MLXC_NUM_BINARY
};
int mlxc_binary(int op, int dtype, void *out,
                const void *a, const int64_t *a_strides,
                const void *b, const int64_t *b_strides,
                int ndim, const int64_t *shape);

/* ---- select: out[i] = cond[i] ? a[i] : b[i]; cond is bool; out contiguous ---- */
int mlxc_select(int dtype, void *out,
                const void *cond, const int64_t *cond_strides,
                const void *a, const int64_t *a_strides,
                const void *b, const int64_t *b_strides,
                int ndim, const int64_t *shape);

/* ---- copy with cast: out[i] = (dtype_out) in[i], both sides strided ----
 * Any dtype to any dtype: float -> int truncates toward zero (NaN/out of range:
 * unspecified value but no trap; the kernels give x86's values, like MLX on x86,
 * e.g. -1.0 -> uint8 255, NaN -> int32 INT32_MIN); anything -> bool is (x != 0);
 * complex -> real takes the real part; real -> complex has imag 0.  Casts to
 * float16/bfloat16 round through float32 (as MLX), so int64/float64 sources can
 * be rounded twice.
 * out_strides / in_strides may be NULL for row-major contiguous. */
int mlxc_copy(int dtype_in, int dtype_out,
              void *out, const int64_t *out_strides,
              const void *in, const int64_t *in_strides,
              int ndim, const int64_t *shape);

/* ---- fill: the n contiguous elements of out = *value (one element of dtype) ---- */
int mlxc_fill(int dtype, void *out, int64_t n, const void *value);

/* ---- arange: out[i] = start + i*step, computed in double, cast to dtype ---- */
int mlxc_arange(int dtype, void *out, int64_t n, double start, double step);

/* ---- reduce: the LAST nred dims of (shape, strides) are reduced; the first
 * ndim-nred dims form the contiguous output.  SUM/PROD keep the input dtype
 * (the engine casts bool/small ints first when MLX's rules say so); MAX/MIN keep
 * the dtype and propagate NaN; ALL/ANY take any dtype and output bool.
 * Sums of float16/bfloat16/float32 accumulate in float32 or wider with a fixed
 * order (pairwise or blocked), independent of thread count.
 * Products of float types run in double and round once.
 * complex64: SUM and PROD only.  bool SUM/MAX = any, PROD/MIN = all.  An empty
 * reduction gives the identity: 0, 1, -inf / the lowest integer (MAX),
 * +inf / the highest (MIN), true (ALL), false (ANY). */
enum mlxc_reduce_op { MLXC_RSUM = 0, MLXC_RPROD, MLXC_RMAX, MLXC_RMIN, MLXC_RALL, MLXC_RANY,
                      MLXC_NUM_REDUCE };
int mlxc_reduce(int op, int dtype, void *out, const void *in,
                int ndim, const int64_t *shape, const int64_t *strides, int nred);

/* ---- argmax/argmin over the LAST dim; out is uint32 contiguous over the
 * first ndim-1 dims; first occurrence wins; NaN counts as the extreme.
 * Real dtypes and bool; complex64 unsupported; an empty last dim gives 0. ---- */
enum mlxc_argreduce_op { MLXC_ARGMAX = 0, MLXC_ARGMIN };
int mlxc_argreduce(int op, int dtype, uint32_t *out, const void *in,
                   int ndim, const int64_t *shape, const int64_t *strides);

/* ---- scan over the LAST dim; out contiguous, same dtype as in.
 * reverse: scan from the end; inclusive == 0: exclusive (shifted, identity first;
 * CUMMAX/CUMMIN identity: -inf/+inf or the integer limits).  NaN sticks in
 * CUMMAX/CUMMIN.  Half types keep a float32 running value (rounded only on
 * store).  complex64: all ops (as MLX: CUMMAX/CUMMIN order by real part, then
 * imaginary part; CUMMAX keeps its running value only while it is above the new one
 * (a NaN is taken and then replaced), CUMMIN takes only a value below it (never a NaN);
 * identities -inf-inf i / inf+inf i; LOGCUMSUMEXP from the
 * larger of the two, NaN -> NaN+NaN i, identity -inf); bool: CUMSUM/CUMMAX = or,
 * CUMPROD/CUMMIN = and.  LOGCUMSUMEXP (running log(sum(exp)), identity -inf,
 * NaN sticks): float and complex dtypes. */
enum mlxc_scan_op { MLXC_CUMSUM = 0, MLXC_CUMPROD, MLXC_CUMMAX, MLXC_CUMMIN, MLXC_LOGCUMSUMEXP,
                    MLXC_NUM_SCAN };
int mlxc_scan(int op, int dtype, void *out, const void *in,
              int ndim, const int64_t *shape, const int64_t *strides,
              int reverse, int inclusive);

/* ---- sort: nrows contiguous rows of length len, sorted ascending in place;
 * NaN sorts last; stable (-0 and 0 are equal and keep their order).  argsort
 * writes uint32 indices of a stable ascending sort of each row of data (data
 * unchanged).  Real dtypes and bool; complex64 unsupported. ---- */
int mlxc_sort(int dtype, void *data, int64_t nrows, int64_t len);
/* the same sorting the contiguous rows src into out (the same or not overlapping;
 * the short 32-bit rows are read from src and written once) */
int mlxc_sort_from(int dtype, void *out, const void *src, int64_t nrows, int64_t len);
int mlxc_argsort(int dtype, uint32_t *idx, const void *data, int64_t nrows, int64_t len);

/* ---- take: src is contiguous, viewed as (outer, axis_len, inner);
 * idx has nidx values of idx_dtype (MLXC_INT32 or MLXC_INT64), negative values
 * count from the end; out[o, j, k] = src[o, idx[j], k]  (out contiguous
 * (outer, nidx, inner)).  Any index outside [-axis_len, axis_len) ->
 * MLXC_ERR_INDEX, *bad = the first such index in order (out is then unspecified). */
int mlxc_take(int dtype, void *out, const void *src,
              int64_t outer, int64_t axis_len, int64_t inner,
              const void *idx, int idx_dtype, int64_t nidx, int64_t *bad);

/* ---- take_along: src contiguous (outer, axis_len, inner); idx contiguous
 * (outer, nidx, inner) of idx_dtype (int32 or int64);
 * out[o, j, k] = src[o, idx[o, j, k], k]; errors as take. ---- */
int mlxc_take_along(int dtype, void *out, const void *src,
                    int64_t outer, int64_t axis_len, int64_t inner,
                    const void *idx, int idx_dtype, int64_t nidx, int64_t *bad);

/* ---- scatter: dst contiguous (outer, axis_len, inner), updated in place.
 * Mode PLAIN: dst[o, idx[j], k] = upd[o, j, k] (the last write wins);
 * the other modes accumulate repeated indices.  upd contiguous (outer, nidx, inner)
 * of dst's dtype.  along != 0: idx is (outer, nidx, inner) like take_along.
 * All indices are checked before anything is written (MLXC_ERR_INDEX leaves dst
 * untouched).  MAX/MIN propagate NaN; complex64: all modes (MAX/MIN order by real
 * part, then imaginary part, as MLX); bool: ADD/MAX
 * = or, PROD/MIN = and.  Half types round after every accumulated update. ---- */
enum mlxc_scatter_mode { MLXC_SCATTER_PLAIN = 0, MLXC_SCATTER_ADD, MLXC_SCATTER_PROD,
                         MLXC_SCATTER_MAX, MLXC_SCATTER_MIN };
int mlxc_scatter(int mode, int dtype, void *dst, const void *upd,
                 int64_t outer, int64_t axis_len, int64_t inner,
                 const int64_t *idx, int64_t nidx, int along, int64_t *bad);

/* ---- masked_scatter: dst contiguous (outer, n) updated in place, mask
 * contiguous (outer, n) bool, src contiguous (outer, src_n) of dst's dtype; in
 * each row o the k-th set entry of the mask (in order) takes src[o, k].  A row
 * with more than src_n set entries -> MLXC_ERR_INDEX, *bad = its count, and dst
 * is left untouched.  Any dtype. ---- */
int mlxc_masked_scatter(int dtype, void *dst, const uint8_t *mask, const void *src,
                        int64_t outer, int64_t n, int64_t src_n, int64_t *bad);

/* ---- searchsorted: seq is n contiguous sorted elements, values nvalues
 * contiguous elements, both of dtype (the engine promotes first); out[i] = the
 * number of seq elements < values[i] (right == 0) or <= values[i] (right != 0),
 * for a seq sorted ascending.  The order is mlxc_sort's: NaN above every number
 * and equal to NaN, -0 == +0; complex64 by real part, then imaginary part.
 * Any dtype; n <= UINT32_MAX. ---- */
int mlxc_searchsorted(int dtype, uint32_t *out, const void *seq, int64_t n,
                      const void *values, int64_t nvalues, int right);

/* ---- matmul: C[b] = A[b] @ B[b] for b in [0, batch); A[b] is M x K with
 * element (i, p) at A + b*a_bs + i*a_rs + p*a_cs (elements), B[b] is K x N
 * likewise, C contiguous (batch, M, N).  float32, float64, float16, bfloat16,
 * complex64; half types accumulate in float32. ---- */
int mlxc_matmul(int dtype, int64_t batch, int64_t M, int64_t N, int64_t K,
                const void *A, int64_t a_bs, int64_t a_rs, int64_t a_cs,
                const void *B, int64_t b_bs, int64_t b_rs, int64_t b_cs,
                void *C);

/* ---- addmm: out[b] = alpha * (A[b] @ B[b]) + beta * C[b], one GEMM whose
 * write-back applies the epilogue once per output element after its last K
 * block.  A, B, batch and out as mlxc_matmul (out contiguous (batch, M, N));
 * C is of the output dtype with element (i, j) of matrix b at
 * C + b*c_bs + i*c_rs + j*c_cs (elements; 0 broadcasts, e.g. a bias row is
 * c_bs = c_rs = 0, c_cs = 1).  C must not overlap out.
 * beta == 0: C is not read (may be NULL), so its NaN/inf do not reach out.
 * Arithmetic: float32/float64 in their own precision with (float)alpha /
 * alpha, no fused multiply-add (alpha*p and beta*c each rounded, then the
 * sum); float16/bfloat16 in float32 on the float32 sum, rounded once;
 * complex64 scales both parts by the real alpha and beta.  K == 0 gives
 * beta * C.  mlxc_matmul is the case alpha = 1, beta = 0.  Results do not
 * depend on the thread count. ---- */
int mlxc_addmm(int dtype, int64_t batch, int64_t M, int64_t N, int64_t K,
               const void *A, int64_t a_bs, int64_t a_rs, int64_t a_cs,
               const void *B, int64_t b_bs, int64_t b_rs, int64_t b_cs,
               void *out, double alpha, double beta,
               const void *C, int64_t c_bs, int64_t c_rs, int64_t c_cs);

/* ---- random: MLX's threefry-2x32 bits and float transforms, bit for bit ----
 * keys: nkeys (k0, k1) uint32 pairs, contiguous.  out: nkeys blocks of per_key
 * 32-bit elements, block i from key i (MLX's RandomBits layout: with
 * h = per_key / 2 and off = per_key - h, elements j < h and j + off are the two
 * words of threefry(key, (j, j + off)); for odd per_key element h is the first
 * word of threefry(key, (h, 0))).  Each element is a function of its word w:
 *   BITS     uint32  w
 *   UNIFORM  float32 u = min(float(w) / 2^32, nextafter(1, 0))  (MLX's [0, 1))
 *   ERFINV   float32 MLX's erfinv(2u + nextafter(-1, 0))
 *   NORMAL   float32 (float)sqrt(2) * the ERFINV value (MLX's float32 normal)
 *   RANDINT  int32   max(min((int32)floor(range * u + low), ihigh), ilow)  (MLX's
 *                    randint to int32 with ihigh = high - 1; a float out of int32
 *                    range converts to INT32_MIN, as mlxc_copy)
 * Same bits at any thread count and SIMD level. ---- */
enum mlxc_random_mode { MLXC_RANDOM_BITS = 0, MLXC_RANDOM_UNIFORM, MLXC_RANDOM_ERFINV,
                        MLXC_RANDOM_NORMAL, MLXC_RANDOM_RANDINT, MLXC_NUM_RANDOM };
int mlxc_random(int mode, void *out, const uint32_t *keys, int64_t nkeys, int64_t per_key,
                float low, float range, int32_t ilow, int32_t ihigh);

/* ---- MLX's float32 math as MLX computes it on the CPU (the C library's logf
 * and log1pf; MLX's polynomial erf, erfinv and exp), for the random transforms
 * that must match MLX's bits; out[i] = f(in[i]), contiguous, out may be in. ---- */
enum mlxc_mlxmath_func { MLXC_MLXMATH_LOG = 0, MLXC_MLXMATH_LOG1P, MLXC_MLXMATH_ERF,
                         MLXC_MLXMATH_ERFINV, MLXC_MLXMATH_EXP, MLXC_NUM_MLXMATH };
int mlxc_mlx_math(int func, float *out, const float *in, int64_t n);

/* ---- float8 e4m3 (MLX's to_fp8 / from_fp8), n contiguous elements ----
 * mlxc_to_fp8: dtype (float16, bfloat16, float32, float64) -> uint8 codes; round to
 * nearest even; |x| > 448, +-inf and NaN saturate to +-448 (0x7e | sign), as MLX.
 * mlxc_from_fp8: uint8 codes -> dtype (same four), exact; 0x7f/0xff are NaN.
 * Other dtypes: MLXC_ERR_UNSUPPORTED. */
int mlxc_to_fp8(int dtype, uint8_t *out, const void *in, int64_t n);
int mlxc_from_fp8(int dtype, void *out, const uint8_t *in, int64_t n);

/* ---- quantization (MLX's quantize / dequantize / quantized_matmul; kernels/quant.c
 * states the arithmetic).  mode: MLXC_QUANT_AFFINE (group_size 32/64/128, bits 1-6, 8),
 * MXFP4 (32, 4), MXFP8 (32, 8), NVFP4 (16, 4); anything else MLXC_ERR_UNSUPPORTED.
 * Packed codes: an LSB-first bit stream per row, n * bits / 32 uint32 words.
 * mlxc_quantize: n contiguous values of dtype (float32/float16/bfloat16), n a multiple
 *   of group_size; scales/biases: n / group_size values of dtype (affine) or scale
 *   bytes (fp modes, biases unused); global_scale: nvfp4's, or NULL.
 * mlxc_dequantize: the inverse, sdtype the affine scales' dtype, out n values of
 *   out_dtype (float32/float16/bfloat16).
 * mlxc_qmm: out (M x N, float32) = x (M x K, contiguous float32) @ W^T (transpose:
 *   w packs N rows of K) or @ W (w packs K rows of N); affine scales/biases float32,
 *   fp scales bytes.  Same bits at any thread count.
 * mlxc_qmm_fp_half: the fp modes with x and out (M x N) float16 / bfloat16 (dtype),
 *   computed in that dtype as MLX does. ---- */
enum mlxc_quant_mode { MLXC_QUANT_AFFINE = 0, MLXC_QUANT_MXFP4, MLXC_QUANT_MXFP8,
                       MLXC_QUANT_NVFP4 };
int mlxc_quantize(int mode, int dtype, const void *w, int64_t n, int group_size, int bits,
                  uint32_t *out, void *scales, void *biases, const float *global_scale);
int mlxc_dequantize(int mode, int sdtype, const uint32_t *w, const void *scales,
                    const void *biases, int64_t n, int group_size, int bits,
                    const float *global_scale, int out_dtype, void *out);
int mlxc_qmm(int mode, int64_t M, int64_t N, int64_t K, const float *x, const uint32_t *w,
             const void *scales, const float *biases, int transpose, int group_size, int bits,
             const float *global_scale, float *out);
int mlxc_qmm_fp_half(int mode, int dtype, int64_t M, int64_t N, int64_t K, const uint16_t *x,
                     const uint32_t *w, const uint8_t *scales, int transpose, int group_size,
                     int bits, uint16_t *out);

/* ---- half conversions, exposed for the engine (scalars, printing) ---- */
float mlxc_half_to_float(uint16_t h);
uint16_t mlxc_float_to_half(float f);
float mlxc_bf16_to_float(uint16_t h);
uint16_t mlxc_float_to_bf16(float f);

/* ---- fft: 1-D discrete Fourier transforms of length n along the middle axis of a
 * contiguous (outer, in_len, inner) input into a contiguous (outer, out_len, inner)
 * output, every value multiplied by scale (the norm):
 *   C2C      X_k = sum_j x_j e^{-2 pi i jk/n}; in complex64/float32/float64 (real
 *            input), out complex64; in_len = out_len = n
 *   C2C_INV  the same with e^{+2 pi i jk/n} (unnormalized)
 *   R2C      forward of real input (float32/float64), the first n/2+1 values
 *   C2R      inverse of the Hermitian half spectrum (complex64, in_len n/2+1; the
 *            imaginary parts of X_0 and, for even n, X_{n/2} are ignored), out float32
 * float64 input is computed in double and rounded once to the (complex64/float32)
 * output.  Results do not depend on the thread count.  n >= 1. ---- */
enum mlxc_fft_kind { MLXC_FFT_C2C = 0, MLXC_FFT_C2C_INV, MLXC_FFT_R2C, MLXC_FFT_C2R };
int mlxc_fft(int kind, int in_dtype, const void *in, void *out, int64_t n,
             int64_t outer, int64_t inner, double scale);

/* ---- CPU SIMD level the kernels dispatch to (probed once; MLXC_CPU_ISA=
 * scalar|neon|avx2|avx512 forces a lower one).  mlxc_isa_name gives its name:
 * 0 "scalar", 1 "neon", 2 "avx2", 3 "avx512" ("unknown" for other values). ---- */
int mlxc_cpu_isa(void);
const char *mlxc_isa_name(int isa);

/* ---- convolution (MLX's conv_general; kernels/conv.c) ----
 * x (batch, in_sp[0..nsp-1], cin), w (cout, k_sp[..], cin/groups), out (batch,
 * out_sp[..], cout), all contiguous, one dtype (float16, bfloat16, float32,
 * float64); nsp in 1..3.  With xp the input dilated by idil (idil-1 zeros between
 * elements) and shifted by pad_lo (negative: cropped), zero outside:
 *   out[n, o, g*Cog + co] = sum_{k, c} xp[n, o*stride + k*kdil, g*Cig + c]
 *                                      * w[g*Cog + co, flip ? K-1-k : k, c]
 * The caller computes out_sp (the high padding is implied by it).  Half types
 * accumulate in float32.  The same bits at any thread count. */
int mlxc_conv(int dtype, int nsp, int64_t batch, const int64_t *in_sp, int64_t cin,
              const int64_t *k_sp, int64_t cout, const int64_t *out_sp,
              const int64_t *stride, const int64_t *pad_lo, const int64_t *kdil,
              const int64_t *idil, int64_t groups, int flip,
              const void *x, const void *w, void *out);

/* ---- mx.fast (kernels/fast_norm.c, rope.c, attention.c; per-level tile and row
 * kernels in fast_impl.h).  dtype float32, float16 or bfloat16 (half types are
 * computed in float32); every array row-major contiguous; results do not depend on
 * the thread count.  Other dtypes: MLXC_ERR_UNSUPPORTED. ---- */
/* out[r] = x[r] * rsqrt(mean(x[r]^2) + eps) * w, rows of n (w NULL: no weight) */
int mlxc_rms_norm(int dtype, void *out, const void *x, const void *w, int64_t nrows,
                  int64_t n, float eps);
/* out[r] = (x[r] - mean) * rsqrt(var + eps) * w + b (w, b optional) */
int mlxc_layer_norm(int dtype, void *out, const void *x, const void *w, const void *b,
                    int64_t nrows, int64_t n, float eps);
/* x, out: (nb, nmid, T, D).  The first `dims` features of row (b, m, t) rotate by the
 * angles (offset[b or 0] + t) * scale * inv_freq[j], j < dims / 2, in pairs (j, j +
 * dims/2), or (2j, 2j + 1) when traditional; the rest is copied.  noff is 1 or nb. */
int mlxc_rope(int dtype, void *out, const void *x, int64_t nb, int64_t nmid, int64_t T,
              int64_t D, int64_t dims, int traditional, const float *inv_freq, float scale,
              const int64_t *offset, int64_t noff);
/* scaled dot-product attention, float32: q (B, Hq, Lq, D), k (B, Hk, Lk, D),
 * v (B, Hk, Lk, Dv), out (B, Hq, Lq, Dv); query head h reads kv head h / (Hq / Hk).
 * mask: none, causal (query i sees key j <= i + Lk - Lq), additive float32 or bool
 * (uint8) read through element strides (0 where broadcast); masked scores count as
 * -FLT_MAX.  sinks (Hq floats or NULL): one extra logit per head with no value. */
enum { MLXC_SDPA_MASK_NONE = 0, MLXC_SDPA_MASK_CAUSAL, MLXC_SDPA_MASK_ADD,
       MLXC_SDPA_MASK_BOOL };
struct mlxc_sdpa_args {
    int64_t B, Hq, Hk, Lq, Lk, D, Dv;
    const float *q, *k, *v;
    float *out;
    float scale;
    int mask_kind;
    const void *mask;
    int64_t m_sb, m_sh, m_sq, m_sk;
    const float *sinks;
};
int mlxc_sdpa(const struct mlxc_sdpa_args *a);
/* its vjp, float32: f the forward's arguments with f.out its output, dout the output's
 * cotangent; writes dq, dk, dv (shaped as q, k, v; a kv head's cotangents are summed
 * over the query heads that read it), dsinks (B x Hq, per batch item; when f.sinks)
 * and, when ds is not NULL, the score cotangents (B, Hq, Lq, Lk) (the additive mask's
 * before unbroadcasting).  Memory beyond those: 3 floats per query row and per-thread
 * scratch, nothing of size Lq x Lk.  Results do not depend on the thread count. */
struct mlxc_sdpa_vjp_args {
    struct mlxc_sdpa_args f;
    const float *dout;
    float *dq, *dk, *dv, *dsinks, *ds;
};
int mlxc_sdpa_vjp(const struct mlxc_sdpa_vjp_args *a);

#ifdef __cplusplus
}
#endif
#endif
