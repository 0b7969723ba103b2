# Crash-safe training (docs/ROBUSTNESS.md):
#   --nan=stop names epoch, step and the first bad parameter and exits 1 without saving
#     over the last checkpoint; --nan=skip undoes bad steps and warns; a bad --nan value
#     is a command-line error
#   an arena that does not fit the machine is refused at start with the size it needs
#   Ctrl-C (SIGINT) finishes the step, saves a checkpoint that eval loads and that
#     --resume continues from, and exits with 130
set -e
ROOT=$PWD
$NNLC tests/models/diverge.nnl -o "$TMPD/dv"
$NNLC tests/models/huge.nnl -o "$TMPD/huge"
$NNLC examples/simplenet.nnl -o "$TMPD/sn"
cd "$TMPD"

# ---- NaN and Inf ----
./dv train --quiet --checkpoint dv.safetensors > /dev/null        # a good checkpoint first
cp dv.safetensors good.safetensors
if ./dv train --quiet --lr 1e3 --checkpoint dv.safetensors > out 2> err; then exit 1; fi
grep -q "^dv: error: epoch 1, step [0-9]* (step [0-9]* of the epoch): the loss is .*first bad: the parameter dense_[12]\.[Wb]\[[0-9, ]*\] is -\?\(inf\|nan\)" err
grep -q "^hint: .*--nan=skip" err
cmp dv.safetensors good.safetensors
echo "nan=stop: $(head -1 err)"
./dv train --quiet --lr 1e3 --nan=skip --checkpoint skip.safetensors > out 2> err
grep -q "warning: epoch 1, step [0-9]* of the epoch skipped: the loss is" err
test "$(grep -c warning err)" -le 6
grep -q "^checkpoint skip.safetensors" out
./dv eval --checkpoint skip.safetensors > /dev/null
echo "nan=skip: $(grep -c warning err) warnings, then $(tail -1 out)"
./dv train --quiet --lr 1e3 --nan=ignore --checkpoint ign.safetensors > out 2> err
grep -q "^final: loss nan" out
if ./dv train --nan=sometimes 2> err; then exit 1; fi
grep -q "^dv: error: --nan: 'sometimes' is not stop, skip or ignore" err

# ---- memory ----
if ./huge train --quiet 2> err; then exit 1; fi
grep -q "^huge: error: nnl_create: the model needs 8.0 TiB of memory (.*) but this machine has .*: make it smaller" err
if NNL_MEMORY_LIMIT=20000 ./dv train --quiet --batch 200 2> err; then exit 1; fi
grep -q "the model needs .* KiB of memory (.* floats with batch 200) but this machine has 19.5 KiB; try a smaller --batch" err
NNL_MEMORY_LIMIT=20000 ./dv train --quiet --batch 16 --epochs 1 > /dev/null
echo "memory: $(cat err)"

# ---- Ctrl-C ----
./sn train --quiet --epochs 1000000 --checkpoint int.safetensors --log int.csv > out 2> err &
pid=$!
n=0
while [ ! -f int.safetensors ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
sleep 0.3
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
test "$rc" = 130
grep -q "^interrupted at epoch [0-9]*, step [0-9]*; checkpoint int.safetensors$" out
step=$(sed -n 's/^interrupted at epoch [0-9]*, step \([0-9]*\);.*/\1/p' out)
test "$(tail -1 int.csv | cut -d, -f2)" = "$step"    # the step logged last is the one saved
./sn eval --checkpoint int.safetensors > /dev/null
./sn train --quiet --resume int.safetensors --steps $((step + 25)) --checkpoint int.safetensors > out
grep -q "^checkpoint int.safetensors (step $((step + 25)))$" out
ls | grep -q tmp && { echo "temporary file left"; exit 1; }
echo "ctrl-c: stopped at step $step with status 130; eval loads it; --resume went on to $((step + 25))"
