# tanh, exp and sigmoid as nnlc computes them (without libm) against libm in double
# (tests/capi/fmath_test.c): optimized and not, and on x86-64 also for the baseline
# (multiply and add, no FMA) and for x86-64-v3 (FMA).
set -e
variants="-O2 -O0"
[ "$(uname -m)" = x86_64 ] && variants="$variants x86-64 x86-64-v3"
for v in $variants; do
    case $v in -O*) flags=$v;; *) flags="--target $v";; esac
    $NNLC -c tests/capi/fmath.nnl -o "$TMPD/fmath.o" $flags
    ${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$TMPD" -o "$TMPD/fmath_test" tests/capi/fmath_test.c \
        "$TMPD/fmath.o" "$NNLRT" -fopenmp -lcjson -lz -lm
    echo "$v:"
    "$TMPD/fmath_test"
done
