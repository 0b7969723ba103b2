# nnlc -g: DWARF line tables from the IR's source spans. gdb (batch mode) breaks on a line
# of the .nnl file inside the generated loop kernel and steps through the lines of the
# fused chain; without -g there is no such line to break on.
set -e
command -v gdb > /dev/null || { echo "no gdb: skipped"; exit 0; }
cp tests/models/gdb_steps.nnl "$TMPD/steps.nnl"
cd "$TMPD"
$NNLC -g -O0 steps.nnl -o steps
gdb -batch -ex 'break steps.nnl:8' -ex run -ex bt -ex next -ex next -ex next -ex next -ex next \
    --args ./steps train --steps 1 --threads 1 > gdb.out 2>&1 || true
cat gdb.out
grep -q 'Breakpoint 1 at .*: steps.nnl:8' gdb.out
grep -q 'steps_k[0-9]* () at .*steps.nnl:8' gdb.out      # stopped in a loop kernel at line 8
grep -q '^10	    y = b + 1' gdb.out                       # next: lines 9 and 10
test "$(grep -c '^9	    let b = sigmoid(h) \* a' gdb.out)" -ge 2   # and round the loop again
! grep -q 'warning: Section' gdb.out
# -O2 -g still names the lines; no -g names none
$NNLC -g -O2 -c steps.nnl -o steps_o2.o
gdb -batch -ex 'info line steps.nnl:8' steps_o2.o 2>&1 | grep -q 'Line 8 of "steps.nnl"'
$NNLC steps.nnl -o plain
gdb -batch -ex 'info line steps.nnl:8' plain 2>&1 | grep -q 'No symbol table\|No line number\|No source file'
echo "debug: gdb stops at steps.nnl:8 in the loop kernel and steps through lines 9, 10, 9"
