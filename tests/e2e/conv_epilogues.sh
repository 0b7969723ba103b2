# compiler/fuse.c, runtime/conv.c: the elementwise loop after a convolution or its input
# gradient (the bias and what follows it: batch norm's centring, an activation; a
# residual's gradient added) runs as the convolution's epilogue on each image's output
# (nnl_conv2d_ep, nnl_conv2d_dx_ep). The loops compute the same values either way, so
# tests/models/tiny_resnet.nnl (batch norm, residual blocks) and a plain convolution +
# ReLU network train to the same bits with the epilogues as without
# (NNLC_NO_CONV_EPILOGUES=1), on one thread and on two, and predict the same bytes at
# batch 1 (the inference forward's epilogues).
set -e
. tests/e2e_lib.sh
cp tests/models/tiny_resnet.nnl "$TMPD/res.nnl"
cat > "$TMPD/relu.nnl" <<'NNL'
use std.nn
data blobs { train = blobs(n: 192, classes: 3, spread: 1.5, seed: 4) }
model ConvRelu {
    input image: f32[2, 7, 9]
    output logits: f32[3]
    layers {
        Conv2D(12, 3, padding: 1) relu
        Conv2D(10, 3, padding: 1) tanh
        Conv2D(8, 3) relu
        GlobalAvgPool2D
        Dense(3)
    }
}
train ConvRelu on blobs.train { loss = cross_entropy(logits, label); optimizer = adam(lr: 0.01); batch = 24; seed = 3 }
NNL
rand_npy "$TMPD/res_in.npy" 7 5 1 6 6
rand_npy "$TMPD/relu_in.npy" 8 5 2 7 9
same_without NNLC_NO_CONV_EPILOGUES "$TMPD" res 'call: %[0-9]*=CONV2D\(_DX\)\?\* -> epilogue' 3
same_without NNLC_NO_CONV_EPILOGUES "$TMPD" relu 'call: %[0-9]*=CONV2D\(_DX\)\?\* -> epilogue' 3
