#!/bin/sh
# bench/scaling.sh — thread scaling on a many-core machine: training samples/s of NNL and
# PyTorch at 1, 2, 4, ... threads, each with its speed-up over one thread and NNL's share
# of the FMA peak at that thread count, and the runtime's sgemm GFLOP/s.
#   bench/scaling.sh build DIR   compile the models (for x86-64-v4 and -v3), peak.c and
#                                gemm_bench into DIR, with libgomp beside them (here,
#                                where nnlc is built)
#   bench/scaling.sh run DIR     run them where they are to be measured: needs only libc
#                                and, for the PyTorch columns, python3 with torch
#   SCALE_THREADS="1 2 4 8 16"   thread counts (default: powers of two up to nproc)
#   SCALE_MODELS="cnn mlp lstm gpt"
cd "$(dirname "$0")/.." || exit 2
. bench/models.sh
MODELS=${SCALE_MODELS:-"cnn mlp lstm gpt"}
D=$2
[ -n "$D" ] || { echo "usage: bench/scaling.sh build|run DIR" >&2; exit 2; }

case $1 in
build)
    NNLC=$PWD/${NNL_BUILD:-build}/nnlc
    [ -x "$NNLC" ] || { echo "scaling: build first (make)" >&2; exit 2; }
    mkdir -p "$D/lib" || exit 1
    for m in $MODELS; do
        for v in v4 v3; do
            "$NNLC" "$(src $m)" --target x86-64-$v -o "$D/$m.$v" || exit 1
        done
    done
    for v in v4 v3; do
        gcc -O2 -march=x86-64-$v -fopenmp bench/peak.c -o "$D/peak.$v" || exit 1
    done
    gcc -O2 -march=x86-64-v3 -fopenmp -Iruntime bench/gemm_bench.c \
        "${NNL_BUILD:-build}/libnnlrt.a" -lm -o "$D/gemm_bench" || exit 1
    # the libraries the programs link beyond libc (libgomp, zlib, cJSON)
    for l in $(ldd "$D/gpt.v4" | awk '$2 == "=>" && $1 !~ /^(libc\.|libm\.|ld-linux)/ { print $3 }'); do
        cp -L "$l" "$D/lib/" || exit 1
    done
    exit 0;;
run) ;;
*) echo "usage: bench/scaling.sh build|run DIR" >&2; exit 2;;
esac

export LD_LIBRARY_PATH="$PWD/$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
v=v3; grep -q avx512f /proc/cpuinfo && v=v4
n=$(nproc)
THREADS=${SCALE_THREADS:-$(t=1; while [ $t -le "$n" ]; do printf '%s ' $t; t=$((t * 2)); done)}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $n CPUs; models built for x86-64-$v"
PY=$(command -v python3)
HAVE_TORCH=0
[ -n "$PY" ] && [ "${SCALE_TORCH:-1}" = 1 ] && "$PY" -c 'import torch' 2>/dev/null && HAVE_TORCH=1
[ $HAVE_TORCH = 1 ] && echo "PyTorch $("$PY" -c 'import torch; print(torch.__version__, *[l.strip() for l in torch.__config__.parallel_info().splitlines() if "backend" in l], sep="; ")')"

echo "== FMA peak (bench/peak.c) =="
for t in $THREADS; do "$D/peak.$v" "$t"; done | tee "$D/peak.txt"
peak_of() { awk -v t="$1" '$1 == "peak" && $3 == t { print $7 }' "$D/peak.txt"; }

reps() { case $1 in lstm|gpt|resnet) echo "--repeat 3 --steps 5 --warmup 5 --calls 20";;
                    *) echo "--repeat 5 --steps 30 --warmup 5 --calls 50";; esac; }
echo "== training samples/s by threads (speed-up over 1 thread; NNL's share of the peak) =="
printf '%-5s %3s | %10s %7s %7s | %10s %7s | %6s\n' model thr nnl speedup %peak torch speedup ratio
for m in $MODELS; do
    n1=""; p1=""
    for t in $THREADS; do
        ns=$(field "$(timeout 120 "$D/$m.$v" bench --threads "$t" $(reps $m))" train_samples_per_s)
        ps=""
        [ $HAVE_TORCH = 1 ] && ps=$(field "$(timeout 300 "$PY" bench/torch_bench.py "$m" \
            --threads "$t" $(reps $m))" train_samples_per_s)
        n1=${n1:-$ns}; p1=${p1:-$ps}
        echo "$m $t ${ns:-0} ${n1:-0} ${ps:-0} ${p1:-0} $(flops $m) $(peak_of $t)" | awk '{
            printf "%-5s %3s | %10.0f %6.2fx %6.1f%% | %10s %7s | %6s\n", $1, $2, $3,
                ($4 > 0 ? $3 / $4 : 0), ($8 > 0 ? 100 * $3 * $7 / ($8 * 1e9) : 0),
                ($5 > 0 ? sprintf("%.0f", $5) : "-"), ($6 > 0 ? sprintf("%.2fx", $5 / $6) : "-"),
                ($5 > 0 ? sprintf("%.2fx", $3 / $5) : "-") }'
    done
done

[ "${BENCH_GEMM:-1}" = 0 ] && exit 0
echo "== runtime sgemm GFLOP/s by threads (bench/gemm_bench.c) =="
for t in $THREADS; do timeout 120 "$D/gemm_bench" "$t"; done
