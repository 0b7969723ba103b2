# Every stage prints: --emit=tokens|ast|ir|grad|fused|plan|llvm|asm, and -c writes .o + .h.
set -e
f=examples/simplenet.nnl
$NNLC --emit=tokens $f | grep -q 'KEYWORD model'
$NNLC --emit=ast $f | grep -q 'model SimpleNet'
$NNLC --emit=ir $f | grep -q 'MATMUL'
$NNLC --emit=grad $f | grep -q 'ADAM'
$NNLC --emit=fused $f | grep -q 'gemm'
$NNLC --emit=plan $f | grep -q 'arena'
$NNLC --emit=llvm $f | grep -q 'define.*@simplenet_run_forward'
$NNLC --emit=asm $f | grep -q 'simplenet_desc'
$NNLC -c $f -o "$TMPD/net.o"
test -s "$TMPD/net.o" && test -s "$TMPD/net.h"
if $NNLC --emit=bogus $f 2> /dev/null; then exit 1; fi
if $NNLC /nonexistent.nnl 2> /dev/null; then exit 1; fi
$NNLC --help | grep -q -- '--emit'
