#!/bin/bash
# kiln compare models: every model on the same folds (a model against an
# identical copy differs by exactly 0 on every fold), the p-values of the
# corrected resampled t-test, the 5x2cv t-test and McNemar's test
# recomputed with scipy.stats from the printed fold scores and counts
# (within 1e-9), the verdicts, run specs as contenders, a metric where
# lower is better, kiln compare data beside the bare form, and bad input.
set -u
. "$(dirname "$0")/lib.sh"
require_sklearn
K=${KILN:?}
D=${KILN_TEST_DATA:?}
cd "$W" || exit 1

# 1. classifiers on wine: a strong, a weak and a copy of the strong one
$K --quiet --json compare models --data "$D/wine.csv" --target class --step standard_scaler \
    --model logistic_regression --model 'decision_tree:max_depth=1' \
    --model 'logistic_regression:C=1' > cls.json 2> cls.err || fail "compare: $(cat cls.err)"
$py - cls.json <<'PY' || fail "classifier comparison: $(cat cls.json)"
import json, sys
import numpy as np
from scipy import stats
j = json.load(open(sys.argv[1]))
assert j["command"] == "compare models" and j["metric"] == "accuracy", j
m = {x["name"]: x for x in j["models"]}
lr, tree, copy = m["logistic_regression"], m["decision_tree:max_depth=1"], m["logistic_regression:C=1"]
assert len(lr["folds"]) == 10 and len(lr["folds_5x2"]) == 10
assert lr["folds"] == copy["folds"] and lr["folds_5x2"] == copy["folds_5x2"]  # same folds, same model
assert abs(np.mean(lr["folds"]) - lr["mean"]) < 1e-12 and abs(np.std(lr["folds"]) - lr["std"]) < 1e-12

def corrected_t(a, b, ratio):
    d = np.array(a) - np.array(b); k = len(d)
    t = d.mean() / np.sqrt((1 / k + ratio) * d.var(ddof=1))
    return t, 2 * stats.t.sf(abs(t), k - 1)

def t5x2(a, b):
    d = (np.array(a) - np.array(b)).reshape(5, 2)
    s2 = ((d - d.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    t = d[0, 0] / np.sqrt(s2.mean())
    return t, 2 * stats.t.sf(abs(t), 5)

checked = 0
for c in j["comparisons"]:
    a, b, t = m[c["a"]], m[c["b"]], c["tests"]
    if a["folds"] == b["folds"]:
        assert t["corrected_t"]["p"] == 1 and "no evidence" in t["corrected_t"]["verdict"], c
        assert t["mcnemar"]["a_only"] == t["mcnemar"]["b_only"] == 0 and t["mcnemar"]["p"] == 1
        continue
    tt, p = corrected_t(a["folds"], b["folds"], (a["test_train_ratio"] + b["test_train_ratio"]) / 2)
    assert abs(t["corrected_t"]["t"] - tt) < 1e-9 and abs(t["corrected_t"]["p"] - p) < 1e-9, (c, tt, p)
    tt, p = t5x2(a["folds_5x2"], b["folds_5x2"])
    assert abs(t["t_5x2cv"]["t"] - tt) < 1e-9 and abs(t["t_5x2cv"]["p"] - p) < 1e-9, (c, tt, p)
    mc = t["mcnemar"]; n = mc["a_only"] + mc["b_only"]
    p = stats.binomtest(mc["a_only"], n, 0.5).pvalue if n else 1.0
    assert abs(mc["p"] - p) < 1e-9, (mc, p)
    chi = (abs(mc["a_only"] - mc["b_only"]) - 1) ** 2 / n if n else 0
    assert abs(mc["statistic"] - chi) < 1e-12 and abs(mc["p_chi2"] - stats.chi2.sf(chi, 1)) < 1e-9
    # the strong model wins, and the verdict says so in words
    win, lose = (c["a"], c["b"]) if c["b"].startswith("decision_tree") else (c["b"], c["a"])
    assert win.startswith("logistic_regression"), c
    for name in ("corrected_t", "t_5x2cv", "mcnemar"):
        v = t[name]["verdict"]
        assert t[name]["p"] < 0.05 and v.startswith(f"{win} is better than {lose} (p="), v
    checked += 1
assert checked == 2, checked
print("classifiers ok")
PY

# 2. the human output: mean +- std per model, each test with its verdict
$K --quiet compare models --data "$D/wine.csv" --target class --step standard_scaler \
    --model logistic_regression --model 'decision_tree:max_depth=1' > cls.txt ||
    fail "compare (text)"
grep -q "logistic_regression .*0.9[0-9]* +- 0.0" cls.txt || fail "no mean +- std: $(cat cls.txt)"
grep -q "McNemar .*logistic_regression is better than decision_tree:max_depth=1 (p=" cls.txt ||
    fail "no McNemar verdict: $(cat cls.txt)"

# 3. run specs as contenders; a regression metric where lower is better
cat > ridge.yaml <<'YAML'
sources: {c: {file: unused.csv}}
target: compressive_strength
steps:
  - standard_scaler: {}
model:
  ridge: {alpha: 1.0}
YAML
cat > forest.yaml <<'YAML'
sources: {c: {file: unused.csv}}
target: compressive_strength
model:
  random_forest: {n_estimators: 30, max_depth: 8, seed: 1}
YAML
$K --quiet --json compare models --data "$D/concrete.csv" --spec ridge.yaml --spec forest.yaml \
    --metric rmse --folds 3 --repeats 2 > reg.json 2> reg.err || fail "specs: $(cat reg.err)"
$py - reg.json <<'PY' || fail "regression comparison: $(cat reg.json)"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["target"] == "compressive_strength" and j["metric"] == "rmse", j
m = {x["name"]: x for x in j["models"]}
assert m["forest.yaml"]["mean"] < m["ridge.yaml"]["mean"], m   # the forest's error is lower
c = j["comparisons"][0]
assert "mcnemar" not in c["tests"], c                          # no classes: no McNemar
v = c["tests"]["corrected_t"]["verdict"]
assert v.startswith("forest.yaml is better than ridge.yaml"), v
PY

# 4. kiln compare data is the old kiln compare
$K --quiet --json compare data --reference "$D/wine.csv" --data "$D/wine.csv" > d1.json ||
    fail "compare data"
$K --quiet --json compare --reference "$D/wine.csv" --data "$D/wine.csv" > d2.json ||
    fail "bare compare"
$py -c 'import json; a, b = (json.load(open(f)) for f in ("d1.json", "d2.json")); a.pop("stages", 0); b.pop("stages", 0); assert a == b'  ||
    fail "compare data and bare compare differ"

# 5. bad input
expect "give two or more models" 2 \
    $K compare models --data "$D/wine.csv" --target class --model logistic_regression
expect "no model named 'magic'" 1 \
    $K compare models --data "$D/wine.csv" --target class --model logistic_regression --model magic
expect "name the target" 1 \
    $K compare models --data "$D/wine.csv" --model logistic_regression --model gaussian_nb
echo "ok"
