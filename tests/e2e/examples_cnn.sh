# mnist_cnn (the Keras conv classifier) builds, and its loss falls over 80 steps on
# MNIST (data/mnist, fetched by make deps); the same binary reads Fashion-MNIST's .gz
# files through --data.
set -e
. tests/e2e_lib.sh
$NNLC examples/mnist_cnn.nnl -o "$TMPD/cnn"
"$TMPD/cnn" train --steps 80 --checkpoint "$TMPD/c.ckpt" --log "$TMPD/c.csv" > "$TMPD/c.out"
tail -2 "$TMPD/c.out"
falls "$TMPD/c.csv"
acc=$(last "$TMPD/c.csv" test_accuracy); echo "MNIST test accuracy after 80 steps: $acc"
atleast "$acc" 0.7
"$TMPD/cnn" train --steps 40 --data /usr/share/datasets/fashion-mnist --checkpoint "$TMPD/f.ckpt" \
    --log "$TMPD/f.csv" > "$TMPD/f.out"
acc=$(last "$TMPD/f.csv" test_accuracy); echo "Fashion-MNIST test accuracy after 40 steps: $acc"
atleast "$acc" 0.5
