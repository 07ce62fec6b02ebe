#!/bin/bash
# k-nearest neighbours against scikit-learn's KNeighborsClassifier and
# KNeighborsRegressor on standardised wine.csv (3 classes) and concrete.csv
# (duplicates removed, trained on 800 rows, predicting the rest), with the
# k-d tree and brute force (BLAS), uniform and distance weights, Euclidean
# and Manhattan distance: predicted labels identical, probabilities and
# regression predictions within 1e-12. Predicting wine's own training rows
# puts every row at distance 0 from itself (distance weights then count
# only exact matches, as sklearn does). Rows with a tie at the k-th
# neighbour are left out: which of the tied rows counts is arbitrary.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
$py - "$DATA" "$W" <<'PY'
import sys, pandas as pd
data, out = sys.argv[1:]
w = pd.read_csv(f"{data}/wine.csv"); y = w.pop("class")
w = (w - w.mean()) / w.std(); w["class"] = y
w.to_csv(f"{out}/wine.csv", index=False)
c = pd.read_csv(f"{data}/concrete.csv").drop_duplicates().reset_index(drop=True)
y = c.pop("compressive_strength"); c = (c - c.mean()) / c.std(); c["compressive_strength"] = y
c.iloc[:800].to_csv(f"{out}/c_train.csv", index=False)
c.iloc[800:].to_csv(f"{out}/c_test.csv", index=False)
PY
check() { # name, train, test, target, sklearn estimator, kiln args...
    local name=$1 train=$2 test=$3 target=$4 est=$5; shift 5
    "$KILN" -q train --data "$train" --target "$target" --test-size 0 --out "$W/$name.kmd" "$@" > /dev/null
    local proba=""; [ "$target" = class ] && proba=--proba
    "$KILN" -q predict --model "$W/$name.kmd" --data "$test" --out "$W/$name.pred.csv" $proba
    ref_py - "$train" "$test" "$target" "$est" "$W/$name.pred.csv" "$name" <<'PY'
import sys, numpy as np, pandas as pd
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
train, test, target, est, pred, name = sys.argv[1:]
a = pd.read_csv(train); ya = a.pop(target).to_numpy()
b = pd.read_csv(test); b.pop(target)
m = eval(est).fit(a.to_numpy(), ya)
got = pd.read_csv(pred)
# rows whose k-th and (k+1)-th neighbours are equally far: which one counts
# is arbitrary (sklearn's order of ties is unspecified), so they are left out
k = m.n_neighbors
dist, _ = m.kneighbors(b.to_numpy(), k + 1)
ok = dist[:, k - 1] != dist[:, k]
if target == "class":
    want = m.predict_proba(b.to_numpy())
    d = np.max(np.abs(got[[f"proba_{c}" for c in m.classes_]].to_numpy() - want)[ok])
    same = (got["prediction"].to_numpy() == m.predict(b.to_numpy()))[ok].all()
else:
    want = m.predict(b.to_numpy())
    d = np.max((np.abs(got["prediction"].to_numpy() - want) / np.maximum(1, np.abs(want)))[ok])
    same = True
print(f"{name:20s} max difference {d:.2g}, labels identical: {same} ({(~ok).sum()} of {len(ok)} rows tied at the k-th neighbour left out)")
assert d <= 1e-12 and same, name
PY
}
WI="$W/wine.csv"
check wine_kd "$WI" "$WI" class "KNeighborsClassifier()" --model knn_classifier --param algorithm=kd_tree
check wine_brute "$WI" "$WI" class "KNeighborsClassifier()" --model knn_classifier --param algorithm=brute
check wine_dist "$WI" "$WI" class "KNeighborsClassifier(7, weights='distance')" --model knn_classifier --param n_neighbors=7 --param weights=distance
check wine_l1 "$WI" "$WI" class "KNeighborsClassifier(4, p=1)" --model knn_classifier --param n_neighbors=4 --param metric=manhattan
check wine_l1_brute "$WI" "$WI" class "KNeighborsClassifier(4, p=1)" --model knn_classifier --param n_neighbors=4 --param metric=manhattan --param algorithm=brute
check wine_leaf2 "$WI" "$WI" class "KNeighborsClassifier(9)" --model knn_classifier --param n_neighbors=9 --param leaf_size=2
check concrete_kd "$W/c_train.csv" "$W/c_test.csv" compressive_strength "KNeighborsRegressor()" --model knn_regressor
check concrete_brute "$W/c_train.csv" "$W/c_test.csv" compressive_strength "KNeighborsRegressor(3, weights='distance')" --model knn_regressor --param n_neighbors=3 --param weights=distance --param algorithm=brute
check concrete_dist "$W/c_train.csv" "$W/c_test.csv" compressive_strength "KNeighborsRegressor(10, weights='distance')" --model knn_regressor --param n_neighbors=10 --param weights=distance

rc=0; "$KILN" train --data "$WI" --target class --model knn_classifier --param n_neighbors=500 --test-size 0 --out "$W/x.kmd" 2> "$W/err" || rc=$?
[ $rc = 1 ] && grep -q "n_neighbors=500 but only 178 training rows" "$W/err" || fail "k > n: $(cat "$W/err")"
echo "k-NN: all passed"
