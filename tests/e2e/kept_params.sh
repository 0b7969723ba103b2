# A forward that only inference runs keeps its packed weights from one call to the next
# (runtime/gemm.c kept_b; NnlModel.params_settled) and drops them whenever the weights
# may have changed: tests/capi/kept_params_test.c through the C API after a checkpoint
# load, kp_init_params, a training step and writes through kp_param_data.
set -e
n=$($NNLC --emit=llvm tests/capi/kept_params.nnl | grep -c "call void @nnl_sgemm_kept")
test "$n" = 2 || { echo "$n forward products keep their weights, want 2"; exit 1; }
$NNLC -c --prefix kp tests/capi/kept_params.nnl -o "$TMPD/kp.o"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$TMPD" -o "$TMPD/kp_test" tests/capi/kept_params_test.c \
    "$TMPD/kp.o" "$NNLRT" -fopenmp -lcjson -lz -lm
"$TMPD/kp_test" "$TMPD"
