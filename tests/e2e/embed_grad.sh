# An embedding table's gradient zeroes the rows of the step before and only those
# (runtime/embedding.c): tests/capi/embed_grad_test.c against a fresh model's gradient.
set -e
$NNLC -c --prefix embed_grad tests/capi/embed_grad.nnl -o "$TMPD/embed_grad.o"
${CC:-cc} -std=gnu11 -O1 -Iruntime -o "$TMPD/embed_grad" tests/capi/embed_grad_test.c "$TMPD/embed_grad.o" "$NNLRT" -fopenmp -lz -lm -lcjson
"$TMPD/embed_grad"
$NNLC --emit=plan tests/capi/embed_grad.nnl | grep -q "^embedding rows of " || { echo "no row marks in the plan"; exit 1; }
