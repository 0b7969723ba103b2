#!/bin/sh
# make examples-check: trains every example as declared (full epochs, real data) and
# checks the numbers the issues ask for. Minutes to hours on 2 cores, so not part of
# make test. EXAMPLES="mnist_cnn fashion_mlp" limits the run.
cd "$(dirname "$0")/.." || exit 2
. tests/e2e_lib.sh
out=build/examples-check
mkdir -p "$out"
fail=0
# name | nnlc file | extra train flags | column | comparison | bound
checks="simplenet|examples/simplenet.nnl||train_accuracy|>=|0.95
regression|examples/regression.nnl||train_mse|<=|0.7
fashion_mlp|examples/fashion_mlp.nnl||test_accuracy|>=|0.85
mnist_cnn|examples/mnist_cnn.nnl||test_accuracy|>=|0.98
mnist_cnn_fashion|examples/mnist_cnn.nnl|--data /usr/share/datasets/fashion-mnist|test_accuracy|>=|0.90
resnet_small|examples/resnet_small.nnl||test_accuracy|>=|0.92"
echo "$checks" | while IFS='|' read -r name src flags column cmp bound; do
    case " ${EXAMPLES:-$name} " in *" $name "*) ;; *) continue;; esac
    build/nnlc "$src" -o "$out/$name" || { echo "$name: does not compile"; exit 1; }
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$out/$name" train $flags --checkpoint "$out/$name.safetensors" --log "$out/$name.csv" > "$out/$name.out" 2>/dev/null
    v=$(last "$out/$name.csv" "$column")
    if [ "$cmp" = ">=" ]; then atleast "$v" "$bound" && ok=ok || ok=FAIL; else atleast "$bound" "$v" && ok=ok || ok=FAIL; fi
    printf '%-20s %-15s %-8s (want %s %s)  %4ss  %s\n' "$name" "$column" "$v" "$cmp" "$bound" $(( $(date +%s) - start )) "$ok"
    [ "$ok" = ok ] || echo FAIL >> "$out/failed"
done
[ ! -f "$out/failed" ] || { rm -f "$out/failed"; exit 1; }
