# The C API of point 3: `nnlc -c` writes linear.o and linear.h, a strict C11 program
# links them with the runtime and checks forward, loss, gradients and an SGD step.
set -e
$NNLC -c tests/capi/linear.nnl -o "$TMPD/linear.o"
test -f "$TMPD/linear.h"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -pedantic -I"$TMPD" -o "$TMPD/capi" tests/capi/capi_test.c \
    "$TMPD/linear.o" "$NNLRT" -fopenmp -lcjson -lz -lm
"$TMPD/capi"
