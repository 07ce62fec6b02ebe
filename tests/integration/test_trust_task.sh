#!/bin/bash
# A model's task follows from the model and the target: classifiers refuse
# a target that looks continuous before any work (they once built a class
# per distinct value: "accuracy 0.987" on a regression target, or minutes of
# work and then an unseen "class"), regressors refuse text targets, and gbdt
# and the tree models, which do both, follow the target and say so.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
C="$DATA/concrete.csv"
T=compressive_strength

# classifiers of one task: refused, the regression alternative named
expect "looks continuous (it holds non-integer values such as 79.99 (row 1)): a classifier would make each value a class. For regression use knn_regressor" 1 \
    "$KILN" train --data "$C" --target $T --model knn_classifier --out "$W/m.kmd"
expect "For regression use a regressor" 1 \
    "$KILN" cv --data "$C" --target $T --model gaussian_nb
expect "For regression use a regressor" 1 \
    "$KILN" train --data "$C" --target $T --model logistic_regression --out "$W/m.kmd"
[ ! -e "$W/m.kmd" ] || fail "a refused fit wrote a model"
# integers with many distinct values look continuous too
$py - "$C" "$W/int.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
w = csv.writer(open(sys.argv[2], "w", newline=""))
w.writerow(rows[0])
for r in rows[1:]: w.writerow(r[:-1] + [str(round(float(r[-1]) * 10))])
PY
expect "it holds [0-9]* distinct values" 1 \
    "$KILN" train --data "$W/int.csv" --target $T --model decision_tree --param criterion=gini \
    --out "$W/m.kmd"
# an explicit classifying objective on a continuous target: refused too
expect "objective=log_loss classifies: each value would be a class. Set objective=squared_error" 1 \
    "$KILN" train --data "$C" --target $T --model gbdt --param objective=log_loss --out "$W/m.kmd"
# regressors refuse text targets
expect "target 'class' is text (classes), and 'ridge' regresses" 1 \
    "$KILN" train --data "$DATA/wine.csv" --target class --model ridge --out "$W/m.kmd"
expect "model 'knn_regressor' only regresses; to classify use knn_classifier" 1 \
    "$KILN" train --data "$DATA/wine.csv" --target class --model knn_regressor \
    --task classification --out "$W/m.kmd"
echo "classifiers of continuous targets and regressors of text targets are refused"

# families with both tasks follow the target, print their choice, and
# give what the explicit parameter gives
for model in random_forest extra_trees decision_tree gbdt; do
    "$KILN" --json train --data "$C" --target $T --model $model --param n_estimators=5 \
        --out "$W/auto.kmd" 2> "$W/err" > "$W/auto.json" ||
        "$KILN" --json train --data "$C" --target $T --model $model --out "$W/auto.kmd" \
            2> "$W/err" > "$W/auto.json"
    grep -q "$model: target '$T' looks continuous.*: regression" "$W/err" ||
        fail "$model: no task choice printed: $(cat "$W/err")"
    grep -q '"task": "regression"' "$W/auto.json" || fail "$model: $(cat "$W/auto.json")"
done
"$KILN" -q train --data "$C" --target $T --model random_forest --param n_estimators=5 \
    --out "$W/auto.kmd" > /dev/null
"$KILN" -q train --data "$C" --target $T --model random_forest --param n_estimators=5 \
    --param criterion=squared_error --out "$W/explicit.kmd" > /dev/null
"$KILN" -q train --data "$C" --target $T --model random_forest --param n_estimators=5 \
    --task regression --out "$W/task.kmd" > /dev/null
cmp -s "$W/auto.kmd" "$W/explicit.kmd" || fail "the chosen task fits another model than criterion=squared_error"
cmp -s "$W/auto.kmd" "$W/task.kmd" || fail "--task regression fits another model than criterion=squared_error"
# cv: the folds fit the task chosen on all rows, with k-fold (not stratified)
"$KILN" --json cv --data "$C" --target $T --model gbdt --param n_estimators=10 \
    > "$W/cv.json" 2> "$W/err"
grep -q '"split": "kfold"' "$W/cv.json" || fail "cv split: $(cat "$W/cv.json")"
grep -q '"rmse"' "$W/cv.json" || fail "cv scores: $(cat "$W/cv.json")"
[ "$(grep -c 'looks continuous' "$W/err")" = 1 ] || fail "the choice is printed once: $(cat "$W/err")"
# a text target with a tree: classification, as before
"$KILN" --json -q train --data "$DATA/wine.csv" --target class --model random_forest \
    --param n_estimators=5 --out "$W/w.kmd" | grep -q '"task": "classification"' ||
    fail "a text target: not classified"
echo "gbdt and the tree models follow the target, print their task, and match the explicit setting"
