# compiler/codegen.c llvm_options: nnlc compiles without LLVM's loop strength reduction
# and SLP vectorizer (a fifth of the code generator's and of the optimizer's time on
# resnet_small; the loops no slower without them), and NNLC_LLVM_ARGS hands LLVM options
# of one's own (as llc takes them). The pass list that -debug-pass=Structure prints shows
# LSR only when NNLC_LLVM_ARGS turns it back on, and SLP vectorizes an RNN's cell loops
# (tests/models/rnn_kept.nnl: -pass-remarks) only then; a model built with LSR or without
# trains to the same bits on one thread and two; an option LLVM does not know is
# ignored, not a crash.
set -e
. tests/e2e_lib.sh
cp tests/models/tiny_resnet.nnl "$TMPD/res.nnl"
lsr() { NNLC_LLVM_ARGS="$1" $NNLC -c "$TMPD/res.nnl" -o "$TMPD/res.o" 2>&1 | grep -c "Loop Strength Reduction" || true; }
n=$(lsr "-debug-pass=Structure")
test "$n" = 0 || { echo "LSR in the code generator's passes by default ($n)"; exit 1; }
n=$(lsr "-disable-lsr=false -debug-pass=Structure")
test "$n" -ge 1 || { echo "NNLC_LLVM_ARGS=-disable-lsr=false did not bring LSR back"; exit 1; }
slp() { NNLC_LLVM_ARGS="$1" $NNLC -c tests/models/rnn_kept.nnl -o "$TMPD/rnn.o" 2>&1 | grep -c "^remark" || true; }
n=$(slp "-pass-remarks=slp-vectorizer")
test "$n" = 0 || { echo "SLP vectorized $n times by default"; exit 1; }
n=$(slp "-vectorize-slp=true -pass-remarks=slp-vectorizer")
test "$n" -ge 1 || { echo "NNLC_LLVM_ARGS=-vectorize-slp=true: no SLP remark on rnn_kept"; exit 1; }
$NNLC "$TMPD/res.nnl" -o "$TMPD/res.a"
NNLC_LLVM_ARGS="-disable-lsr=false" $NNLC "$TMPD/res.nnl" -o "$TMPD/res.b"
same_training "$TMPD" res.a res.b 20
NNLC_LLVM_ARGS="-no-such-option-here" $NNLC "$TMPD/res.nnl" -o "$TMPD/res.c"
(cd "$TMPD" && ./res.c train --steps 2 --quiet > /dev/null)
echo "LSR and SLP off by default, on with NNLC_LLVM_ARGS, the same training with LSR or without"
