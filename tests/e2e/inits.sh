# Every initializer's statistics, through nnlc -c and the runtime (tests/capi/init_test.c).
set -e
$NNLC -c tests/capi/inits.nnl -o "$TMPD/inits.o"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$TMPD" -o "$TMPD/init_test" tests/capi/init_test.c \
    "$TMPD/inits.o" "$NNLRT" -fopenmp -lcjson -lz -lm
"$TMPD/init_test"
