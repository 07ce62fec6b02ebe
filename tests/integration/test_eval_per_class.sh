#!/bin/bash
# kiln eval reports each class's precision, recall, F1 and support (people
# and --json), equal to scikit-learn's precision_recall_fscore_support on
# the same predictions within 1e-12: a three-class model (wine) and a
# binary one on imbalanced data (letter_imbalanced's rare class against the
# rest), where the rare class's recall is what accuracy hides.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
$py - "$DATA/letter_imbalanced.csv" "$W/rare.csv" <<'PY'
import sys, pandas as pd
d = pd.read_csv(sys.argv[1]); t = d.columns[-1]
rare = d[t].value_counts().index[-1]
d[t] = (d[t] == rare).map({True: "rare", False: "other"})
d.to_csv(sys.argv[2], index=False)
PY
check() { # data target
    local data=$1 target=$2
    "$KILN" -q train --data "$data" --target "$target" --model logistic_regression \
        --param max_iter=2000 --test-size 0 --out "$W/m.kmd" > /dev/null 2>&1
    "$KILN" -q eval --model "$W/m.kmd" --data "$data" > "$W/eval.txt"
    grep -q "^per class:" "$W/eval.txt" || fail "no per-class table: $(cat "$W/eval.txt")"
    "$KILN" -q --json eval --model "$W/m.kmd" --data "$data" > "$W/eval.json"
    "$KILN" -q predict --model "$W/m.kmd" --data "$data" --out "$W/pred.csv"
    $py - "$data" "$target" "$W/pred.csv" "$W/eval.json" <<'PY' || fail "$data: per-class scores differ from scikit-learn's"
import sys, json, numpy as np, pandas as pd
from sklearn.metrics import precision_recall_fscore_support
data, target, pred, got = sys.argv[1:]
y = pd.read_csv(data)[target].astype(str)
p = pd.read_csv(pred).iloc[:, -1].astype(str)
pc = json.load(open(got))["per_class"]
labels = [c["class"] for c in pc]
assert labels == sorted(set(y)), labels
P, R, F, S = precision_recall_fscore_support(y, p, labels=labels, zero_division=0)
for i, c in enumerate(pc):
    for k, ref in (("precision", P[i]), ("recall", R[i]), ("f1", F[i]), ("support", S[i])):
        assert abs(c[k] - ref) <= 1e-12, (c["class"], k, c[k], ref)
print(f"  {data.split('/')[-1]}: " + ", ".join(f"{c['class']} recall {c['recall']:.4f}" for c in pc))
PY
}
check "$DATA/wine.csv" class
check "$W/rare.csv" "$(head -1 "$W/rare.csv" | tr ',' '\n' | tail -1)"
echo "eval per class: equal to scikit-learn"
