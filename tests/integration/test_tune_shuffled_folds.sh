#!/bin/bash
# kiln tune holds out random rows, so the folds over the rest are shuffled too
# (as scikit-learn's train_test_split hands shuffled rows to a search). On a
# file in a meaningful order (concrete: rows grouped by mix and age) folds in
# file order gave a CV rmse more than twice the held-out one (9.5 +- 3.9
# against 4.0); shuffled, the two agree within 1.6x.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
data=$KILN_TEST_DATA/concrete.csv
cat > "$W/space.yaml" << 'YAML'
max_depth: {choice: [4, 8]}
learning_rate: {choice: [0.1, 0.2]}
YAML
"$KILN" -q --json tune --data "$data" --target compressive_strength --model gbdt \
    --space "$W/space.yaml" --strategy grid > "$W/tune.json"
$py - "$W/tune.json" << 'PY' || fail "tune's CV and held-out scores disagree: folds in file order?"
import json, sys
j = json.load(open(sys.argv[1]))
cv = j["best"]["score"]
held = j["test"]["score"]
print(f"best CV rmse {cv:.3f}, held-out rmse {held:.3f}")
assert cv < 1.6 * held, (cv, held)
PY
# time-series folds keep their order (no shuffle is asked for there)
"$KILN" -q --json tune --data "$data" --target compressive_strength --model gbdt \
    --space "$W/space.yaml" --strategy grid --time-series --folds 3 > /dev/null
echo "tune shuffled folds: ok"
