# Residual blocks defined once in std.nn and reused; batch norm's running statistics
# make the inference-mode test accuracy follow the training one.
set -e
. tests/e2e_lib.sh
$NNLC tests/models/tiny_resnet.nnl -o "$TMPD/tiny"
"$TMPD/tiny" train --checkpoint "$TMPD/t.ckpt" --log "$TMPD/t.csv" > "$TMPD/t.out"
tail -2 "$TMPD/t.out"
falls "$TMPD/t.csv"
acc=$(last "$TMPD/t.csv" test_accuracy); echo "test accuracy (inference mode) $acc"
atleast "$acc" 0.75
# each block use has its own parameters, named inside the instance
$NNLC -c examples/resnet_small.nnl -o "$TMPD/resnet.o"
for p in residual_block_1.conv1.W residual_block_4.bn2.running_var down_block_2.proj.W; do
    grep -q " $p " "$TMPD/resnet.h" || { echo "no parameter $p"; exit 1; }
done
