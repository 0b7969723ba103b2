# compiler/remat.c remat_loops: an elementwise value that a later loop of its shape reads
# (batch norm's centred values, read by the variance's loop and by the normalization
# after it; dy scale in its adjoint) is computed again in that loop instead of stored.
# The clones compute what the originals did, so tests/models/tiny_resnet.nnl and a
# BatchNorm1D MLP store fewer values (--emit=fused) and yet train to the same bits and
# predict the same bytes as without (NNLC_NO_LOOP_REMAT=1), on one thread and two.
set -e
. tests/e2e_lib.sh
bn_models "$TMPD"
stores() { env $1 $NNLC --emit=fused "$TMPD/$2.nnl" | grep -o '=[A-Z_0-9]*\*' | wc -l; }
for m in res mlp; do
    with=$(stores X=1 $m) without=$(stores NNLC_NO_LOOP_REMAT=1 $m)
    test "$with" -lt "$without" || { echo "$m: $with values stored with, $without without"; exit 1; }
    $NNLC "$TMPD/$m.nnl" -o "$TMPD/$m.a"
    NNLC_NO_LOOP_REMAT=1 $NNLC "$TMPD/$m.nnl" -o "$TMPD/$m.b"
    same_training "$TMPD" $m.a $m.b 20
    for b in a b; do
        (cd "$TMPD" && ./$m.$b train --steps 12 --quiet --checkpoint $m$b.safetensors > /dev/null &&
         ./$m.$b predict ${m}_in.npy -o $m$b.npy --checkpoint $m$b.safetensors --threads 2 --batch 1 > /dev/null)
    done
    cmp "$TMPD/${m}a.npy" "$TMPD/${m}b.npy"
    echo "$m: $with values stored ($without without), training and predictions identical"
done
