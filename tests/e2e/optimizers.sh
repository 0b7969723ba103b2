# Every optimizer (SGD momentum + weight decay, Adam with L2, AdamW, RMSprop with
# momentum, Adam with gradient clipping) against tests/capi/optim_test.c's reference.
set -e
for f in tests/capi/opt_*.nnl; do
    n=$(basename "$f" .nnl)
    $NNLC -c --prefix "$n" "$f" -o "$TMPD/$n.o"
    ${CC:-cc} -std=gnu11 -O1 -Iruntime -DDESC="${n}_desc" -o "$TMPD/$n" tests/capi/optim_test.c "$TMPD/$n.o" "$NNLRT" -fopenmp -lz -lm -lcjson
    "$TMPD/$n"
done
