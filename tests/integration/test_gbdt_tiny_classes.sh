#!/bin/bash
# Multiclass boosting on tiny classes: with a 78 % majority and classes of a
# handful of rows, softmax hessians of the rare classes vanish, and a Newton
# step -G / H with l2 = 0 once blew up (a leaf of a dozen rows at p = 0.001
# steps by 1,000): gbdt predicted one class (balanced accuracy exactly 1/7),
# as scikit-learn's HistGradientBoosting does there, while XGBoost and
# random forests get ~0.99. Softmax leaves are now bounded by default
# (max_delta_step 4 logits before the learning rate; XGBoost's l2 = 1 and
# min_child_weight = 1 fix it too). Checked on a constructed data set of
# that shape (where the unbounded step collapses), on a subset of the letter
# data (tests/data/letter_imbalanced.csv), against XGBoost; and the bound
# loses nothing on the other quality-test data sets.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn

$py - "$W/tiny.csv" <<'PY'
import numpy as np, sys
rng = np.random.default_rng(1)
counts = [4680, 720, 360, 150, 60, 18, 12]   # 78 % ... 0.2 %
centres = rng.normal(0, 4, (7, 9))
rows = []
for c, m in enumerate(counts):
    for x in centres[c] + rng.normal(0, 1, (m, 9)): rows.append(list(x) + [f"c{c + 1}"])
order = rng.permutation(len(rows))
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"x{j}" for j in range(9)) + ",class\n")
    for i in order: f.write(",".join("%.4f" % v for v in rows[i][:-1]) + "," + rows[i][-1] + "\n")
PY
# The sanitizer build (memory checks only; the release build judges the
# scores) fits every variant on 20 rounds, and of the other data sets only
# vehicle (multiclass: the bounded steps).
rounds=()
if sanitized; then rounds=(--param n_estimators=20); fi
score() { # data, target, folds, metric, kiln args... -> mean metric
    local data=$1 target=$2 folds=$3 metric=$4; shift 4
    "$KILN" --json -q cv --data "$data" --target "$target" --folds "$folds" --seed 0 "${rounds[@]}" "$@" |
        $py -c "import json,sys; print(json.load(sys.stdin)['mean']['$metric'])"
}
# tolerance against XGBoost: 0.02 on the constructed set; 0.1 on the letter
# subset, whose classes of 4-8 rows make balanced accuracy move by ~0.02 a
# row (and Kiln's min_samples_leaf = 20 keeps it from isolating them)
for set in "$W/tiny.csv class 5 0.02" "$DATA/letter_imbalanced.csv lettr 3 0.1"; do
    read -r data target folds tol <<< "$set"
    kiln=$(score "$data" "$target" "$folds" balanced_accuracy --model gbdt)
    unbounded=$(score "$data" "$target" "$folds" balanced_accuracy --model gbdt \
        --param max_delta_step=0)
    xgb_like=$(score "$data" "$target" "$folds" balanced_accuracy --model gbdt --param l2=1 \
        --param min_child_weight=1 --param max_delta_step=0)
    if sanitized; then continue; fi
    $py - "$data" "$target" "$folds" "$kiln" "$unbounded" "$xgb_like" "$tol" <<'PY'
import sys, warnings, numpy as np, pandas as pd
warnings.simplefilter("ignore")
from sklearn.model_selection import StratifiedKFold
from sklearn.metrics import balanced_accuracy_score
import xgboost as xgb
path, target, folds = sys.argv[1], sys.argv[2], int(sys.argv[3])
kiln, unbounded, xgb_like, tol = (float(v) for v in sys.argv[4:8])
d = pd.read_csv(path); y = d.pop(target); X = d.to_numpy(dtype=float)
yi = np.searchsorted(np.unique(y), y)
s = []
for tr, te in StratifiedKFold(folds, shuffle=True, random_state=0).split(X, yi):
    m = xgb.XGBClassifier(n_estimators=100, learning_rate=0.1, tree_method="hist", n_jobs=2)
    m.fit(X[tr], yi[tr]); s.append(balanced_accuracy_score(yi[te], m.predict(X[te])))
ref = float(np.mean(s))
name = path.split("/")[-1]
print(f"{name:24s} balanced accuracy: kiln {kiln:.4f} (unbounded {unbounded:.4f}, "
      f"l2=1 min_child_weight=1 {xgb_like:.4f}), XGBoost {ref:.4f}")
assert kiln > 0.5, f"{name}: gbdt collapsed to few classes ({kiln})"
assert kiln >= ref - tol, f"{name}: kiln {kiln} far below XGBoost {ref}"
assert xgb_like > 0.5, f"{name}: l2=1, min_child_weight=1 collapsed ({xgb_like})"
if "tiny" in name: assert unbounded < 0.5, f"the unbounded step no longer collapses: {unbounded}"
PY
done

# the bound against no bound (the old default) on the other quality data
# sets: no loss beyond noise (0.01 accuracy / AUC, 2 % RMSE; the binary and
# regression sets take no bound by default and must be identical)
shuffled_quality_data "$DATA"
cp "$DATA/wine.csv" "$W/wine.csv"
for set in "vehicle Class accuracy" "wine class accuracy" "lending_club Class roc_auc" \
    "concrete compressive_strength rmse"; do
    read -r name target metric <<< "$set"
    if sanitized && [ "$name" != vehicle ]; then continue; fi
    new=$(score "$W/$name.csv" "$target" 5 "$metric" --model gbdt)
    old=$(score "$W/$name.csv" "$target" 5 "$metric" --model gbdt --param max_delta_step=0)
    if sanitized; then continue; fi
    $py - "$name" "$metric" "$new" "$old" <<'PY'
import sys
name, metric, new, old = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
print(f"{name:24s} {metric:8s} bounded softmax steps {new:.4f}, unbounded {old:.4f}")
if metric == "rmse": assert new <= old * 1.02, (name, new, old)
else: assert new >= old - 0.01, (name, new, old)
if name in ("lending_club", "concrete"): assert new == old, (name, new, old)
PY
done
