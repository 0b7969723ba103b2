# Attention's causal batched products carry the runtime's NNL_TRI_* hint (codegen.c
# bmm_triangle): the scores and d(softmax) products read only below the diagonal (1),
# products with the causal softmax or its adjoint as A (2, or 3 transposed) skip its
# zeros. A product whose scores something else reads in full gets none (0).
set -e
tri() {   # the hints of a model's batched products, counted: "1:2 2:2 3:1"
    $NNLC --emit=llvm "$1" | grep -oE 'call void @nnl_sgemm_batched(_ep|_v)?\(.*i32 [0-9]\)$' |
        sed 's/.*i32 \([0-9]\))$/\1/' | sort | uniq -c | awk '{ printf("%s%s:%s", (NR > 1 ? " " : ""), $2, $1) }'
}
got=$(tri tests/ir/softmax_dx_grad.nnl)
test "$got" = "1:2 2:2 3:1" || { echo "softmax_dx_grad: hints $got, want 1:2 2:2 3:1"; exit 1; }
echo "causal attention: $got"
cat > "$TMPD/full.nnl" <<'NNL'
model M {
    input x: f32[4, 8]
    output y: f32[4, 8]
    param Wq: f32[8, 8] = normal(0, 1)
    let q = x @ Wq
    let s = q @ transpose(q, -1, -2) / 4
    y = softmax(s, causal: 1) @ x + s @ x
}
train M { loss = mse(y, label) }
NNL
# forward: the scores 0 (s @ x reads them all), softmax @ x 2, s @ x 0; backward: d(softmax)
# 1 (only the softmax's adjoint reads it), d(s @ x) 0 and the two products with the
# summed d(s) 0 (no longer zero above the diagonal)
got=$(tri "$TMPD/full.nnl")
test "$got" = "0:5 1:1 2:1" || { echo "scores read in full: hints $got, want 0:5 1:1 2:1"; exit 1; }
echo "scores read in full: $got"
