# compiler/fuse.c: row kernels (layer norm, softmax, log-softmax and their adjoints) run
# the loop after them as an epilogue on the rows they have just written. The loops
# compute the same values either way, so training tests/models/row_epilogues.nnl and
# tests/models/tiny_gpt.nnl (layer norms and causal softmax) gives the same bits with
# the epilogues as without (NNLC_NO_ROW_EPILOGUES=1), on one thread and on two, and so
# do their batch-1 predictions (the inference forward); and so do the predictions with
# the inference loops 256 bits wide instead of 512 (NNLC_NO_WIDE_LOOPS=1).
set -e
. tests/e2e_lib.sh
python3 - "$TMPD" <<'PY'
import random, struct, sys
d = sys.argv[1]
r = random.Random(5)
def npy(path, shape, values):
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (shape,)
    h += ' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode())
        f.write(struct.pack('<%df' % len(values), *values))
npy(d + '/x.npy', (96, 6, 16), [r.uniform(-1, 1) for _ in range(96 * 96)])
npy(d + '/y.npy', (96, 96), [r.uniform(-1, 1) for _ in range(96 * 96)])
ids, nxt = [], []
for i in range(256):
    s, k = r.randrange(11), r.choice([1, 2, 3])
    seq = [(s + k * t) % 11 for t in range(17)]
    ids += seq[:16]
    nxt += seq[1:]
npy(d + '/ids.npy', (256, 16), ids)
npy(d + '/next.npy', (256, 16), nxt)
PY
M=tests/models/row_epilogues.nnl
cat $M - > "$TMPD/re.nnl" <<'NNL'
data d { all = npy("x.npy", "y.npy") }
train RowEpilogues on d.all { loss = mse(y, label); optimizer = adam(lr: 0.01); batch = 16; seed = 2 }
NNL
sed -i '/^train RowEpilogues { loss = mse(y, label) }$/d' "$TMPD/re.nnl"
cp tests/models/tiny_gpt.nnl "$TMPD/gpt.nnl"
for m in re gpt; do
    n=$($NNLC --emit=fused "$TMPD/$m.nnl" | grep -c 'rows: .* -> epilogue')
    test "$n" -ge 3 || { echo "$m: $n row kernels with an epilogue"; exit 1; }
    test "$(NNLC_NO_ROW_EPILOGUES=1 $NNLC --emit=fused "$TMPD/$m.nnl" | grep -c 'rows: .* -> epilogue')" = 0
    $NNLC "$TMPD/$m.nnl" -o "$TMPD/$m.e"
    NNLC_NO_ROW_EPILOGUES=1 $NNLC "$TMPD/$m.nnl" -o "$TMPD/$m.n"
    in=x.npy; [ $m = gpt ] && in=ids.npy
    for t in 1 2; do
        for b in e n; do
            (cd "$TMPD" && ./$m.$b train --steps 24 --threads $t --quiet --log $m$b$t.csv \
                --checkpoint $m$b$t.safetensors > /dev/null &&
             ./$m.$b predict $in -o $m$b$t.npy --checkpoint $m$b$t.safetensors --threads $t --batch 1 > /dev/null)
        done
        test "$(wc -l < "$TMPD/$m""e$t.csv")" -ge 24
        for f in .csv .safetensors .npy; do
            cmp "$TMPD/$m""e$t$f" "$TMPD/$m""n$t$f" || { echo "$m: row epilogues change $f ($t threads)"; exit 1; }
        done
    done
    echo "$m: $n row kernels with an epilogue, training and predictions identical without"
done
# The inference forward's loops 512 bits wide or 256 (codegen.c wide_vectors) compute the
# same values: the GPT's batch-1 predictions from one checkpoint are the same bytes.
NNLC_NO_WIDE_LOOPS=1 $NNLC "$TMPD/gpt.nnl" -o "$TMPD/gpt.w"
(cd "$TMPD" && ./gpt.w predict ids.npy -o gptw.npy --checkpoint gpte2.safetensors --threads 2 --batch 1 > /dev/null)
cmp "$TMPD/gpte2.npy" "$TMPD/gptw.npy" || { echo "gpt: 512-bit loops change the predictions"; exit 1; }
echo "gpt: predictions the same with 256-bit loops"
