# examples/c_app: the Fashion-MNIST CNN (examples/mnist_cnn.nnl) embedded in C.
# train_loop.c drives 30 training steps from C and logs the same loss at every step as
# `./model train --steps 30`; classify.c, with the executable's checkpoint, prints the
# same classes as `./model predict` and probabilities equal to its .npy bit for bit, from
# an IDX file and from a .npy of the same images; the checkpoint train_loop saves is one
# that `./model eval` reads.
set -e
. tests/e2e_lib.sh
F=/usr/share/datasets/fashion-mnist
[ -f $F/t10k-images-idx3-ubyte.gz ] || { echo "no Fashion-MNIST in $F: skipped"; exit 0; }
ROOT=$PWD
$NNLC examples/mnist_cnn.nnl -o "$TMPD/model"
$NNLC -c --prefix cnn examples/mnist_cnn.nnl -o "$TMPD/cnn.o"
for app in classify train_loop; do
    ${CC:-cc} -std=c99 -O2 -Wall -Wextra -Werror -pedantic -I"$TMPD" -Iruntime -Iexamples/c_app \
        examples/c_app/$app.c "$TMPD/cnn.o" "$NNLRT" -fopenmp -lcjson -lz -lm -o "$TMPD/$app"
done
cd "$TMPD"

./model train --data $F --steps 30 --threads 2 --log exe.csv --checkpoint exe.safetensors --quiet > /dev/null
./train_loop $F/train-images-idx3-ubyte.gz $F/train-labels-idx1-ubyte.gz --steps 30 --threads 2 \
    --save c.safetensors > c.csv
col exe.csv loss > exe.loss
col c.csv loss > c.loss
test "$(wc -l < c.loss)" = 30
cmp exe.loss c.loss
echo "train_loop: 30 steps, every loss equal to ./model train's (last $(tail -1 c.loss))"
./model eval --data $F --checkpoint c.safetensors --threads 2 | grep -q accuracy

# the first 100 test images as a (100, 1, 28, 28) uint8 .npy
N=100
hdr="{'descr': '|u1', 'fortran_order': False, 'shape': ($N, 1, 28, 28), }"
pad=$(( (64 - (10 + ${#hdr} + 1) % 64) % 64 ))
len=$(( ${#hdr} + pad + 1 ))
{ printf '\223NUMPY\001\000'; printf "\\$(printf %03o $((len % 256)))\\$(printf %03o $((len / 256)))"
  printf '%s%*s\n' "$hdr" $pad ''
  gzip -dc $F/t10k-images-idx3-ubyte.gz | tail -c +17 | head -c $((N * 784)); } > imgs.npy
./model predict --checkpoint exe.safetensors imgs.npy -o probs.npy --threads 2 > /dev/null
./classify exe.safetensors imgs.npy --raw c.f32 --threads 2 > from_npy.txt
./classify exe.safetensors $F/t10k-images-idx3-ubyte.gz -n $N --threads 2 > from_idx.txt
test "$(wc -l < from_idx.txt)" = $N
cmp from_npy.txt from_idx.txt
tail -c $((N * 40)) probs.npy | cmp - c.f32
tail -c $((N * 8)) probs.argmax.npy | od -An -v -t d8 | tr -s ' ' '\n' | sed '/^$/d' > predict.cls
awk '{ print $2 }' from_idx.txt > classify.cls
cmp predict.cls classify.cls
echo "classify: $N images, classes and probabilities equal to ./model predict's bit for bit"
head -3 from_idx.txt
