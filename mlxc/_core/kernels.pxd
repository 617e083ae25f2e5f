# Declarations of kernels/include/mlxc_kernels.h: the kernel ABI (see the header for contracts).
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t

cdef extern from "mlxc_kernels.h" nogil:
    enum:
        MLXC_BOOL, MLXC_UINT8, MLXC_UINT16, MLXC_UINT32, MLXC_UINT64
        MLXC_INT8, MLXC_INT16, MLXC_INT32, MLXC_INT64
        MLXC_FLOAT16, MLXC_BFLOAT16, MLXC_FLOAT32, MLXC_FLOAT64, MLXC_COMPLEX64
        MLXC_NUM_DTYPES
    enum:
        MLXC_OK, MLXC_ERR_UNSUPPORTED, MLXC_ERR_INDEX, MLXC_ERR_NOMEM
    enum:
        MLXC_ABS, MLXC_NEG, MLXC_SIGN, MLXC_SQRT, MLXC_RSQRT, MLXC_SQUARE, MLXC_RECIPROCAL
        MLXC_EXP, MLXC_EXPM1, MLXC_LOG, MLXC_LOG1P, MLXC_LOG2, MLXC_LOG10
        MLXC_SIN, MLXC_COS, MLXC_TAN, MLXC_ARCSIN, MLXC_ARCCOS, MLXC_ARCTAN
        MLXC_SINH, MLXC_COSH, MLXC_TANH, MLXC_ARCSINH, MLXC_ARCCOSH, MLXC_ARCTANH
        MLXC_SIGMOID, MLXC_ERF, MLXC_ERFINV
        MLXC_FLOOR, MLXC_CEIL, MLXC_ROUND
        MLXC_ISNAN, MLXC_ISINF, MLXC_ISFINITE, MLXC_ISPOSINF, MLXC_ISNEGINF
        MLXC_LOGICAL_NOT, MLXC_BITWISE_INVERT
        MLXC_CONJ, MLXC_REAL, MLXC_IMAG
        MLXC_NUM_UNARY
    enum:
        MLXC_ADD, MLXC_SUB, MLXC_MUL, MLXC_DIV, MLXC_FLOOR_DIV, MLXC_REMAINDER, MLXC_POWER
        MLXC_MAXIMUM, MLXC_MINIMUM
        MLXC_EQ, MLXC_NE, MLXC_LT, MLXC_LE, MLXC_GT, MLXC_GE
        MLXC_LOGICAL_AND, MLXC_LOGICAL_OR, MLXC_LOGICAL_XOR
        MLXC_BITWISE_AND, MLXC_BITWISE_OR, MLXC_BITWISE_XOR, MLXC_LEFT_SHIFT, MLXC_RIGHT_SHIFT
        MLXC_ARCTAN2, MLXC_LOGADDEXP
        MLXC_NUM_BINARY
    enum:
        MLXC_RSUM, MLXC_RPROD, MLXC_RMAX, MLXC_RMIN, MLXC_RALL, MLXC_RANY
    enum:
        MLXC_ARGMAX, MLXC_ARGMIN
    enum:
        MLXC_CUMSUM, MLXC_CUMPROD, MLXC_CUMMAX, MLXC_CUMMIN, MLXC_LOGCUMSUMEXP, MLXC_NUM_SCAN
    enum:
        MLXC_SCATTER_PLAIN, MLXC_SCATTER_ADD, MLXC_SCATTER_PROD, MLXC_SCATTER_MAX, MLXC_SCATTER_MIN

    int mlxc_unary(int op, int dtype, void *out, const void *inp,
                   int ndim, const int64_t *shape, const int64_t *in_strides)
    int mlxc_binary(int op, int dtype, void *out,
                    const void *a, const int64_t *a_strides,
                    const void *b, const int64_t *b_strides,
                    int ndim, const int64_t *shape)
    int mlxc_select(int dtype, void *out,
                    const void *cond, const int64_t *cond_strides,
                    const void *a, const int64_t *a_strides,
                    const void *b, const int64_t *b_strides,
                    int ndim, const int64_t *shape)
    int mlxc_copy(int dtype_in, int dtype_out,
                  void *out, const int64_t *out_strides,
                  const void *inp, const int64_t *in_strides,
                  int ndim, const int64_t *shape)
    int mlxc_fill(int dtype, void *out, int64_t n, const void *value)
    int mlxc_to_fp8(int dtype, uint8_t *out, const void *inp, int64_t n)
    int mlxc_from_fp8(int dtype, void *out, const uint8_t *inp, int64_t n)
    int mlxc_arange(int dtype, void *out, int64_t n, double start, double step)
    int mlxc_reduce(int op, int dtype, void *out, const void *inp,
                    int ndim, const int64_t *shape, const int64_t *strides, int nred)
    int mlxc_argreduce(int op, int dtype, uint32_t *out, const void *inp,
                       int ndim, const int64_t *shape, const int64_t *strides)
    int mlxc_scan(int op, int dtype, void *out, const void *inp,
                  int ndim, const int64_t *shape, const int64_t *strides,
                  int reverse, int inclusive)
    int mlxc_sort(int dtype, void *data, int64_t nrows, int64_t length)
    int mlxc_sort_from(int dtype, void *out, const void *src, int64_t nrows, int64_t length)
    int mlxc_argsort(int dtype, uint32_t *idx, const void *data, int64_t nrows, int64_t length)
    int mlxc_take(int dtype, void *out, const void *src,
                  int64_t outer, int64_t axis_len, int64_t inner,
                  const void *idx, int idx_dtype, int64_t nidx, int64_t *bad)
    int mlxc_take_along(int dtype, void *out, const void *src,
                        int64_t outer, int64_t axis_len, int64_t inner,
                        const void *idx, int idx_dtype, int64_t nidx, int64_t *bad)
    int mlxc_scatter(int mode, int dtype, void *dst, const void *upd,
                     int64_t outer, int64_t axis_len, int64_t inner,
                     const int64_t *idx, int64_t nidx, int along, int64_t *bad)
    int mlxc_masked_scatter(int dtype, void *dst, const uint8_t *mask, const void *src,
                            int64_t outer, int64_t n, int64_t src_n, int64_t *bad)
    int mlxc_searchsorted(int dtype, uint32_t *out, const void *seq, int64_t n,
                          const void *values, int64_t nvalues, int right)
    int mlxc_matmul(int dtype, int64_t batch, int64_t M, int64_t N, int64_t K,
                    const void *A, int64_t a_bs, int64_t a_rs, int64_t a_cs,
                    const void *B, int64_t b_bs, int64_t b_rs, int64_t b_cs,
                    void *C)
    int mlxc_addmm(int dtype, int64_t batch, int64_t M, int64_t N, int64_t K,
                   const void *A, int64_t a_bs, int64_t a_rs, int64_t a_cs,
                   const void *B, int64_t b_bs, int64_t b_rs, int64_t b_cs,
                   void *out, double alpha, double beta,
                   const void *C, int64_t c_bs, int64_t c_rs, int64_t c_cs)
    enum:
        MLXC_RANDOM_BITS, MLXC_RANDOM_UNIFORM, MLXC_RANDOM_ERFINV, MLXC_RANDOM_NORMAL
        MLXC_RANDOM_RANDINT, MLXC_NUM_RANDOM
    enum:
        MLXC_MLXMATH_LOG, MLXC_MLXMATH_LOG1P, MLXC_MLXMATH_ERF, MLXC_MLXMATH_ERFINV
        MLXC_MLXMATH_EXP, MLXC_NUM_MLXMATH
    int mlxc_random(int mode, void *out, const uint32_t *keys, int64_t nkeys,
                    int64_t per_key, float low, float range, int32_t ilow, int32_t ihigh)
    int mlxc_mlx_math(int func, float *out, const float *inp, int64_t n)
    float mlxc_half_to_float(uint16_t h)
    uint16_t mlxc_float_to_half(float f)
    float mlxc_bf16_to_float(uint16_t h)
    uint16_t mlxc_float_to_bf16(float f)

