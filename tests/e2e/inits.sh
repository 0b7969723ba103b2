# Every initializer's statistics and concat's forward values, through nnlc -c and the runtime.
set -e
$NNLC -c tests/capi/inits.nnl -o "$TMPD/inits.o"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$TMPD" -o "$TMPD/init_test" tests/capi/init_test.c \
    "$TMPD/inits.o" "$NNLRT" -fopenmp -lcjson -lz -lm
"$TMPD/init_test"
# concat's forward values (tests/capi/concat_test.c)
$NNLC -c tests/capi/concat.nnl -o "$TMPD/concat.o"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$TMPD" -o "$TMPD/concat_test" tests/capi/concat_test.c \
    "$TMPD/concat.o" "$NNLRT" -fopenmp -lcjson -lz -lm
"$TMPD/concat_test"
