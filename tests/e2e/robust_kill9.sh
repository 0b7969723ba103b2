# kill -9 at random moments during training, 10 times in a row, each run resuming from
# the checkpoint the last one left: every time the checkpoint loads (eval), its step
# never goes back, and --resume continues from it. simplenet saves every epoch (10
# steps), so the kills land in the middle of checkpoint writes too; the next save removes
# the temporary files killed writers left.
set -e
$NNLC examples/simplenet.nnl -o "$TMPD/sn"
cd "$TMPD"
seed=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
echo "kill -9: random seed $seed"
last=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    resume=""
    [ -f k.safetensors ] && resume="--resume k.safetensors"
    ./sn train --quiet --epochs 10000000 --checkpoint k.safetensors $resume > /dev/null 2>&1 &
    pid=$!
    # 0.05 .. 0.8 s
    t=$(awk -v s="$seed" -v i="$i" 'BEGIN { srand(s + i); printf "%.2f", 0.05 + rand() * 0.75 }')
    sleep "$t"
    kill -9 $pid
    wait $pid 2>/dev/null || true
    [ -f k.safetensors ] || continue      # killed before the first save
    ./sn eval --checkpoint k.safetensors > /dev/null
    step=$(./sn train --quiet --resume k.safetensors --steps 1 --checkpoint /dev/null 2>&1 |
           sed -n 's/.*already at step \([0-9]*\).*/\1/p')
    test -n "$step" && test "$step" -ge "$last"
    echo "kill $i after ${t}s: checkpoint at step $step loads"
    last=$step
done
test "$last" -gt 0
sh -c 'exit 0' & dead=$!; wait $dead
touch k.safetensors.tmp$dead k.safetensors.tmp$$   # a dead writer's file, and a live one's
./sn train --quiet --resume k.safetensors --steps $((last + 10)) --checkpoint k.safetensors > out
test -f k.safetensors.tmp$$ || { echo "a live process's temporary file was removed"; exit 1; }
rm k.safetensors.tmp$$
grep -q "^checkpoint k.safetensors (step $((last + 10)))$" out
# the temporary files of killed writers are gone once a save runs again
if ls k.safetensors.tmp* > /dev/null 2>&1; then echo "left behind:"; ls k.safetensors.tmp*; exit 1; fi
echo "kill -9: 10 kills; the last checkpoint (step $last) resumed to step $((last + 10))"
