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
rand_npy "$TMPD/res_in.npy" 9 5 1 6 6
rand_npy "$TMPD/mlp_in.npy" 10 5 7
same_without NNLC_NO_REDUCE_PROLOGUES "$TMPD" res 'reduce: .* (runs k[0-9]* first)' 3
same_without NNLC_NO_REDUCE_PROLOGUES "$TMPD" mlp 'reduce: .* (runs k[0-9]* first)' 3
