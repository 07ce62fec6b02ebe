#!/bin/bash
# What a new user trips on (issues 19 and 20), each fixed and checked here
# with the real binary on small data:
#   1. kiln run shuffles k-fold and stratified folds by the run's seed
#      unless the spec says shuffle: false: a file sorted by the target no
#      longer gives folds that each extrapolate (ridge on concrete sorted by
#      strength: R^2 0.6 shuffled, below 0 in file order); the summary says
#      which; shuffle: true with group folds is an error.
#   2. kiln curve: a constant model (gbdt cannot split 14 rows) is not
#      called over-fitting at 14 training rows.
#   3. tuned_threshold: scoring takes its positive_class= class (positive=
#      the older name); a different --positive-class is an error naming both.
#   4. kiln tune --strategy random never repeats a configuration of a
#      discrete space and stops when the space runs out (6 configurations,
#      10 trials), the same on 1 and 2 jobs.
#   5. kiln cluster / anomaly name a label left among the features.
#   6. a misspelt column in --target, --ignore, --groups, --slice-by and a
#      spec's target gets "did you mean".
#   7. a spec's search: --jobs 2 gives the artifact of --jobs 1, byte for
#      byte; max_time and max_cost stop it and the run says so; a bad
#      budget is an error at its place in the spec.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"

# 1. Folds shuffled by the run's seed.
(head -1 "$DATA/concrete.csv"; tail -n +2 "$DATA/concrete.csv" | sort -t, -k9 -g) > "$W/sorted.csv"
spec() { # spec FILE CV-LINE
    printf 'sources:\n  rows: {file: sorted.csv}\ntarget: compressive_strength\n' > "$1"
    printf 'model: {name: ridge}\nseed: 3\n%s' "$2" >> "$1"
}
r2() { awk '$1 == "r2" && !done { print $2; done = 1 }' "$1"; }
spec "$W/shuffled.yaml" ""
"$KILN" -q run "$W/shuffled.yaml" --no-store --out "$W/s.kiln" > "$W/shuffled.txt"
grep -q "^cv        5 folds (k-fold, rows shuffled by seed 3):" "$W/shuffled.txt" ||
    fail "the run does not say its folds are shuffled: $(cat "$W/shuffled.txt")"
awk -v v="$(r2 "$W/shuffled.txt")" 'BEGIN { exit !(v > 0.5) }' ||
    fail "shuffled folds of sorted rows: cv r2 $(r2 "$W/shuffled.txt"), expected above 0.5"
spec "$W/ordered.yaml" $'evaluation:\n  cv: {shuffle: false}\n'
"$KILN" -q run "$W/ordered.yaml" --no-store --out "$W/o.kiln" > "$W/ordered.txt"
grep -q "rows in file order (shuffle: false)" "$W/ordered.txt" ||
    fail "shuffle: false is not in the summary: $(cat "$W/ordered.txt")"
awk -v v="$(r2 "$W/ordered.txt")" 'BEGIN { exit !(v < 0) }' ||
    fail "folds in the order of the sorted target should extrapolate: r2 $(r2 "$W/ordered.txt")"
spec "$W/group.yaml" $'evaluation:\n  cv: {groups: age, shuffle: true}\n'
expect "shuffle: true goes with k-fold and stratified splits; group folds" 1 \
    "$KILN" run "$W/group.yaml" --no-store --out "$W/g.kiln"

# 2. A constant model at 14 rows is under-fitting, not over-fitting.
"$KILN" curve learning --data "$DATA/concrete.csv" --target compressive_strength --model gbdt \
    --sizes 14 > "$W/curve.txt" 2> /dev/null
grep -Eq "^14 .* under-fitting$" "$W/curve.txt" ||
    fail "a constant model at 14 rows: $(cat "$W/curve.txt")"

