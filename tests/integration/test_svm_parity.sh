#!/bin/bash
# linear_svm against scikit-learn's LinearSVC (LIBLINEAR) on standardised
# wine.csv (3 classes, one-vs-rest) and lending_club.csv's numeric columns
# (binary, imbalanced; also class_weight=balanced), trained on 70 % and
# scored on the other 30 %: test accuracy within 0.5 percentage points of
# LinearSVC's; at a tight tol both solve the same problem, so coefficients
# agree within 1e-4 relative to the largest. Platt probabilities
# (probability=true): test log loss within 0.05 of sklearn's
# CalibratedClassifierCV(LinearSVC, method="sigmoid", cv=5) (different
# folds, so not equal).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
$py - "$DATA" "$W" <<'PY'
import sys, numpy as np, pandas as pd
data, out = sys.argv[1:]
def write(df, target, name):
    y = df.pop(target); df = (df - df.mean()) / df.std(); df[target] = y
    idx = np.random.RandomState(0).permutation(len(df)); cut = int(0.7 * len(df))
    df.iloc[np.sort(idx[:cut])].to_csv(f"{out}/{name}_train.csv", index=False)
    df.iloc[np.sort(idx[cut:])].to_csv(f"{out}/{name}_test.csv", index=False)
write(pd.read_csv(f"{data}/wine.csv"), "class", "wine")
lc = pd.read_csv(f"{data}/lending_club.csv")
write(lc[[c for c in lc.columns if lc[c].dtype != object] + ["Class"]], "Class", "lc")
PY
check() { # name, data, target, sklearn estimator, kiln args...
    local name=$1 data=$2 target=$3 est=$4; shift 4
    "$KILN" --json -q train --data "$W/${data}_train.csv" --target "$target" --test-size 0 --out "$W/$name.kmd" "$@" > "$W/$name.json"
    "$KILN" --json eval --model "$W/$name.kmd" --data "$W/${data}_test.csv" > "$W/$name.eval.json"
    ref_py - "$W/${data}_train.csv" "$W/${data}_test.csv" "$target" "$est" "$W/$name.json" "$W/$name.eval.json" "$name" <<'PY'
import sys, json, warnings, numpy as np, pandas as pd
warnings.simplefilter("ignore")
from sklearn.svm import LinearSVC
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import log_loss
train, test, target, est, got, ev, name = sys.argv[1:]
a = pd.read_csv(train); ya = a.pop(target).to_numpy()
b = pd.read_csv(test); yb = b.pop(target).to_numpy()
m = eval(est).fit(a.to_numpy(), ya)
acc = (m.predict(b.to_numpy()) == yb).mean()
ev = json.load(open(ev)); got = json.load(open(got))
line = f"{name:16s} accuracy kiln {ev['accuracy']:.4f} sklearn {acc:.4f}"
# the calibrated reference averages 5 fold models: its labels are not LinearSVC's
assert isinstance(m, CalibratedClassifierCV) or abs(ev["accuracy"] - acc) <= 0.005, line
if isinstance(m, LinearSVC) and got["coefficients"]:
    # one row (two classes) or one row per class, in class order (one-vs-rest)
    co = got["coefficients"]
    rows = [co] if "features" in co else list(co["classes"].values())
    assert len(rows) == m.coef_.shape[0], (len(rows), m.coef_.shape)
    coef = np.array([[r["features"][c] for c in a.columns] + [r["intercept"]] for r in rows])
    ref = np.c_[m.coef_, m.intercept_]
    rel = np.max(np.abs(coef - ref)) / np.max(np.abs(ref))
    line += f", coefficients {rel:.2g}"
    assert rel <= 1e-4, line
if isinstance(m, CalibratedClassifierCV):
    ll = log_loss(yb, m.predict_proba(b.to_numpy()))
    line += f", log loss kiln {ev['log_loss']:.4f} sklearn {ll:.4f}"
    assert ev["log_loss"] <= ll + 0.05, line
print(line)
PY
}
tight="tol=1e-10, max_iter=100000"
kt=(--param tol=1e-10 --param max_iter=100000)
check wine wine class "LinearSVC()" --model linear_svm
check wine_hinge wine class "LinearSVC(loss='hinge', C=0.1, $tight)" --model linear_svm --param loss=hinge --param C=0.1 "${kt[@]}"
check lc lc Class "LinearSVC(C=0.05, $tight)" --model linear_svm --param C=0.05 "${kt[@]}"
check lc_hinge lc Class "LinearSVC(loss='hinge', C=0.05, $tight)" --model linear_svm --param loss=hinge --param C=0.05 "${kt[@]}"
check lc_balanced lc Class "LinearSVC(C=0.05, class_weight='balanced', $tight)" --model linear_svm --param C=0.05 --param class_weight=balanced "${kt[@]}"
check wine_platt wine class "CalibratedClassifierCV(LinearSVC(), method='sigmoid', cv=5)" --model linear_svm --param probability=true
check lc_platt lc Class "CalibratedClassifierCV(LinearSVC(C=0.05), method='sigmoid', cv=5)" --model linear_svm --param C=0.05 --param probability=true
echo "linear SVM: all passed"
