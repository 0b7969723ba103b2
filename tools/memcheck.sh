#!/bin/sh
# valgrind memcheck over nnlc: every example compiled to an object at -O0 (every pass,
# codegen included) and every diagnostic test (the error paths). Any memory error or
# definite, indirect or possible leak fails; LLVM's still-reachable globals do not.
# Ends with `N passed, N failed`. NNL_BUILD picks the nnlc (default build/).
cd "$(dirname "$0")/.." || exit 2
B=${NNL_BUILD:-build}
command -v valgrind >/dev/null || { echo "memcheck: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
T=$(mktemp -d /tmp/nnlmemcheck.XXXXXX); trap 'rm -rf "$T"' EXIT
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --log-file=$T/vg.log"
pass=0; fail=0
check() {   # name, then the nnlc arguments
    name=$1; shift
    $VG "$B/nnlc" "$@" >/dev/null 2>&1
    if [ $? = 99 ] || [ -s "$T/vg.log" ]; then
        fail=$((fail + 1)); echo "FAIL memcheck $name"; sed 's/^/     /' "$T/vg.log" | head -40
    else
        pass=$((pass + 1)); echo "ok   memcheck $name"
    fi
    rm -f "$T/vg.log"
}
# -O0: our passes all run; LLVM's optimizer under valgrind would cost minutes an example
for f in examples/*.nnl; do check "$f" -O0 -c "$f" -o "$T/x.o"; done
for f in tests/diag/*.nnl; do check "$f" $(sed -n 's/^# run: //p' "$f" | head -1) "$f"; done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
