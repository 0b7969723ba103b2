# compiler/codegen.c kept_key, runtime/gemm.c kept_b: a B that many products multiply
# (an RNN's recurrent weight at every step, the transposed copy its backward reads) is
# packed once for all of them. tests/models/rnn_kept.nnl (an LSTM, then a GRU) calls
# nnl_sgemm_kept at every step and trains to the same bits as with each product packing
# its own B (NNLC_NO_KEPT=1), on one thread and on two: the packed copies follow the
# weights through every update.
set -e
. tests/e2e_lib.sh
M=tests/models/rnn_kept.nnl
kept=$($NNLC --emit=llvm $M | grep -c "call void @nnl_sgemm_kept")
test "$kept" -ge 28 || { echo "only $kept products name a kept B"; exit 1; }
test "$(NNLC_NO_KEPT=1 $NNLC --emit=llvm $M | grep -c "call void @nnl_sgemm_kept")" = 0
$NNLC --emit=llvm $M | grep -q "call void @nnl_params_changed" || { echo "no nnl_params_changed after the update"; exit 1; }
$NNLC $M -o "$TMPD/k"
NNLC_NO_KEPT=1 $NNLC $M -o "$TMPD/n"
same_training "$TMPD" k n 40
falls "$TMPD/k1.csv"
echo "rnn_kept: $kept products on a kept B, training identical"
