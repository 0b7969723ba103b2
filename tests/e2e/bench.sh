# `./model bench`: one line with every field bench/run.sh reads, and a training step
# after the first that allocates nothing and touches no new pages, for a dense, a
# convolutional and a residual model on 1, 2 and 5 threads (5: regions whose work pays
# for 2..4 threads of the 5 must not make libgomp end and start threads, each start an
# allocation and new pages; the ResNet: scratch that one convolution allocates and a
# smaller one first touches in the next step faulted 27-155 pages a step); --profile
# lists the step's kernels. Bad flags exit 2.
set -e
. tests/e2e_lib.sh
$NNLC bench/models/mlp.nnl -o "$TMPD/mlp"
$NNLC examples/mnist_cnn.nnl -o "$TMPD/cnn"
$NNLC examples/resnet_small.nnl -o "$TMPD/resnet"
for m in mlp cnn resnet; do
    for t in 1 2 5; do
        out=$("$TMPD/$m" bench --threads $t --batch 16 --warmup 1 --steps 3 --repeat 2 --calls 3)
        # under ASan (make sanitize sets NNL_SANITIZE) shadow memory faults pages in: only
        # allocations count there
        echo "$out" | awk -v t=$t -v san="${NNL_SANITIZE:-}" '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
            END { if (v["threads"] != t || v["batch"] != 16 || !(v["train_samples_per_s"] > 0) ||
                      !(v["forward_b1_us"] > 0) || !(v["max_rss_kb"] > 0) || v["loss"] == "" ||
                      v["isa"] !~ /^x86-64/) {
                      print "bad bench line: " $0; exit 1 }
                  if (v["train_allocs"] != "0" || (v["train_page_faults"] != "0" && san == "")) {
                      print "a training step allocated or faulted: " $0; exit 1 } }'
    done
done
# --profile: every kernel of the training step once, by share, the shares summing to 100%;
# then the batch-1 forward's kernels (P * C forwards), its shares summing to 100% too
"$TMPD/cnn" bench --threads 1 --batch 8 --warmup 1 --steps 1 --repeat 1 --calls 2 --profile 3 > "$TMPD/prof"
grep -q "^profile: 3 training steps kernel by kernel" "$TMPD/prof"
grep -q "^profile: 6 batch-1 forwards kernel by kernel" "$TMPD/prof"
nk=$($NNLC --emit=fused examples/mnist_cnn.nnl | grep -c "^k")
# (a kernel of a few scalars may take less than the clock's resolution: not listed)
awk -v nk="$nk" '/^profile:/ { t++ } /^ +[0-9.]+% / { n[t]++; s[t] += $1; if ($3 !~ /^k[0-9]+$/) bad = 1
        if (t == 2 && / (CONV2D_DW|MAXPOOL2D_DX|ADAM)/) bad = 1 }
    END { if (bad || t != 2 || s[1] < 99 || s[1] > 101 || n[1] < nk - 6 || s[2] < 99 || s[2] > 101 ||
              n[2] < 3 || n[2] >= n[1]) {
              print "bad profile: " n[1] " of " nk " kernels, " s[1] "%; forward " n[2] ", " s[2] "%"; exit 1 } }' \
    "$TMPD/prof" || { cat "$TMPD/prof"; exit 1; }
grep -q "k[0-9]* call: %[0-9]*=CONV2D_DW\* %[0-9]*=MAXPOOL2D_DX (line [0-9]*)" "$TMPD/prof"
set +e
"$TMPD/mlp" bench --profile -1 2> "$TMPD/err"; test $? = 2 && grep -q "needs a non-negative number" "$TMPD/err" || exit 1
"$TMPD/mlp" bench --steps 0 2> "$TMPD/err"; test $? = 2 && grep -q "needs a positive number" "$TMPD/err" || exit 1
"$TMPD/mlp" bench --frobnicate 2> "$TMPD/err"; test $? = 2 && grep -q "unknown flag '--frobnicate'" "$TMPD/err" || exit 1
"$TMPD/mlp" bench --help | grep -q "usage: mlp bench"
