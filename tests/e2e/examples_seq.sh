# The sequence examples compile and learn on a slice of their real data (make deps
# fetches it into data/text/): text_lstm on the first 600 training emails for 40 steps,
# char_gpt on the first 60 kB of Moby Dick for 40 steps at a raised learning rate (the
# example warms up over 200); both losses fall, text_lstm beats the majority class on
# 300 test emails, and char_gpt's checkpoint samples text that starts with the prompt.
set -e
. tests/e2e_lib.sh
T=data/text
for f in spam_train.tsv spam_test.tsv moby_dick.txt; do
    [ -f $T/$f ] || { echo "$T/$f missing: run make deps (tools/fetch_text.sh)"; exit 1; }
done
mkdir -p "$TMPD/text"
head -600 $T/spam_train.tsv > "$TMPD/text/spam_train.tsv"
head -300 $T/spam_test.tsv > "$TMPD/text/spam_test.tsv"
head -c 60000 $T/moby_dick.txt > "$TMPD/text/moby_dick.txt"

$NNLC examples/text_lstm.nnl -o "$TMPD/text_lstm"
"$TMPD/text_lstm" train --data "$TMPD/text" --steps 40 --log "$TMPD/l.csv" \
    --checkpoint "$TMPD/l.ckpt" > "$TMPD/l.out"
falls "$TMPD/l.csv"
acc=$(last "$TMPD/l.csv" test_accuracy)
ham=$(cut -f1 "$TMPD/text/spam_test.tsv" | grep -c '^ham$')
base=$(awk -v h=$ham 'BEGIN { printf "%.4f", h / 300 }')
echo "text_lstm: test accuracy $acc after 40 steps, majority class $base"
atleast "$acc" "$(awk -v b=$base 'BEGIN { print b + 0.02 }')"

$NNLC examples/char_gpt.nnl -o "$TMPD/char_gpt"
"$TMPD/char_gpt" train --data "$TMPD/text" --steps 40 --lr 0.02 --log "$TMPD/g.csv" \
    --checkpoint "$TMPD/g.ckpt" > "$TMPD/g.out"
falls "$TMPD/g.csv"
"$TMPD/char_gpt" sample --checkpoint "$TMPD/g.ckpt" --prompt "Call me " --tokens 30 \
    --temperature 0.8 --seed 3 > "$TMPD/sample.txt"
head -c 8 "$TMPD/sample.txt" | grep -q "^Call me " || { cat "$TMPD/sample.txt"; exit 1; }
test "$(wc -m < "$TMPD/sample.txt")" -ge 38
