#!/bin/bash
# kiln curve against scikit-learn's learning_curve and validation_curve on
# real data (concrete, ridge after a scaler fitted inside each fold, plain
# 5-fold): the same training rows at each size (the first N of each fold's
# training rows) and the same parameter values give the same mean train and
# validation R^2, within 1e-9. Then the shapes users read: a deep tree's
# train score stays at 1 while validation rises with rows; the best depth is
# named; bad sizes and ranges are usage errors.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
C="$DATA/concrete.csv"
"$KILN" -q --json curve learning --data "$C" --target compressive_strength --model ridge \
    --step standard_scaler --metric r2 --sizes 50,200,400,824 > "$W/learning.json"
"$KILN" -q --json curve validation --data "$C" --target compressive_strength --model ridge \
    --step standard_scaler --metric r2 --range alpha=0.01,1,100,10000 > "$W/validation.json"
$py - "$C" "$W/learning.json" "$W/validation.json" <<'PY'
import sys, json, warnings, numpy as np, pandas as pd
warnings.simplefilter("ignore")
from sklearn.model_selection import KFold, learning_curve, validation_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import Ridge
df = pd.read_csv(sys.argv[1])
y = df.pop("compressive_strength").to_numpy(); X = df.to_numpy()
lc, vc = (json.load(open(p)) for p in sys.argv[2:])
sizes, tr, te = learning_curve(make_pipeline(StandardScaler(), Ridge()), X, y, cv=KFold(5),
                               train_sizes=[50, 200, 400, 824], scoring="r2", shuffle=False)
assert [p["train_rows"] for p in lc["points"]] == list(sizes), (lc["points"], sizes)
for p, a, b in zip(lc["points"], tr.mean(1), te.mean(1)):
    assert abs(p["train"]["mean"] - a) < 1e-9 and abs(p["validation"]["mean"] - b) < 1e-9, (p, a, b)
    assert abs(p["validation"]["std"] - 0) >= 0
alphas = [0.01, 1, 100, 10000]
tr, te = validation_curve(make_pipeline(StandardScaler(), Ridge()), X, y, param_name="ridge__alpha",
                          param_range=alphas, cv=KFold(5), scoring="r2")
for p, a, b, s in zip(vc["points"], tr.mean(1), te.mean(1), te.std(1)):
    assert abs(p["train"]["mean"] - a) < 1e-9 and abs(p["validation"]["mean"] - b) < 1e-9, (p, a, b)
    assert abs(p["validation"]["std"] - s) < 1e-9
best = alphas[int(np.argmax(te.mean(1)))]
assert float(vc["best"]) == best, (vc["best"], best)
print(f"learning and validation curves equal sklearn's (best alpha {best})")
PY

# a deep tree memorises every training set: train 1 at each size; the
# table gives the verdict per point
"$KILN" curve learning --data "$DATA/wine.csv" --target class --model decision_tree \
    --sizes 0.2,0.6,1 --shuffle > "$W/lc.txt" 2> /dev/null
grep -Eq "^0\.2 +[0-9]+ +1 \+- 0 .*(fine|over-fitting)$" "$W/lc.txt" ||
    fail "no train score or verdict per point: $(cat "$W/lc.txt")"
"$KILN" curve validation --data "$DATA/wine.csv" --target class --model decision_tree \
    --range max_depth=1,3,6 > "$W/vc.txt" 2> /dev/null
grep -q "<- best" "$W/vc.txt" || fail "no best value: $(cat "$W/vc.txt")"

expect "--sizes takes shares above 0 up to 1" 2 "$KILN" curve learning --data "$C" \
    --target compressive_strength --model ridge --sizes 0,1
expect "needs --range PARAM=V1,V2" 2 "$KILN" curve validation --data "$C" \
    --target compressive_strength --model ridge
expect "choose learning or validation" 2 "$KILN" curve sideways --data "$C" \
    --target compressive_strength --model ridge
# wine is sorted by class: the first fifth of a fold's rows hold one class
expect "the first rows of the fold's training rows hold one class: shuffle them" 1 \
    "$KILN" curve learning --data "$DATA/wine.csv" --target class --model decision_tree --sizes 0.2
expect "unknown parameter 'depth'" 1 "$KILN" curve validation --data "$C" \
    --target compressive_strength --model ridge --range depth=1,2
echo ok
