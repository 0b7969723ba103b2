# compiler/codegen.c llvm_options: nnlc's code generator runs without LLVM's loop
# strength reduction (a fifth of its time on resnet_small, the loops no slower without
# it), and NNLC_LLVM_ARGS hands LLVM options of one's own (as llc takes them). The pass
# list that -debug-pass=Structure prints shows LSR only when NNLC_LLVM_ARGS turns it back
# on; a model built either way trains to the same bits on one thread and two; an option
# LLVM does not know is ignored, not a crash.
set -e
. tests/e2e_lib.sh
cp tests/models/tiny_resnet.nnl "$TMPD/res.nnl"
lsr() { NNLC_LLVM_ARGS="$1" $NNLC -c "$TMPD/res.nnl" -o "$TMPD/res.o" 2>&1 | grep -c "Loop Strength Reduction" || true; }
n=$(lsr "-debug-pass=Structure")
test "$n" = 0 || { echo "LSR in the code generator's passes by default ($n)"; exit 1; }
n=$(lsr "-disable-lsr=false -debug-pass=Structure")
test "$n" -ge 1 || { echo "NNLC_LLVM_ARGS=-disable-lsr=false did not bring LSR back"; exit 1; }
$NNLC "$TMPD/res.nnl" -o "$TMPD/res.a"
NNLC_LLVM_ARGS="-disable-lsr=false" $NNLC "$TMPD/res.nnl" -o "$TMPD/res.b"
same_training "$TMPD" res.a res.b 20
NNLC_LLVM_ARGS="-no-such-option-here" $NNLC "$TMPD/res.nnl" -o "$TMPD/res.c"
(cd "$TMPD" && ./res.c train --steps 2 --quiet > /dev/null)
echo "LSR off by default, on with NNLC_LLVM_ARGS, the same training either way"
