# Elementwise loops are split between threads by their work, not only their length
# (compiler/codegen.c loop_weight): the LSTM cell's loop over [B, 128] (three sigmoids,
# two tanh: weight 1 + 5 * 4 = 21) goes to nnl_parallel_for_work from 781 elements up
# (16384 / 21), where a plain loop waits for 16384; the cell's loops run in parallel at
# the benchmark's batch of 32 (4096 elements). The runtime's side is in
# tests/runtime/test_kernels.c (test_parallel_for_work).
set -e
$NNLC --emit=llvm examples/text_lstm.nnl > "$TMPD/l.ll"
n=$(grep -c 'call void @nnl_parallel_for_work(ptr [^,]*, ptr [^,]*, i64 %[0-9]*, i32 21)' "$TMPD/l.ll" || true)
test "$n" -ge 64 || { echo "the LSTM cell's loops: $n weighted launches, want one per step (64)"; exit 1; }
grep -q 'icmp slt i64 %[0-9]*, 781$' "$TMPD/l.ll" || { echo "no serial bound of 781 elements"; exit 1; }
grep -q 'icmp slt i64 %[0-9]*, 16384$' "$TMPD/l.ll" || { echo "no plain loop with the bound of 16384"; exit 1; }
echo "LSTM cell loops: $n launches of weight 21, parallel from 781 elements"
