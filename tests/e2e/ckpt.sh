# Checkpoints and predict, end to end on examples/simplenet.nnl (100 samples, batch 10):
#   resume: 53 steps + --resume to 137 == 137 steps straight: the checkpoints are
#           byte-identical and so are the logged losses after step 53; also resuming
#           at an epoch boundary (50 steps)
#   reader: an independent reader (Python's json, struct and zlib) checks the layout,
#           the names, shapes and CRC-32, and recomputes predict's outputs from the
#           stored weights
#   eval --checkpoint reports the loss training ended with
#   errors: missing, truncated, bad JSON, header length past the end, checksum
#           mismatch, another model (other shapes, other names, other model name),
#           bad .npy files, a save that cannot rename: exit 1, one line naming the
#           file, and no output or temporary file left behind
set -e
. tests/e2e_lib.sh
NNL_ABI=$(sed -n 's/^#define NNL_ABI_VERSION //p' runtime/nnlrt.h); export NNL_ABI
$NNLC examples/simplenet.nnl -o "$TMPD/net"
ROOT=$PWD
cd "$TMPD"
run() { ./net "$@" --quiet --threads 2; }

# ---- resume reproduces an uninterrupted run ----
run train --steps 137 --log full.csv --checkpoint full.safetensors > full.out
grep -q '^checkpoint full.safetensors (step 137)$' full.out
run train --steps 53 --log a.csv --checkpoint part.safetensors > /dev/null
./net train --resume part.safetensors --steps 137 --quiet --log b.csv --checkpoint part.safetensors > /dev/null
cmp full.safetensors part.safetensors
awk -F, 'NR > 1 && $2 > 53 && $3 != ""' full.csv > want.csv
awk -F, 'NR > 1 && $3 != ""' b.csv > got.csv
test "$(wc -l < got.csv)" = 84
cmp want.csv got.csv
run train --steps 50 --checkpoint whole.safetensors > /dev/null
run train --resume whole.safetensors --steps 137 --checkpoint whole.safetensors > /dev/null
cmp full.safetensors whole.safetensors
echo "resume: 53 + 84 steps and 50 + 87 steps == 137 steps, bit for bit"
# nothing left to do, or the batch changed mid-epoch: refused
if run train --resume full.safetensors --steps 137 --checkpoint x.safetensors 2> err; then exit 1; fi
grep -q "full.safetensors: already at step 137" err
if run train --resume part.safetensors --steps 200 --batch 20 2> err; then exit 1; fi
grep -q "resume it with --batch 10" err

# ---- predict, and an independent reader of the checkpoint ----
python3 - <<'EOF'
import struct
def npy(path, descr, fmt, shape, vals, version=1):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    lenfmt, pre = ('<H', 10) if version == 1 else ('<I', 12)
    h += " " * ((64 - (pre + len(h) + 1) % 64) % 64) + "\n"
    body = struct.pack('<%d%s' % (len(vals), fmt), *vals)
    open(path, 'wb').write(b"\x93NUMPY" + bytes([version, 0]) + struct.pack(lenfmt, len(h)) + h.encode() + body)
