# fashion_mlp builds, loads Fashion-MNIST and its loss falls over 300 steps.
set -e
. tests/e2e_lib.sh
$NNLC examples/fashion_mlp.nnl -o "$TMPD/fashion"
"$TMPD/fashion" train --checkpoint "$TMPD/fashion.safetensors" --steps 300 --log "$TMPD/f.csv" > "$TMPD/f.out"
tail -2 "$TMPD/f.out"
falls "$TMPD/f.csv"
acc=$(last "$TMPD/f.csv" test_accuracy); echo "test accuracy after 300 steps: $acc"
atleast "$acc" 0.70
