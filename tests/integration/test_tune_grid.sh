#!/bin/bash
# kiln tune --strategy grid tries every combination of a small grid (a
# conditional parameter only where its condition holds), scores each trial
# exactly as 'kiln cv' scores that configuration on the same shuffled folds,
# and names the best one; the best is refitted on the training part and
# scored once on the held-out part. Halving ends on the largest resource,
# and --nested gives one outer score per outer fold.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"

cat > "$W/grid.yaml" <<'Y'
objective: {choice: [squared_error, huber]}
huber_quantile: {uniform: [0.5, 0.9], grid: 2, when: objective=huber}
max_depth: {int: [2, 3]}
Y
common=(--data "$DATA/concrete.csv" --target compressive_strength --model gbdt
        --param n_estimators=20 --folds 3 --seed 7)
"$KILN" tune "${common[@]}" --space "$W/grid.yaml" --strategy grid --test-fraction 0 --json \
    > "$W/grid.json" 2>/dev/null
# every configuration through kiln cv on the same folds
$py - "$W/grid.json" > "$W/configs" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["metric"] == "rmse" and j["higher_is_better"] is False, j["metric"]
print(len(j["trials"]), j["best"]["trial"])
for t in j["trials"]:
    print(t["trial"], repr(t["score"]), " ".join(f"--param {k}={v}" for k, v in t["params"].items()))
PY
read -r n best < "$W/configs"
[ "$n" = 6 ] || fail "a 2 x (1 + 2) x 2 grid with the condition is 6 trials, got $n"
min_id=; min=
while read -r id score params; do
    # shellcheck disable=SC2086
    cv=$("$KILN" cv "${common[@]}" $params --json 2>/dev/null |
        $py -c 'import json,sys; print(repr(json.load(sys.stdin)["mean"]["rmse"]))')
    [ "$cv" = "$score" ] || fail "trial $id ($params): tune $score, kiln cv $cv"
    if [ -z "$min" ] || $py -c "import sys; sys.exit(not ($cv < $min))"; then min=$cv; min_id=$id; fi
done < <(tail -n +2 "$W/configs")
[ "$best" = "$min_id" ] || fail "best trial $best, kiln cv's lowest rmse is trial $min_id"

# grid: points of a log range start and end exactly at the range's ends (the
# first was exp(log(0.01)) = 0.010000000000000004, a value the user never gave)
printf 'C: {log: [0.01, 10], grid: 4}\n' > "$W/logc.yaml"
"$KILN" -q tune --data "$DATA/wine.csv" --target class --model logistic_regression \
    --step standard_scaler --space "$W/logc.yaml" --strategy grid --folds 3 --test-fraction 0 \
    --json > "$W/logc.json"
$py - "$W/logc.json" <<'PY' || fail "grid points of a log range"
import json, sys
c = [t["params"]["C"] for t in json.load(open(sys.argv[1]))["trials"]]
assert c[0] == "0.01" and c[-1] == "10" and len(c) == 4, c
assert abs(float(c[1]) - 0.1) < 1e-15 and abs(float(c[2]) - 1) < 1e-15, c
PY

# default: 20% held out, the best refitted on the rest and scored once (and
# saved with --out, for kiln predict)
"$KILN" tune "${common[@]}" --space "$W/grid.yaml" --strategy grid --out "$W/best.kiln" --json \
    2>/dev/null |
    $py -c '
import json, sys
j = json.load(sys.stdin)
assert j["test"]["rows"] == 206, j["test"]
assert 2 < j["test"]["score"] < 20, j["test"]
assert j["best"]["verdict"]["fit"] in ("fine", "over-fitting", "under-fitting"), j["best"]
' || fail "held-out refit"
"$KILN" predict --model "$W/best.kiln" --data "$DATA/concrete.csv" --out "$W/p.csv" 2>/dev/null
[ "$(wc -l < "$W/p.csv")" = 1031 ] || fail "predictions of the saved best pipeline"

# halving: rungs grow n_estimators up to its largest value; the best is on the top rung
printf 'learning_rate: {log: [0.02, 0.3]}\nmax_leaves: {int: [4, 32]}\n' > "$W/h.yaml"
"$KILN" tune --data "$DATA/concrete.csv" --target compressive_strength --model gbdt --folds 3 \
    --seed 1 --space "$W/h.yaml" --strategy halving --trials 9 --param n_estimators=90 --json \
    2>/dev/null | $py -c '
import json, sys
j = json.load(sys.stdin)
res = sorted({t["resource"] for t in j["trials"]})
assert res == [10, 30, 90], res
per = [sum(t["rung"] == r for t in j["trials"]) for r in range(3)]
assert per == [9, 3, 1], per
assert j["best"]["resource"] == 90, j["best"]
' || fail "halving"

# nested CV: a search inside each outer fold
"$KILN" tune --data "$DATA/wine.csv" --target class --model gbdt --folds 2 --seed 1 \
    --space "$W/h.yaml" --trials 2 --param n_estimators=10 --nested --outer-folds 3 --json \
    2>/dev/null | $py -c '
import json, sys
j = json.load(sys.stdin)
assert len(j["outer"]) == 3 and 0.8 < j["nested_mean"] <= 1, j
' || fail "nested"
echo OK
