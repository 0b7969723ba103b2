# Validation splits, normalization, npy data and the classification metrics end to end.
# B (tests/models/binary_split.nnl): a CSV split 80/20 by subset, normalized, a train
# block checkpoint path; the log has the precision/recall/f1/auc columns of both sets;
# train and eval print per-class scores and a confusion matrix whose counts are the
# split's sizes; predict on the raw validation rows (the checkpoint's statistics
# standardize them) agrees with val_accuracy. M (tests/models/npy_multi.nnl): features
# and labels from .npy files; a label out of range and a count mismatch name the file.
set -e
. tests/e2e_lib.sh
M=$PWD/tests/models
python3 - "$TMPD" <<'PY'
import random, struct, sys
d = sys.argv[1]
r = random.Random(5)
rows = []
with open(d + '/points.csv', 'w') as f:
    f.write('a,y,b\n')
    for i in range(200):
        y = int(r.random() < 0.5)
        a = (1.5 if y else -1.5) + r.gauss(0, 1.2)
        b = (100 if y else 90) + r.gauss(0, 8)
        rows.append((a * 10 + 50, b, y))
        f.write('%.4f,%d,%.4f\n' % (a * 10 + 50, y, b))
def npy(path, descr, shape, fmt, values):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ', '.join(map(str, shape)) + (',' if len(shape) == 1 else ''))
    h += ' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode())
        f.write(struct.pack('<%d%s' % (len(values), fmt), *values))
val = [(round(a, 4), round(b, 4)) for a, b, _ in rows[160:]]
npy(d + '/val.npy', '<f8', (40, 2), 'd', [v for p in val for v in p])
with open(d + '/val_labels.txt', 'w') as f:
    f.write(' '.join(str(y) for _, _, y in rows[160:]) + '\n')
# three classes in 2x2 features, with offsets of very different sizes
xs, ys = [], []
for i in range(120):
    k = r.randrange(3)
    xs += [1000 + 300 * k + r.gauss(0, 60), r.gauss(0, 1) + 2 * (k == 1), 0.001 * k + r.gauss(0, 0.0005), 5]
    ys.append(k)
npy(d + '/x.npy', '<f4', (120, 2, 2), 'f', xs)
npy(d + '/y.npy', '<i8', (120,), 'q', ys)
npy(d + '/ybad.npy', '<i8', (120,), 'q', ys[:7] + [3] + ys[8:])
npy(d + '/yshort.npy', '<i8', (119,), 'q', ys[:119])
PY
$NNLC $M/binary_split.nnl -o "$TMPD/b"
cd "$TMPD"
./b train --data . --log log.csv --quiet > train.out
test -f b.safetensors || { echo "no b.safetensors in the working directory"; ls; exit 1; }
want="epoch,step,loss,lr,train_accuracy,train_precision,train_recall,train_f1,train_auc,val_accuracy,val_precision,val_recall,val_f1,val_auc,val_loss"
[ "$(head -1 log.csv)" = "$want" ] || { echo "log columns: $(head -1 log.csv)"; exit 1; }
atleast "$(last log.csv val_auc)" 0.9
atleast "$(last log.csv val_f1)" 0.85
grep -q '^final: val_accuracy [0-9.]* val_precision [0-9.]* val_recall [0-9.]* val_f1 [0-9.]* val_auc [0-9.]* val_loss' train.out
# the confusion matrix counts every validation row once: 20% of 200
sum_matrix() { awk -v set="$1" '$0 ~ "^" set " confusion" { on = 1; getline; next }
                                 on && /^  +[0-9]/ { for (i = 2; i <= NF; i++) s += $i; next } { on = 0 }
                                 END { print s + 0 }' "$2"; }
test "$(sum_matrix val train.out)" = 40
grep -q '^val per class:' train.out
./b eval --data . --checkpoint b.safetensors > eval.out
cat eval.out
test "$(sum_matrix val eval.out)" = 40
test "$(sum_matrix train eval.out)" = 160
grep -q '^  class  precision  recall      f1  support$' eval.out
vacc=$(sed -n 's/^val_accuracy \([0-9.]*\) .*/\1/p' eval.out)
test "$vacc" = "$(last log.csv val_accuracy | awk '{ printf "%.4f", $1 }')"
# predict standardizes raw rows by the checkpoint's statistics, without the CSV
./b predict val.npy -o pred.npy > /dev/null
pacc=$(python3 - <<'PY'
import struct
raw = open('pred.argmax.npy', 'rb').read()
hl = struct.unpack('<H', raw[8:10])[0]
got = struct.unpack('<40q', raw[10 + hl:])
want = [int(v) for v in open('val_labels.txt').read().split()]
print('%.4f' % (sum(g == w for g, w in zip(got, want)) / 40))
PY
)
[ "$pacc" = "$vacc" ] || { echo "predict accuracy $pacc, eval's $vacc"; exit 1; }

$NNLC $M/npy_multi.nnl -o "$TMPD/m"
./m train --data . --quiet --checkpoint m.ckpt > m.out
atleast "$(sed -n 's/^final: test_accuracy \([0-9.]*\) .*/\1/p' m.out)" 0.9
test "$(sum_matrix test m.out)" = 30
cp ybad.npy y.npy
if ./m train --data . --quiet --checkpoint m.ckpt 2> err.txt; then echo "a bad label passed"; exit 1; fi
grep -q "y.npy: label 3 of sample 7 is not a class index in \[0, 3)" err.txt
cp yshort.npy y.npy
if ./m eval --data . 2> err.txt; then echo "a count mismatch passed"; exit 1; fi
grep -q "y.npy: 119 labels, but .*x.npy has 120 samples" err.txt
