# An LSTM classifier (tests/models/seq_sum.nnl) trains on a synthetic sequence task,
# "is the sum of the sequence positive", from .npy files written here: the loss falls
# and the held-out accuracy clears 80% (chance is 50%).
set -e
. tests/e2e_lib.sh
python3 - "$TMPD" <<'PY'
import random, struct, sys
d = sys.argv[1]
r = random.Random(11)
def npy(path, descr, shape, fmt, values):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ', '.join(map(str, shape)) + (',' if len(shape) == 1 else ''))
    h += ' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode())
        f.write(struct.pack('<%d%s' % (len(values), fmt), *values))
for name, n in (('seq', 1024), ('seq_val', 256)):
    xs, ys = [], []
    for i in range(n):
        x = [r.uniform(-1, 1) for _ in range(12)]
        xs += x
        ys.append(int(sum(x) > 0))
    npy('%s/%s_x.npy' % (d, name), '<f4', (n, 12, 1), 'f', xs)
    npy('%s/%s_y.npy' % (d, name), '<i4', (n,), 'i', ys)
PY
$NNLC tests/models/seq_sum.nnl -o "$TMPD/seq_sum"
"$TMPD/seq_sum" train --data "$TMPD" --checkpoint "$TMPD/seq.safetensors" --threads 2 --log "$TMPD/l.csv" > "$TMPD/out"
tail -2 "$TMPD/out"
falls "$TMPD/l.csv"
acc=$(last "$TMPD/l.csv" val_accuracy); echo "held-out accuracy $acc"
atleast "$acc" 0.8
# compiler/hoist.c: at -O2 the recurrent weight, which each step's input gradient reads
# transposed, is transposed once per step (one PERMUTE in the gradients, none at -O0),
# and training gives the same bits as at -O0.
permutes() { $NNLC "$1" --emit=fused tests/models/seq_sum.nnl | sed -n '/^# gradients/,$p' | grep -c "=PERMUTE" || true; }
test "$(permutes -O2) $(permutes -O0)" = "1 0" || { echo "PERMUTEs at -O2, -O0: $(permutes -O2) $(permutes -O0)"; exit 1; }
for o in O0 O2; do
    $NNLC -$o tests/models/seq_sum.nnl -o "$TMPD/s$o"
    "$TMPD/s$o" train --data "$TMPD" --epochs 1 --threads 1 --quiet --log "$TMPD/$o.csv" --checkpoint "$TMPD/$o.ckpt" > /dev/null
done
cmp "$TMPD/O0.csv" "$TMPD/O2.csv" && cmp "$TMPD/O0.ckpt" "$TMPD/O2.ckpt" || { echo "-O0 and -O2 train differently"; exit 1; }
