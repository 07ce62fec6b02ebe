#!/bin/bash
# What 'kiln inspect' says an unsupervised model is (kmeans: cluster,
# isolation_forest: anomaly; not "regression"), in text and JSON; and rules
# across an ensemble's parameters (a stacking or voting list of one model)
# refused by train, cv, curve and run before the data is read (the data
# file named does not exist, so an error about it would mean work began).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
cd "$W"

"$KILN" -q cluster --data "$DATA/wine.csv" --ignore class --param n_clusters=3 --out c.csv --save km.kmd
"$KILN" -q anomaly --data "$DATA/wine.csv" --ignore class --out a.csv --save if.kmd
"$KILN" inspect km.kmd | grep -q "^model: *kmeans (cluster)$" || fail "kmeans: $("$KILN" inspect km.kmd | grep model:)"
"$KILN" inspect if.kmd | grep -q "^model: *isolation_forest (anomaly)$" || fail "isolation_forest: $("$KILN" inspect if.kmd | grep model:)"
"$KILN" --json inspect km.kmd | grep -q '"task": "cluster"' || fail "kmeans --json task"
"$KILN" -q train --data "$DATA/wine.csv" --target class --model gaussian_nb --out nb.kmd > /dev/null
"$KILN" inspect nb.kmd | grep -q "^model: *gaussian_nb (classification)$" || fail "gaussian_nb kind"

one="needs at least 2 models, separated by ';'"
expect "$one" 1 "$KILN" train --data missing.csv --target class --model stacking \
    --param models=logistic_regression --out x.kmd
expect "$one" 1 "$KILN" cv --data missing.csv --target class --model stacking \
    --param models=logistic_regression
expect "$one" 1 "$KILN" cv --data missing.csv --target class --model voting --param models=gaussian_nb
expect "$one" 1 "$KILN" curve learning --data missing.csv --target class --model stacking \
    --param "models=gaussian_nb;"
cat > st.yaml << 'YAML'
sources: {d: {file: missing.csv}}
target: class
model: {stacking: {models: logistic_regression}}
YAML
expect "st.yaml:3:.*$one" 1 "$KILN" run st.yaml --no-store --out st.kiln

# ensembles take text and missing values through the pipeline's steps, and
# without them say which step to add
awk -F, 'BEGIN { OFS = "," } NR > 1 && NR % 7 == 0 { $1 = "" } 1' "$DATA/wine.csv" > wm.csv
expect "model 'bagging': feature 'alcohol', row 6 is missing; impute it first.*simple_imputer" 1 \
    "$KILN" train --data wm.csv --target class --model bagging --param base=logistic_regression \
    --out x.kmd
# (bagging of decision trees takes missing values, as its base does)
"$KILN" -q train --data wm.csv --target class --model bagging --out x.kmd > /dev/null ||
    fail "bagging of decision trees refused missing values"
"$KILN" -q cv --data wm.csv --target class --step simple_imputer --model bagging --folds 3 > /dev/null ||
    fail "bagging after simple_imputer"
# (adaboost's trees take text columns; a stacking list with a model that
# does not refuses them)
expect "model 'stacking': feature 'term' is categorical.*onehot_encoder" 1 \
    "$KILN" train --data "$DATA/lending_club.csv" --target Class --model stacking \
    --param "models=gaussian_nb;decision_tree:max_depth=3" --out x.kmd
"$KILN" -q cv --data "$DATA/lending_club.csv" --target Class --step onehot_encoder \
    --model stacking --param "models=gaussian_nb;decision_tree:max_depth=3" --folds 2 > /dev/null ||
    fail "stacking after onehot_encoder"
