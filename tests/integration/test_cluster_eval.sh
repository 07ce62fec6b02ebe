#!/bin/bash
# kiln eval and kiln cv of a clustering model (kmeans) against
# scikit-learn on real data. eval: a model fitted on half of wine scores
# the other half: the clusters are the nearest of the centres (the means of
# the training clusters, since Lloyd ran to no label change), inertia
# within 1e-9 (relative), silhouette_score, adjusted_rand_score and
# normalized_mutual_info_score of those clusters within 1e-9; the same on
# vehicle (4 classes, k = 6). cv: per fold (StratifiedKFold, 3 folds, the
# same folds as scikit-learn's) inertia on the held-out rows within 1 % of
# KMeans(n_init=10) fitted on the same training rows, silhouette, ARI and
# NMI within 0.02. Bad input: each a clear error.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
cd "$W"
$py - "$DATA" <<'PY'
import sys, pandas as pd
w = pd.read_csv(f"{sys.argv[1]}/wine.csv")
w.iloc[0::2].to_csv("wine_train.csv", index=False)
w.iloc[1::2].to_csv("wine_test.csv", index=False)
PY
"$KILN" -q cluster --data wine_train.csv --ignore class --param n_clusters=3 --param tol=0 \
    --out wine_train_c.csv --save wine.kmd
"$KILN" --json eval --model wine.kmd --data wine_test.csv --labels class > wine_eval.json
"$KILN" -q predict --model wine.kmd --data wine_test.csv --out wine_pred.csv
"$KILN" -q cluster --data "$DATA/vehicle.csv" --ignore Class --param n_clusters=6 --param tol=0 \
    --out veh_c.csv --save veh.kmd
"$KILN" --json eval --model veh.kmd --data "$DATA/vehicle.csv" --labels Class > veh_eval.json
"$KILN" --json cv --data "$DATA/wine.csv" --target class --model kmeans --param n_clusters=3 \
    --folds 3 --stratify > cv.json
if [ "${KILN_SANITIZED:-0}" != 1 ]; then # memory checks only: quality is judged unsanitized
    $py - "$DATA" <<'PY'
import sys, json, numpy as np, pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score
from sklearn.model_selection import StratifiedKFold
data = sys.argv[1]
bad = []
def near(what, got, want, tol, rel=False):
    err = abs(got - want) / (abs(want) if rel else 1)
    print(f"{what}: kiln {got:.12g} sklearn {want:.12g}")
    if not err <= tol: bad.append(f"{what}: kiln {got!r}, sklearn {want!r}")

def check(name, train, train_c, test, pred, ev, label):
    X, Xt = train.drop(columns=[label]).to_numpy(), test.drop(columns=[label]).to_numpy()
    c = pd.read_csv(train_c)["cluster"].to_numpy().astype(int)
    k = c.max() + 1
    centres = np.array([X[c == j].mean(axis=0) for j in range(k)])
    d = ((Xt[:, None, :] - centres[None]) ** 2).sum(-1)
    lab = d.argmin(1)
    p = pd.read_csv(pred)["prediction"].to_numpy().astype(int) if pred else lab
    if (p != lab).any(): bad.append(f"{name}: {np.sum(p != lab)} rows in another cluster than the nearest centre")
    e = json.load(open(ev))
    near(f"{name} inertia", e["inertia"], d.min(1).sum(), 1e-9, rel=True)
    near(f"{name} silhouette", e["silhouette"], silhouette_score(Xt, p), 1e-9)
    y = test[label].astype(str).to_numpy()
    near(f"{name} adjusted_rand", e["adjusted_rand"], adjusted_rand_score(y, p), 1e-9)
    near(f"{name} nmi", e["normalized_mutual_info"], normalized_mutual_info_score(y, p), 1e-9)

check("wine (held-out half)", pd.read_csv("wine_train.csv"), "wine_train_c.csv",
      pd.read_csv("wine_test.csv"), "wine_pred.csv", "wine_eval.json", "class")
v = pd.read_csv(f"{data}/vehicle.csv")
check("vehicle", v, "veh_c.csv", v, None, "veh_eval.json", "Class")

w = pd.read_csv(f"{data}/wine.csv")
X, y = w.drop(columns=["class"]).to_numpy(), w["class"].to_numpy()
cv = json.load(open("cv.json"))
for i, (tr, te) in enumerate(StratifiedKFold(3).split(X, y)):
    f = cv["folds"][i]
    if f["test_rows"] != len(te): bad.append(f"fold {i + 1}: {f['test_rows']} test rows, sklearn {len(te)}")
    m = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X[tr])
    p = m.predict(X[te])
    near(f"cv fold {i + 1} inertia", f["inertia"], -m.score(X[te]), 0.01, rel=True)
    near(f"cv fold {i + 1} silhouette", f["silhouette"], silhouette_score(X[te], p), 0.02)
    near(f"cv fold {i + 1} adjusted_rand", f["adjusted_rand"], adjusted_rand_score(y[te], p), 0.02)
    near(f"cv fold {i + 1} nmi", f["normalized_mutual_info"], normalized_mutual_info_score(y[te], p), 0.02)
if bad: sys.exit("FAIL: " + "; ".join(bad))
PY
fi

# bad input: each a clear error before any scoring
"$KILN" -q train --data "$DATA/wine.csv" --target class --model gaussian_nb --out nb.kmd > /dev/null
expect "--labels nope: .* has no such column" 1 "$KILN" eval --model wine.kmd --data wine_test.csv --labels nope
expect "--labels is for clustering models" 1 "$KILN" eval --model nb.kmd --data wine_test.csv --labels class
expect "--weight does not apply to wine.kmd, a clustering model" 2 \
    "$KILN" eval --model wine.kmd --data wine_test.csv --weight alcohol
expect "label column 'alcohol' is a feature of the model" 2 \
    "$KILN" eval --model wine.kmd --data wine_test.csv --labels alcohol
expect "--step does not apply to kmeans, a clustering model" 2 \
    "$KILN" cv --data "$DATA/wine.csv" --target class --model kmeans --step standard_scaler
