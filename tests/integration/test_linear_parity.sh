#!/bin/bash
# kiln train / predict / eval with the linear models against scikit-learn on
# concrete.csv: coefficients and intercept of LinearRegression and Ridge (with
# and without sample weights) within 1e-6 relative; predict writes the same
# predictions as the in-process model; eval's metrics equal sklearn.metrics on
# those predictions within 1e-12; bad inputs fail with a clear message.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
T=compressive_strength
# a weight column (not a feature): 1 + row % 3
$py - "$DATA/concrete.csv" "$W/weighted.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
out = csv.writer(open(sys.argv[2], "w", newline=""))
out.writerow(rows[0] + ["w"])
for i, r in enumerate(rows[1:]): out.writerow(r + [1 + i % 3])
PY
check() { # name, data, sklearn estimator, kiln args...
    local name=$1 data=$2 est=$3; shift 3
    "$KILN" --json train --data "$data" --target $T --test-size 0 --out "$W/$name.kmd" "$@" > "$W/$name.json"
    "$KILN" -q predict --model "$W/$name.kmd" --data "$data" --out "$W/$name.pred.csv"
    "$KILN" --json eval --model "$W/$name.kmd" --data "$data" > "$W/$name.eval.json"
    ref_py - "$data" "$W/$name.json" "$W/$name.pred.csv" "$W/$name.eval.json" "$name" "$est" <<'PY'
import sys, json, warnings, numpy as np
warnings.simplefilter("ignore")
import pandas as pd
from sklearn.linear_model import LinearRegression, Ridge, Lasso, ElasticNet, LassoCV, ElasticNetCV
import sklearn.metrics as M
df = pd.read_csv(sys.argv[1])
y = df.pop("compressive_strength").to_numpy()
w = df.pop("w").to_numpy() if "w" in df else None
est = eval(sys.argv[6]).fit(df.to_numpy(), y, sample_weight=w)
got = json.load(open(sys.argv[2]))["coefficients"]
coef = np.array([got["features"][c] for c in df.columns])
rel = np.max(np.abs(coef - est.coef_) / np.maximum(1e-3, np.abs(est.coef_)))
rel_b = abs(got["intercept"] - est.intercept_) / max(1.0, abs(est.intercept_))
pred = np.loadtxt(sys.argv[3], delimiter=",", skiprows=1)
mine = est.intercept_ + df.to_numpy() @ coef
ev = json.load(open(sys.argv[4]))
want = {"rmse": M.mean_squared_error(y, pred, squared=False), "mae": M.mean_absolute_error(y, pred),
        "r2": M.r2_score(y, pred), "explained_variance": M.explained_variance_score(y, pred),
        "median_ae": M.median_absolute_error(y, pred)}
gap = max(abs(ev[k] - v) / max(1.0, abs(v)) for k, v in want.items())
if hasattr(est, "alpha_"):  # the CV models: the same alpha chosen
    assert abs(json.load(open(sys.argv[2]))["summary"]["alpha"] - est.alpha_) <= 1e-9 * est.alpha_, (sys.argv[5], est.alpha_)
print(f"{sys.argv[5]:18s} coef rel {rel:.2g}, intercept rel {rel_b:.2g}, predictions {np.max(np.abs(pred - mine)):.2g}, eval metrics {gap:.2g}")
assert rel <= 1e-6 and rel_b <= 1e-6, sys.argv[5]
assert np.max(np.abs(pred - mine)) <= 1e-9 * max(1, np.max(np.abs(mine)))
assert gap <= 1e-12 and ev["rows"] == len(y)
PY
}
check ols "$DATA/concrete.csv" "LinearRegression()" --model linear_regression
check ridge "$DATA/concrete.csv" "Ridge(alpha=0.5)" --model ridge --param alpha=0.5
check ridge_strong "$DATA/concrete.csv" "Ridge(alpha=1000)" --model ridge --param alpha=1000
check ridge_svd "$DATA/concrete.csv" "Ridge(alpha=0.5)" --model ridge --param alpha=0.5 --param solver=svd
check ols_weighted "$W/weighted.csv" "LinearRegression()" --model linear_regression --weight w
check ridge_weighted "$W/weighted.csv" "Ridge(alpha=3)" --model ridge --param alpha=3 --weight w
# coordinate descent at a tight tolerance on both sides (the default 1e-4 stops both early)
tight="max_iter=1000000, tol=1e-13"
kt=(--param max_iter=1000000 --param tol=1e-13)
# (the sanitizer build, which compares nothing, stops at the default tolerance)
if sanitized; then kt=(); fi
check lasso "$DATA/concrete.csv" "Lasso(alpha=0.5, $tight)" --model lasso --param alpha=0.5 "${kt[@]}"
check lasso_sparse "$DATA/concrete.csv" "Lasso(alpha=40, $tight)" --model lasso --param alpha=40 "${kt[@]}"
check enet "$DATA/concrete.csv" "ElasticNet(alpha=2, l1_ratio=0.3, $tight)" --model elastic_net --param alpha=2 --param l1_ratio=0.3 "${kt[@]}"
check enet_weighted "$W/weighted.csv" "ElasticNet(alpha=0.7, l1_ratio=0.8, $tight)" --model elastic_net --param alpha=0.7 --param l1_ratio=0.8 --weight w "${kt[@]}"
check lasso_cv "$DATA/concrete.csv" "LassoCV(cv=5, $tight)" --model lasso_cv "${kt[@]}"
check enet_cv "$DATA/concrete.csv" "ElasticNetCV(l1_ratio=0.3, n_alphas=40, eps=1e-4, cv=4, $tight)" --model elastic_net_cv --param l1_ratio=0.3 --param n_alphas=40 --param eps=1e-4 --param folds=4 "${kt[@]}"
check enet_cv_weighted "$W/weighted.csv" "ElasticNetCV(l1_ratio=0.7, cv=3, $tight)" --model elastic_net_cv --param l1_ratio=0.7 --param folds=3 --weight w "${kt[@]}"
check lasso_random "$DATA/concrete.csv" "Lasso(alpha=0.5, $tight)" --model lasso --param alpha=0.5 --param selection=random --param seed=3 "${kt[@]}"

