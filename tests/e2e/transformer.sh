# std.nn's TransformerBlock computes what its definition says: forward values of
# tests/capi/transformer.nnl against the C recomputation in tests/capi/transformer_test.c.
set -e
$NNLC -c --prefix tfm tests/capi/transformer.nnl -o "$TMPD/transformer.o"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$TMPD" -o "$TMPD/transformer_test" tests/capi/transformer_test.c \
    "$TMPD/transformer.o" "$NNLRT" -fopenmp -lcjson -lz -lm
"$TMPD/transformer_test"
