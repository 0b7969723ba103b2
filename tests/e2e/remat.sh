# compiler/remat.c: at -O2 the gradients recompute layer norm's scaled output, tanh,
# sigmoid and exp from what is in memory anyway, so the second training forward loop of
# tests/models/remat.nnl stores only what the GEMM after it reads (one value, where -O0
# stores 5). The other way round (precompute_derivatives), GELU's derivative moves from
# the gradients into the training forward's GELU loop, which stores it in place of its
# input (two values either way), and not into the inference forward. Training gives the
# same bits as at -O0.
set -e
. tests/e2e_lib.sh
M=tests/models/remat.nnl
section() { $NNLC "$1" --emit=fused $M | sed -n "/^# $2\$/,/^# $3\$/p"; }
stores() { section "$1" "training forward" "training loss" | grep "^k[0-9]* loop f32\[B, 64\]" |
           awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i ~ /\*$/) n++; printf "%d ", n }'; }
test "$(stores -O0)" = "2 5 " || { echo "-O0 stores: $(stores -O0)"; exit 1; }
test "$(stores -O2)" = "2 1 " || { echo "-O2 stores: $(stores -O2)"; exit 1; }
dx() { section "$1" "$2" "$3" | grep -c "=GELU_DX" || true; }
test "$(dx -O2 "training forward" "training loss")" = 1 || { echo "-O2: GELU_DX not in the training forward"; exit 1; }
test "$(dx -O2 gradients update)" = 0 || { echo "-O2: GELU_DX left in the gradients"; exit 1; }
test "$(dx -O2 forward loss)" = 0 || { echo "-O2: GELU_DX in the inference forward"; exit 1; }
test "$(dx -O0 gradients update)" = 1 || { echo "-O0: GELU_DX not in the gradients"; exit 1; }
$NNLC -O0 $M -o "$TMPD/r0"
$NNLC -O2 $M -o "$TMPD/r2"
for o in r0 r2; do
    (cd "$TMPD" && ./$o train --steps 30 --threads 1 --quiet --log $o.csv --checkpoint $o.ckpt > /dev/null)
done
test "$(wc -l < "$TMPD/r0.csv")" -ge 30
cmp "$TMPD/r0.csv" "$TMPD/r2.csv" || { echo "-O0 and -O2 train differently:"; diff "$TMPD/r0.csv" "$TMPD/r2.csv" | head; exit 1; }
# the arena shrinks: fewer floats a sample at -O2
per() { $NNLC "$1" --emit=plan $M | sed -n 's/^arena: [0-9]* fixed + \([0-9]*\) per sample.*/\1/p'; }
p0=$(per -O0); p2=$(per -O2)
test "$p2" -lt "$p0" || { echo "arena per sample: $p0 at -O0, $p2 at -O2"; exit 1; }
echo "$p0 -> $p2 floats a sample"
