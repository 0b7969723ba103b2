#!/bin/sh
# Installs the references `make bench` compares against, when they are missing: PyTorch
# (python3-torch), the OpenMP build of OpenBLAS it should run on (with only the pthreads
# build, PyTorch's OpenMP threads and OpenBLAS's oversubscribe the cores: its two-thread
# runs 3-10x slower), OpenBLAS's and oneDNN's headers for the sgemm comparison, and
# tcmalloc (../shared/BENCHMARKING.md). Not root: prints the command and goes on (the
# benchmark then leaves out what is missing). Debian 12 / Ubuntu.
need=""
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || need="$need python3-torch"
L=/usr/lib/x86_64-linux-gnu
[ -d $L/openblas-openmp ] || need="$need libopenblas0-openmp"
[ -f $L/libopenblas.so ] || need="$need libopenblas-dev"   # (netlib's libblas-dev has a cblas.h too)
[ -f /usr/include/dnnl.h ] || need="$need libdnnl-dev"
[ -f $L/libtcmalloc_minimal.so.4 ] || need="$need libtcmalloc-minimal4"
[ -n "$need" ] || exit 0
if [ "$(id -u)" = 0 ]; then
    echo "bench: installing$need"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null ||
        echo "bench: could not install$need; comparing with what is there" >&2
else
    echo "bench: for the side-by-side references run:  sudo apt-get install -y$need" >&2
fi
exit 0
