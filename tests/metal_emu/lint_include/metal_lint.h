// Prelude of the address-space lint: clang's C++ for OpenCL 2021 (-x clcpp -cl-std=clc++2021)
// type-checks MSL address spaces once they are mapped to OpenCL's. Declarations only (the lint
// runs -fsyntax-only) and deliberately loose on everything but address spaces: the emulator's
// real compile checks the rest. double is rejected by the command line (fp64 disabled).
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
#define device __global
#define constant __constant
#define threadgroup __local
#define thread __private
#define kernel
#define METAL_EMU_LINT 1
#define __METAL_VERSION__ 310

// OpenCL has its own atomic types and memory_order: rename Metal's out of their way
#define atomic_int __metal_atomic_int
#define atomic_uint __metal_atomic_uint
#define atomic_float __metal_atomic_float
#define atomic_bool __metal_atomic_bool
#define atomic_ulong __metal_atomic_ulong
#define atomic_long __metal_atomic_long
#define memory_order __metal_memory_order
#define memory_order_relaxed __metal_memory_order_relaxed
#define memory_order_seq_cst __metal_memory_order_seq_cst

typedef unsigned int uint;
typedef unsigned short ushort;
typedef unsigned char uchar;
typedef unsigned long ulong;
typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ ptrdiff_t;
typedef signed char int8_t;
typedef short int16_t;
typedef int int32_t;
typedef long int64_t;
typedef uchar uint8_t;
typedef ushort uint16_t;
typedef uint uint32_t;
typedef ulong uint64_t;

struct bfloat {
    ushort bits;
    bfloat() = default;
    template <class T> bfloat(T v);
    operator float() const;
};

template <class T, int N> struct vec {
    T x, y, z, w;
    vec() = default;
    template <class... A> vec(A... a);
    T &operator[](int i);
    const T &operator[](int i) const;
};
#define LINT_VEC_BINOP(op)                                                               \
    template <class T, int N, class S> vec<T, N> operator op(vec<T, N>, S);              \
    template <class T, int N, class S> vec<T, N> operator op(S, vec<T, N>);              \
    template <class T, int N> vec<T, N> operator op(vec<T, N>, vec<T, N>);               \
    template <class T, int N, class S> vec<T, N> &operator op##=(vec<T, N> &, S);
LINT_VEC_BINOP(+) LINT_VEC_BINOP(-) LINT_VEC_BINOP(*) LINT_VEC_BINOP(/) LINT_VEC_BINOP(%)
LINT_VEC_BINOP(&) LINT_VEC_BINOP(|) LINT_VEC_BINOP(^) LINT_VEC_BINOP(<<) LINT_VEC_BINOP(>>)
#define LINT_VEC_CMP(op)                                                                 \
    template <class T, int N, class S> vec<bool, N> operator op(vec<T, N>, S);           \
    template <class T, int N, class S> vec<bool, N> operator op(S, vec<T, N>);           \
    template <class T, int N> vec<bool, N> operator op(vec<T, N>, vec<T, N>);
LINT_VEC_CMP(<) LINT_VEC_CMP(>) LINT_VEC_CMP(<=) LINT_VEC_CMP(>=) LINT_VEC_CMP(==) LINT_VEC_CMP(!=)
template <class T, int N> vec<T, N> operator-(vec<T, N>);
template <class T, int N> vec<T, N> operator~(vec<T, N>);
template <class T, int N> vec<bool, N> operator!(vec<T, N>);
#define LINT_VEC_TYPES(T, name) \
    typedef vec<T, 2> name##2; typedef vec<T, 3> name##3; typedef vec<T, 4> name##4;
LINT_VEC_TYPES(float, float) LINT_VEC_TYPES(half, half) LINT_VEC_TYPES(bfloat, bfloat)
LINT_VEC_TYPES(int, int) LINT_VEC_TYPES(uint, uint) LINT_VEC_TYPES(short, short)
LINT_VEC_TYPES(ushort, ushort) LINT_VEC_TYPES(char, char) LINT_VEC_TYPES(uchar, uchar)
LINT_VEC_TYPES(bool, bool) LINT_VEC_TYPES(long, long) LINT_VEC_TYPES(ulong, ulong)