# 3. tuned_threshold's positive class is the scoring's.
(head -1 "$DATA/wine.csv"; grep -E ",class_[01]$" "$DATA/wine.csv") > "$W/binary.csv"
tt=(cv --data "$W/binary.csv" --target class --model tuned_threshold --param base=gaussian_nb
    --folds 3)
"$KILN" "${tt[@]}" --param positive=class_0 > "$W/tt.txt" 2> /dev/null
grep -q "positive class 'class_0'" "$W/tt.txt" || fail "positive=class_0 not scored: $(cat "$W/tt.txt")"
# one name with the CLI's --positive-class: positive_class=, the older positive= its alias
"$KILN" "${tt[@]}" --param positive_class=class_0 > "$W/tt2.txt" 2> /dev/null
for f in tt tt2; do awk '{ $NF = ""; print }' "$W/$f.txt" > "$W/$f.scores"; done # (fit seconds)
cmp -s "$W/tt.scores" "$W/tt2.scores" ||
    fail "positive_class= and positive= differ: $(diff "$W/tt.scores" "$W/tt2.scores")"
"$KILN" help model tuned_threshold | grep -Eq "^ +positive_class +string" ||
    fail "kiln help model tuned_threshold does not list positive_class"
expect "positive class 'class_1' contradicts model 'tuned_threshold', which tunes its decisions for 'class_0'" 1 \
    "$KILN" "${tt[@]}" --param positive=class_0 --positive-class class_1
expect "set positive_class=class_0 on the model" 1 "$KILN" "${tt[@]}" --positive-class class_0

# 4. Random search without repeats.
printf 'max_depth: {int: [1, 3]}\ncriterion: {choice: [gini, entropy]}\n' > "$W/space.yaml"
for j in 1 2; do
    "$KILN" --threads 2 tune --data "$DATA/wine.csv" --target class --model decision_tree \
        --space "$W/space.yaml" --strategy random --trials 10 --seed 1 --jobs $j \
        --test-fraction 0 > "$W/tune$j.txt" 2> /dev/null
done
# the same trials and scores (fit seconds and costs are timings)
for j in 1 2; do awk '{ print $1, $2, $3, $4, $5, $6, $7 }' "$W/tune$j.txt" > "$W/scores$j.txt"; done
cmp -s "$W/scores1.txt" "$W/scores2.txt" ||
    fail "1 and 2 jobs differ: $(diff "$W/scores1.txt" "$W/scores2.txt")"
awk '$1 ~ /^[0-9]+$/ { print $2, $3 }' "$W/tune1.txt" > "$W/configs.txt"
[ "$(wc -l < "$W/configs.txt")" = 6 ] || fail "expected the 6 configurations: $(cat "$W/tune1.txt")"
[ -z "$(sort "$W/configs.txt" | uniq -d)" ] || fail "a configuration repeats: $(cat "$W/configs.txt")"
grep -q "stopped: the space holds no more distinct configurations after 6 trials" "$W/tune1.txt" ||
    fail "the early stop is not said: $(cat "$W/tune1.txt")"

# 5. A label among the features of cluster and anomaly.
expect "column 'class' looks like a label (text with 3 values): leave it out with --ignore class" 1 \
    "$KILN" cluster --data "$DATA/wine.csv" --param n_clusters=3 --out "$W/c.csv"
sed 's/,class_0$/,0/; s/,class_1$/,1/; s/,class_2$/,2/; 1s/,class$/,label/' "$DATA/wine.csv" \
    > "$W/numeric_label.csv"
"$KILN" anomaly --data "$W/numeric_label.csv" --out "$W/a.csv" 2> "$W/anomaly.err" > /dev/null
grep -q "column 'label' is named like a label and was used as a feature: if it is one, leave it out with --ignore label" \
    "$W/anomaly.err" || fail "no label warning: $(cat "$W/anomaly.err")"
"$KILN" anomaly --data "$W/numeric_label.csv" --ignore label --out "$W/a.csv" 2> "$W/anomaly.err" > /dev/null
! grep -q "named like a label" "$W/anomaly.err" || fail "warned about an ignored column"

