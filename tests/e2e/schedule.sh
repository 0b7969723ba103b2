# The learning-rate schedule reaches every step: the log's lr column follows warm-up
# and a step decay; --lr rescales the whole schedule.
set -e
. tests/e2e_lib.sh
$NNLC tests/models/schedule.nnl -o "$TMPD/s"
"$TMPD/s" train --checkpoint "$TMPD/s.ckpt" --log "$TMPD/s.csv" > /dev/null
got=$(col "$TMPD/s.csv" lr | awk '{ printf "%s%.4g", (NR > 1 ? " " : ""), $1 }')
want="0.03333 0.06667 0.1 0.1 0.1 0.1 0.1 0.1 0.05 0.05 0.05 0.05 0.05 0.05 0.05 0.05 0.025 0.025 0.025 0.025 0.025 0.025 0.025 0.025"
[ "$got" = "$want" ] || { echo "lr per step: $got"; echo "want:        $want"; exit 1; }
"$TMPD/s" train --lr 1 --epochs 3 --checkpoint "$TMPD/s2.ckpt" --log "$TMPD/s2.csv" > /dev/null
test "$(col "$TMPD/s2.csv" lr | tail -1)" = 0.5
