#!/bin/bash
# decision_tree against scikit-learn's DecisionTreeClassifier/Regressor:
# trained on 70 % of a real dataset, the held-out rows' predictions (class
# probabilities, or values) must be identical and the trees must have the
# same number of leaves. Every case uses all features (max_features=None),
# so the tree does not depend on either library's random draws; where two
# splits tie exactly (the same rows sent left, by different features),
# each library keeps a different one (scikit-learn: the first in its random
# feature order), so the cases are ones without such ties: small nodes tie
# often (two features separating the same 3 of 8 rows), so depth, leaf and
# pruning limits keep the nodes large.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
$py - "$DATA" "$W" <<'PY'
import sys, numpy as np, pandas as pd
src, w = sys.argv[1:]
for name in ("wine", "vehicle", "concrete"):
    d = pd.read_csv(f"{src}/{name}.csv")
    idx = np.random.RandomState(0).permutation(len(d))
    cut = int(0.7 * len(d))
    d.iloc[idx[:cut]].to_csv(f"{w}/{name}.train.csv", index=False)
    d.iloc[idx[cut:]].to_csv(f"{w}/{name}.test.csv", index=False)
PY
n=0
check() { # data, target, kiln parameters, sklearn keyword arguments
    local name=$1 target=$2 params=$3 kw=$4 args=()
    for kv in $params; do args+=(--param "$kv"); done
    n=$((n + 1))
    "$KILN" -q --json train --data "$W/$name.train.csv" --target "$target" --model decision_tree \
        --test-size 0 "${args[@]}" --out "$W/m$n.kmd" > "$W/m$n.json"
    local proba=--proba
    case "$params" in *_error*) proba= ;; esac
    "$KILN" -q predict --model "$W/m$n.kmd" --data "$W/$name.test.csv" $proba --out "$W/p$n.csv"
    ref_py - "$W/$name" "$target" "$kw" "$W/p$n.csv" "$W/m$n.json" "$params" <<'PY'
import sys, json, numpy as np, pandas as pd
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
base, target, kw, got, fit, params = sys.argv[1:]
tr = pd.read_csv(base + ".train.csv"); te = pd.read_csv(base + ".test.csv")
ytr = tr.pop(target); te.pop(target)
kw = eval(f"dict({kw})")
reg = kw.get("criterion") in ("squared_error", "absolute_error")
M = DecisionTreeRegressor if reg else DecisionTreeClassifier
m = M(random_state=0, **kw).fit(tr.to_numpy(float), ytr)
g = pd.read_csv(got)
if reg:
    ref = m.predict(te.to_numpy(float)); mine = g["prediction"].to_numpy()
else:
    ref = m.predict_proba(te.to_numpy(float))
    mine = g[[f"proba_{c}" for c in m.classes_]].to_numpy()
diff = float(np.max(np.abs(ref - mine)))
leaves = int(m.get_n_leaves())
stats = json.load(open(fit))["summary"]
print(f"{base.split('/')[-1]:9s} {params:55s} leaves kiln {int(stats['leaves']):3d} sklearn {leaves:3d}  max |diff| {diff:.2e}")
if diff > 1e-12 or int(stats["leaves"]) != leaves:
    sys.exit("FAIL: predictions or tree size differ from sklearn")
PY
}
check wine class "max_depth=3" "max_depth=3"
check wine class "criterion=entropy max_depth=4" "criterion='entropy', max_depth=4"
check wine class "ccp_alpha=0.02" "ccp_alpha=0.02"
check wine class "criterion=entropy ccp_alpha=0.05" "criterion='entropy', ccp_alpha=0.05"
check vehicle Class "min_samples_leaf=20" "min_samples_leaf=20"
check vehicle Class "criterion=entropy min_samples_split=30 min_samples_leaf=5" "criterion='entropy', min_samples_split=30, min_samples_leaf=5"
check vehicle Class "min_samples_leaf=20 min_impurity_decrease=0.002" "min_samples_leaf=20, min_impurity_decrease=0.002"
check concrete compressive_strength "criterion=squared_error max_depth=4" "criterion='squared_error', max_depth=4"
check concrete compressive_strength "criterion=squared_error min_samples_leaf=15" "criterion='squared_error', min_samples_leaf=15"
check concrete compressive_strength "criterion=squared_error min_samples_leaf=20" "criterion='squared_error', min_samples_leaf=20"
check concrete compressive_strength "criterion=squared_error ccp_alpha=2 min_samples_leaf=3" "criterion='squared_error', ccp_alpha=2, min_samples_leaf=3"
check concrete compressive_strength "criterion=absolute_error max_depth=5" "criterion='absolute_error', max_depth=5"
check concrete compressive_strength "criterion=absolute_error min_samples_leaf=20" "criterion='absolute_error', min_samples_leaf=20"
check concrete compressive_strength "criterion=absolute_error min_samples_leaf=5 ccp_alpha=0.5" "criterion='absolute_error', min_samples_leaf=5, ccp_alpha=0.5"
# staged prediction is for boosted models only
if "$KILN" -q eval --model "$W/m1.kmd" --data "$W/wine.test.csv" --rounds 3 2> "$W/err"; then
    fail "eval --rounds on a decision tree should fail"
fi
grep -q "not boosted" "$W/err" || fail "eval --rounds: unexpected message: $(cat "$W/err")"
echo "decision_tree parity: $n cases identical"
