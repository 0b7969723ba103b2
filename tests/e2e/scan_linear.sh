# An unrolled scan stays linear in the number of steps: the training graph
# (--emit=grad) and the kernels (--emit=fused) of an LSTM over 32 steps are at most
# 2.1 times those over 16, and the arena per sample likewise.
set -e
for t in 16 32; do
    cat > "$TMPD/l$t.nnl" <<NNL
use std.nn
model S {
    input x: f32[$t, 8]
    output y: f32[2]
    layers {
        LSTM(16)
        LSTM(8, return_sequences: 0)
        Dense(2)
    }
}
train S { loss = cross_entropy(y, label) }
NNL
    $NNLC --emit=grad "$TMPD/l$t.nnl" | wc -l > "$TMPD/nodes$t"
    $NNLC --emit=fused "$TMPD/l$t.nnl" | wc -l > "$TMPD/kernels$t"
    $NNLC --emit=plan "$TMPD/l$t.nnl" | sed -n 's/.*fixed + \([0-9]*\) per sample.*/\1/p' > "$TMPD/arena$t"
done
for what in nodes kernels arena; do
    a=$(cat "$TMPD/${what}16"); b=$(cat "$TMPD/${what}32")
    echo "$what: $a at 16 steps, $b at 32"
    awk -v a="$a" -v b="$b" 'BEGIN { exit !(a > 0 && b <= 2.1 * a && b > 1.5 * a) }'
done
