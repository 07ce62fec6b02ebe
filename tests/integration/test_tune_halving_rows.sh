#!/bin/bash
# Successive halving over rows (a model without n_estimators, or --resource
# rows): a lower rung fits on a seeded random share of each fold's training
# rows, not on the first ones, so a file sorted by class (wine) still gives
# every rung all the classes; the refit of the best and --nested use no
# model parameter for the resource. The same trials on 1 and 2 jobs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
data=$KILN_TEST_DATA/wine.csv
printf 'C: {log: [0.01, 10]}\n' > "$W/space.yaml"
tune=(tune --data "$data" --target class --model logistic_regression --step standard_scaler
    --space "$W/space.yaml" --strategy halving --trials 9 --folds 3 --seed 1)
for j in 1 2; do
    "$KILN" -q --threads 2 --json "${tune[@]}" --jobs $j > "$W/tune$j.json" 2> "$W/err$j" ||
        fail "halving over rows, --jobs $j: $(cat "$W/err$j")"
done
$py - "$W/tune1.json" "$W/tune2.json" << 'PY' || fail "halving over rows"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
key = lambda j: [(t["trial"], t["params"], t["score"], t["folds"]) for t in j["trials"]]
assert key(a) == key(b), "1 and 2 jobs differ"
res = sorted({round(t["resource"], 6) for t in a["trials"]})
assert res == [round(1 / 9, 6), round(1 / 3, 6), 1.0], res
assert all(t["status"] == "ok" for t in a["trials"]), [t["status"] for t in a["trials"]]
assert a["best"]["resource"] == 1, a["best"]
assert 0.8 < a["test"]["score"] <= 1, a["test"]
PY
"$KILN" -q --json "${tune[@]}" --resource rows --nested --outer-folds 2 > "$W/nested.json" \
    2> "$W/err" || fail "nested halving over rows: $(cat "$W/err")"
$py -c 'import json, sys; j = json.load(open(sys.argv[1])); assert len(j["outer"]) == 2, j' \
    "$W/nested.json" || fail "nested halving over rows: $(cat "$W/nested.json")"
# a first rung too small to learn from (gbdt makes no split on a ninth of a
# fold's rows: min_samples_leaf 20): every trial scores the constant's, and the
# ones that go on are the first by number, which is said, not left silent
printf 'learning_rate: {log: [0.01, 0.5]}\nmax_depth: {int: [1, 6]}\n' > "$W/gspace.yaml"
"$KILN" -q --json tune --data "$data" --target class --model gbdt --space "$W/gspace.yaml" \
    --strategy halving --resource rows --trials 9 --folds 3 --seed 1 --test-fraction 0 \
    > "$W/g.json" 2> "$W/gerr" || fail "halving gbdt over rows: $(cat "$W/gerr")"
grep -q "warn: halving rung 0 (11.1 % of each fold's training rows): all 9 trials score \
accuracy 0.3.*, so which 3 go on is decided by trial number, not by score" "$W/gerr" ||
    fail "no warning on a rung of tied trials: $(cat "$W/gerr")"
# every first-rung trial failing for want of rows (smote's 5 neighbours in a
# ninth of a fold's rows): the error says that the rung's share is the cause
expect "class 'class_.' has [0-9]* rows; synthesising from 5 neighbours needs more (lower k_neighbors) (halving's first rung fits on 11.1 % of each fold's training rows: fewer --trials or a smaller --eta start it on more)" 1 \
    "$KILN" tune --data "$data" --target class --model logistic_regression --step smote \
    --space "$W/space.yaml" --strategy halving --resource rows --trials 9 --folds 3 --seed 1
echo "tune halving over rows: ok"
