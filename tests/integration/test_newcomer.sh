#!/bin/bash
# The newest commands as a newcomer from scikit-learn meets them, reading only
# the help: every hint an error gives names something that exists, and every
# example a command's help shows runs as written.
#   - resampling steps on a text feature, or with no numeric feature, name
#     the step onehot_encoder (the name 'kiln help steps' lists), and that
#     name is a step kiln cv takes.
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

echo "ok"
