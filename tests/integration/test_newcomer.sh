#!/bin/bash
# The newest commands as a newcomer from scikit-learn meets them, reading only
# the help: every hint an error gives names something that exists, and every
# example a command's help shows runs as written.
#   - resampling steps on a text feature, or with no numeric feature, name
#     the step onehot_encoder (the name 'kiln help steps' lists), and that
#     name is a step kiln cv takes.
#   - a --metric of the wrong task (rmse for classes, accuracy or roc_auc for
#     a numeric target, roc_auc for a model without probabilities) says so
#     and names metrics that fit.
#   - the examples in the help of curve, select, cluster, compare models and
#     cv that read wine.csv or concrete.csv run as written (the learning
#     curve's on wine, sorted by class, needs its rows shuffled).
#   - no option in any command's help says "repeatable" twice.
#   - the commands kiln select's help names as taking its selectors as steps
#     take --step, and the selector steps run there.
#   - kiln select's table prints no "nan": a method without p-values (rfe,
#     mutual_info) has no p-value column; f_test keeps it.
#   - kiln anomaly --normal with a value no row holds lists the values.
#   - a resampling ratio out of (0, 1] on two classes says what the ratio is,
#     without the puzzle "needs two classes (this target has 2)".
#   - compare models with a --metric other than accuracy says that McNemar's
#     verdict is about accuracy (it can disagree with the t-tests on the
#     metric asked for), in text and JSON.
#   - kiln eval on rows without the target says eval needs labelled rows and
#     points at kiln predict.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"

# Resampling hints name a real step.
LC="$DATA/lending_club.csv"
expect "encode it first, e.g. kiln prep --step onehot_encoder" 1 \
    "$KILN" cv --data "$LC" --target Class --model logistic_regression --step smote
cut -d, -f2,23 "$LC" > "$W/term.csv" # term (text) and Class only
expect "e.g. kiln prep --step onehot_encoder)" 1 \
    "$KILN" cv --data "$W/term.csv" --target Class --model gbdt --step tomek_links
"$KILN" help steps > "$W/steps.txt"
grep -q "^  onehot_encoder:" "$W/steps.txt" || fail "kiln help steps lacks onehot_encoder"

# A metric of the wrong task names the task and metrics that fit it.
printf 'max_depth: {int: [2, 4]}\n' > "$W/space.yaml"
expect "metric rmse is for regression, but the target holds classes; choose a classification metric" 1 \
    "$KILN" curve validation --data "$DATA/wine.csv" --target class --model decision_tree \
    --range max_depth=1,2 --metric rmse
for m in accuracy roc_auc; do
    expect "metric $m is for classification, but the target is numeric (regression); choose a regression metric, e.g. rmse" 1 \
        "$KILN" tune --data "$DATA/concrete.csv" --target compressive_strength --model gbdt \
        --space "$W/space.yaml" --trials 1 --metric $m
done
expect "metric roc_auc needs class probabilities, which this model does not give" 1 \
    "$KILN" compare models --data "$DATA/wine.csv" --target class --model linear_svm \
    --model gaussian_nb --metric roc_auc

# Every example of these commands' help that reads the shipped data runs.
ln -s "$DATA/wine.csv" "$DATA/concrete.csv" "$W/"
n=0
for cmd in curve select cluster "compare models" cv; do
    # shellcheck disable=SC2086 # "compare models" is two words
    "$KILN" $cmd --help > "$W/help.txt"
    sed -n '/^examples\{0,1\}:$/,$p' "$W/help.txt" | sed 1d |
        sed -e ':a' -e '/\\$/N; s/\\\n *//; ta' > "$W/examples.txt"
    while read -r line; do
        data=$(sed -n 's/.*--data \([^ ]*\).*/\1/p' <<< "$line")
        [ "$data" = wine.csv ] || [ "$data" = concrete.csv ] || continue
        (cd "$W" && eval "\"\$KILN\" -q ${line#kiln }" < /dev/null > /dev/null 2> "$W/err") ||
            fail "the example of kiln $cmd --help fails: $line: $(cat "$W/err")"
        n=$((n + 1))
    done < "$W/examples.txt"
done
[ "$n" -ge 6 ] || fail "only $n help examples ran"

# Each option's help says "repeatable" at most once.
"$KILN" --help | sed -n 's/^  \([a-z]\{1,\}\)  .*/\1/p' > "$W/commands.txt"
echo "compare models" >> "$W/commands.txt"
while read -r cmd; do
    # shellcheck disable=SC2086 # "compare models" is two words
    "$KILN" $cmd --help < /dev/null > "$W/help.txt" 2>&1 || continue
    awk -v cmd="$cmd" '/^  -/ { if (n > 1) print cmd ": " opt; opt = $1; n = 0 }
        { n += gsub(/repeatable/, "&") } END { if (n > 1) print cmd ": " opt }' \
        "$W/help.txt" >> "$W/twice.txt"
