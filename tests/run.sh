#!/bin/sh
# The test runner: every test under tests/, by kind, then `N passed, N failed`.
#   golden  tests/{parse,diag,ir}/*.nnl  a `# run: ARGS` line; `build/nnlc ARGS FILE`'s
#           stdout+stderr must equal the file's `#| ` lines, its exit status `# exit: N`
#           (default 0). Run from the repository root, FILE given as tests/kind/name.nnl.
#   runtime tests/runtime/*.c            linked against build/libnnlrt.a; exit 0 passes
#   grad    tests/grad/*.nnl             nnlc -c --prefix gc, linked with gradcheck.c
#   e2e     tests/e2e/*.sh               sh, with NNLC, NNLRT, TMPD set; exit 0 passes
# NNL_TEST=pattern runs only tests whose path contains pattern.
cd "$(dirname "$0")/.." || exit 2
B=${NNL_BUILD:-build}
NNLC=$PWD/$B/nnlc; NNLRT=$PWD/$B/libnnlrt.a
TMPD=$(mktemp -d /tmp/nnltest.XXXXXX); trap 'rm -rf "$TMPD"' EXIT
export NNLC NNLRT TMPD
CC=${CC:-gcc}
RTLIBS="-fopenmp -lcjson -lz -lm"

pass=0; fail=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$TMPD/why" ] && sed 's/^/     /' "$TMPD/why" | head -40; rm -f "$TMPD/why"; }
want() { [ -z "$NNL_TEST" ] || case "$1" in *"$NNL_TEST"*) return 0;; *) return 1;; esac; }

for f in tests/parse/*.nnl tests/diag/*.nnl tests/ir/*.nnl; do
    [ -f "$f" ] && want "$f" || continue
    args=$(sed -n 's/^# run: //p' "$f" | head -1)
    code=$(sed -n 's/^# exit: //p' "$f" | head -1); code=${code:-0}
    sed -n -e 's/^#| //p' -e 's/^#|$//p' "$f" > "$TMPD/expect"
    $NNLC $args "$f" > "$TMPD/got" 2>&1; got=$?
    if [ "$got" != "$code" ]; then
        echo "exit status $got, expected $code" > "$TMPD/why"; cat "$TMPD/got" >> "$TMPD/why"; bad "$f"
    elif ! diff -u "$TMPD/expect" "$TMPD/got" > "$TMPD/why"; then bad "$f"
    else rm -f "$TMPD/why"; ok "$f"; fi
done

# A runtime test that calls a function of runtime/isa_list.h runs once per copy of it
# this CPU can run (isa.c): `-include isa_vN.h` binds its calls to level N's copy.
has() { for w in "$@"; do grep -qw "$w" /proc/cpuinfo 2>/dev/null || return 1; done; }
levels=v1
has avx avx2 fma bmi1 bmi2 && levels="v3 $levels"
has avx avx2 fma bmi1 bmi2 avx512f avx512bw avx512vl avx512dq avx512cd && levels="v4 $levels"
isa_fns=$(sed -n 's/^RT_ISA_FN(\(.*\))$/\1/p' runtime/isa_list.h | paste -sd'|')
for f in tests/runtime/*.c; do
    [ -f "$f" ] && want "$f" || continue
    if grep -qwE "$isa_fns" "$f"; then runs=$levels; else runs=-; fi
    for l in $runs; do
        if [ "$l" = - ]; then name=$f; inc=; else name="$f [$l]"; inc="-include $B/runtime/isa_$l.h"; fi
        if ! $CC -std=gnu11 -O1 -g -Iruntime $inc -o "$TMPD/rt" "$f" "$NNLRT" $RTLIBS 2> "$TMPD/why"; then bad "$name"
        elif ! "$TMPD/rt" > "$TMPD/why" 2>&1; then bad "$name"
        else rm -f "$TMPD/why"; ok "$name"; fi
    done
done

for f in tests/grad/*.nnl; do
    [ -f "$f" ] && want "$f" || continue
    if ! $NNLC -c --prefix gc "$f" -o "$TMPD/gc.o" > "$TMPD/why" 2>&1; then bad "$f"
    elif ! $CC -std=gnu11 -O1 -g -Iruntime -Ibuild -o "$TMPD/gc" tests/grad/gradcheck.c "$TMPD/gc.o" "$NNLRT" $RTLIBS > "$TMPD/why" 2>&1; then bad "$f"
    elif ! "$TMPD/gc" "$f" > "$TMPD/why" 2>&1; then bad "$f"
    else rm -f "$TMPD/why"; ok "$f"; fi
done

for f in tests/e2e/*.sh; do
    [ -f "$f" ] && want "$f" || continue
    mkdir -p "$TMPD/e2e" && rm -rf "$TMPD/e2e"/*
    if ! TMPD="$TMPD/e2e" sh "$f" > "$TMPD/why" 2>&1; then bad "$f"
    else rm -f "$TMPD/why"; ok "$f"; fi
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
