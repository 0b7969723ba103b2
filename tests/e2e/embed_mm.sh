# compiler/rewrite.c fold_lookup_products: an embedding lookup that only a product reads
# becomes EMBED_MM, whose kernels (runtime/embedding.c) run over the distinct ids; the
# text LSTM's lookup and input projection are one, its adjoints EMBED_DW_MM and EMBED_WT,
# which read one EMBED_SUMS (dy summed per id once), and NNLC_NO_EMBED_MM=1 keeps them
# apart. tests/capi/embed_mm_test.c compares the two
# builds of tests/capi/embed_mm.nnl through the C API.
set -e
f=$($NNLC --emit=fused examples/text_lstm.nnl)
for op in EMBED_MM EMBED_SUMS EMBED_DW_MM EMBED_WT; do
    [ "$(echo "$f" | grep -c "=$op\*")" = 1 ] || { echo "text_lstm: not one $op"; exit 1; }
done
if echo "$f" | grep -q "=GATHER\|=EMBED_DW\*"; then echo "text_lstm: a lookup or its adjoint left"; exit 1; fi
f=$(NNLC_NO_EMBED_MM=1 $NNLC --emit=fused examples/text_lstm.nnl)
echo "$f" | grep -q "=GATHER\*" && echo "$f" | grep -q "=EMBED_DW\*" ||
    { echo "text_lstm with NNLC_NO_EMBED_MM=1: no lookup"; exit 1; }
if echo "$f" | grep -q "=EMBED_MM\|=EMBED_WT\|=EMBED_SUMS"; then echo "NNLC_NO_EMBED_MM=1 left an EMBED_MM"; exit 1; fi
$NNLC -c --prefix em tests/capi/embed_mm.nnl -o "$TMPD/em.o"
NNLC_NO_EMBED_MM=1 $NNLC -c --prefix eg tests/capi/embed_mm.nnl -o "$TMPD/eg.o"
${CC:-cc} -std=gnu11 -O1 -Iruntime -o "$TMPD/embed_mm" tests/capi/embed_mm_test.c "$TMPD/em.o" "$TMPD/eg.o" "$NNLRT" \
    -fopenmp -lz -lm -lcjson
"$TMPD/embed_mm"
