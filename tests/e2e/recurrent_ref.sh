# std.nn's LSTM and GRU and a reversed scan: forward values against PyTorch's (the
# numbers in the .nnl files), through nnlc -c and the runtime (recurrent_ref_test.c).
set -e
for m in lstm_ref gru_ref rnn_reverse_ref; do
    $NNLC -c --prefix rec tests/capi/$m.nnl -o "$TMPD/rec.o"
    ${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$TMPD" -o "$TMPD/rec_test" tests/capi/recurrent_ref_test.c \
        "$TMPD/rec.o" "$NNLRT" -fopenmp -lcjson -lz -lm
    "$TMPD/rec_test" tests/capi/$m.nnl
done
