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
python3 - "$TMPD" <<'PY'
import random, struct, sys
d, r = sys.argv[1], random.Random(7)
def npy(path, shape, values):
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (shape,)
    h += ' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode())
        f.write(struct.pack('<%df' % len(values), *values))
npy(d + '/res_in.npy', (5, 1, 6, 6), [r.uniform(-1, 1) for _ in range(5 * 36)])
npy(d + '/relu_in.npy', (5, 2, 7, 9), [r.uniform(-1, 1) for _ in range(5 * 126)])
PY
for m in res relu; do
    n=$($NNLC --emit=fused "$TMPD/$m.nnl" | grep -c 'call: %[0-9]*=CONV2D\(_DX\)\?\* -> epilogue')
    test "$n" -ge 3 || { echo "$m: $n convolutions with an epilogue"; exit 1; }
    test "$(NNLC_NO_CONV_EPILOGUES=1 $NNLC --emit=fused "$TMPD/$m.nnl" | grep -c 'CONV2D.* -> epilogue')" = 0
    $NNLC "$TMPD/$m.nnl" -o "$TMPD/$m.e"
    NNLC_NO_CONV_EPILOGUES=1 $NNLC "$TMPD/$m.nnl" -o "$TMPD/$m.n"
    same_training "$TMPD" $m.e $m.n 20
    for b in e n; do
        (cd "$TMPD" && ./$m.$b train --steps 12 --quiet --checkpoint $m$b.safetensors > /dev/null &&
         ./$m.$b predict ${m}_in.npy -o $m$b.npy --checkpoint $m$b.safetensors --threads 2 --batch 1 > /dev/null)
    done
    cmp "$TMPD/${m}e.npy" "$TMPD/${m}n.npy" || { echo "$m: conv epilogues change the predictions"; exit 1; }
    echo "$m: $n convolutions with an epilogue, training and predictions identical without"
done
