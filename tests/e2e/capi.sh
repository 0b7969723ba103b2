# The C API (issue 5). `nnlc -c` writes linear.o and linear.h, a strict C11 program links
# them with the runtime and checks forward, loss, gradients and an SGD step; the header
# compiles as C99 and C++ with every warning an error; three objects (two prefixes of one
# CNN, one --inference) link into one program; two threads with an instance each match
# one thread; a --shared library links like any other; --inference is smaller.
set -e
W="-Wall -Wextra -Werror -pedantic"
LIBS="-fopenmp -lcjson -lz -lm"
$NNLC -c tests/capi/linear.nnl -o "$TMPD/linear.o"
test -f "$TMPD/linear.h"
${CC:-cc} -std=c11 $W -I"$TMPD" -o "$TMPD/capi" tests/capi/capi_test.c "$TMPD/linear.o" "$NNLRT" $LIBS
"$TMPD/capi"

$NNLC -c --prefix cnn examples/mnist_cnn.nnl -o "$TMPD/cnn.o"
$NNLC -c --prefix cnn_inf --inference examples/mnist_cnn.nnl -o "$TMPD/cnn_inf.o"
$NNLC -c --prefix lin tests/capi/linear.nnl -o "$TMPD/lin.o"
for h in cnn cnn_inf lin; do
    printf '#include "%s.h"\nint main(void) { return 0; }\n' $h > "$TMPD/hdr.c"
    ${CC:-cc} -std=c99 $W -I"$TMPD" -fsyntax-only "$TMPD/hdr.c"
    ${CXX:-c++} -std=c++11 $W -I"$TMPD" -x c++ -fsyntax-only "$TMPD/hdr.c"
done
echo "headers: C99 and C++11 with $W"
# the inference header and object have no training entry points
! grep -q 'cnn_inf_train_step\|cnn_inf_grad' "$TMPD/cnn_inf.h"
! nm "$TMPD/cnn_inf.o" | grep -q 'cnn_inf_train_step'
full=$(size "$TMPD/cnn.o" | awk 'NR == 2 { print $1 }'); inf=$(size "$TMPD/cnn_inf.o" | awk 'NR == 2 { print $1 }')
echo "mnist_cnn text: $full bytes, --inference $inf bytes"
test "$inf" -lt "$full"
${CC:-cc} -std=c99 $W -I"$TMPD" -o "$TMPD/two" tests/capi/two_models.c "$TMPD/cnn.o" "$TMPD/cnn_inf.o" \
    "$TMPD/lin.o" "$NNLRT" $LIBS
(cd "$TMPD" && ./two)
${CC:-cc} -std=c99 $W -I"$TMPD" -o "$TMPD/threads" tests/capi/threads_test.c "$TMPD/cnn.o" "$NNLRT" $LIBS -lpthread
"$TMPD/threads"

# a shared library: the runtime inside, the header beside it named after the stem
$NNLC --shared --prefix cnn examples/mnist_cnn.nnl -o "$TMPD/so/libcnn.so" 2>/dev/null && exit 1   # no such dir
mkdir -p "$TMPD/so"
$NNLC --shared examples/mnist_cnn.nnl -o "$TMPD/so/libcnn.so"
test -f "$TMPD/so/cnn.h"
${CC:-cc} -std=c99 $W -I"$TMPD/so" -o "$TMPD/threads_so" tests/capi/threads_test.c -L"$TMPD/so" -lcnn -lpthread
LD_LIBRARY_PATH="$TMPD/so" "$TMPD/threads_so"
echo "capi: all passed"
