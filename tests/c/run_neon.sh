#!/bin/sh
# Build the kernels and the C kernel tests for aarch64 and run them under
# qemu-user, so the NEON kernels are checked against the scalar ones and the
# double-precision references without arm64 hardware.  Run from anywhere.
#   tests/c/run_neon.sh [--full]   exit 0: passed, 1: failed, 77: skipped (no tools)
# Tools: Debian's gcc-aarch64-linux-gnu (+ libc6-dev-arm64-cross) and
# qemu-user; AARCH64_CC / QEMU_AARCH64 name others.  On an arm64 host the
# native compiler ($CC, default gcc) builds and the programs run directly.
# Emulation is slow (the tests take ~40x their native time), so by default:
#   MLXC_CPU_ISA unset (neon): test_kernels but copy and matmul, test_gemm -q neon
#   MLXC_CPU_ISA=scalar:       test_kernels for the kernels that dispatch per
#                              level, test_gemm -q scalar
#   test_vmath with a sparse sweep (no NEON vector math yet: libm path)
# copy has no per-level kernels; test_kernels' matmul test keeps long double
# references, which arm64 computes in software (minutes under qemu), and
# test_gemm covers mlxc_matmul at both levels.  --full runs all of
# test_kernels and test_gemm at both levels (about four times as long).
set -u
cd "$(dirname "$0")/../.."
full=0
[ "${1:-}" = --full ] && full=1

if [ "$(uname -m)" = aarch64 ] || [ "$(uname -m)" = arm64 ]; then
    XCC=${CC:-gcc}
    RUN=
else
    XCC=${AARCH64_CC:-aarch64-linux-gnu-gcc}
    RUN=${QEMU_AARCH64:-}
    if [ -z "$RUN" ]; then
        for q in qemu-aarch64 qemu-aarch64-static; do
            if command -v "$q" >/dev/null 2>&1; then RUN=$q; break; fi
        done
    fi
    if ! command -v "$XCC" >/dev/null 2>&1; then
        echo "skipped: no aarch64 cross-compiler ($XCC; Debian: apt-get install gcc-aarch64-linux-gnu)"
        exit 77
    fi
    if [ -z "$RUN" ] || ! command -v "$RUN" >/dev/null 2>&1; then
        echo "skipped: no qemu-aarch64 (Debian: apt-get install qemu-user)"
        exit 77
    fi
fi
# a private build folder (runs in the same checkout may overlap), kept on failure
B=$(mktemp -d "${TMPDIR:-/tmp}/mlxc-neon.XXXXXX") || exit 1

# a static C program must link and run, else the tools are incomplete
printf '#include <stdio.h>\nint main(void) { puts("ok"); return 0; }\n' > "$B/probe.c"
if ! $XCC -static "$B/probe.c" -o "$B/probe" > "$B/probe.log" 2>&1; then
    echo "skipped: $XCC cannot link static programs (Debian: apt-get install libc6-dev-arm64-cross):"
    head -3 "$B/probe.log"
    rm -rf "$B"
    exit 77
fi
if [ "$($RUN "$B/probe" 2>&1)" != ok ]; then
    echo "skipped: $RUN cannot run a static aarch64 program"
    rm -rf "$B"
    exit 77
fi

t0=$(date +%s)
# kernels with the release flags, which must stay warning-free on arm64 too
fail=0
pids=""
objs=""
for f in kernels/*.c; do
    o="$B/$(basename "$f" .c).o"
    objs="$objs $o"
    $XCC -O3 -std=c11 -fno-math-errno -Wall -Wextra -Werror -I kernels/include \
        -c "$f" -o "$o" &
    pids="$pids $!"
done
progs="test_kernels test_gemm"
[ -f tests/c/test_vmath.c ] && progs="$progs test_vmath"
for p in $progs; do
    $XCC -O2 -std=c11 -fno-math-errno -Wall -Wextra -Werror -I kernels/include \
        -c "tests/c/$p.c" -o "$B/$p.o" &
    pids="$pids $!"
done
for p in $pids; do wait "$p" || fail=1; done
if [ $fail -ne 0 ]; then echo "FAILED: aarch64 build"; rm -rf "$B"; exit 1; fi
for p in $progs; do
    # shellcheck disable=SC2086
    $XCC -static -pthread $objs "$B/$p.o" -lm -o "$B/$p" || { echo "FAILED: link $p"; rm -rf "$B"; exit 1; }
done
t1=$(date +%s)
echo "aarch64 build: $((t1 - t0)) s ($XCC, $(echo "$objs" | wc -w) kernel files)"

# The jobs run side by side, one kernel thread each (test_gemm sets 1/2/3
# threads itself); a job's log is printed when it fails.
NEON="half fill/arange unary binary select reduce argreduce scan sort gather"
Q=-q
if [ $full -eq 1 ]; then NEON=; Q=; fi   # no names: every test
job() {  # name, then env's arguments: the environment and the command
    name=$1
    shift
    (
        s=$(date +%s)
        env "$@" > "$B/$name.log" 2>&1
        rc=$?
        echo "$rc $(( $(date +%s) - s ))" > "$B/$name.rc"
    ) &
    jobs_pids="$jobs_pids $!"
    jobs_names="$jobs_names $name"
}
jobs_pids=""
jobs_names=""
# shellcheck disable=SC2086
{
    job kernels-neon -u MLXC_CPU_ISA MLXC_NUM_THREADS=1 $RUN "$B/test_kernels" $NEON
    job gemm-neon -u MLXC_CPU_ISA MLXC_NUM_THREADS=1 $RUN "$B/test_gemm" $Q neon
    # the scalar level under emulation only with --full: the x86 run (tests/c/run.sh)
    # tests the same portable C natively, at a fraction of the CI time
    if [ $full -eq 1 ]; then
        job kernels-scalar MLXC_CPU_ISA=scalar MLXC_NUM_THREADS=1 $RUN "$B/test_kernels"
        job gemm-scalar MLXC_CPU_ISA=scalar MLXC_NUM_THREADS=1 $RUN "$B/test_gemm" $Q scalar
    fi
    case $progs in
    *test_vmath*) job vmath MLXC_VMATH_STRIDE=65521 MLXC_NUM_THREADS=1 $RUN "$B/test_vmath" ;;
    esac
}
for p in $jobs_pids; do wait "$p"; done
for n in $jobs_names; do
    read -r rc secs < "$B/$n.rc"
    last=$(grep -v '^ *$' "$B/$n.log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "ok   $n (${secs} s): $last"
    else
        fail=1
        echo "FAIL $n (${secs} s, exit $rc):"
        grep -i -B2 'fail' "$B/$n.log" | head -n 40 || tail -n 20 "$B/$n.log"
        echo "  ... (full log: $B/$n.log)"
    fi
done
echo "aarch64 tests under ${RUN:-native}: $(( $(date +%s) - t0 )) s in all"
[ $fail -eq 0 ] || { echo "FAILED (build and logs in $B)"; exit 1; }
rm -rf "$B"
echo "OK"
