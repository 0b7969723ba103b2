# rewrite.c moves max pooling before a per-channel bias and relu (-O1 and up): the
# fused kernels show the pooled add and relu, and training follows the graph as written
# (-O0): the same first loss to the last digit (the forward is exact; the first update
# already follows a bias gradient summed in another order), then the same to 1e-4.
set -e
. tests/e2e_lib.sh
$NNLC --emit=fused tests/models/conv_pool.nnl > "$TMPD/fused"
grep -q "loop f32\[B, 3, 3, 3\]: %[0-9]*=ADD\*\{0,1\} %[0-9]*=RELU\*" "$TMPD/fused" ||
    { echo "conv -> bias -> relu -> pool was not rewritten:"; cat "$TMPD/fused"; exit 1; }
grep -q "loop f32\[B, 2, 8, 8\]: %[0-9]*=RELU\*" "$TMPD/fused" ||
    { echo "a relu used twice must stay before its pool:"; cat "$TMPD/fused"; exit 1; }
$NNLC -O0 --emit=fused tests/models/conv_pool.nnl | grep -q "loop f32\[B, 3, 7, 7\]: %[0-9]*=ADD\*\{0,1\} %[0-9]*=RELU\*" ||
    { echo "-O0 must keep the graph as written"; exit 1; }
$NNLC -O0 tests/models/conv_pool.nnl -o "$TMPD/o0"
$NNLC -O2 tests/models/conv_pool.nnl -o "$TMPD/o2"
for o in o0 o2; do
    (cd "$TMPD" && ./$o train --steps 30 --threads 1 --quiet --log $o.csv --checkpoint $o.ckpt > /dev/null)
done
col "$TMPD/o0.csv" loss > "$TMPD/l0"
col "$TMPD/o2.csv" loss > "$TMPD/l2"
test "$(wc -l < "$TMPD/l0")" -ge 30
test "$(head -1 "$TMPD/l0")" = "$(head -1 "$TMPD/l2")"
paste "$TMPD/l0" "$TMPD/l2" | awk '{ d = $1 - $2; if (d < 0) d = -d
    if (d > 1e-4 * ($1 < 0 ? -$1 : $1) + 1e-6) { print "step " NR ": " $1 " vs " $2; bad = 1 } }
    END { exit bad }'
