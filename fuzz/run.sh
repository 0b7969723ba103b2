#!/bin/sh
# Runs each libFuzzer target for SECONDS (default 60) under nice, one job each, keeping
# the corpus in build-fuzz/corpus/TARGET between runs and any crash, leak or timeout in
# build-fuzz/artifacts/. The compiler's corpus starts from every .nnl in the tree, the
# data readers' from fuzz/seeds_data/. Exits non-zero when a target found something.
# FUZZ_TARGETS="nnlc" runs a subset.
set -u
cd "$(dirname "$0")/.."
secs=${1:-60}
targets=${FUZZ_TARGETS:-"nnlc data"}
mkdir -p build-fuzz/artifacts
rc=0
# FUZZ_KEEP_GOING=1: fork mode, which records every crash and goes on (for long runs).
mode=""
[ -n "${FUZZ_KEEP_GOING:-}" ] && mode="-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"
for t in $targets; do
    corpus=build-fuzz/corpus/$t
    mkdir -p "$corpus"
    case $t in
    nnlc) seeds=build-fuzz/seeds/nnlc; mkdir -p $seeds
          find . -name '*.nnl' -not -path './build*' | while read -r f; do
              cp "$f" "$seeds/$(echo "$f" | tr '/.' '__')"; done
          extra="-dict=fuzz/nnl.dict -max_len=4096" ;;
    data) seeds=fuzz/seeds_data; extra="-max_len=2048" ;;
    esac
    echo "fuzz: $t for ${secs}s"
    nice -n 15 build-fuzz/fuzz_$t "$corpus" "$seeds" $extra -max_total_time="$secs" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $mode \
        -artifact_prefix=build-fuzz/artifacts/$t- 2>build-fuzz/$t.log || rc=1
    grep -E "stat::number_of_executed_units|^#[0-9]+: .*exec/s|^==.*ERROR|SUMMARY|crash-|leak-|timeout-" build-fuzz/$t.log | tail -4 | sed "s/^/fuzz: $t: /"
done
exit $rc
