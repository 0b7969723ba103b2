# Helpers for the e2e scripts, sourced by them.
# col FILE NAME: the values of CSV column NAME, empty cells dropped.
col() {
    awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
                          c && $c != "" { print $c }' "$1"
}
# last FILE NAME: the column's last value.
last() { col "$1" "$2" | tail -1; }
# falls FILE: the mean loss of the last k logged steps is below that of the first k.
falls() {
    col "$1" loss | awk '{ v[NR] = $1 } END {
        k = int(NR / 4); if (k < 1) { print "too few steps logged"; exit 1 }
        for (i = 1; i <= k; i++) { a += v[i]; b += v[NR - k + i] }
        printf "loss: first %d steps %.4f, last %d steps %.4f\n", k, a / k, k, b / k
        exit !(b < a * 0.9) }'
}
# atleast X Y: X >= Y as numbers
atleast() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x + 0 >= y + 0) }'; }
# same_training DIR A B STEPS: the programs DIR/A and DIR/B (one model built two ways)
# train STEPS steps on one thread and on two and log the same bytes (DIR/A1.csv ...).
same_training() {
    for t in 1 2; do
        for b in "$2" "$3"; do
            (cd "$1" && ./$b train --steps "$4" --threads $t --quiet --log $b$t.csv > /dev/null) || return 1
        done
        test "$(wc -l < "$1/$2$t.csv")" -ge "$4" || { echo "$2 logged too few steps"; return 1; }
        cmp "$1/$2$t.csv" "$1/$3$t.csv" ||
            { echo "$2 and $3 train differently ($t threads):"; diff "$1/$2$t.csv" "$1/$3$t.csv" | head; return 1; }
    done
}
# rand_npy FILE SEED D0 D1 ...: a float32 .npy of that shape, uniform in [-1, 1).
rand_npy() {
    python3 - "$@" <<'PY'
import random, struct, sys
path, r, shape = sys.argv[1], random.Random(int(sys.argv[2])), tuple(int(d) for d in sys.argv[3:])
n = 1
for d in shape: n *= d
h = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (shape,)
h += ' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + '\n'
with open(path, 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode())
    f.write(struct.pack('<%df' % n, *[r.uniform(-1, 1) for _ in range(n)]))
PY
}
# same_without VAR DIR M PATTERN MIN: DIR/M.nnl, whose `nnlc --emit=fused` shows PATTERN
# at least MIN times and never with VAR=1 in nnlc's environment, trains the same bits
# built either way (same_training, 20 steps) and predicts DIR/M_in.npy at batch 1 to the
# same bytes.
same_without() {
    n=$($NNLC --emit=fused "$2/$3.nnl" | grep -c "$4")
    test "$n" -ge "$5" || { echo "$3: $n kernels match '$4'"; return 1; }
    test "$(env "$1=1" $NNLC --emit=fused "$2/$3.nnl" | grep -c "$4")" = 0 || { echo "$3: $1=1 leaves some"; return 1; }
    $NNLC "$2/$3.nnl" -o "$2/$3.a" && env "$1=1" $NNLC "$2/$3.nnl" -o "$2/$3.b" || return 1
    same_training "$2" $3.a $3.b 20 || return 1
    for b in a b; do
        (cd "$2" && ./$3.$b train --steps 12 --quiet --checkpoint $3$b.safetensors > /dev/null &&
         ./$3.$b predict $3_in.npy -o $3$b.npy --checkpoint $3$b.safetensors --threads 2 --batch 1 > /dev/null) ||
            return 1
    done
    cmp "$2/$3a.npy" "$2/$3b.npy" || { echo "$3: $1=1 changes the predictions"; return 1; }
    echo "$3: $n kernels match '$4', training and predictions identical with $1=1"
}
# bn_models DIR: DIR/res.nnl (tests/models/tiny_resnet.nnl: batch norm after
# convolutions) and DIR/mlp.nnl (a BatchNorm1D MLP on blobs), with a batch of 5 inputs
# for each (DIR/res_in.npy, DIR/mlp_in.npy).
bn_models() {
    cp tests/models/tiny_resnet.nnl "$1/res.nnl"
    cat > "$1/mlp.nnl" <<'NNL'
use std.nn
data blobs { train = blobs(n: 300, classes: 3, spread: 1.2, seed: 6) }
model Mlp {
    input x: f32[7]
    output logits: f32[3]
    layers {
        Dense(40) relu
        BatchNorm1D
        Dense(24) tanh
        Dense(3)
    }
}
train Mlp on blobs.train { loss = cross_entropy(logits, label); optimizer = sgd(lr: 0.05, momentum: 0.9); batch = 70; seed = 2 }
NNL
    rand_npy "$1/res_in.npy" 9 5 1 6 6
    rand_npy "$1/mlp_in.npy" 10 5 7
}
