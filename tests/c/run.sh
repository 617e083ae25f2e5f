#!/bin/sh
# Build the kernel tests with ASan/UBSan and run them; exit status is the
# test program's (non-zero on any failure).  Run from anywhere.
#   tests/c/run.sh [test name ...]      MLXC_TEST_SEED=n picks another stream
set -e
cd "$(dirname "$0")/../.."
B=tests/c/build
mkdir -p "$B"
CC=${CC:-gcc}
# the release flags must stay warning-free too (compiled in parallel)
pids=""
for f in kernels/*.c; do
    $CC -O3 -std=c11 -fno-math-errno -Wall -Wextra -Werror -I kernels/include \
        -c "$f" -o "$B/$(basename "$f" .c).o" &
    pids="$pids $!"
done
$CC -O2 -std=c11 -Wall -Wextra -Werror -fsanitize=address,undefined,float-cast-overflow \
    -fno-sanitize-recover=undefined,float-cast-overflow \
    -I kernels/include kernels/*.c tests/c/test_kernels.c -lm -o "$B/test_kernels"
for p in $pids; do wait "$p"; done
# GEMM at every SIMD level this CPU has; runs when no test names are given
$CC -O2 -std=c11 -Wall -Wextra -Werror -fsanitize=address,undefined,float-cast-overflow \
    -fno-sanitize-recover=undefined,float-cast-overflow -pthread \
    -I kernels/include kernels/*.c tests/c/test_gemm.c -lm -o "$B/test_gemm"
if [ $# -eq 0 ]; then "./$B/test_gemm"; fi
# vector math accuracy at every SIMD level: a sparse pass under the sanitizers,
# then the dense sweeps optimized (tests/c/test_vmath.c; --exhaustive NAME for
# all 2^32 inputs); runs when no test names are given
$CC -O2 -std=c11 -Wall -Wextra -Werror -fsanitize=address,undefined,float-cast-overflow \
    -fno-sanitize-recover=undefined,float-cast-overflow -pthread \
    -I kernels/include kernels/*.c tests/c/test_vmath.c -lm -o "$B/test_vmath_san"
$CC -O2 -std=c11 -fno-math-errno -Wall -Wextra -Werror -pthread \
    -I kernels/include kernels/*.c tests/c/test_vmath.c -lm -o "$B/test_vmath"
if [ $# -eq 0 ]; then
    MLXC_VMATH_STRIDE=65521 "./$B/test_vmath_san" > "$B/test_vmath_san.log" ||
        { cat "$B/test_vmath_san.log"; exit 1; }
    "./$B/test_vmath"
fi
exec "./$B/test_kernels" "$@"
