#!/bin/bash
# gaussian_nb against scikit-learn's GaussianNB on wine.csv (3 classes, raw
# features) and on a binary version, with and without sample weights:
# probabilities within 1e-9, predicted labels identical, save/load included
# (predict runs on the saved model).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
sed 's/,class_2$/,class_0/' "$DATA/wine.csv" > "$W/binary.csv"
$py - "$DATA/wine.csv" "$W/weighted.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
out = csv.writer(open(sys.argv[2], "w", newline=""))
out.writerow(rows[0] + ["w"])
for i, r in enumerate(rows[1:]): out.writerow(r + [0.5 + (i * 7) % 5])
PY
check() { # name, data, var_smoothing, extra kiln args...
    local name=$1 data=$2 vs=$3; shift 3
    "$KILN" -q train --data "$data" --target class --model gaussian_nb --param "var_smoothing=$vs" \
        --test-size 0 --out "$W/$name.kmd" "$@" > /dev/null
    "$KILN" -q predict --model "$W/$name.kmd" --data "$data" --out "$W/$name.pred.csv" --proba
    $py - "$data" "$W/$name.pred.csv" "$vs" "$name" <<'PY'
import sys, numpy as np, pandas as pd
from sklearn.naive_bayes import GaussianNB
df = pd.read_csv(sys.argv[1]); y = df.pop("class").to_numpy()
w = df.pop("w").to_numpy() if "w" in df else None
nb = GaussianNB(var_smoothing=float(sys.argv[3])).fit(df.to_numpy(), y, sample_weight=w)
want = nb.predict_proba(df.to_numpy())
got = pd.read_csv(sys.argv[2])
probs = got[[f"proba_{c}" for c in nb.classes_]].to_numpy()
d = np.max(np.abs(probs - want))
same = (got["prediction"].to_numpy() == nb.predict(df.to_numpy())).all()
print(f"{sys.argv[4]:12s} max |probability - sklearn| = {d:.2g}, labels identical: {same}")
assert d <= 1e-9 and same, sys.argv[4]
PY
}
check multiclass "$DATA/wine.csv" 1e-9
check binary "$W/binary.csv" 1e-9
check smoothed "$DATA/wine.csv" 0.01
check weighted "$W/weighted.csv" 1e-9 --weight w
echo "naive Bayes: all passed"
