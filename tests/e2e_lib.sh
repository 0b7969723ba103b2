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
# same_training DIR A B STEPS: the programs DIR/A and DIR/B (one model built two ways)
# train STEPS steps on one thread and on two and log the same bytes (DIR/A1.csv ...).
same_training() {
    for t in 1 2; do
        for b in "$2" "$3"; do
            (cd "$1" && ./$b train --steps "$4" --threads $t --quiet --log $b$t.csv > /dev/null) || return 1
        done
        test "$(wc -l < "$1/$2$t.csv")" -ge "$4" || { echo "$2 logged too few steps"; return 1; }
        cmp "$1/$2$t.csv" "$1/$3$t.csv" ||
            { echo "$2 and $3 train differently ($t threads):"; diff "$1/$2$t.csv" "$1/$3$t.csv" | head; return 1; }
    done
}