# 6. Did you mean.
M=(--model logistic_regression)
expect "target column 'clas' is not in the data (did you mean 'class'?)" 1 \
    "$KILN" cv --data "$DATA/wine.csv" --target clas "${M[@]}"
expect "target column 'Clss' is not in the data (did you mean 'class'?)" 1 \
    "$KILN" train --data "$DATA/wine.csv" --target Clss "${M[@]}" --out "$W/m.kmd"
expect "no column 'alcohl' (did you mean 'alcohol'?)" 1 \
    "$KILN" cv --data "$DATA/wine.csv" --target class --ignore alcohl "${M[@]}"
expect "groups column 'Alcohol' is not in the data (did you mean 'alcohol'?)" 1 \
    "$KILN" cv --data "$DATA/wine.csv" --target class --groups Alcohol "${M[@]}"
"$KILN" -q train --data "$DATA/wine.csv" --target class "${M[@]}" --out "$W/m.kmd"
expect "slice column 'hu' is not in the data (did you mean 'hue'?)" 1 \
    "$KILN" eval --model "$W/m.kmd" --data "$DATA/wine.csv" --slice-by hu
expect "no column 'xyz'" 1 "$KILN" cv --data "$DATA/wine.csv" --target class --ignore xyz "${M[@]}"
! grep -q "did you mean" "$W/err" || fail "a suggestion for a name nothing is close to: $(cat "$W/err")"
sed 's/^target: compressive_strength/target: compressive_strenght/' "$W/shuffled.yaml" > "$W/typo.yaml"
expect "target: the frame has no column 'compressive_strenght' (did you mean 'compressive_strength'?)" 1 \
    "$KILN" run "$W/typo.yaml" --no-store --out "$W/t.kiln"

# 7. The spec's search: jobs, max_time, max_cost.
cp "$DATA/wine.csv" "$W/"
search() { # search FILE BUDGET-LINE
    printf 'sources:\n  rows: {file: wine.csv}\ntarget: class\nmodel:\n  name: decision_tree\n' > "$1"
    printf '  search:\n    strategy: tpe\n    trials: %s\n%s' "$2" "$3" >> "$1"
    printf '    space: {max_depth: {int: [1, 6]}, min_samples_leaf: {int: [1, 10]}}\nseed: 5\n' >> "$1"
}
search "$W/search.yaml" 12 ""
"$KILN" -q --threads 1 run "$W/search.yaml" --no-store --out "$W/j1.kiln"
"$KILN" -q --threads 2 run "$W/search.yaml" --jobs 2 --no-store --out "$W/j2.kiln"
cmp -s "$W/j1.kiln" "$W/j2.kiln" || fail "--jobs 2 gives another artifact than --jobs 1"
search "$W/time.yaml" 500 $'    max_time: 0.001\n'
"$KILN" -q --threads 2 run "$W/time.yaml" --jobs 2 --no-store --out "$W/t.kiln" > "$W/time.txt"
grep -Eq "^          stopped after [0-9]+ trials: search: max_time reached" "$W/time.txt" ||
    fail "max_time: $(grep -A1 '^search' "$W/time.txt")"
search "$W/cost.yaml" 500 $'    max_cost: 0.0000001\n'
"$KILN" -q run "$W/cost.yaml" --no-store --out "$W/c.kiln" > "$W/cost.txt"
grep -Eq "^          stopped after [0-9]+ trials: search: max_cost reached" "$W/cost.txt" ||
    fail "max_cost: $(grep -A1 '^search' "$W/cost.txt")"
search "$W/bad.yaml" 5 $'    max_time: 0\n'
expect "bad.yaml:9:15: max_time: 0 is outside (0, 1e12\]" 1 \
    "$KILN" run "$W/bad.yaml" --no-store --out "$W/b.kiln"
echo "newcomer fixes hold"
