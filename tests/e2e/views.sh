# compiler/views.c: attention-like products read their operands in place and write
# through permutes and into STACKs (tests/models/views_mix.nnl has each case); the sums
# are the same, so training gives the same bits as with the slice, permute and stack
# loops (NNLC_NO_VIEWS=1), on one thread and on two.
set -e
. tests/e2e_lib.sh
M=tests/models/views_mix.nnl
F=$($NNLC --emit=fused $M)
for want in "(A, B in place)" "(B, C in place)" "C into %" "(filled by its operands)" "=PERMUTE\*"; do
    echo "$F" | grep -qF -- "$(echo "$want" | tr -d '\\')" || { echo "--emit=fused has no '$want'"; exit 1; }
done
$NNLC $M -o "$TMPD/v"
NNLC_NO_VIEWS=1 $NNLC $M -o "$TMPD/n"
test "$(NNLC_NO_VIEWS=1 $NNLC --emit=fused $M | grep -c 'in place')" = 0
same_training "$TMPD" v n 40
echo "views_mix: $(echo "$F" | grep -c 'in place') products in place, training identical"
