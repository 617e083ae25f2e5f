#!/bin/sh
# Build the kernel tests with ASan/UBSan and run them; exit status is the
# test program's (non-zero on any failure).  Run from anywhere.
#   tests/c/run.sh [test name ...]      MLXC_TEST_SEED=n picks another stream
# Each kernel file is compiled once per flag set (in parallel) and linked into every
# test program, so the sanitized build costs one pass over the kernels.
set -e
cd "$(dirname "$0")/../.."
B=tests/c/build
mkdir -p "$B/rel" "$B/san" "$B/tsan" "$B/topt"
CC=${CC:-gcc}
WARN="-std=c11 -Wall -Wextra -Werror -I kernels/include"
SAN="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow"
JOBS=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
# No ASan/UBSan runtime for this compiler: run the same tests unsanitized, not skip them.
probe="$B/probe_san"
if ! printf 'int main(void){return 0;}\n' | $CC $SAN -x c - -o "$probe" 2>/dev/null || ! "$probe"; then
    echo "run.sh: $CC has no usable ASan/UBSan runtime; building the tests without sanitizers"
    SAN=""
fi
rm -f "$probe"

# compile SRC OUT FLAGS...: one object, run in the background, at most JOBS at a time
pids=""
compile() {
    src=$1; out=$2; shift 2
    $CC "$@" -c "$src" -o "$out" &
    pids="$pids $!"
    set -- $pids
    if [ $# -ge "$JOBS" ]; then wait "$1"; pids="${pids#* $1}"; pids=" ${pids# }"; fi
}
for f in kernels/*.c; do
    n=$(basename "$f" .c)
    # the release flags must stay warning-free too; these objects also run the dense
    # optimized vector-math sweeps (one release build, not two)
    compile "$f" "$B/rel/$n.o" -O3 -fno-math-errno $WARN -pthread
    compile "$f" "$B/san/$n.o" -O2 $WARN $SAN -pthread
done
for t in test_kernels test_gemm test_vmath test_sort; do
    compile "tests/c/$t.c" "$B/tsan/$t.o" -O2 $WARN $SAN -pthread
done
compile tests/c/test_vmath.c "$B/topt/test_vmath.o" -O2 -fno-math-errno $WARN -pthread
for p in $pids; do wait "$p"; done

for t in test_kernels test_gemm test_vmath test_sort; do
    $CC $SAN -pthread "$B"/san/*.o "$B/tsan/$t.o" -lm -o "$B/$t"_san
done
$CC -pthread "$B"/rel/*.o "$B/topt/test_vmath.o" -lm -o "$B/test_vmath"

if [ $# -eq 0 ]; then
    # GEMM at every SIMD level this CPU has
    "./$B/test_gemm_san"
    # vector math accuracy at every SIMD level: a sparse pass under the sanitizers,
    # then the dense sweeps optimized (tests/c/test_vmath.c; --exhaustive NAME for
    # all 2^32 inputs)
    MLXC_VMATH_STRIDE=65521 "./$B/test_vmath_san" > "$B/test_vmath_san.log" ||
        { cat "$B/test_vmath_san.log"; exit 1; }
    "./$B/test_vmath"
    # sort/argsort against a qsort reference, 1-3 threads
    "./$B/test_sort_san"
fi
exec "./$B/test_kernels_san" "$@"