npy('in.npy', '<f4', 'f', (4, 2), [0, 0, 2, 2, -2, -2, 1, -1])
npy('in64.npy', '<f8', 'd', (4, 2), [0, 0, 2, 2, -2, -2, 1, -1], version=2)
npy('one.npy', '<i8', 'q', (2,), [2, 2])
npy('shape.npy', '<f4', 'f', (4, 3), [0] * 12)
npy('dtype.npy', '>f4', 'f', (4, 2), [0] * 8)
npy('short.npy', '<f4', 'f', (4, 2), [0] * 5)
EOF
run predict --checkpoint full.safetensors in.npy -o out.npy > pred.out
cat pred.out
grep -q '^wrote out.npy (4, 1) probabilities and out.argmax.npy (4,) class indices$' pred.out
run predict --checkpoint full.safetensors in64.npy -o out64.npy > /dev/null
cmp out.npy out64.npy
run predict --checkpoint full.safetensors one.npy -o one.npy.out > /dev/null
python3 - <<'EOF'
import json, math, os, struct, zlib
raw = open('full.safetensors', 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
head = json.loads(raw[8:8 + n])
data = raw[8 + n:]
meta = head.pop('__metadata__')
for k, v in {'model': 'SimpleNet', 'abi': os.environ['NNL_ABI'], 'step': '137', 'epoch': '13', 'epoch_step': '7',
             'batch': '10', 'seed': '1', 'threads': '2', 'optimizer': 'adam'}.items():
    assert meta[k] == v, (k, meta[k], v)
assert (8 + n) % 8 == 0, "tensor data is not 8-byte aligned"
shapes = {'dense_1.W': [2, 10], 'dense_1.b': [10], 'dense_2.W': [10, 1], 'dense_2.b': [1]}
want = dict(shapes)
for k in range(2):   # Adam: m and v
    want.update({'optimizer.%d.%s' % (k, p): s for p, s in shapes.items()})
assert sorted(head) == sorted(want), sorted(head)
end = 0
t = {}
for name, e in sorted(head.items(), key=lambda kv: kv[1]['data_offsets']):
    assert e['dtype'] == 'F32' and e['shape'] == want[name], (name, e)
    lo, hi = e['data_offsets']
    assert lo == end and hi - lo == 4 * math.prod(e['shape']), (name, e)
    end = hi
    t[name] = struct.unpack('<%df' % ((hi - lo) // 4), data[lo:hi])
assert end == len(data), "bytes after the last tensor"
assert meta['crc32'] == '%08x' % zlib.crc32(data), "crc32"
assert any(x != 0 for x in t['optimizer.1.dense_1.W']), "Adam's v is all zero"
# simplenet: Dense(10) relu, Dense(1) sigmoid, W row-major (in, out)
def forward(x):
    h = [max(0.0, sum(x[i] * t['dense_1.W'][i * 10 + j] for i in range(2)) + t['dense_1.b'][j]) for j in range(10)]
    z = sum(h[j] * t['dense_2.W'][j] for j in range(10)) + t['dense_2.b'][0]
    return 1 / (1 + math.exp(-z))
def npy(path):
    b = open(path, 'rb').read()
    hl = struct.unpack('<H', b[8:10])[0]
    h = b[10:10 + hl].decode()
    assert (10 + hl) % 64 == 0 and h.endswith('\n'), h
    d = b[10 + hl:]
    return h, struct.unpack('<%d%s' % (len(d) // (4 if "'<f4'" in h else 8), 'f' if "'<f4'" in h else 'q'), d)
h, got = npy('out.npy')
assert "'shape': (4, 1)" in h, h
xs = [(0, 0), (2, 2), (-2, -2), (1, -1)]
for x, g in zip(xs, got):
    assert abs(forward(x) - g) < 1e-5, (x, forward(x), g)
h, cls = npy('out.argmax.npy')
assert "'<i8'" in h and "'shape': (4,)" in h, h
assert list(cls) == [int(g > 0.5) for g in got], (cls, got)
h, one = npy('one.npy.out')
assert "'shape': (1, 1)" in h and abs(one[0] - got[1]) < 1e-6, (h, one)
print("reader: %d tensors, crc32 %s, predict matches a forward pass from the stored weights" % (len(head), meta['crc32']))
EOF
test -f one.npy.out.argmax.npy

# ---- eval --checkpoint: the loss training ended with ----
run eval --checkpoint full.safetensors > eval.out
test "$(sed -n 's/.*train_loss \([0-9.]*\)$/\1/p' eval.out)" = "$(sed -n 's/^final:.*train_loss \([0-9.]*\)$/\1/p' full.out)"

# ---- bad input: one line naming the file, exit 1, nothing written ----
fails() {   # fails WHAT PATTERN CMD...: CMD exits 1 with one stderr line matching PATTERN
    what=$1 pat=$2; shift 2
    if "$@" > out.txt 2> err.txt; then echo "$what: accepted"; exit 1; fi
    if [ "$(wc -l < err.txt)" != 1 ] || ! grep -q -- "$pat" err.txt; then
        echo "$what: want one line matching '$pat', got:"; cat err.txt; exit 1
    fi
    if ls | grep -q -e '^bad\.npy$' -e '^bad\.argmax' -e '^bad\.safetensors$' -e '\.tmp[0-9]'; then echo "$what: left files:"; ls; exit 1; fi
    echo "$what: $(cat err.txt)"
}
head -c 5 full.safetensors > trunc8.safetensors
head -c 300 full.safetensors > truncj.safetensors
head -c 1500 full.safetensors > truncd.safetensors
python3 - <<'EOF'
import struct
raw = bytearray(open('full.safetensors', 'rb').read())
n = struct.unpack('<Q', raw[:8])[0]
j = bytearray(raw); j[8 + raw[8:8 + n].rindex(b'}')] = ord(','); open('json.safetensors', 'wb').write(j)
l = bytearray(raw); l[:8] = struct.pack('<Q', len(raw)); open('len.safetensors', 'wb').write(l)
c = bytearray(raw); c[8 + n + 40] ^= 1; open('crc.safetensors', 'wb').write(c)
import json
h = json.loads(raw[8:8 + n])
h['extra.W'] = {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}
t = json.dumps(h).encode()
t += b' ' * (-len(t) % 8)
open('extra.safetensors', 'wb').write(struct.pack('<Q', len(t)) + t + raw[8 + n:])
EOF
for cmd in "eval --checkpoint" "predict in.npy -o bad.npy --checkpoint"; do
    fails "missing" "nope.safetensors: cannot open: No such file" run $cmd nope.safetensors
    fails "5 bytes" "trunc8.safetensors: truncated: 5 bytes" run $cmd trunc8.safetensors
    fails "cut in the header" "truncj.safetensors: header length .* runs past the end" run $cmd truncj.safetensors
    fails "cut in the data" "truncd.safetensors: truncated: tensor '.*' ends at data byte" run $cmd truncd.safetensors
    fails "bad JSON" "json.safetensors: header is not a JSON object" run $cmd json.safetensors
    fails "length past the end" "len.safetensors: header length .* runs past the end of the file" run $cmd len.safetensors
    fails "checksum" "crc.safetensors: checksum mismatch" run $cmd crc.safetensors
done
# other models: the same names with other shapes, more layers, the same tensors under another name
sed 's/Dense(10) relu/Dense(12) relu/' "$ROOT/examples/simplenet.nnl" > wide.nnl
sed 's/Dense(10) relu/Dense(10) relu\n        Dense(10) relu/' "$ROOT/examples/simplenet.nnl" > deep.nnl
sed 's/SimpleNet/OtherNet/' "$ROOT/examples/simplenet.nnl" > other.nnl
for m in wide deep other; do
    (cd "$ROOT" && $NNLC "$TMPD/$m.nnl" -o "$TMPD/$m")
    ./$m train --steps 3 --quiet --checkpoint $m.safetensors > /dev/null
done
fails "other shapes" "wide.safetensors: tensor 'dense_1.W' has shape \[2, 12\], the model's is \[2, 10\]" \
    run eval --checkpoint wide.safetensors
fails "more layers" "deep.safetensors: tensor 'dense_3.W' is not in model 'SimpleNet'" \
    run predict in.npy -o bad.npy --checkpoint deep.safetensors
fails "fewer layers" "full.safetensors: no tensor 'dense_3.W', which model 'SimpleNet' has" \
    ./deep eval --checkpoint full.safetensors
fails "an extra tensor" "extra.safetensors: tensor 'extra.W' is not in model 'SimpleNet'" \
    run eval --checkpoint extra.safetensors
fails "other model" "other.safetensors: a checkpoint of model 'OtherNet', not of 'SimpleNet'" \
    run train --resume other.safetensors --checkpoint bad.safetensors
fails "resume missing" "nope.safetensors: cannot open" run train --resume nope.safetensors --checkpoint bad.safetensors
# .npy input
fails "npy shape" "shape.npy: shape (4, 3) does not fit the input of model 'SimpleNet': want (N, 2), or (2,)" \
    run predict shape.npy -o bad.npy --checkpoint full.safetensors
fails "npy dtype" "dtype.npy: dtype '>f4' is not read" run predict dtype.npy -o bad.npy --checkpoint full.safetensors
fails "npy truncated" "short.npy: truncated: the array needs 32 bytes of data, the file has 20" \
    run predict short.npy -o bad.npy --checkpoint full.safetensors
fails "npy missing" "none.npy: cannot open" run predict none.npy -o bad.npy --checkpoint full.safetensors
fails "not npy" "full.csv: not a .npy file" run predict full.csv -o bad.npy --checkpoint full.safetensors
# a save that cannot complete leaves the previous checkpoint as it was
cp full.safetensors keep.safetensors
mkdir -p ro && cp full.safetensors ro/keep.safetensors && chmod a-w ro
if [ ! -w ro ]; then   # root writes anywhere: then make the rename fail instead
    fails "unwritable" "ro/keep.safetensors" run train --steps 3 --checkpoint ro/keep.safetensors
fi
chmod u+w ro
mkdir bad.dir
fails "rename over a directory" "bad.dir: cannot rename" run train --steps 3 --checkpoint bad.dir
rmdir bad.dir
cmp full.safetensors keep.safetensors
cmp full.safetensors ro/keep.safetensors
echo "ckpt: all checks passed"
