# compiler/fuse.c mark_prologues, runtime/kernels.c nnl_reduce_sum_pro: a sum over the
# trailing axes of a value the loop just before it stores (batch norm's sums over each
# image, a loss's mean) or over its leading ones (a bias's gradient over the batch) runs
# that loop block by block and sums each block from cache. The values are the same, so
# tests/models/tiny_resnet.nnl and an MLP train to the same bits and predict the same
# bytes with prologues as without (NNLC_NO_REDUCE_PROLOGUES=1), on one thread and two.
set -e
. tests/e2e_lib.sh
cp tests/models/tiny_resnet.nnl "$TMPD/res.nnl"
cat > "$TMPD/mlp.nnl" <<'NNL'
use std.nn
data blobs { train = blobs(n: 300, classes: 3, spread: 1.2, seed: 6) }
model Mlp {
    input x: f32[7]
    output logits: f32[3]
    layers {
        Dense(40) relu
        BatchNorm1D
        Dense(24) tanh
        Dense(3)
    }
}
train Mlp on blobs.train { loss = cross_entropy(logits, label); optimizer = sgd(lr: 0.05, momentum: 0.9); batch = 70; seed = 2 }
NNL
python3 - "$TMPD" <<'PY'
import random, struct, sys
d, r = sys.argv[1], random.Random(9)
def npy(path, shape, values):
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (shape,)
    h += ' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode())
        f.write(struct.pack('<%df' % len(values), *values))
npy(d + '/res_in.npy', (5, 1, 6, 6), [r.uniform(-1, 1) for _ in range(5 * 36)])
npy(d + '/mlp_in.npy', (5, 7), [r.uniform(-1, 1) for _ in range(5 * 7)])
PY
for m in res mlp; do
    n=$($NNLC --emit=fused "$TMPD/$m.nnl" | grep -c 'reduce: .* (runs k[0-9]* first)')
    test "$n" -ge 3 || { echo "$m: $n reductions with a prologue"; exit 1; }
    test "$(NNLC_NO_REDUCE_PROLOGUES=1 $NNLC --emit=fused "$TMPD/$m.nnl" | grep -c 'runs k')" = 0
    $NNLC "$TMPD/$m.nnl" -o "$TMPD/$m.p"
    NNLC_NO_REDUCE_PROLOGUES=1 $NNLC "$TMPD/$m.nnl" -o "$TMPD/$m.n"
    same_training "$TMPD" $m.p $m.n 20
    for b in p n; do
        (cd "$TMPD" && ./$m.$b train --steps 12 --quiet --checkpoint $m$b.safetensors > /dev/null &&
         ./$m.$b predict ${m}_in.npy -o $m$b.npy --checkpoint $m$b.safetensors --threads 2 --batch 1 > /dev/null)
    done
    cmp "$TMPD/${m}p.npy" "$TMPD/${m}n.npy" || { echo "$m: reduce prologues change the predictions"; exit 1; }
    echo "$m: $n reductions with a prologue, training and predictions identical without"
done
