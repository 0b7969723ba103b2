# make install / uninstall: into a staging DESTDIR (every file where it belongs, all
# gone after uninstall), then into a temporary PREFIX from which, outside the source
# tree, the installed nnlc alone builds an executable, runs a model by JIT, and writes
# an object that a C program links through pkg-config, against the shared runtime and
# the static one. The man page renders.
set -e
B=$(dirname "$NNLC")
ROOT=$PWD
make -s --no-print-directory install BUILD="$B" DESTDIR="$TMPD/stage" PREFIX=/usr/local
S="$TMPD/stage/usr/local"
for f in bin/nnlc lib/libnnlrt.a lib/libnnlrt.so include/nnlrt.h lib/pkgconfig/nnl.pc \
         share/nnl/stdlib/nn.nnl share/man/man1/nnlc.1; do
    test -f "$S/$f" || { echo "not installed: $f"; exit 1; }
done
grep -q '^prefix=/usr/local$' "$S/lib/pkgconfig/nnl.pc"
make -s --no-print-directory uninstall BUILD="$B" DESTDIR="$TMPD/stage" PREFIX=/usr/local
left=$(find "$TMPD/stage" -type f | wc -l)
test "$left" = 0 || { find "$TMPD/stage" -type f; exit 1; }
echo "DESTDIR staging: 7 files installed, all removed by uninstall"
# The rest links the installed (here: sanitized) runtime into plain programs, which
# ASan cannot instrument after the fact: not a test make sanitize can run.
[ -z "${NNL_SANITIZE:-}" ] || { echo "install into a prefix: skipped under sanitizers"; exit 0; }

P="$TMPD/prefix"
make -s --no-print-directory install BUILD="$B" PREFIX="$P"
mkdir "$TMPD/app"
cp examples/simplenet.nnl tests/capi/linear.nnl tests/capi/capi_test.c "$TMPD/app/"
cd "$TMPD/app"
export PATH="$P/bin:/usr/bin:/bin" PKG_CONFIG_PATH="$P/lib/pkgconfig"
# nnlc finds its stdlib (`use std.nn`) and runtime beside itself
nnlc simplenet.nnl -o simple
./simple train --steps 5 --quiet > /dev/null
nnlc run simplenet.nnl train --steps 5 --quiet > /dev/null
nnlc -c linear.nnl -o linear.o
cc -std=c11 -Wall -Wextra -Werror -pedantic capi_test.c linear.o $(pkg-config --cflags --libs nnl) -o app_shared
./app_shared
ldd app_shared | grep -q "$P/lib/libnnlrt.so"
cc -std=c11 capi_test.c linear.o $(pkg-config --cflags nnl) "$P/lib/libnnlrt.a" -fopenmp -lcjson -lz -lm \
    -o app_static
./app_static
! ldd app_static | grep -q libnnlrt
MANWIDTH=80 man -l "$P/share/man/man1/nnlc.1" 2>/dev/null | grep -q 'nnlc - compile neural networks'
cd "$ROOT"
make -s --no-print-directory uninstall BUILD="$B" PREFIX="$P"
test ! -e "$P/bin/nnlc"
echo "install: an app built from the installed files only (pkg-config, shared and static)"
