# compiler/plan.c's epilogue_in_place: a GEMM epilogue's value is written over its
# product when nothing else reads the product (tiny GPT: q, k, v plus their bias over the
# qkv product, the residual adds over theirs), and the loop keeps its vectors: codegen.c's
# same_memory gives both one slot, since two equal pointers would fail LLVM's run-time
# overlap check and take the scalar loop. The values are checked elsewhere:
# tests/capi/transformer_test.c (the block's forward against C), the gradient checks,
# and training bit for bit the same as without (measured when it landed).
set -e
pairs() {   # "MATMUL ... @X" then the epilogue's value at the same @X
    $NNLC "$1" --emit=plan tests/models/tiny_gpt.nnl |
        awk '$2 == "MATMUL" || $2 == "BMM" { at = $NF; next } $NF == at { n++ } { at = "" } END { print n + 0 }'
}
p2=$(pairs -O2)
test "$p2" -ge 4 || { echo "$p2 epilogue values over their products, want 4 or more"; exit 1; }
# q, k, v plus bias (the first [B, 16, 96] product and sum) in place
plan=$($NNLC --emit=plan tests/models/tiny_gpt.nnl)
mm=$(echo "$plan" | grep -m1 " MATMUL f32\[B, 16, 96\] ")
add=$(echo "$plan" | grep -m1 " ADD f32\[B, 16, 96\] ")
test "${mm##*@}" = "${add##*@}" || { echo "qkv + bias ($add) not over the product ($mm)"; exit 1; }
id=$(echo "$add" | cut -d' ' -f1)
k=$($NNLC --emit=fused tests/models/tiny_gpt.nnl | sed -n "s/^\(k[0-9]*\) loop f32\[B, 16, 96\]: $id=ADD\* (run by.*/\1/p")
test -n "$k" || { echo "no epilogue kernel of $id"; exit 1; }
# its loop function takes two slots (the product-and-sum, the bias): the context, then
# offsets at bytes 8 and 16 of its arguments, none at 24
$NNLC --emit=llvm tests/models/tiny_gpt.nnl | awk -v f="@tiny_gpt_$k(" 'index($0, "define internal void " f) { on = 1 } on; on && /^}/ { exit }' > "$TMPD/k"
grep -q "getelementptr i8, ptr %0, i64 16" "$TMPD/k" || { echo "$k: no second slot"; exit 1; }
if grep -q "getelementptr i8, ptr %0, i64 24" "$TMPD/k"; then echo "$k: the sum and the product in two slots"; exit 1; fi
$NNLC --emit=asm --target x86-64-v4 tests/models/tiny_gpt.nnl > "$TMPD/s"
awk -v f="tiny_gpt_$k:" '$1 == f { on = 1; next } on && /^\.Lfunc_end/ { exit } on' "$TMPD/s" > "$TMPD/a"
grep -q "vaddps" "$TMPD/a" || { echo "$k (qkv + bias) is not vectorized"; exit 1; }
echo "tiny GPT: $p2 epilogue values over their products ($k vectorized)"
