# compiler/stacks.c: the values a STACK joins along axis 1 are written into its memory by
# the loops that compute them, and read there by the products that take them as A:
# tests/models/rnn_kept.nnl's LSTM writes each step's gate gradients into the step's
# [B, 4 units] inside the [B, T, 4 units] its weight gradients read (nested STACKs, each
# step's input gradient product reading its rows 4 T units apart). Training gives the
# same bits as with the copies (NNLC_NO_STACK_PLACE=1), on one thread and on two.
set -e
. tests/e2e_lib.sh
M=tests/models/rnn_kept.nnl
filled=$($NNLC --emit=fused $M | grep -c "(filled by its operands)")
test "$filled" -ge 9 || { echo "only $filled STACKs filled"; exit 1; }
test "$(NNLC_NO_STACK_PLACE=1 $NNLC --emit=fused $M | grep -c "(filled by its operands)")" = 0
P=$($NNLC --emit=plan $M)
nested=$(echo "$P" | grep -c "rows 2304 apart")   # gates and steps inside [B, 8, 288]
test "$nested" -ge 32 || { echo "$nested values inside the [B, 8, 288] STACK"; exit 1; }
$NNLC $M -o "$TMPD/s"
NNLC_NO_STACK_PLACE=1 $NNLC $M -o "$TMPD/n"
same_training "$TMPD" s n 40
echo "rnn_kept: $filled STACKs filled by their operands ($nested values nested), training identical"