cdef extern from "mlxc_kernels.h" nogil:
    int mlxc_conv(int dtype, int nsp, int64_t batch, const int64_t *in_sp, int64_t cin,
                  const int64_t *k_sp, int64_t cout, const int64_t *out_sp,
                  const int64_t *stride, const int64_t *pad_lo, const int64_t *kdil,
                  const int64_t *idil, int64_t groups, int flip,
                  const void *x, const void *w, void *out)
    enum:
        MLXC_QUANT_AFFINE, MLXC_QUANT_MXFP4, MLXC_QUANT_MXFP8, MLXC_QUANT_NVFP4
    int mlxc_quantize(int mode, int dtype, const void *w, int64_t n, int group_size, int bits,
                      uint32_t *out, void *scales, void *biases, const float *global_scale)
    int mlxc_dequantize(int mode, int sdtype, const uint32_t *w, const void *scales,
                        const void *biases, int64_t n, int group_size, int bits,
                        const float *global_scale, int out_dtype, void *out)
    int mlxc_qmm(int mode, int64_t M, int64_t N, int64_t K, const float *x, const uint32_t *w,
                 const void *scales, const float *biases, int transpose, int group_size,
                 int bits, const float *global_scale, float *out)
    int mlxc_qmm_fp_half(int mode, int dtype, int64_t M, int64_t N, int64_t K,
                         const uint16_t *x, const uint32_t *w, const uint8_t *scales,
                         int transpose, int group_size, int bits, uint16_t *out)
    enum:
        MLXC_FFT_C2C, MLXC_FFT_C2C_INV, MLXC_FFT_R2C, MLXC_FFT_C2R
    int mlxc_fft(int kind, int in_dtype, const void *inp, void *out, int64_t n,
                 int64_t outer, int64_t inner, double scale)
