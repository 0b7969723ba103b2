# The runtime's arithmetic per x86-64 level (runtime/isa_list.h, isa.c): in libnnlrt.a only
# the v4 copies use zmm registers and only the v3 and v4 copies ymm, so the rest runs on
# any x86-64; and a program built for x86-64-v3 trains under valgrind, whose simulated CPU
# has AVX2 but not AVX-512 (with the copies chosen at build time it stopped on SIGILL),
# to the loss the native build reaches.
set -e
objdump -d "$NNLRT" | awk '/file format/ { m = $1 } /%ymm/ { y[m] = 1 } /%zmm/ { z[m] = 1 }
    END { for (k in y) print k, "ymm"; for (k in z) print k, "zmm" }' > "$TMPD/avx"
if grep -v -e '\.v4\.o: zmm$' -e '\.v[34]\.o: ymm$' "$TMPD/avx"; then
    echo "AVX registers outside the x86-64-v3/v4 copies (above)"; exit 1
fi
grep -q '^gemm\.v4\.o: zmm$' "$TMPD/avx" || { echo "no zmm in gemm.v4.o"; exit 1; }
grep -q '^gemm\.v3\.o: ymm$' "$TMPD/avx" || { echo "no ymm in gemm.v3.o"; exit 1; }
echo "libnnlrt.a: zmm only in the v4 copies, ymm only in v3 and v4"

M=tests/models/conv_pool.nnl
mkdir -p "$TMPD/n" "$TMPD/v"
$NNLC $M -o "$TMPD/n/m"
(cd "$TMPD/n" && ./m train --steps 12 --quiet > out)
tail -1 "$TMPD/n/out"
if [ -n "$NNL_SANITIZE" ] || ! command -v valgrind > /dev/null; then
    echo "isa: valgrind part skipped (sanitizers, or no valgrind)"; exit 0
fi
$NNLC --target x86-64-v3 $M -o "$TMPD/v/m"
(cd "$TMPD/v" && valgrind -q --tool=none --error-exitcode=9 ./m train --steps 12 --quiet > out)
tail -1 "$TMPD/v/out"
a=$(sed -n 's/^final: loss \([0-9.]*\) .*/\1/p' "$TMPD/n/out")
b=$(sed -n 's/^final: loss \([0-9.]*\) .*/\1/p' "$TMPD/v/out")
awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && b > 0 && d <= 1e-3 * a) }'
echo "isa: all passed"