# bad inputs: each a specific error and a non-zero exit
expect() { # message, exit code, command...
    local msg=$1 want=$2; shift 2
    local rc=0
    "$@" > /dev/null 2> "$W/err" || rc=$?
    [ "$rc" = "$want" ] && grep -q -- "$msg" "$W/err" || fail "$*: rc $rc, $(cat "$W/err")"
}
expect "no model named 'forest9'" 2 "$KILN" train --data "$DATA/concrete.csv" --target $T --model forest9 --out "$W/x.kmd"
expect "unknown parameter 'alfa'" 2 "$KILN" train --data "$DATA/concrete.csv" --target $T --model ridge --param alfa=1 --out "$W/x.kmd"
expect "target column 'nope' is not in the data" 1 "$KILN" train --data "$DATA/concrete.csv" --target nope --model ridge --out "$W/x.kmd"
printf 'a,b,y\n1,2,x\n3,4,y\n5,6,x\n' > "$W/text.csv"
expect "target 'y' is text (classes), and 'ridge' regresses" 1 "$KILN" train --data "$W/text.csv" --target y --model ridge --test-size 0 --out "$W/x.kmd"
expect "feature 'term' is categorical" 1 "$KILN" train --data "$DATA/lending_club.csv" --target int_rate --model ridge --out "$W/x.kmd"
printf 'a,b,y\n1,2,3\n,5,6\n7,8,9\n4,4,4\n' > "$W/gap.csv"
expect "feature 'a', row 2 is missing; impute it first" 1 "$KILN" train --data "$W/gap.csv" --target y --model linear_regression --test-size 0 --out "$W/x.kmd"
# ridge finds missing values in its own pass over the data (no scan before the fit)
printf 'a,b,w,y\n1,2,1,3\n3,5,0,6\n7,,2,9\n4,4,1,4\n' > "$W/gap2.csv"
expect "feature 'b', row 3 is missing; impute it first" 1 "$KILN" train --data "$W/gap2.csv" --target y --model ridge --test-size 0 --out "$W/x.kmd"
expect "feature 'b', row 3 is missing; impute it first" 1 "$KILN" train --data "$W/gap2.csv" --target y --weight w --model ridge --test-size 0 --out "$W/x.kmd"
printf 'a,b,y\n1,2,3\n1e300,5,6\n7,1,9\n4,4,4\n' > "$W/huge.csv"
expect "feature 'a' has infinite values or values too large to square" 1 "$KILN" train --data "$W/huge.csv" --target y --model ridge --test-size 0 --out "$W/x.kmd"
"$KILN" train --data "$DATA/concrete.csv" --target $T --model ridge --test-size 0 --out "$W/ridge.kmd" > /dev/null 2>&1 || fail "ridge on concrete"
sed '3s/^[^,]*,/,/' "$DATA/concrete.csv" > "$W/concrete_gap.csv"
expect "row 2 is missing; impute it first" 1 "$KILN" predict --model "$W/ridge.kmd" --data "$W/concrete_gap.csv" --out "$W/x.csv"
printf 'a,y\n1,2\n' > "$W/other.csv"
expect "trained on column 'cement', which the data lacks" 1 "$KILN" predict --model "$W/ols.kmd" --data "$W/other.csv" --out "$W/x.csv"
head -c 100 "$W/ols.kmd" > "$W/cut.kmd"
expect "end marker missing" 1 "$KILN" eval --model "$W/cut.kmd" --data "$DATA/concrete.csv"
echo "linear models: all passed"
