#!/bin/sh
# Build the kernel tests with ASan/UBSan and run them; exit status is the
# test program's (non-zero on any failure).  Run from anywhere.
set -e
cd "$(dirname "$0")/../.."
mkdir -p tests/c/build
CC=${CC:-gcc}
# the release flags must stay warning-free as well
for f in kernels/*.c; do
    $CC -O3 -std=c11 -fno-math-errno -Wall -Wextra -Werror -I kernels/include -c "$f" -o tests/c/build/"$(basename "$f" .c)".o
done
$CC -O2 -std=c11 -Wall -Wextra -Werror -fsanitize=address,undefined -fno-sanitize-recover=undefined \
    -I kernels/include kernels/*.c tests/c/test_kernels.c -lm -o tests/c/build/test_kernels
exec ./tests/c/build/test_kernels
