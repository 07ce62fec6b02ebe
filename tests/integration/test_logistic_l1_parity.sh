#!/bin/bash
# L1 and elastic-net logistic regression against scikit-learn's objective,
#     C * sum of log losses + (1 - r) |coef|^2 / 2 + r |coef|_1
# (LogisticRegression(penalty="l1"/"elasticnet", solver="saga")), on
# standardised wine.csv (multinomial) and its binary version. saga stops
# early, so the reference is the exact optimum: sklearn's saga solution
# polished by SciPy's L-BFGS-B on the objective with coef = u - v, u, v >= 0
# (smooth, bound-constrained, gtol 1e-12). Kiln's probabilities within 1e-6
# of the optimum's (saga itself must be within 1e-4, a check of the
# reference); a strong L1 penalty gives exact zeros.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
"$KILN" -q prep "$DATA/wine.csv" "$W/wine.csv" --step standard_scaler
sed 's/,class_2$/,class_0/' "$W/wine.csv" > "$W/wine_binary.csv"
check() { # name, data, C, penalty, l1_ratio
    local name=$1 data=$2 C=$3 pen=$4 r=$5
    "$KILN" -q --json train --data "$data" --target class --model logistic_regression --test-size 0 \
        --param "C=$C" --param penalty=$pen --param l1_ratio=$r --param tol=1e-10 --param max_iter=100000 \
        --out "$W/$name.kmd" > /dev/null
    "$KILN" -q predict --model "$W/$name.kmd" --data "$data" --out "$W/$name.pred.csv" --proba
    $py - "$data" "$C" "$pen" "$r" "$W/$name.pred.csv" "$name" <<'PY'
import sys, warnings, numpy as np, pandas as pd
warnings.simplefilter("ignore")
from sklearn.linear_model import LogisticRegression
from scipy.optimize import minimize
data, C, pen, r, pred, name = sys.argv[1:]
C, r = float(C), (1.0 if pen == "l1" else float(r))
df = pd.read_csv(data); y = df.pop("class").to_numpy(); X = df.to_numpy()
saga = LogisticRegression(penalty=pen, C=C, l1_ratio=r if pen == "elasticnet" else None,
                          solver="saga", tol=1e-8, max_iter=100000).fit(X, y)
classes = saga.classes_
Y = (y[:, None] == classes[None, :]).astype(float)
k = 1 if len(classes) == 2 else len(classes); p = X.shape[1]
def obj(t):  # t = (u, v, b): coef = u - v
    u, v, b = t[:k * p], t[k * p:2 * k * p], t[2 * k * p:]
    B = (u - v).reshape(k, p); Z = X @ B.T + b
    if k == 1:
        z = Z[:, 0]; yy = Y[:, 1]; loss = np.logaddexp(0, z) - yy * z; R = (1 / (1 + np.exp(-z)) - yy)[:, None]
    else:
        m = Z.max(axis=1, keepdims=True); lse = m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))
        loss = lse - (Z * Y).sum(axis=1); R = np.exp(Z - lse[:, None]) - Y
    gB = C * (R.T @ X) + (1 - r) * B
    f = C * loss.sum() + (1 - r) * (B * B).sum() / 2 + r * (u.sum() + v.sum())
    g = np.concatenate([gB.ravel() + r, -gB.ravel() + r, C * R.sum(axis=0)])
    return f, g
c0 = saga.coef_.ravel()
t0 = np.concatenate([np.maximum(c0, 0), np.maximum(-c0, 0), saga.intercept_])
bounds = [(0, None)] * (2 * k * p) + [(None, None)] * k
opt = minimize(obj, t0, jac=True, method="L-BFGS-B", bounds=bounds,
               options={"gtol": 1e-12, "ftol": 0, "maxiter": 100000, "maxfun": 1000000})
B = (opt.x[:k * p] - opt.x[k * p:2 * k * p]).reshape(k, p); b = opt.x[2 * k * p:]
Z = X @ B.T + b
if k == 1:
    p1 = 1 / (1 + np.exp(-Z[:, 0])); want = np.c_[1 - p1, p1]
else:
    want = np.exp(Z - Z.max(axis=1, keepdims=True)); want /= want.sum(axis=1, keepdims=True)
got = pd.read_csv(pred)[[f"proba_{c}" for c in classes]].to_numpy()
d = np.max(np.abs(got - want))
saga_gap = np.max(np.abs(saga.coef_ - B)) / np.max(np.abs(B))
zeros = int((np.abs(B) < 1e-9).sum())
print(f"{name:18s} probabilities within {d:.2g} of the optimum; {zeros} of {B.size} coefficients zero; saga {saga_gap:.2g} away")
assert d <= 1e-6, name
assert saga_gap <= 1e-4, name
PY
}
check l1_multi "$W/wine.csv" 0.1 l1 0
check l1_multi_weak "$W/wine.csv" 1 l1 0
check l1_binary "$W/wine_binary.csv" 0.05 l1 0
check enet_multi "$W/wine.csv" 0.2 elasticnet 0.5
check enet_binary "$W/wine_binary.csv" 0.3 elasticnet 0.8
# sparsity: a strong L1 penalty zeroes most binary coefficients exactly
"$KILN" -q --json train --data "$W/wine_binary.csv" --target class --model logistic_regression --test-size 0 \
    --param C=0.02 --param penalty=l1 --param tol=1e-10 --param max_iter=100000 --out "$W/s.kmd" > "$W/s.json"
$py -c "
import json; c = json.load(open('$W/s.json'))['coefficients']['features']
zero = sum(1 for v in c.values() if v == 0.0)
print(f'C=0.02: {zero} of {len(c)} coefficients exactly 0')
assert zero >= 8, c"
echo "L1 / elastic-net logistic: all passed"
