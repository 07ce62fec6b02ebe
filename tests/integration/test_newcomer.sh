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

echo "ok"