#define MAXFLOAT 3.40282347e+38f
#define HUGE_VALF (__builtin_huge_valf())
#define INFINITY (__builtin_inff())
#define NAN (__builtin_nanf(""))
#define FLT_MAX 3.40282347e+38f
#define FLT_MIN 1.17549435e-38f
#define FLT_EPSILON 1.1920929e-7f
#define HALF_MAX ((half)65504.0f)
#define HALF_MIN ((half)6.10351562e-05f)
#define INT_MAX 2147483647
#define INT_MIN (-2147483647 - 1)
#define UINT_MAX 4294967295u
#define SHRT_MAX 32767
#define SHRT_MIN (-32768)
#define USHRT_MAX 65535
#define SCHAR_MAX 127
#define SCHAR_MIN (-128)
#define UCHAR_MAX 255
#define CHAR_BIT 8
#define LONG_MAX 9223372036854775807L
#define LONG_MIN (-9223372036854775807L - 1)
#define ULONG_MAX 18446744073709551615UL
#define M_PI_F 3.14159265358979323846f
#define M_PI_2_F 1.57079632679489661923f
#define M_PI_4_F 0.785398163397448309616f
#define M_E_F 2.71828182845904523536f
#define M_LN2_F 0.693147180559945309417f
#define M_LN10_F 2.30258509299404568402f
#define M_LOG2E_F 1.44269504088896340736f
#define M_LOG10E_F 0.434294481903251827651f
#define M_SQRT2_F 1.41421356237309504880f
#define M_SQRT1_2_F 0.707106781186547524401f
#define M_1_PI_F 0.318309886183790671538f
#define M_2_PI_F 0.636619772367581343076f
#define M_2_SQRTPI_F 1.12837916709551257390f

