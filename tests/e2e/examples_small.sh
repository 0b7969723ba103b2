# simplenet and regression build and train to the numbers: simplenet >= 95%
# training accuracy, regression's MSE well under the variance of y (6.7).
set -e
. tests/e2e_lib.sh
$NNLC examples/simplenet.nnl -o "$TMPD/simplenet"
"$TMPD/simplenet" train --checkpoint "$TMPD/simplenet.safetensors" --threads 1 --log "$TMPD/s.csv" > "$TMPD/s.out"
tail -3 "$TMPD/s.out"
falls "$TMPD/s.csv"
acc=$(last "$TMPD/s.csv" train_accuracy); echo "simplenet train accuracy $acc"
atleast "$acc" 0.95

$NNLC examples/regression.nnl -o "$TMPD/regression"
"$TMPD/regression" train --checkpoint "$TMPD/regression.safetensors" --threads 2 --log "$TMPD/r.csv" > "$TMPD/r.out"
tail -3 "$TMPD/r.out"
falls "$TMPD/r.csv"
mse=$(last "$TMPD/r.csv" train_mse); echo "regression train mse $mse (variance of y 6.7)"
atleast 0.7 "$mse"
