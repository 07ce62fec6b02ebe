#!/bin/bash
# kiln cluster and kiln anomaly warn, in one line of stderr naming the column
# and the fix (--ignore / --labels), when a numeric feature looks like a
# label: named like a target (quality, score, ...) with few whole values, or
# named like a label whatever its values. The warning changes no result: the
# column stays a feature (same output as before the rule: 14 features), and
# a column named like a target with many or fractional values is not warned
# about. Small data: tests/data/wine.csv with its class as numbers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K=${KILN:?}
D=${KILN_TEST_DATA:?}
# wine.csv with class_0/1/2 as 5/6/7 in a column `quality` (a score in
# 5..7, as wine quality data has)
sed 's/,class_0$/,5/; s/,class_1$/,6/; s/,class_2$/,7/; 1s/,class$/,quality/' "$D/wine.csv" \
    > "$W/wq.csv"
[ "$(cut -d, -f14 "$W/wq.csv" | sort -u | wc -l)" = 4 ] || fail "wq.csv: $(head -2 "$W/wq.csv")"

warned() { # warned FILE COLUMN VALUES FIX: exactly one warning line, naming COLUMN and the fix
    local n
    n=$(grep -c "named like a label" "$1" || true)
    [ "$n" = 1 ] || fail "$1: $n warnings: $(cat "$1")"
    grep -q "^kiln: warn: column '$2' is named like a label (numbers with $3 whole values) and was used as a feature: if it is one, leave it out with --ignore $2 (or --labels $2 to $4 against it)$" \
        "$1" || fail "$1: the warning: $(cat "$1")"
}
quiet() { # quiet FILE: no label warning
    ! grep -q "named like a label" "$1" || fail "$1: a warning: $(cat "$1")"
}
features() { # features JSON: the model's feature count
    $py -c 'import json, sys; print(json.load(open(sys.argv[1]))["features"])' "$1"
}

# 1. cluster: the warning, and quality still a feature (14 of them)
"$K" --json cluster --data "$W/wq.csv" --param n_clusters=3 --out "$W/c1.csv" > "$W/c1.json" \
    2> "$W/c1.err" || fail "cluster: $(cat "$W/c1.err")"
warned "$W/c1.err" quality 3 "score the clusters"
[ "$(features "$W/c1.json")" = 14 ] || fail "cluster: quality is no longer a feature"
# --ignore quality: no warning, 13 features; the same run twice: the same clusters
"$K" --json cluster --data "$W/wq.csv" --param n_clusters=3 --ignore quality --out "$W/c2.csv" \
    > "$W/c2.json" 2> "$W/c2.err" || fail "cluster --ignore: $(cat "$W/c2.err")"
quiet "$W/c2.err"
[ "$(features "$W/c2.json")" = 13 ] || fail "cluster --ignore quality: $(cat "$W/c2.json")"
# --labels quality: no warning, the agreement printed
"$K" cluster --data "$W/wq.csv" --param n_clusters=3 --labels quality --out "$W/c3.csv" \
    > "$W/c3.txt" 2> "$W/c3.err" || fail "cluster --labels: $(cat "$W/c3.err")"
quiet "$W/c3.err"
grep -q "against column quality (3 groups)" "$W/c3.txt" || fail "cluster --labels: $(cat "$W/c3.txt")"
# the clusters with quality as a feature are those of the same columns
# without the rule: a copy named `colour_code` (no label name) clusters the same
sed '1s/,quality$/,colour_code/' "$W/wq.csv" > "$W/plain.csv"
"$K" cluster --data "$W/plain.csv" --param n_clusters=3 --out "$W/c4.csv" > /dev/null \
    2> "$W/c4.err" || fail "cluster, plain names: $(cat "$W/c4.err")"
quiet "$W/c4.err"
cmp -s "$W/c1.csv" "$W/c4.csv" || fail "the warning changed the clusters"

# 2. anomaly: the same warning with its own fix; the same scores as without it
"$K" anomaly --data "$W/wq.csv" --out "$W/a1.csv" > /dev/null 2> "$W/a1.err" ||
    fail "anomaly: $(cat "$W/a1.err")"
warned "$W/a1.err" quality 3 "measure the scores"
"$K" anomaly --data "$W/plain.csv" --out "$W/a2.csv" > /dev/null 2> "$W/a2.err" ||
    fail "anomaly, plain names: $(cat "$W/a2.err")"
quiet "$W/a2.err"
cmp -s "$W/a1.csv" "$W/a2.csv" || fail "the warning changed the scores"

# 3. the name rule: the last _ word, any case; a target-like name with many
# or fractional values is a feature like any other
sed '1s/,quality$/,Wine_Quality/' "$W/wq.csv" > "$W/wq2.csv"
"$K" -q cluster --data "$W/wq2.csv" --param n_clusters=3 --out "$W/c5.csv" 2> "$W/c5.err" ||
    fail "cluster Wine_Quality: $(cat "$W/c5.err")"
warned "$W/c5.err" Wine_Quality 3 "score the clusters"
# proline (whole numbers, over 20 of them) as `rating`, alcohol (fractions) as `score`
sed '1s/^alcohol,/score,/; 1s/,proline,/,rating,/' "$W/plain.csv" > "$W/many.csv"
"$K" cluster --data "$W/many.csv" --param n_clusters=3 --out "$W/c6.csv" > /dev/null \
    2> "$W/c6.err" || fail "cluster many: $(cat "$W/c6.err")"
quiet "$W/c6.err"
# a label word warns whatever the values (as before): alcohol as `y`
sed '1s/^alcohol,/y,/' "$W/plain.csv" > "$W/y.csv"
"$K" anomaly --data "$W/y.csv" --out "$W/a3.csv" > /dev/null 2> "$W/a3.err" ||
    fail "anomaly y: $(cat "$W/a3.err")"
grep -q "^kiln: warn: column 'y' is named like a label and was used as a feature: if it is one, leave it out with --ignore y (or --labels y to measure the scores against it)$" \
    "$W/a3.err" || fail "a label word: $(cat "$W/a3.err")"
# the help says the rule (read from files: `| grep -q` under pipefail can
# fail when grep closes the pipe first)
"$K" help cluster > "$W/help_cluster.txt"
"$K" help anomaly > "$W/help_anomaly.txt"
grep -q "diagnosis that holds 2 to 20 whole numbers" "$W/help_cluster.txt" || fail "cluster's help"
grep -q "warning naming it and the fix (--labels COLUMN or --ignore COLUMN)" \
    "$W/help_anomaly.txt" || fail "anomaly's help"
echo "unsupervised label warning: ok"
