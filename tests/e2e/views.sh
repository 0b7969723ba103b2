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
for t in 1 2; do
    for b in v n; do
        (cd "$TMPD" && ./$b train --steps 40 --threads $t --quiet --log $b$t.csv > /dev/null)
    done
    test "$(wc -l < "$TMPD/v$t.csv")" -ge 40
    cmp "$TMPD/v$t.csv" "$TMPD/n$t.csv" || { echo "views change training ($t threads):"; diff "$TMPD/v$t.csv" "$TMPD/n$t.csv" | head; exit 1; }
done
echo "views_mix: $(echo "$F" | grep -c 'in place') products in place, training identical"
