# mnist_cnn (the Keras conv classifier) builds, and its loss falls over 80 steps on
# Fashion-MNIST.
set -e
. tests/e2e_lib.sh
$NNLC examples/mnist_cnn.nnl -o "$TMPD/cnn"
"$TMPD/cnn" train --checkpoint "$TMPD/cnn.safetensors" --steps 80 --log "$TMPD/c.csv" > "$TMPD/c.out"
tail -2 "$TMPD/c.out"
falls "$TMPD/c.csv"
acc=$(last "$TMPD/c.csv" test_accuracy); echo "test accuracy after 80 steps: $acc"
atleast "$acc" 0.5
