# The loops that dominate a model's step compile to vector code (ymm/zmm, x86-64-v4):
# the LSTM cell (chunks of the gates: slices), the step's input (a take, in the epilogue
# of the step's product), char GPT's embedding lookup (a gather; the text LSTM's is
# EMBED_MM's now, rewrite.c), GELU with tanh (exp without libm), the transformer's softmax-scaled
# scores, and a split into heads (a permute that keeps the last axis; attention's own are
# read in place by its products now, compiler/views.c). Each was once
# scalar because an index divided out of every element or a libm call hid the loop from
# LLVM's vectorizer; this names the kernel when that comes back.
set -e
check() {   # model, a pattern of --emit=fused, the model's symbol prefix
    k=$($NNLC --emit=fused "$1" | grep -E "$2" | head -1 | cut -d' ' -f1)
    test -n "$k" || { echo "$1: no kernel matches '$2'"; exit 1; }
    $NNLC --emit=asm --target x86-64-v4 "$1" > "$TMPD/s"
    n=$(awk -v f="$3_$k:" '$1 == f { on = 1; next } on && /^\.Lfunc_end/ { exit } on && /[yz]mm/ { n++ } END { print n + 0 }' "$TMPD/s")
    test "$n" -gt 0 || { echo "$1: $k ($2) is not vectorized"; exit 1; }
    echo "$1 $k: $n vector instructions ($2)"
}
check examples/text_lstm.nnl 'SLICE %[0-9]+=SIGMOID' text_lstm
check examples/text_lstm.nnl '=TAKE %[0-9]+=ADD\* \(run by' text_lstm
check examples/char_gpt.nnl '=GATHER %[0-9]+=ADD\*$' char_gpt
check examples/char_gpt.nnl 'f32\[B, 64, 512\]: .*=GELU' char_gpt
check tests/models/permute_heads.nnl 'f32\[B, 4, 64, 32\]: %[0-9]+=PERMUTE' permute_heads
# a convolution's epilogue adding the bias in place, and batch norm and ReLU in the
# inference forward's: a load of a per-channel value left in the loop (the output might
# alias it) kept them scalar (codegen.c operand: hoisted before the inner loop)
check tests/models/tiny_resnet.nnl 'f32\[B, 4, 6, 6\]: %[0-9]+=ADD\* \(run by' tiny_resnet
check tests/models/tiny_resnet.nnl '=SUB %[0-9]+=MUL %[0-9]+=ADD %[0-9]+=RELU\* \(run by' tiny_resnet
# exp's and tanh's polynomials as fused multiply-adds (llvm.fmuladd) where the target has
# them, separate multiplies and adds where not (no fmaf call on baseline x86-64)
fmas() { $NNLC --emit=asm --target "$1" tests/models/remat.nnl | grep -c "vfmadd" || true; }
test "$(fmas x86-64-v3)" -gt 0 || { echo "x86-64-v3: no vfmadd in exp and tanh"; exit 1; }
test "$(fmas x86-64)" -eq 0 || { echo "x86-64: vfmadd without FMA"; exit 1; }
$NNLC -c --target x86-64 tests/models/remat.nnl -o "$TMPD/r.o"
if nm "$TMPD/r.o" | grep -q " U fmaf"; then echo "x86-64: a call to fmaf"; exit 1; fi
echo "exp and tanh: $(fmas x86-64-v3) FMAs on x86-64-v3, none on x86-64"
# The loops of a forward that only inference runs are 512 bits wide on x86-64-v4 (codegen.c
# wide_vectors): char GPT's inference GELU (its training forward is a segment of its own)
# in zmm, its training forward's in ymm; the MLP's forward, which training runs too, in ymm.
width() {   # model, pattern of --emit=fused, symbol prefix: zmm, ymm or none in that kernel
    k=$($NNLC --emit=fused "$1" | grep -E "$2" | head -1 | cut -d' ' -f1)
    $NNLC --emit=asm --target x86-64-v4 "$1" |
        awk -v f="$3_$k:" '$1 == f { on = 1; next } on && /^\.Lfunc_end/ { exit }
                           on && /zmm/ { z = 1 } on && /ymm/ { y = 1 } END { print z ? "zmm" : y ? "ymm" : "none" }'
}
test "$(width examples/char_gpt.nnl 'f32\[B, 64, 512\]: %[0-9]+=ADD %[0-9]+=GELU\*' char_gpt)" = zmm ||
    { echo "char_gpt: the inference forward's GELU is not 512 bits wide"; exit 1; }
test "$(width examples/char_gpt.nnl 'f32\[B, 64, 512\]: .*=GELU_DX' char_gpt)" = ymm ||
    { echo "char_gpt: the training forward's GELU is not 256 bits wide"; exit 1; }
test "$(width bench/models/mlp.nnl 'f32\[B, 512\]: .*RELU' mlp)" = ymm ||
    { echo "mlp: the forward training runs is not 256 bits wide"; exit 1; }
echo "inference-only loops in zmm, the training step's in ymm"
# Loops with exp, tanh, sigmoid or GELU are interleaved twice (codegen.c loop_interleave):
# the LSTM cell's vector body holds twice the divisions (one a sigmoid or tanh) it holds
# with NNLC_NO_INTERLEAVE=1.
divs() {
    k=$($NNLC --emit=fused examples/text_lstm.nnl | grep -E 'SLICE %[0-9]+=SIGMOID' | head -1 | cut -d' ' -f1)
    $NNLC --emit=asm --target x86-64-v3 examples/text_lstm.nnl |
        awk -v f="text_lstm_$k:" '$1 == f { on = 1; next } on && /^\.Lfunc_end/ { exit } on && /vdivps/ { n++ } END { print n + 0 }'
}
one=$(NNLC_NO_INTERLEAVE=1 divs) two=$(divs)
test "$one" -gt 0 && test "$two" -ge $((2 * one)) || { echo "LSTM cell: $two vector divisions, $one without interleaving"; exit 1; }
echo "LSTM cell: $two vector divisions interleaved, $one without"
