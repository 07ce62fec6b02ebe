#!/bin/bash
# Splits and thread budgets that once gave silently wrong or surprising
# results: a classifier's default folds on a file sorted by class, --seed
# without --shuffle, --stratify on a continuous target, a class that only a
# test fold holds, and --threads ignored by train and cv.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
WINE="$DATA/wine.csv" # sorted by class: plain k-fold leaves classes out of folds

# a classifier stratifies by default (scikit-learn's cross_validate does):
# every fold of the sorted file holds every class, so it scores like the
# explicit --stratify and gives no error
"$KILN" -q --json cv --data "$WINE" --target class --model gaussian_nb > "$W/auto.json" ||
    fail "default folds of a classifier on a class-sorted file"
"$KILN" -q --json cv --data "$WINE" --target class --model gaussian_nb --stratify > "$W/strat.json"
$py - "$W/auto.json" "$W/strat.json" <<'PY'
import json, sys
a, s = (json.load(open(p)) for p in sys.argv[1:])
assert a["split"] == "stratified", a["split"]
strip = lambda j: [{k: v for k, v in f.items() if k != "fit_seconds"} for f in j["folds"]]
assert strip(a) == strip(s)
assert a["mean"]["accuracy"] > 0.9, a["mean"]
PY
# a regressor keeps plain k-fold
"$KILN" -q --json cv --data "$DATA/concrete.csv" --target compressive_strength --model ridge \
    > "$W/reg.json"
grep -q '"split": "kfold"' "$W/reg.json" || fail "a regressor's default split: $(cat "$W/reg.json")"
echo "default split: stratified for a classifier, k-fold for a regressor"

# --no-stratify on the sorted file: fold 1 tests class_0, which its training
# rows lack; those rows count as wrong (accuracy ~0), not an error
"$KILN" --json cv --data "$WINE" --target class --model gaussian_nb --no-stratify --folds 3 \
    > "$W/plain.json" 2> "$W/plain.err" || fail "unseen class in a test fold: $(cat "$W/plain.err")"
grep -q "never saw (first: 'class_0')" "$W/plain.err" || fail "no warning: $(cat "$W/plain.err")"
$py - "$W/plain.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
f1 = j["folds"][0]
assert j["split"] == "kfold"
assert f1["accuracy"] < 0.05, f1          # 59 of its 60 rows are class_0: wrong
assert abs(f1["balanced_accuracy"] - 0.5) < 1e-12, f1  # recall 0 (class_0) and 1 (class_1)
assert "log_loss" not in f1, f1           # undefined for a class without a probability
PY
echo "a class only a test fold holds counts as wrong, with a warning"

# a seed implies a shuffle: two seeds give two different splits, and the
# seeded run differs from the unshuffled one
for s in 1 2; do
    "$KILN" -q --json cv --data "$DATA/concrete.csv" --target compressive_strength --model ridge \
        --seed $s > "$W/seed$s.json"
done
"$KILN" -q --json cv --data "$DATA/concrete.csv" --target compressive_strength --model ridge \
    --shuffle --seed 1 > "$W/shuf1.json"
$py - "$W/seed1.json" "$W/seed2.json" "$W/reg.json" "$W/shuf1.json" <<'PY'
import json, sys
s1, s2, plain, sh1 = (json.load(open(p)) for p in sys.argv[1:])
strip = lambda j: [{k: v for k, v in f.items() if k != "fit_seconds"} for f in j["folds"]]
assert s1["shuffle"] is True and plain["shuffle"] is False
assert strip(s1) != strip(s2), "the seed changed nothing"
assert strip(s1) != strip(plain), "--seed did not shuffle"
assert strip(s1) == strip(sh1), "--seed S and --shuffle --seed S differ"
PY
echo "--seed implies --shuffle"

expect "stratified folds need classes; 'ridge' is a regressor" 1 \
    "$KILN" cv --data "$DATA/concrete.csv" --target compressive_strength --model ridge --stratify
expect "time-series folds are not shuffled: drop --seed" 2 \
    "$KILN" cv --data "$DATA/concrete.csv" --target compressive_strength --model ridge \
    --time-series --seed 3
expect "cv: --seed -1: must be a whole number from 0 to" 2 \
    "$KILN" cv --data "$WINE" --target class --model gaussian_nb --seed -1
expect "train: --seed 1x: must be a whole number from 0 to" 2 \
    "$KILN" train --data "$WINE" --target class --model gaussian_nb --seed 1x --out "$W/m.kmd"
expect "choose one of --stratify, --no-stratify" 2 \
    "$KILN" cv --data "$WINE" --target class --model gaussian_nb --stratify --no-stratify
echo "bad split options are refused"

# --threads is the budget of train and cv: a gbdt fit large enough for its
# parallel histograms runs fewer threads under --threads 1 than under
# --threads 2 (stage records count the process's threads; OpenBLAS's own
# pool is the same in both runs)
$py - "$W/wide.csv" <<'PY'
import random, sys
random.seed(3)
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"x{j}" for j in range(20)) + ",y\n")
    for i in range(20000):
        x = [random.gauss(0, 1) for _ in range(20)]
        f.write(",".join("%.3f" % v for v in x) + ",%d\n" % (x[0] - x[3] + random.gauss(0, 1) > 0))
PY
threads() { # stage name, kiln args... -> that stage's thread count
    local stage=$1; shift
    "$KILN" -q --json "$@" | $py -c "import json,sys; print([s['threads'] for s in json.load(sys.stdin)['stages'] if s['name']=='$stage'][0])"
}
t1=$(threads fit --threads 1 train --data "$W/wide.csv" --target y --model gbdt \
    --param n_estimators=5 --out "$W/g1.kmd")
t2=$(threads fit --threads 2 train --data "$W/wide.csv" --target y --model gbdt \
    --param n_estimators=5 --out "$W/g2.kmd")
[ "$t1" -lt "$t2" ] || fail "train: --threads 1 ran $t1 threads, --threads 2 ran $t2"
cmp -s "$W/g1.kmd" "$W/g2.kmd" || fail "train: --threads changed the model"
c1=$(threads cv --threads 1 cv --data "$W/wide.csv" --target y --model gbdt \
    --param n_estimators=5 --folds 2 --jobs 2)
[ "$c1" = "$t1" ] || fail "cv --threads 1 --jobs 2 ran $c1 threads (train under --threads 1: $t1)"
echo "--threads bounds train and cv ($t1 threads under --threads 1, $t2 under --threads 2)"
