# nnlc run: the model compiled in memory and run by ORC LLJIT inside nnlc's process. Its
# training log and predictions equal the compiled executable's to the last digit, and
# its errors and exit statuses are the CLI's.
set -e
cp examples/simplenet.nnl "$TMPD/simple.nnl"
cd "$TMPD"
$NNLC simple.nnl -o simple
./simple train --steps 30 --threads 2 --log exe.csv --checkpoint exe.safetensors --quiet > exe.out
$NNLC run simple.nnl train --steps 30 --threads 2 --log jit.csv --checkpoint jit.safetensors --quiet > jit.out
cmp exe.csv jit.csv
sed 's/exe\.safetensors/X/' exe.out > a; sed 's/jit\.safetensors/X/' jit.out > b; cmp a b
cmp exe.safetensors jit.safetensors
$NNLC run simple.nnl eval --checkpoint jit.safetensors > eval.out
grep -q accuracy eval.out
$NNLC run -O0 simple.nnl --help | grep -q 'train'
# the model's errors: its own message and status
! $NNLC run simple.nnl eval --checkpoint missing.safetensors 2> err
grep -q missing.safetensors err
! $NNLC run simple.nnl 2> /dev/null > /dev/null   # no command: usage, non-zero
echo "jit: nnlc run trains exactly as the executable ($(wc -l < jit.csv) log lines equal)"
