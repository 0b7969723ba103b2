# The generated update flags a trained gradient or new value that is NaN or Inf
# (NnlModelDesc.finite_off), and `./model train`'s NaN guard reads that flag instead of
# every trained value after each step: tests/capi/finite_flag_test.c.
set -e
$NNLC -c --prefix ff tests/capi/finite_flag.nnl -o "$TMPD/ff.o" 2> "$TMPD/warn"
${CC:-cc} -std=gnu11 -O1 -Iruntime -o "$TMPD/finite_flag" tests/capi/finite_flag_test.c "$TMPD/ff.o" "$NNLRT" \
    -fopenmp -lz -lm -lcjson
"$TMPD/finite_flag"
