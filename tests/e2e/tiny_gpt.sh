# A small GPT (tests/models/tiny_gpt.nnl) trains on synthetic token sequences: each
# sequence counts up from a random start by a step of 1, 2 or 3 (mod 11), which only
# attention over the earlier tokens can infer. The loss falls, next-token accuracy on
# held-out sequences beats the 1/11 of guessing, and predict's class indices (a class
# per position, (N, 16)) give the same held-out accuracy as train reports.
set -e
. tests/e2e_lib.sh
python3 - "$TMPD" <<'PY'
import random, struct, sys
d = sys.argv[1]
r = random.Random(7)
ids, nxt = [], []
for i in range(512):
    s, k = r.randrange(11), r.choice([1, 2, 3])
    seq = [(s + k * t) % 11 for t in range(17)]
    ids += seq[:16]
    nxt += seq[1:]
def npy(path, values):
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': (512, 16), }"
    h += ' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode())
        f.write(struct.pack('<%df' % len(values), *values))
npy(d + '/ids.npy', ids)
npy(d + '/next.npy', nxt)
PY
$NNLC tests/models/tiny_gpt.nnl -o "$TMPD/gpt"
"$TMPD/gpt" train --data "$TMPD" --threads 2 --log "$TMPD/log.csv" --checkpoint "$TMPD/g.safetensors" > "$TMPD/out"
falls "$TMPD/log.csv"
cat "$TMPD/out"
acc=$(sed -n 's/^final: test_accuracy \([0-9.]*\).*/\1/p' "$TMPD/out")
echo "held-out next-token accuracy $acc"
atleast "$acc" 0.6
# the checkpoint names its optimizer (AdamW here; every kind but Adam was once "sgd")
python3 -c 'import json, struct, sys; r = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", r[:8])[0]
m = json.loads(r[8:8 + n])["__metadata__"]; assert m["optimizer"] == "adamw", m["optimizer"]' "$TMPD/g.safetensors"
"$TMPD/gpt" predict --checkpoint "$TMPD/g.safetensors" "$TMPD/ids.npy" -o "$TMPD/p.npy" | tee "$TMPD/pred"
grep -q "p.argmax.npy (512, 16) class indices" "$TMPD/pred"
python3 - "$TMPD" "$acc" <<'PY'
import struct, sys
d, want = sys.argv[1], float(sys.argv[2])
def load(path, fmt, size):
    b = open(path, 'rb').read()
    n = struct.unpack('<H', b[8:10])[0]
    body = b[10 + n:]
    return struct.unpack('<%d%s' % (len(body) // size, fmt), body)
guess, truth = load(d + '/p.argmax.npy', 'q', 8), load(d + '/next.npy', 'f', 4)
held = range(448 * 16, 512 * 16)
got = sum(guess[i] == int(truth[i]) for i in held) / len(held)
print('predict: held-out accuracy %.4f, train reported %.4f' % (got, want))
sys.exit(abs(got - want) > 1e-3)
PY
