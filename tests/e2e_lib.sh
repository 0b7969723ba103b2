# Helpers for the e2e scripts, sourced by them.
# col FILE NAME: the values of CSV column NAME, empty cells dropped.
col() {
    awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
                          c && $c != "" { print $c }' "$1"
}
# last FILE NAME: the column's last value.
last() { col "$1" "$2" | tail -1; }
# falls FILE: the mean loss of the last k logged steps is below that of the first k.
falls() {
    col "$1" loss | awk '{ v[NR] = $1 } END {
        k = int(NR / 4); if (k < 1) { print "too few steps logged"; exit 1 }
        for (i = 1; i <= k; i++) { a += v[i]; b += v[NR - k + i] }
        printf "loss: first %d steps %.4f, last %d steps %.4f\n", k, a / k, k, b / k
        exit !(b < a * 0.9) }'
}
# atleast X Y: X >= Y as numbers
atleast() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x + 0 >= y + 0) }'; }
