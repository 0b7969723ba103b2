# compiler/fuse.c mark_prologues, runtime/kernels.c nnl_reduce_sum_pro: a sum over the
# trailing axes of a value the loop just before it stores (batch norm's sums over each
# image, a loss's mean) or over its leading ones (a bias's gradient over the batch) runs
# that loop block by block and sums each block from cache. The values are the same, so
# tests/models/tiny_resnet.nnl and an MLP train to the same bits and predict the same
# bytes with prologues as without (NNLC_NO_REDUCE_PROLOGUES=1), on one thread and two.
set -e
. tests/e2e_lib.sh
bn_models "$TMPD"
same_without NNLC_NO_REDUCE_PROLOGUES "$TMPD" res 'reduce: .* (runs k[0-9]* first)' 3
same_without NNLC_NO_REDUCE_PROLOGUES "$TMPD" mlp 'reduce: .* (runs k[0-9]* first)' 3
