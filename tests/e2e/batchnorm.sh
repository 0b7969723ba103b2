# batch_norm's two modes and running statistics through the C API (tests/capi/bn_test.c).
set -e
$NNLC -c tests/capi/bn.nnl -o "$TMPD/bn.o"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$TMPD" -o "$TMPD/bn_test" tests/capi/bn_test.c \
    "$TMPD/bn.o" "$NNLRT" -fopenmp -lz -lm -lcjson
"$TMPD/bn_test"
# dropout: identity in inference, a seeded per-step mask in training
$NNLC -c tests/capi/dropout.nnl -o "$TMPD/dropout.o"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$TMPD" -o "$TMPD/dropout_test" tests/capi/dropout_test.c \
    "$TMPD/dropout.o" "$NNLRT" -fopenmp -lz -lm -lcjson
"$TMPD/dropout_test"