done < "$W/commands.txt"
[ ! -s "$W/twice.txt" ] || fail "options whose help says repeatable twice: $(cat "$W/twice.txt")"

# The commands select's help sends selectors to take --step.
"$KILN" select --help > "$W/help.txt"
span=$(tr '\n' ' ' < "$W/help.txt" | sed -n "s/.*The same selectors are \(.*\) fitted inside.*/\1/p")
span=${span//compare models/compare_models}
for w in $(tr -c 'a-z_' ' ' <<< "$span"); do
    case $w in
    compare_models) echo "compare models" ;;
    select | run) ;;
    *) if grep -q -x "$w" "$W/commands.txt"; then echo "$w"; fi ;;
    esac
done > "$W/named.txt"
[ -s "$W/named.txt" ] || fail "kiln select --help names no command for its steps"
while read -r cmd; do
    # shellcheck disable=SC2086 # "compare models" is two words
    "$KILN" $cmd --help < /dev/null > "$W/help.txt"
    grep -q -- '--step NAME' "$W/help.txt" ||
        fail "kiln select --help says kiln $cmd takes selector steps, but it has no --step"
done < "$W/named.txt"
"$KILN" -q curve validation --data "$DATA/wine.csv" --target class --model gaussian_nb \
    --step 'select:method=f_test;k=5' --range var_smoothing=1e-9,1e-6 > /dev/null ||
    fail "curve with a select step"

# kiln select: no "nan" p-values in the table.
for m in rfe mutual_info f_test; do
    model=()
    [ $m = rfe ] && model=(--model linear_regression)
    "$KILN" -q select --data "$DATA/concrete.csv" --target compressive_strength --method $m \
        "${model[@]}" --k 3 > "$W/sel.txt"
    ! grep -q -i nan "$W/sel.txt" || fail "kiln select --method $m prints nan: $(cat "$W/sel.txt")"
    want=0
    [ $m = f_test ] && want=1
    [ "$(grep -c p-value "$W/sel.txt")" = $want ] || fail "select $m: p-value column: $(cat "$W/sel.txt")"
done

# anomaly --normal: a value no row has lists those there are.
expect "--normal Van: 0 rows of 'Class' have it; .*(its values: .*'van'.*; case matters)" 1 \
    "$KILN" anomaly --data "$DATA/vehicle.csv" --label Class --normal Van --out "$W/an.csv"

# A resampling ratio above 1 on a binary target.
cut -d, -f1,3- "$DATA/lending_club.csv" | cut -d, -f1-2,22 > "$W/lc_num.csv" # numeric features
expect "sampling_strategy=2: a ratio (minority rows over majority rows after resampling) must lie in (0, 1\], e.g. 0.5" 1 \
    "$KILN" cv --data "$W/lc_num.csv" --target Class --model gaussian_nb \
    --step 'random_over_sampler:sampling_strategy=2'
! grep -q "this target has 2" "$W/err" || fail "ratio error: $(cat "$W/err")"

# compare models: McNemar's test is on accuracy, whatever --metric says.
"$KILN" -q compare models --data "$DATA/wine.csv" --target class --model gaussian_nb \
    --model decision_tree --metric f1_macro > "$W/cmp.txt"
grep -q "McNemar counts rows right and wrong: it tests accuracy, not f1_macro" "$W/cmp.txt" ||
    fail "compare models: McNemar's metric unnamed: $(cat "$W/cmp.txt")"
"$KILN" -q --json compare models --data "$DATA/wine.csv" --target class --model gaussian_nb \
    --model decision_tree --metric f1_macro > "$W/cmp.json"
$py - "$W/cmp.json" <<'PY' || fail "compare models --json: mcnemar.metric"
import json, sys
assert json.load(open(sys.argv[1]))["comparisons"][0]["tests"]["mcnemar"]["metric"] == "accuracy"
PY

# eval without the target column points at kiln predict.
"$KILN" -q train --data "$DATA/wine.csv" --target class --model gaussian_nb --out "$W/nb.kmd" > /dev/null
cut -d, -f1-13 "$DATA/wine.csv" > "$W/wine_unlabelled.csv"
expect "no target column 'class'; .*give labelled rows (rows without it are for kiln predict)" 1 \
    "$KILN" eval --model "$W/nb.kmd" --data "$W/wine_unlabelled.csv"

echo "ok"
