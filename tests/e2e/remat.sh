# compiler/remat.c: at -O2 the gradients recompute GELU's pieces, layer norm's scaled
# output, tanh, sigmoid and exp from what is in memory anyway, so the forward loops of
# tests/models/remat.nnl store only what a GEMM, a row kernel or the loss reads (one
# value each, where -O0 stores 6 and 5); and training gives the same bits as at -O0.
set -e
. tests/e2e_lib.sh
M=tests/models/remat.nnl
stores() { $NNLC "$1" --emit=fused $M | sed -n '/^# forward/,/^# loss/p' | grep "^k[0-9]* loop f32\[B, 64\]" |
           awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i ~ /\*$/) n++; printf "%d ", n }'; }
test "$(stores -O0)" = "6 5 " || { echo "-O0 stores: $(stores -O0)"; exit 1; }
test "$(stores -O2)" = "1 1 " || { echo "-O2 stores: $(stores -O2)"; exit 1; }
$NNLC -O0 $M -o "$TMPD/r0"
$NNLC -O2 $M -o "$TMPD/r2"
for o in r0 r2; do
    (cd "$TMPD" && ./$o train --steps 30 --threads 1 --quiet --log $o.csv --checkpoint $o.ckpt > /dev/null)
done
test "$(wc -l < "$TMPD/r0.csv")" -ge 30
cmp "$TMPD/r0.csv" "$TMPD/r2.csv" || { echo "-O0 and -O2 train differently:"; diff "$TMPD/r0.csv" "$TMPD/r2.csv" | head; exit 1; }
# a transformer's arena shrinks: fewer floats a sample at -O2
per() { $NNLC "$1" --emit=plan tests/models/tiny_gpt.nnl | sed -n 's/^arena: [0-9]* fixed + \([0-9]*\) per sample.*/\1/p'; }
p0=$(per -O0); p2=$(per -O2)
test "$p2" -lt "$p0" || { echo "tiny_gpt arena per sample: $p0 at -O0, $p2 at -O2"; exit 1; }
echo "tiny_gpt: $p0 -> $p2 floats a sample"
