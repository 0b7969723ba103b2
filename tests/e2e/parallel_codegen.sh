# nnlc -j N (compiler/cgsplit.c): an executable's code compiled as N objects on N threads.
# The -j2 build really is in parts (its private constants renamed under the prefix, which
# the one-object build does not do) and trains to the same checkpoint, bit for bit, as
# the -j1 build; -g and -O0 stay one object; a bad -j is refused.
set -e
M=tests/models/tiny_resnet.nnl
for j in 1 2; do
    mkdir -p "$TMPD/j$j"
    $NNLC -j$j --prefix tr $M -o "$TMPD/j$j/m"
    (cd "$TMPD/j$j" && ./m train --steps 12 --quiet > out)
done
split() { nm "$1" | grep -q ' tr\.part\.'; }
split "$TMPD/j2/m" || { echo "-j2 did not split the module"; exit 1; }
if split "$TMPD/j1/m"; then echo "-j1 split the module"; exit 1; fi
untimed() { sed 's/  ([0-9.]* s)$//' "$1"; }   # an epoch's seconds vary (sanitizers: 0.0 or 0.1)
test "$(untimed "$TMPD/j1/out")" = "$(untimed "$TMPD/j2/out")" ||
    { echo "-j1 and -j2 train differently:"; diff "$TMPD/j1/out" "$TMPD/j2/out"; exit 1; }
grep -q "^final: test_accuracy" "$TMPD/j1/out"
cmp "$TMPD/j1/tinyresnet.safetensors" "$TMPD/j2/tinyresnet.safetensors"
echo "-j1 and -j2: the same training, the same checkpoint"
$NNLC -j2 -g --prefix tr $M -o "$TMPD/g"
if split "$TMPD/g"; then echo "-g split the module"; exit 1; fi
$NNLC -j2 -O0 --prefix tr $M -o "$TMPD/o0"
if split "$TMPD/o0"; then echo "-O0 split the module"; exit 1; fi
$NNLC -j 2 --shared $M -o "$TMPD/libtr.so"
test -f "$TMPD/tr.h"
refused() {   # the arguments must fail and say why
    if $NNLC "$@" -o "$TMPD/x" 2> "$TMPD/err"; then echo "accepted: $*"; exit 1; fi
    grep -q -- "-j needs a number" "$TMPD/err" || { cat "$TMPD/err"; exit 1; }
}
refused -j0 $M
refused -jx $M
refused $M -j
echo "parallel_codegen: all passed"
