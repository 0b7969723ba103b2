#!/bin/sh
# bench/run.sh — `make bench`: NNL beside PyTorch on the benchmark models, the runtime's
# sgemm beside OpenBLAS and oneDNN, and the machine's FMA peak. Every model is compiled
# (compile time measured), then `./model bench` and bench/torch_bench.py time training
# steps on synthetic data and batch-1 forwards the same way, one after the other, at each
# thread count. Prints a table; numbers are ratios to PyTorch at its best, configured as
# ../shared/BENCHMARKING.md says (tcmalloc, OpenMP OpenBLAS, OPENBLAS_CORETYPE unset).
#   BENCH_THREADS="1 2"  thread counts      BENCH_MODELS="cnn mlp ..."  which models
#   BENCH_QUICK=1        fewer repetitions  BENCH_GEMM=0                skip sgemm
#   BENCH_ROUNDS=R       NNL and PyTorch alternated R times for each line, medians
#                        reported (a VM's speed drifts by 20% over minutes)
cd "$(dirname "$0")/.." || exit 2
B=${NNL_BUILD:-build}
NNLC=$PWD/$B/nnlc
THREADS=${BENCH_THREADS:-"1 2"}
MODELS=${BENCH_MODELS:-"cnn mlp tiny_bce tiny_mse lstm gpt resnet"}
W=$(mktemp -d /tmp/nnlbench.XXXXXX); trap 'rm -rf "$W"' EXIT
REPS="--repeat 7 --steps 50"
[ -n "$BENCH_QUICK" ] && REPS="--repeat 3 --steps 20"
# the sequence models take ~0.1 s a step, the ResNet ~0.3: fewer steps a run (PyTorch
# needs ~10 steps of warm-up to reach its speed on them)
reps_of() {
    case $1 in
    lstm|gpt) [ -n "$BENCH_QUICK" ] && echo "--repeat 3 --steps 3 --warmup 2 --calls 20" \
                  || echo "--repeat 5 --steps 20 --warmup 10 --calls 50";;
    resnet) [ -n "$BENCH_QUICK" ] && echo "--repeat 3 --steps 2 --warmup 1 --calls 10" \
                  || echo "--repeat 5 --steps 8 --warmup 3 --calls 50";;
    *) echo "$REPS";;
    esac
}
[ -x "$NNLC" ] || { echo "bench: build first (make)" >&2; exit 2; }

LIB=/usr/lib/x86_64-linux-gnu
TORCH_ENV="env -u OPENBLAS_CORETYPE"
[ -f $LIB/libtcmalloc_minimal.so.4 ] && TORCH_ENV="$TORCH_ENV LD_PRELOAD=$LIB/libtcmalloc_minimal.so.4"
[ -d $LIB/openblas-openmp ] && TORCH_ENV="$TORCH_ENV LD_LIBRARY_PATH=$LIB/openblas-openmp"
[ -d $LIB/openblas-openmp ] || [ ! -d $LIB/openblas-pthread ] ||
    echo "bench: warning: only the pthreads OpenBLAS is installed; PyTorch's own OpenMP threads and" \
         "OpenBLAS's then oversubscribe the cores (its 2-thread runs 3-10x slower here):" \
         "apt-get install libopenblas0-openmp for PyTorch at its best" >&2
HAVE_TORCH=0
/usr/bin/python3 -c 'import torch' 2>/dev/null && HAVE_TORCH=1

. bench/models.sh
# median V...: the middle value (the mean of the middle two), empty for none
median() { printf '%s\n' "$@" | sort -g | awk 'NF { v[++n] = $1 } END { if (n) print n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'; }

gcc -O2 -march=native -fopenmp bench/peak.c -o "$W/peak" || exit 1
echo "== FMA peak (bench/peak.c) =="
for t in $THREADS; do "$W/peak" "$t"; done | tee "$W/peak.txt"
peak_of() { awk -v t="$1" '$1 == "peak" && $3 == t { print $7 }' "$W/peak.txt"; }

