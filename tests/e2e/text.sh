# Text data end to end, on files written here. L (tests/models/text_lm.nnl): character
# windows train and evaluate; the checkpoint holds the vocabulary (and keeps it when
# training resumes); sample prints the
# prompt and 20 characters (29 bytes with the newline), the same ones for the same seed, greedy at temperature 0;
# eval --checkpoint reads a changed corpus with the checkpoint's vocabulary. C
# (tests/models/text_cls.nnl): labelled word lines with named classes train, evaluate and
# count every test line once; predict on the test file as text agrees with eval. Bad input (a missing or empty file, too many characters
# for vocab:, a line without a tab, an unknown label) exits 1 with one line naming the
# file (and line), before any output: no epoch line, no checkpoint.
set -e
. tests/e2e_lib.sh
M=$PWD/tests/models
python3 - "$TMPD" <<'PY'
import random, sys
d = sys.argv[1]
r = random.Random(3)
words = 'the cat sat on a mat and the dog ran to it'.split()
open(d + '/corpus.txt', 'w').write(' '.join(r.choice(words) for _ in range(600)) + '\n')
ham = 'meeting notes for the project team tomorrow at noon please review'.split()
spam = 'buy cheap pills now win money free offer click here today'.split()
for name, n in (('mail_train.tsv', 120), ('mail_test.tsv', 40)):
    with open(d + '/' + name, 'w') as f:
        for i in range(n):
            s = r.random() < 0.5
            f.write('%s\t%s\n' % ('spam' if s else 'ham',
                    ' '.join(r.choice(spam if s else ham) for _ in range(r.randrange(3, 16)))))
PY
$NNLC $M/text_lm.nnl -o "$TMPD/lm"
$NNLC $M/text_cls.nnl -o "$TMPD/cls"
cd "$TMPD"

# L: train, the vocabulary in the checkpoint, sample
./lm train --data . --quiet --log lm.csv > lm.out
grep -q '^final: valid_mse [0-9.]* valid_loss [0-9.]*$' lm.out
grep -q '"tokens":"char","vocab":"\[\\"<pad>\\",\\"<unk>\\",\\" \\",' tinylm.safetensors
./lm sample --prompt "the cat " --tokens 20 --temperature 0 > g1.out
./lm sample --prompt "the cat " --tokens 20 --temperature 0 > g2.out
cmp g1.out g2.out
./lm sample --prompt "the cat " --tokens 20 --seed 5 > s1.out
./lm sample --prompt "the cat " --tokens 20 --seed 5 > s2.out
cmp s1.out s2.out
for f in g1.out s1.out; do
    test "$(head -c 8 $f)" = "the cat " && test "$(wc -c < $f)" = 29 ||
        { echo "$f: '$(cat $f)'"; exit 1; }
done
./lm sample --prompt "the Cat" --tokens 5 > bad.out 2> bad.err && exit 1
grep -q "^lm: error: the prompt's character 'C' is not in the vocabulary (tinylm.safetensors)$" bad.err
test ! -s bad.out
./lm --help | grep -q '^  sample --prompt TEXT --tokens N --temperature X$'
# resuming keeps the checkpoint's vocabulary, and saves it again
cp tinylm.safetensors before.safetensors
./lm train --data . --quiet --resume tinylm.safetensors --epochs 4 > resume.out
grep -q '^epoch 4/4 ' resume.out && ! grep -q '^epoch [123]/' resume.out
grep -q '"tokens":"char","vocab":"\[\\"<pad>\\",\\"<unk>\\",\\" \\",' tinylm.safetensors
# a changed corpus: the checkpoint's ids read it, so a character it lacks is unknown
./lm eval --data . --checkpoint tinylm.safetensors > e1.out
cp corpus.txt corpus.orig && tr 'a' 'Q' < corpus.orig > corpus.txt
./lm eval --data . --checkpoint tinylm.safetensors > e2.out
./lm eval --data . > e3.out
cmp -s e1.out e2.out && { echo "the changed corpus read the same"; exit 1; }
cmp -s e2.out e3.out && { echo "the checkpoint's vocabulary was not used"; exit 1; }
mv corpus.orig corpus.txt

# C: labelled lines
./cls train --data . --quiet > cls.out
grep -q '^final: test_accuracy [0-9.]* test_loss [0-9.]*$' cls.out
test "$(awk '/^test confusion/ { on = 1; getline; next } on && /^  +[0-9]/ { s += $2 + $3 } END { print s }' cls.out)" = 40
./cls eval --data . --checkpoint spam.safetensors > cls_eval.out
# predict reads the test lines as text (the labels before the tabs are skipped)
./cls predict --checkpoint spam.safetensors mail_test.tsv -o pred.npy > /dev/null
pacc=$(python3 - <<'PY'
import struct
raw = open('pred.argmax.npy', 'rb').read()
hl = struct.unpack('<H', raw[8:10])[0]
got = struct.unpack('<40q', raw[10 + hl:])
want = [int(l.split('\t')[0] == 'spam') for l in open('mail_test.tsv')]
print('%.4f' % (sum(g == w for g, w in zip(got, want)) / 40))
PY
)
grep -q "^test_accuracy $pacc " cls_eval.out || { echo "predict accuracy $pacc; eval: $(cat cls_eval.out)"; exit 1; }

# bad input: one line naming the file (and line), nothing else
fails() {   # fails WANT-IN-STDERR COMMAND...
    want=$1; shift
    rm -f spam.safetensors tinylm.safetensors
    if "$@" > out.txt 2> err.txt; then echo "$* succeeded"; exit 1; fi
    test "$(wc -l < err.txt)" = 1 && grep -q -- "$want" err.txt || { echo "$*: $(cat err.txt)"; exit 1; }
    test ! -s out.txt && test ! -f spam.safetensors && test ! -f tinylm.safetensors ||
        { echo "$*: output before the error"; exit 1; }
}
mkdir -p empty bigv notab label
: > empty/corpus.txt
fails "empty/corpus.txt: empty file" ./lm train --data empty
fails "nowhere/corpus.txt: cannot open" ./lm train --data nowhere
python3 -c "print(''.join(chr(33 + i) for i in range(40)) * 3)" > bigv/corpus.txt
fails "bigv/corpus.txt: 41 different characters need 43 token ids" ./lm train --data bigv
cp mail_test.tsv notab/ && printf 'ham\tfine\nham\tok\nspam no tab\n' > notab/mail_train.tsv
fails "notab/mail_train.tsv:3: no tab" ./cls train --data notab
cp mail_test.tsv label/ && printf 'ham\tfine\neggs\tok\n' > label/mail_train.tsv
fails "label/mail_train.tsv:2: label 'eggs' is not one of ham,spam" ./cls train --data label
echo "text: ok"
