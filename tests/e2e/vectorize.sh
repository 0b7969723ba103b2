# The loops that dominate a model's step compile to vector code (ymm/zmm, x86-64-v4):
# the LSTM cell (chunks of the gates: slices), the step's input (a take), the embedding
# lookup (a gather), GELU with tanh (exp without libm), the transformer's softmax-scaled
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
check examples/text_lstm.nnl '=TAKE\*$' text_lstm
check examples/text_lstm.nnl '=GATHER\*$' text_lstm
check examples/char_gpt.nnl 'f32\[B, 64, 512\]: .*=GELU' char_gpt
check tests/models/permute_heads.nnl 'f32\[B, 4, 64, 32\]: %[0-9]+=PERMUTE' permute_heads
# exp's and tanh's polynomials as fused multiply-adds (llvm.fmuladd) where the target has
# them, separate multiplies and adds where not (no fmaf call on baseline x86-64)
fmas() { $NNLC --emit=asm --target "$1" tests/models/remat.nnl | grep -c "vfmadd" || true; }
test "$(fmas x86-64-v3)" -gt 0 || { echo "x86-64-v3: no vfmadd in exp and tanh"; exit 1; }
test "$(fmas x86-64)" -eq 0 || { echo "x86-64: vfmadd without FMA"; exit 1; }
$NNLC -c --target x86-64 tests/models/remat.nnl -o "$TMPD/r.o"
if nm "$TMPD/r.o" | grep -q " U fmaf"; then echo "x86-64: a call to fmaf"; exit 1; fi
echo "exp and tanh: $(fmas x86-64-v3) FMAs on x86-64-v3, none on x86-64"