namespace metal {
using ::vec; using ::bfloat;
#define LINT_VEC_USING(name) using ::name##2; using ::name##3; using ::name##4;
LINT_VEC_USING(float) LINT_VEC_USING(half) LINT_VEC_USING(bfloat) LINT_VEC_USING(int)
LINT_VEC_USING(uint) LINT_VEC_USING(short) LINT_VEC_USING(ushort) LINT_VEC_USING(char)
LINT_VEC_USING(uchar) LINT_VEC_USING(bool) LINT_VEC_USING(long) LINT_VEC_USING(ulong)
template <class T> struct numeric_limits {
    static constexpr bool is_specialized = true, is_integer = false, is_signed = true;
    static constexpr int digits = 0;
    static T min(); static T max(); static T lowest(); static T epsilon();
    static T infinity(); static T quiet_NaN(); static T denorm_min();
};
template <class T, class U> T as_type(U);
template <class T, unsigned long N> struct array {
    T __a[N];
    T &operator[](unsigned long i);
    const T &operator[](unsigned long i) const;
    static constexpr unsigned long size() { return N; }
};
template <class T, class U> struct is_same { static constexpr bool value = false; };
template <class T> struct is_same<T, T> { static constexpr bool value = true; };
template <class T, class U> constexpr bool is_same_v = is_same<T, U>::value;
template <bool B, class T = void> struct enable_if {};
template <class T> struct enable_if<true, T> { typedef T type; };
template <bool B, class T = void> using enable_if_t = typename enable_if<B, T>::type;
template <bool B, class T, class F> struct conditional { typedef T type; };
template <class T, class F> struct conditional<false, T, F> { typedef F type; };
template <bool B, class T, class F> using conditional_t = typename conditional<B, T, F>::type;
template <class T> struct is_floating_point { static constexpr bool value = false; };
template <> struct is_floating_point<float> { static constexpr bool value = true; };
template <> struct is_floating_point<half> { static constexpr bool value = true; };
template <> struct is_floating_point<bfloat> { static constexpr bool value = true; };
template <class T> constexpr bool is_floating_point_v = is_floating_point<T>::value;
template <class T> struct is_integral { static constexpr bool value = !is_floating_point<T>::value; };
template <class T> constexpr bool is_integral_v = is_integral<T>::value;
template <class T> struct is_signed { static constexpr bool value = T(-1) < T(0); };
template <class T> struct make_unsigned { typedef T type; };
template <class T> using make_unsigned_t = typename make_unsigned<T>::type;

#define LINT_F1(name) template <class T> T name(T);
LINT_F1(exp) LINT_F1(exp2) LINT_F1(exp10) LINT_F1(log) LINT_F1(log2) LINT_F1(log10) LINT_F1(sqrt)
LINT_F1(rsqrt) LINT_F1(sin) LINT_F1(cos) LINT_F1(tan) LINT_F1(asin) LINT_F1(acos) LINT_F1(atan)
LINT_F1(sinh) LINT_F1(cosh) LINT_F1(tanh) LINT_F1(asinh) LINT_F1(acosh) LINT_F1(atanh)
LINT_F1(sinpi) LINT_F1(cospi) LINT_F1(tanpi) LINT_F1(floor) LINT_F1(ceil) LINT_F1(round)
LINT_F1(rint) LINT_F1(trunc) LINT_F1(fabs) LINT_F1(abs) LINT_F1(fract) LINT_F1(saturate)
LINT_F1(sign) LINT_F1(popcount) LINT_F1(clz) LINT_F1(ctz) LINT_F1(reverse_bits) LINT_F1(normalize)
#define LINT_F2(name) template <class T, class U> T name(T, U);
LINT_F2(pow) LINT_F2(powr) LINT_F2(atan2) LINT_F2(fmod) LINT_F2(fmax) LINT_F2(fmin) LINT_F2(max)
LINT_F2(min) LINT_F2(copysign) LINT_F2(fdim) LINT_F2(nextafter) LINT_F2(divide) LINT_F2(step)
LINT_F2(mulhi) LINT_F2(absdiff) LINT_F2(rotate)
#define LINT_F3(name) template <class T, class U, class V> T name(T, U, V);
LINT_F3(fma) LINT_F3(mix) LINT_F3(clamp) LINT_F3(min3) LINT_F3(max3) LINT_F3(median3)
LINT_F3(fmin3) LINT_F3(fmax3) LINT_F3(extract_bits)
template <class T, class U, class C> T select(T, U, C);
template <class T> bool isnan(T); template <class T> bool isinf(T);
template <class T> bool isfinite(T); template <class T> bool isnormal(T);
template <class T> bool signbit(T); template <class T> bool all(T); template <class T> bool any(T);
template <class T> auto dot(T, T) -> decltype(T().x);
template <class T> auto length(T) -> decltype(T().x);
namespace precise { using namespace ::metal; }
namespace fast { using namespace ::metal; }

enum memory_order { memory_order_relaxed, memory_order_seq_cst };
enum class mem_flags : int { mem_none = 0, mem_device = 1, mem_threadgroup = 2, mem_texture = 4 };
mem_flags operator|(mem_flags, mem_flags);
template <class T> struct atomic { T __v; };
typedef atomic<int> atomic_int;
typedef atomic<uint> atomic_uint;
typedef atomic<float> atomic_float;
typedef atomic<bool> atomic_bool;
typedef atomic<ulong> atomic_ulong;
typedef atomic<long> atomic_long;
// atomics take a generic pointer: device and threadgroup objects convert, constant ones do not
template <class T, class U> void atomic_store_explicit(atomic<T> *, U, memory_order);
template <class T> T atomic_load_explicit(atomic<T> *, memory_order);
template <class T, class U> T atomic_exchange_explicit(atomic<T> *, U, memory_order);
template <class T, class E, class U> bool atomic_compare_exchange_weak_explicit(atomic<T> *, E *, U, memory_order, memory_order);
template <class T, class E, class U> bool atomic_compare_exchange_strong_explicit(atomic<T> *, E *, U, memory_order, memory_order);
#define LINT_RMW(name) template <class T, class U> T atomic_fetch_##name##_explicit(atomic<T> *, U, memory_order);
LINT_RMW(add) LINT_RMW(sub) LINT_RMW(and) LINT_RMW(or) LINT_RMW(xor) LINT_RMW(min) LINT_RMW(max)

void threadgroup_barrier(mem_flags);
void simdgroup_barrier(mem_flags);
struct simd_vote {
    typedef ulong vote_t;
    explicit simd_vote(vote_t = 0);
    explicit operator vote_t() const;
    bool all() const; bool any() const;
};
LINT_F1(simd_sum) LINT_F1(simd_product) LINT_F1(simd_max) LINT_F1(simd_min) LINT_F1(simd_and)
LINT_F1(simd_or) LINT_F1(simd_xor) LINT_F1(simd_prefix_exclusive_sum)
LINT_F1(simd_prefix_inclusive_sum) LINT_F1(simd_prefix_exclusive_product)
LINT_F1(simd_prefix_inclusive_product) LINT_F1(simd_broadcast_first)
template <class T> T simd_shuffle(T, ushort); template <class T> T simd_broadcast(T, ushort);
template <class T> T simd_shuffle_down(T, ushort); template <class T> T simd_shuffle_up(T, ushort);
template <class T> T simd_shuffle_xor(T, ushort);
template <class T> T simd_shuffle_rotate_down(T, ushort);
template <class T> T simd_shuffle_rotate_up(T, ushort);
simd_vote simd_ballot(bool); simd_vote simd_active_threads_mask();
bool simd_all(bool); bool simd_any(bool); bool simd_is_first();
}  // namespace metal
// a threadgroup declaration's storage (the pre-pass rewrites `threadgroup T x[N];` to use it)
__local void *__lint_local();
