#!/bin/bash
# The kmeans_features step: k-means fitted on the step's columns, each row's
# distance to every centre added as columns. On wine (k=3, unscaled, label
# left out) the distances must equal scikit-learn's KMeans(n_init=10,
# random_state=0).transform to 1e-9 relative (up to the order of the
# centres); keep=false drops the inputs. In 'kiln cv' the step is fitted on
# each training fold: n_clusters between a fold's training rows and all
# rows is refused naming the training rows. A run with the step saves it
# in the artifact and 'kiln predict' applies it. Bad input (text column,
# k above the rows) is refused naming the step.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
cd "$W"

"$KILN" -q prep "$DATA/wine.csv" keep.csv --step "kmeans_features:n_clusters=3"
"$KILN" -q prep "$DATA/wine.csv" drop.csv --step "kmeans_features:n_clusters=3;keep=false;prefix=d"
head -1 drop.csv | grep -qx "d1,d2,d3,class" || fail "keep=false: columns $(head -1 drop.csv)"
head -1 keep.csv | grep -q "^alcohol,.*,proline,kmeans_dist1,kmeans_dist2,kmeans_dist3,class$" ||
    fail "keep=true: columns $(head -1 keep.csv)"

# in each training fold: 150 clusters fit all 178 rows but not a fold's 142
"$KILN" -q prep "$DATA/wine.csv" many.csv --step "kmeans_features:n_clusters=150;n_init=1" ||
    fail "150 clusters of 178 rows refused"
expect "kmeans_features: n_clusters=150 is more than the 142 training rows" 1 "$KILN" cv \
    --data "$DATA/wine.csv" --target class --step "kmeans_features:n_clusters=150" \
    --model logistic_regression --folds 5
expect "kmeans_features: column 'class' is categorical; it takes numeric columns" 1 "$KILN" prep \
    "$DATA/wine.csv" x.csv --step "kmeans_features:columns=class"

cat > wine.yaml << YAML
sources: {d: {file: $DATA/wine.csv}}
target: class
steps: [standard_scaler: {}, kmeans_features: {n_clusters: 3, keep: false}]
model: {logistic_regression: {}}
seed: 1
YAML
"$KILN" -q run wine.yaml --no-store --out wine.kiln > run.txt 2>&1 || fail "kiln run: $(cat run.txt)"
"$KILN" inspect wine.kiln | grep -q "kmeans_features" || fail "the artifact lacks the step"
"$KILN" -q predict --model wine.kiln --data "$DATA/wine.csv" --out pred.csv
[ "$(wc -l < pred.csv)" = 179 ] || fail "predict: $(wc -l < pred.csv) lines"
if [ "${KILN_SANITIZED:-0}" = 1 ]; then exit 0; fi # memory checks only: quality is judged unsanitized

$py - "$DATA/wine.csv" keep.csv drop.csv pred.csv <<'PY'
import sys, numpy as np, pandas as pd
from sklearn.cluster import KMeans
src, keep, drop, pred = sys.argv[1:]
X = pd.read_csv(src).drop(columns=["class"]).to_numpy(dtype=float)
T = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X).transform(X)
D = pd.read_csv(drop)[["d1", "d2", "d3"]].to_numpy()
K = pd.read_csv(keep)[["kmeans_dist1", "kmeans_dist2", "kmeans_dist3"]].to_numpy()
assert np.array_equal(D, K), "keep and drop give other distances"
worst = 0.0
for i in range(3):  # kiln's centre i against the nearest of sklearn's
    rel = min(np.max(np.abs(D[:, i] - T[:, j]) / T[:, j]) for j in range(3))
    worst = max(worst, rel)
print(f"kmeans_features vs KMeans.transform: max relative difference {worst:.3g}")
assert worst <= 1e-9, worst
y = pd.read_csv(src)["class"].to_numpy()
p = pd.read_csv(pred).iloc[:, -1].to_numpy()
acc = (p == y).mean()
print(f"run + predict through the step: training accuracy {acc:.4f}")
assert acc >= 0.9, acc
PY
