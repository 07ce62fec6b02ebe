#!/bin/bash
# Feature selectors as steps: fitted inside each cross-validation fold (the
# kept set differs by fold: one fit per fold), saved with a run's artifact
# and applied by kiln predict; the other methods run and keep what their
# rule says; bad input gives clear errors.
set -u
. "$(dirname "$0")/lib.sh"
K=${KILN:?}
D=${KILN_TEST_DATA:?}
cd "$W" || exit 1

# 1. inside kiln cv: one fit per fold, on the fold's training rows only
$K cv --data "$D/wine.csv" --target class --model logistic_regression --step standard_scaler \
    --step 'select:method=mutual_info;k=3' --seed 1 > cv.out 2> cv.err || fail "cv: $(cat cv.err)"
n=$(grep -c "select (mutual_info): kept 3 of 13" cv.err)
[ "$n" = 5 ] || fail "expected 5 selector fits (one per fold), got $n: $(cat cv.err)"
sets=$(grep "select (mutual_info): kept" cv.err | sed 's/.*features: //' | sort -u | wc -l)
[ "$sets" -ge 2 ] || fail "every fold kept the same set: was the selector fitted outside the folds?"

# 2. saved with the pipeline, applied at predict: the model sees the kept columns only
cp "$D/wine.csv" wine.csv
cat > spec.yaml <<'YAML'
sources:
  wine: {file: wine.csv}
target: class
steps:
  - standard_scaler: {}
  - select: {method: f_test, k: 4}
model:
  logistic_regression: {}
evaluation:
  cv: {folds: 3, split: stratified}
  test: {fraction: 0.25}
seed: 2
YAML
$K --quiet run spec.yaml --out wine.kiln --no-store > run.out 2>&1 || fail "run: $(cat run.out)"
$K --quiet inspect wine.kiln > inspect.out 2>&1 || fail "inspect: $(cat inspect.out)"
grep -q "select" inspect.out || fail "the artifact does not list the selector: $(cat inspect.out)"
$K --quiet predict --model wine.kiln --data wine.csv --out pred.csv > p.out 2>&1 ||
    fail "predict: $(cat p.out)"
[ "$(wc -l < pred.csv)" = 179 ] || fail "predictions: $(wc -l < pred.csv) lines"
# the pipeline's model was fitted on the 4 kept features of the 13
$K --json inspect wine.kiln | $py -c '
import json, sys
p = json.load(sys.stdin)["pipeline"]
assert p["steps"] == ["standard_scaler", "select"] and p["model"]["features"] == 4, p
' || fail "inspect --json"

# candidates named out of file order: the two best of them stay, the rest
# of the file passes untouched
$K --quiet prep "$D/wine.csv" sub.csv --target class \
    --step 'select:method=f_test;k=2;columns=proline,ash,alcohol,hue' > prep.out 2>&1 ||
    fail "prep: $(cat prep.out)"
head -1 sub.csv | $py -c '
import sys
cols = sys.stdin.read().strip().split(",")
assert "proline" in cols and "alcohol" in cols and "hue" not in cols and "ash" not in cols, cols
assert len(cols) == 12 and "flavanoids" in cols and cols[-1] == "class", cols' ||
    fail "columns=: $(head -1 sub.csv)"

# 3. every method runs; keep rules
for m in pearson spearman variance redundancy cfs chi2; do
    $K --quiet --json select --data "$D/concrete.csv" --target compressive_strength --method $m \
        > $m.json 2> $m.err || fail "$m: $(cat $m.err)"
done
$py - <<'PY' || fail "filter keep rules"
import json
j = {m: json.load(open(f"{m}.json")) for m in ("pearson", "spearman", "variance", "redundancy", "cfs")}
assert j["pearson"]["n_kept"] == 4 and j["pearson"]["candidates"] == 8      # best half
assert j["variance"]["n_kept"] == 8                                          # none constant
f = {x["feature"]: x for x in j["pearson"]["features"]}
assert f["cement"]["rank"] == 1 and abs(f["cement"]["score"] - 0.4978) < 1e-3, f["cement"]
assert 1 <= j["cfs"]["n_kept"] < 8
PY
$K --quiet --json select --data "$D/concrete.csv" --target compressive_strength --method redundancy \
    --max-corr 0.3 > red.json || fail "redundancy"
$py -c 'import json; j = json.load(open("red.json")); assert j["n_kept"] < 8, j' ||
    fail "redundancy at 0.3 dropped nothing"
$K --quiet --json select --data "$D/wine.csv" --target class --method f_test --percentile 25 \
    > pct.json && $py -c 'import json; assert json.load(open("pct.json"))["n_kept"] == 3' ||
    fail "percentile 25 of 13 keeps 3"
$K --quiet --json select --data "$D/wine.csv" --target class --method f_test --threshold 100 \
    > thr.json && $py -c '
import json; j = json.load(open("thr.json"))
assert all((f["score"] >= 100) == f["kept"] for f in j["features"]), j' || fail "threshold"
for m in forward backward rfecv coef importance permutation; do
    extra=()
    [ $m = coef ] && extra=(--param penalty=l1 --param C=0.05) # L1: zero coefficients go
    $K --quiet --json select --data "$D/wine.csv" --target class --method $m "${extra[@]}" \
        --step standard_scaler > $m.json 2> $m.err || fail "$m: $(cat $m.err)"
    $py -c 'import json, sys; j = json.load(open(sys.argv[1])); assert 1 <= j["n_kept"] < 13, j' \
        $m.json || fail "$m kept $(cat $m.json)"
done
$K --quiet --json select --data "$D/wine.csv" --target class --method forward --k 3 \
    --step standard_scaler > fwd.json && $py -c '
import json; j = json.load(open("fwd.json")); assert j["n_kept"] == 3, j' || fail "forward --k 3"

# the inner fits of a wrapper stay quiet (rfecv on wine: 13 features x 5 folds of
# "converged" lines buried the step's own line); --verbose shows them
$K select --data "$D/wine.csv" --target class --method rfecv --step standard_scaler \
    > /dev/null 2> rfecv.err || fail "rfecv: $(cat rfecv.err)"
grep -q "select_model (rfecv): kept" rfecv.err || fail "rfecv's kept line: $(cat rfecv.err)"
if grep -q "converged" rfecv.err; then fail "rfecv: inner fits logged $(grep -c converged rfecv.err) lines"; fi
$K -v select --data "$D/wine.csv" --target class --method rfe --step standard_scaler \
    > /dev/null 2> rfe.err && grep -q "converged" rfe.err || fail "rfe --verbose: inner fits hidden"

# 4. bad input
expect "unknown method 'magic'" 2 $K select --data "$D/wine.csv" --target class --method magic
expect "k=20 is more than the 13 candidate columns" 1 \
    $K select --data "$D/wine.csv" --target class --method f_test --k 20
$py -c '
import csv
rows = list(csv.reader(open("wine.csv")))
rows[5][1] = "-1.5"
csv.writer(open("neg.csv", "w", newline="")).writerows(rows)'
expect "chi2 takes non-negative features" 1 \
    $K select --data neg.csv --target class --method chi2
expect "give one of k, percentile and threshold" 1 \
    $K select --data "$D/wine.csv" --target class --method f_test --k 3 --percentile 10
expect "use f_test or mutual_info" 1 \
    $K select --data "$D/wine.csv" --target class --method pearson
expect "neither coefficients nor importances" 1 \
    $K select --data "$D/wine.csv" --target class --method rfe --model gaussian_nb
expect "a selector scores features against the target" 1 \
    $K prep "$D/wine.csv" x.csv --step select:method=f_test
echo "ok"