echo
echo "runtime kernels for this CPU: $("$NNLC" tests/models/seq_sum.nnl -o "$W/isa" > /dev/null && "$W/isa" bench --steps 1 --repeat 1 --calls 1 --warmup 0 | sed -n 's/.* isa \([^ ]*\).*/\1/p')"
echo "== training (synthetic data) and batch-1 inference: NNL vs PyTorch $( [ $HAVE_TORCH = 1 ] && /usr/bin/python3 -c 'import torch; print(torch.__version__)' || echo '(not installed)') =="
printf '%-9s %3s %5s | %11s %11s %6s %10s | %9s %9s %6s | %8s | %8s %8s\n' model thr batch \
    nnl_samp/s torch_samp/s ratio nnl_%peak nnl_b1_us torch_us ratio compile_s nnl_MB torch_MB
for m in $MODELS; do
    s=$(src $m)
    t0=$(date +%s.%N)
    "$NNLC" "$s" -o "$W/$m" || { echo "bench: $s does not compile" >&2; exit 1; }
    t1=$(date +%s.%N)
    comp=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')
    for t in $THREADS; do
        nss=""; nls=""; pss=""; pls=""
        for r in $(seq "${BENCH_ROUNDS:-1}"); do
            n=$("$W/$m" bench --threads "$t" $(reps_of $m)) || exit 1
            p=""
            [ $HAVE_TORCH = 1 ] && p=$($TORCH_ENV /usr/bin/python3 bench/torch_bench.py "$m" --threads "$t" $(reps_of $m))
            nss="$nss $(field "$n" train_samples_per_s)"; nls="$nls $(field "$n" forward_b1_us)"
            pss="$pss $(field "$p" train_samples_per_s)"; pls="$pls $(field "$p" forward_b1_us)"
        done
        ns=$(median $nss); nl=$(median $nls); nr=$(field "$n" max_rss_kb)
        ps=$(median $pss); pl=$(median $pls); pr=$(field "$p" max_rss_kb)
        echo "$m $t $(field "$n" batch) $ns ${ps:-0} $(flops $m) $(peak_of $t) $nl ${pl:-0} $comp $nr ${pr:-0}" | awk '{
            ratio = $5 > 0 ? sprintf("%.2fx", $4 / $5) : "-"
            share = $7 > 0 ? sprintf("%.1f%%", 100 * $4 * $6 / ($7 * 1e9)) : "-"
            lratio = $9 > 0 ? sprintf("%.2fx", $9 / $8) : "-"
            printf "%-9s %3s %5s | %11.0f %11s %6s %10s | %9.1f %9s %6s | %8s | %8.1f %8s\n",
                $1, $2, $3, $4, ($5 > 0 ? sprintf("%.0f", $5) : "-"), ratio, share, $8,
                ($9 > 0 ? sprintf("%.1f", $9) : "-"), lratio, $10, $11 / 1024,
                ($12 > 0 ? sprintf("%.1f", $12 / 1024) : "-") }'
    done
done
echo "(ratio: NNL/PyTorch samples per second; latency ratio: PyTorch/NNL, higher is better for NNL)"

[ "${BENCH_GEMM:-1}" = 0 ] && exit 0
echo
echo "== sgemm: runtime/gemm.c vs OpenBLAS and oneDNN =="
defs=""; libs=""
[ -f $LIB/libopenblas.so ] && { defs="$defs -DHAVE_OPENBLAS"; libs="$libs -lopenblas"; }
[ -f /usr/include/dnnl.h ] && { defs="$defs -DHAVE_DNNL"; libs="$libs -ldnnl"; }
gcc -O2 -march=native -fopenmp -Iruntime $defs bench/gemm_bench.c "$B/libnnlrt.a" $libs -lm \
    -o "$W/gemm_bench" || exit 1
for t in $THREADS; do
    $TORCH_ENV "$W/gemm_bench" "$t"
done
