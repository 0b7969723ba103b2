# Convolutions computed in their poolings' kernels (nnl_conv2d_maxpool) through nnlc -c and
# the C API: the forward entry point leaves a convolution's output unwritten only where no
# later forward op reads it, and the gradient entry point always writes it
# (tests/capi/conv_pool_test.c).
set -e
$NNLC -c --prefix cp tests/capi/conv_pool.nnl -o "$TMPD/cp.o"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -Iruntime -o "$TMPD/conv_pool_test" tests/capi/conv_pool_test.c \
    "$TMPD/cp.o" "$NNLRT" -fopenmp -lcjson -lz -lm
"$TMPD/conv_pool_test"
