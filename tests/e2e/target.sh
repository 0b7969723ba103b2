# --target / --cpu: objects for x86-64 levels (baseline: no AVX registers; v3: AVX2's ymm),
# an AArch64 object when the LLVM build has the target, an x86-64 baseline executable that
# runs here, and diagnostics (no crash) for an unknown target, an unknown CPU, an
# executable this machine cannot run, and other bad option sets.
set -e
M=examples/fashion_mlp.nnl
$NNLC -c --target x86-64 $M -o "$TMPD/base.o"
$NNLC -c --target x86-64-v3 $M -o "$TMPD/v3.o"
$NNLC -c --target x86-64-v4 $M -o "$TMPD/v4.o"
$NNLC -c --target x86-64 --cpu haswell $M -o "$TMPD/hsw.o"
test "$(objdump -d "$TMPD/base.o" | grep -c 'ymm\|zmm')" = 0
test "$(objdump -d "$TMPD/v3.o" | grep -c ymm)" -gt 0
test "$(objdump -d "$TMPD/hsw.o" | grep -c ymm)" -gt 0
echo "x86-64: no AVX registers; x86-64-v3 and haswell: ymm"
if /usr/lib/llvm-19/bin/llvm-config --targets-built 2>/dev/null | grep -qw AArch64; then
    $NNLC -c --target aarch64 --cpu neoverse-n1 $M -o "$TMPD/arm.o"
    readelf -h "$TMPD/arm.o" | grep -q 'Machine:.*AArch64'
    test -f "$TMPD/arm.h"
    echo "aarch64: an AArch64 ELF object and its header"
fi
$NNLC --target x86-64 examples/simplenet.nnl -o "$TMPD/simple"
(cd "$TMPD" && ./simple train --steps 3 --quiet > /dev/null)
# refusals, each with exit status 2 and one line naming the problem
! $NNLC -c --target sparc9 $M -o "$TMPD/x.o" 2> "$TMPD/err" && grep -q "unknown target 'sparc9'" "$TMPD/err"
! $NNLC -c --cpu bogus $M -o "$TMPD/x.o" 2> "$TMPD/err" && grep -q "unknown CPU 'bogus'" "$TMPD/err"
! $NNLC -c --target aarch64 --cpu skylake $M -o "$TMPD/x.o" 2> "$TMPD/err" && grep -q "unknown CPU 'skylake'" "$TMPD/err"
! $NNLC --target aarch64 $M -o "$TMPD/x" 2> "$TMPD/err" && grep -q "use -c or --shared" "$TMPD/err"
! $NNLC --target 2> "$TMPD/err" && grep -q "needs a value" "$TMPD/err"
! $NNLC -c --prefix 1x $M -o "$TMPD/x.o" 2> "$TMPD/err" && grep -q "not a C identifier" "$TMPD/err"
! $NNLC -c --shared $M 2> "$TMPD/err" && grep -q "exclude one another" "$TMPD/err"
! $NNLC run 2> "$TMPD/err" && grep -q "no input file" "$TMPD/err"
echo "target: all passed"
