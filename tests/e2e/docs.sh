# Every NNL example in docs/LANGUAGE.md and README.md parses (nnlc --emit=ast); those
# with a model also pass nnlc --check.
set -e
for doc in docs/LANGUAGE.md README.md; do
    awk -v dir="$TMPD" -v base="$(basename "$doc" .md)" '
        /^```$/ && !inside { inside = 1; n++; f = dir "/" base "_" n ".nnl"; next }
        /^```/ && inside { inside = 0; close(f); next }
        /^```/ { inside = 1; n++; f = dir "/" base "_" n ".skip"; next }
        inside { print > f }' "$doc"
done
count=0
for f in "$TMPD"/*.nnl; do
    grep -q '^\(use\|layer\|model\|data\|train\) ' "$f" || continue   # shell snippets
    $NNLC --emit=ast "$f" > /dev/null || { echo "in $f:"; cat "$f"; exit 1; }
    if grep -q '^model ' "$f"; then   # a whole program: names and shapes check too
        { grep -q '^use std.nn' "$f" || echo 'use std.nn'; cat "$f"; } > "$f.full.nnl"
        $NNLC --check "$f.full.nnl" || { echo "in $f:"; cat "$f"; exit 1; }
    fi
    count=$((count + 1))
done
echo "$count examples parse"
test "$count" -ge 8
