# bench/models.sh — sourced by bench/run.sh and bench/scaling.sh: each benchmark model's
# source and the FLOPs its training step needs per sample, and a field of a bench line.

# the source of each model
src() {
    case $1 in
    cnn) echo examples/mnist_cnn.nnl;; lstm) echo examples/text_lstm.nnl;;
    gpt) echo examples/char_gpt.nnl;; resnet) echo examples/resnet_small.nnl;;
    *) echo bench/models/$1.nnl;;
    esac
}
# the GEMMs and convolutions of a training step per sample, forward and backward, without
# the input layer's unused input gradient
flops() {
    case $1 in
    cnn) echo 1103232;;            # conv 2*26*26*32*9 fwd + dW; dense 2*5408*10 fwd, dW, dX
    mlp) echo 3208704;;            # 2*(784*512+512*512+512*10) * 3 - 2*784*512
    tiny_bce|tiny_mse) echo 360;;  # 2*(2*10+10*1) * 3 - 2*2*10
    lstm) echo 75499008;;          # 3 * 64 steps * 2*(256*512 + 128*512) (+ the head): fwd, dW, dX
    gpt) echo 331874304;;          # 3 * 64 tokens * (4 blocks * 2*(128*384 + 128*128
                                   #   + 2*128*512 + 2*4*64*32) + 2*128*96)
    resnet) echo 120877824;;       # its 15 convolutions and the dense: fwd, dW, dX
                                   #   (the stem's dX left out); batch norm not counted
    *) echo 0;;
    esac
}
# field LINE KEY: the value after KEY in a `./model bench` or torch_bench.py line
field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
