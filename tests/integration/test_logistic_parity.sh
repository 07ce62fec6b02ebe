#!/bin/bash
# logistic_regression against scikit-learn's LogisticRegression(solver="lbfgs")
# at the same C on standardised real data. sklearn stops L-BFGS when the
# objective's relative decrease falls below 64 machine epsilons, whatever tol
# says (here after 39 iterations with a gradient of 1.6e-6), so the reference
# is sklearn's solution polished on sklearn's own objective by SciPy's
# L-BFGS-B without that stop (gtol 1e-12). Binary (lending_club.csv, its
# numeric columns): coefficients within 1e-6 of the largest one; multinomial (wine.csv,
# 3 classes): probabilities within 1e-6; eval's log loss and accuracy equal
# sklearn.metrics on kiln's probabilities; a single class is refused.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
"$KILN" -q prep "$DATA/wine.csv" "$W/wine.csv" --step standard_scaler
sed 's/,class_2$/,class_0/' "$W/wine.csv" > "$W/wine_binary.csv"   # class_1 against the rest
check() { # name, data, target, C
    "$KILN" -q --json train --data "$2" --target "$3" --model logistic_regression --test-size 0 \
        --param "C=$4" --param tol=1e-10 --param max_iter=10000 --out "$W/$1.kmd" > "$W/$1.json"
    "$KILN" -q predict --model "$W/$1.kmd" --data "$2" --out "$W/$1.pred.csv" --proba
    "$KILN" -q --json eval --model "$W/$1.kmd" --data "$2" > "$W/$1.eval.json"
    $py - "$2" "$3" "$4" "$W/$1.json" "$W/$1.pred.csv" "$W/$1.eval.json" "$1" <<'PY'
import sys, json, warnings, numpy as np, pandas as pd
warnings.simplefilter("ignore")
from sklearn.linear_model import LogisticRegression
import sklearn.metrics as M
df = pd.read_csv(sys.argv[1])
y = df.pop(sys.argv[2]).astype(str).to_numpy()
X = df.to_numpy()
from scipy.optimize import minimize
C = float(sys.argv[3])
est = LogisticRegression(C=C, tol=1e-10, max_iter=10000).fit(X, y)
classes = est.classes_
Y = (y[:, None] == classes[None, :]).astype(float)
k = 1 if len(classes) == 2 else len(classes)
p = X.shape[1]
def objective(t):  # sklearn's: (sum of log losses + |coef|^2 / (2C)) / n
    B, b = t[:k * p].reshape(k, p), t[k * p:]
    Z = X @ B.T + b
    if k == 1:
        z = Z[:, 0]; yy = Y[:, 1]
        loss = np.logaddexp(0, z) - yy * z; R = (1 / (1 + np.exp(-z)) - yy)[:, None]
    else:
        m = Z.max(axis=1, keepdims=True); lse = m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))
        loss = lse - (Z * Y).sum(axis=1); R = np.exp(Z - lse[:, None]) - Y
    n = len(y)
    f = (loss.sum() + (B * B).sum() / (2 * C)) / n
    g = np.concatenate([((R.T @ X) + B / C).ravel(), R.sum(axis=0)]) / n
    return f, g
t0 = np.concatenate([est.coef_.ravel(), est.intercept_])
opt = minimize(objective, t0, jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 0, "maxiter": 100000})
B, b = opt.x[:k * p].reshape(k, p), opt.x[k * p:]
Z = X @ B.T + b
if k == 1:
    p1 = 1 / (1 + np.exp(-Z[:, 0])); want = np.c_[1 - p1, p1]
else:
    want = np.exp(Z - Z.max(axis=1, keepdims=True)); want /= want.sum(axis=1, keepdims=True)
est.coef_, est.intercept_ = B, b
pred = pd.read_csv(sys.argv[5])
got = pred[[f"proba_{c}" for c in est.classes_]].to_numpy()
dp = np.max(np.abs(got - want))
assert (pred["prediction"].astype(str).to_numpy() == est.classes_[want.argmax(axis=1)]).mean() > 0.999
rel = 0.0
coef = json.load(open(sys.argv[4]))["coefficients"]
if len(est.classes_) == 2:
    c = np.array([coef["features"][n] for n in df.columns])
    # relative to the coefficient vector's scale (largest magnitude)
    scale = max(np.max(np.abs(est.coef_[0])), abs(est.intercept_[0]))
    rel = max(np.max(np.abs(c - est.coef_[0])), abs(coef["intercept"] - est.intercept_[0])) / scale
else:  # one row per class, in class order; intercepts only matter up to a shared shift
    rows = list(coef["classes"].values())
    C = np.array([[r["features"][n] for n in df.columns] for r in rows])
    bi = np.array([r["intercept"] for r in rows])
    scale = max(np.max(np.abs(est.coef_)), np.max(np.abs(est.intercept_)))
    rel = max(np.max(np.abs(C - est.coef_)),
              np.max(np.abs((bi - bi.mean()) - (est.intercept_ - est.intercept_.mean())))) / scale
ev = json.load(open(sys.argv[6]))
idx = np.searchsorted(est.classes_, y)
ll = M.log_loss(idx, got, labels=range(len(est.classes_)))
acc = M.accuracy_score(idx, got.argmax(axis=1))
print(f"{sys.argv[7]:16s} probabilities {dp:.2g}, coefficients rel {rel:.2g}, log loss {ev['log_loss']:.8f} (polished sklearn {M.log_loss(idx, want):.8f})")
assert dp <= 1e-6 and rel <= 1e-6, sys.argv[7]
assert abs(ev["log_loss"] - ll) <= 1e-12 and abs(ev["accuracy"] - acc) <= 1e-12
PY
}
check binary "$W/wine_binary.csv" class 1
check binary_c01 "$W/wine_binary.csv" class 0.1
check multinomial "$W/wine.csv" class 1
check multinomial_c10 "$W/wine.csv" class 10
printf 'a,y\n1,x\n2,x\n3,x\n' > "$W/one.csv"
rc=0
"$KILN" train --data "$W/one.csv" --target y --model logistic_regression --test-size 0 --out "$W/x.kmd" 2> "$W/err" || rc=$?
[ "$rc" = 1 ] && grep -q "target 'y' has a single class ('x'); a classifier needs at least two" "$W/err" ||
    fail "single class: rc $rc, $(cat "$W/err")"
echo "logistic regression: all passed"
