# The generated program's command line: --help, bad flags, overrides, determinism.
set -e
. tests/e2e_lib.sh
$NNLC examples/simplenet.nnl -o "$TMPD/net"
"$TMPD/net" --help > "$TMPD/help"
for flag in --epochs --steps --batch --lr --threads --seed --log --checkpoint --resume --output predict; do
    grep -q -- "$flag" "$TMPD/help" || { echo "--help does not mention $flag"; exit 1; }
done
if "$TMPD/net" train --bogus 2> "$TMPD/err"; then echo "a bad flag was accepted"; exit 1; fi
grep -q "bogus" "$TMPD/err"
if "$TMPD/net" train --epochs x 2> "$TMPD/err"; then echo "a bad value was accepted"; exit 1; fi
# --steps stops after N optimizer steps; the log has one row per step
"$TMPD/net" train --checkpoint "$TMPD/net.safetensors" --steps 7 --log "$TMPD/a.csv" > /dev/null
test "$(col "$TMPD/a.csv" loss | wc -l)" = 7
head -1 "$TMPD/a.csv" | grep -q '^epoch,step,loss'
# same seed and threads: identical numbers; another seed: different ones
"$TMPD/net" train --checkpoint "$TMPD/net.safetensors" --epochs 3 --threads 2 --log "$TMPD/b1.csv" > /dev/null
"$TMPD/net" train --checkpoint "$TMPD/net.safetensors" --epochs 3 --threads 2 --log "$TMPD/b2.csv" > /dev/null
cmp "$TMPD/b1.csv" "$TMPD/b2.csv"
"$TMPD/net" train --checkpoint "$TMPD/net.safetensors" --epochs 3 --threads 2 --seed 9 --log "$TMPD/b3.csv" > /dev/null
if cmp -s "$TMPD/b1.csv" "$TMPD/b3.csv"; then echo "--seed changed nothing"; exit 1; fi
# --batch and --lr change the run
"$TMPD/net" train --checkpoint "$TMPD/net.safetensors" --epochs 1 --batch 50 --log "$TMPD/c.csv" > /dev/null
test "$(col "$TMPD/c.csv" loss | wc -l)" = 2
# eval: one line per distinct data set (simplenet evaluates on its training set)
"$TMPD/net" eval > "$TMPD/eval.out"
test "$(wc -l < "$TMPD/eval.out")" = 1
grep -q '^train_accuracy [0-9.]*  train_loss [0-9.]*$' "$TMPD/eval.out"
