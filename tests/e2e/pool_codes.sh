# compiler/fuse.c fuse_pool_codes, runtime/conv.c NNL_KEEP_CODES: a convolution max-pooled
# 2x2 whose pooling adjoint is folded into its weight gradient keeps only each window's
# code (a byte: the cell that takes the gradient), its memory a byte a window in the plan.
# The cells are the ones nnl_maxpool2d_dx picks, so tests/models/conv_pool.nnl trains to
# the same bits and predicts the same bytes with codes as without (NNLC_NO_POOL_CODES=1),
# on one thread and two; the MNIST CNN's plan marks its convolution's slot as the codes.
set -e
. tests/e2e_lib.sh
cp tests/models/conv_pool.nnl "$TMPD/cp.nnl"
rand_npy "$TMPD/cp_in.npy" 4 5 2 9 9
same_without NNLC_NO_POOL_CODES "$TMPD" cp 'as window codes' 1
$NNLC --emit=plan examples/mnist_cnn.nnl | grep -q '^%[0-9]* CONV2D .* (as its pooling.s window codes, a byte a window)$'
test "$(NNLC_NO_POOL_CODES=1 $NNLC --emit=plan examples/mnist_cnn.nnl | grep -c 'window codes')" = 0
