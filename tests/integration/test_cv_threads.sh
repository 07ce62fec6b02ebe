#!/bin/bash
# kiln cv gives bit-identical per-fold results whatever --jobs (folds at a
# time) and --threads (the whole budget) say, for every model family: every
# combination of --jobs 1/2/3 and --threads 1/2. Folds fitted at the same
# time once ran the gbdt grower's nested parallel regions on a team smaller
# than they split their rows for (half the rows left out of the root
# histograms: accuracy 0.92 instead of 0.95 on a 4,600 x 57 set).
# The data are big enough to take the parallel paths: 3,600 training rows x
# 57 features (row-parallel histograms) and 100,000 x 4 (parallel
# partitions of 66,667-row folds). Families with no parallel code of their
# own (linear_svm, the naive Bayes) and knn_classifier (its blocks of test
# rows are parallel from 2 blocks: 600 test rows are 5) run on the first
# 1,800 rows: only their folds run side by side there (--jobs).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"

$py - "$W" <<'PY'
import random, sys
w = sys.argv[1]
rnd = random.Random(0)
# binary, 5,400 x 57 non-negative sparse-ish features (spam-filter shaped)
coef = [rnd.gauss(0, 1) for _ in range(57)]
with open(f"{w}/cls.csv", "w") as f:
    f.write(",".join(f"f{j}" for j in range(57)) + ",y\n")
    for i in range(5400):
        x = [rnd.expovariate(1) if rnd.random() < 0.4 else 0.0 for _ in range(57)]
        s = sum(a * b for a, b in zip(x, coef)) * 0.7 + rnd.gauss(0, 1)
        f.write(",".join("%.4g" % v for v in x) + ("," + ("spam" if s > 0.8 else "ham")) + "\n")
# 100,000 x 4 binary
with open(f"{w}/long.csv", "w") as f:
    f.write("a,b,c,d,y\n")
    for i in range(100000):
        x = [rnd.gauss(0, 1) for _ in range(4)]
        f.write(",".join("%.4f" % v for v in x) + ",%d\n" % (x[0] + x[1] / 2 + rnd.gauss(0, 1) > 0))
# small integer codes for categorical naive Bayes
with open(f"{w}/codes.csv", "w") as f:
    f.write("a,b,c,y\n")
    for i in range(600):
        x = [rnd.randrange(4) for _ in range(3)]
        f.write(",".join(map(str, x)) + ",%s\n" % ("yes" if x[0] + rnd.randrange(3) > 2 else "no"))
PY

# one model on one data set under all six combinations; the folds must be
# byte-identical (fit times aside)
same() { # label, data, target, kiln cv args...
    local label=$1 data=$2 target=$3; shift 3
    local files=() combos="11 12 13 21 22 23" tj t j
    # the sanitizer build (5-20x slower) checks three: one fold at a time on
    # one thread, and 2 threads on 1 fold and on 3 folds at a time
    if sanitized; then combos="11 21 23"; fi
    for tj in $combos; do
        t=${tj:0:1} j=${tj:1:1}
        "$KILN" --threads $t --json -q cv --data "$data" --target "$target" --folds 3 \
            --shuffle --seed 7 --jobs $j "$@" > "$W/r_$t$j.json" 2> "$W/err" ||
            fail "$label: kiln cv --threads $t --jobs $j failed"
        files+=("$W/r_$t$j.json")
    done
    $py - "$label" "${files[@]}" <<'PY'
import json, sys
label, paths = sys.argv[1], sys.argv[2:]
strip = lambda j: [{k: v for k, v in f.items() if k != "fit_seconds"} for f in j["folds"]]
runs = [strip(json.load(open(p))) for p in paths]
assert len(runs[0]) == 3, label
names = ["threads %s jobs %s" % (p[-7], p[-6]) for p in paths]
for n, r in zip(names, runs):
    assert r == runs[0], f"{label}: {n} differs from {names[0]}:\n{r}\n{runs[0]}"
PY
    echo "$label: identical folds for --threads/--jobs $combos"
}

# sanitizer builds (5-20x slower) check the families with their own
# parallel code: the gbdt grower, forests, the linear blocks
C="$W/cls.csv"
head -n 1801 "$C" > "$W/cls_small.csv"
S="$W/cls_small.csv"
R="$DATA/concrete.csv"
T=compressive_strength
same "gbdt binary" "$C" y --model gbdt --param n_estimators=30
same "gbdt partitions" "$W/long.csv" y --model gbdt --param n_estimators=3
same "gbdt squared error" "$R" $T --model gbdt --param objective=squared_error --param n_estimators=30
same "random_forest" "$C" y --model random_forest --param n_estimators=8
same "random_forest regression" "$R" $T --model random_forest --param n_estimators=8 --param criterion=squared_error
if sanitized; then
    same "logistic_regression" "$C" y --model logistic_regression --step standard_scaler
    exit 0
fi
same "extra_trees" "$C" y --model extra_trees --param n_estimators=8
same "decision_tree" "$C" y --model decision_tree --param max_depth=8
same "logistic_regression" "$C" y --model logistic_regression --step standard_scaler
same "linear_svm" "$S" y --model linear_svm --step standard_scaler
same "gaussian_nb" "$S" y --model gaussian_nb
same "multinomial_nb" "$S" y --model multinomial_nb
same "bernoulli_nb" "$S" y --model bernoulli_nb
same "categorical_nb" "$W/codes.csv" y --model categorical_nb
same "knn_classifier" "$S" y --model knn_classifier --step standard_scaler
same "knn_regressor" "$R" $T --model knn_regressor --step standard_scaler
same "ridge" "$R" $T --model ridge
same "linear_regression" "$R" $T --model linear_regression
same "lasso" "$R" $T --model lasso --step standard_scaler
same "elastic_net_cv" "$R" $T --model elastic_net_cv --step standard_scaler
same "poisson_regressor" "$R" $T --model poisson_regressor --step standard_scaler
same "glm gamma" "$R" $T --model glm --param family=gamma --step standard_scaler
