#!/bin/bash
# Ensembles of pipelines in a run spec (ensemble:), each member its own
# steps and model, with the real kiln binary:
#   1. parity with scikit-learn 1.2 on real data with text columns
#      (lending_club.csv, its first 3000 rows, target term; cps1985.csv,
#      target wage, its rows shuffled once): members [onehot_encoder + standard_scaler + logistic
#      regression] and [ordinal_encoder + depth-5 decision tree] against
#      sklearn Pipelines of OneHotEncoder / OrdinalEncoder, StandardScaler
#      and the same models, scored by the same 5 unshuffled stratified
#      folds (cv: shuffle: false is StratifiedKFold(5)): stacking (final
#      logistic regression, 5 out-of-fold folds) = StackingClassifier,
#      soft and hard votes = VotingClassifier, the mean accuracy within 1
#      point (the stacking's inner folds are shuffled on both sides, by
#      different generators); stacking and mean regressors (ridge + tree,
#      final ridge) = StackingRegressor / VotingRegressor, R^2 within 0.02;
#   2. save -> load -> predict (members after a shared step): kiln eval of
#      the artifact on the held-out file gives the scores (accuracy and log-loss, every digit) the run
#      computed in memory before saving; kiln predict (from the file and
#      from the registry) and kiln serve (one row and a batch) give the same
#      classes and probabilities; kiln inspect names the members;
#      kiln compare models takes ensemble specs;
#   3. the same spec, data and seed give the same artifact bytes on 1 and 2
#      threads;
#   4. bad input fails at parse time with file:line:column, before any
#      data is read: one member, a member without a model, a hard vote for
#      a regression, an unknown method or key (with "did you mean"),
#      stacking without final:, final: on a vote; a hard vote whose target
#      turns out continuous fails before any fit.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"
require_sklearn
cd "$W"
head -n 3001 "$DATA/lending_club.csv" > lc.csv
# cps1985's rows come grouped (its unshuffled folds would differ in kind):
# shuffled once, the same file on both sides
$py - "$DATA/cps1985.csv" <<'PY'
import sys, numpy as np, pandas as pd
d = pd.read_csv(sys.argv[1])
d.iloc[np.random.RandomState(0).permutation(len(d))].to_csv("cps.csv", index=False)
PY

# spec METHOD TARGET DATA TASK: an ensemble spec on stdout (TASK c or r)
spec() {
    local lin=logistic_regression final=logistic_regression
    [ "$4" = r ] && lin=ridge final=ridge
    cat <<EOF
sources:
  d: {file: $3}
target: $2
ensemble:
  method: $1
  members:
    - steps: [{onehot_encoder: {handle_unknown: ignore}}, standard_scaler]
      model: $lin
    - steps: [{ordinal_encoder: {handle_unknown: use_encoded_value, unknown_value: -1}}]
      model: {decision_tree: {max_depth: 5}}
EOF
    [ "$1" = stacking ] && echo "  final: {$final: {}}"
    cat <<EOF
evaluation:
  cv: {folds: 5, split: $([ "$4" = c ] && echo stratified || echo kfold), shuffle: false}
  metrics: [$([ "$4" = c ] && echo accuracy || echo r2)]
  test: false
seed: 0
EOF
}
cvmean() { # method target data task: kiln run's CV mean of the first metric
    spec "$@" > "s_$1.yaml"
    "$KILN" -q --json run "s_$1.yaml" --no-store --out "s_$1.kiln" > "s_$1.json" ||
        fail "kiln run $1 $2"
    $py -c 'import json,sys; m = json.load(open(sys.argv[1]))["cv"]["mean"]; print(list(m.values())[0])' "s_$1.json"
}
ref() { # method target data task: scikit-learn's mean score over the same folds
    ref_py - "$@" <<'PY'
import sys, warnings, numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import StackingClassifier, StackingRegressor, VotingClassifier, VotingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
warnings.simplefilter("ignore")
method, target, path, task = sys.argv[1:]
d = pd.read_csv(path); y = d.pop(target)
cat = [c for c in d.columns if d[c].dtype == object]
onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
cls = task == "c"
lin = make_pipeline(ColumnTransformer([("oh", onehot, cat)], remainder="passthrough"), StandardScaler(),
                    LogisticRegression() if cls else Ridge())
tree = make_pipeline(ColumnTransformer([("od", ordinal, cat)], remainder="passthrough"),
                     (DecisionTreeClassifier if cls else DecisionTreeRegressor)(max_depth=5, random_state=0))
members = [("lin", lin), ("tree", tree)]
inner = (StratifiedKFold if cls else KFold)(5, shuffle=True, random_state=0)
model = {"stacking": lambda: (StackingClassifier(members, final_estimator=LogisticRegression(), cv=inner) if cls
                              else StackingRegressor(members, final_estimator=Ridge(), cv=inner)),
         "soft_vote": lambda: VotingClassifier(members, voting="soft"),
         "hard_vote": lambda: VotingClassifier(members, voting="hard"),
         "mean": lambda: VotingRegressor(members)}[method]()
outer = StratifiedKFold(5) if cls else KFold(5)
print(cross_val_score(model, d, y, cv=outer, scoring="accuracy" if cls else "r2").mean())
PY
}
close() { # what, kiln, sklearn, tolerance (the sanitizer build has no reference figure)
    if sanitized; then return 0; fi
    $py -c 'import sys; k, s, t = map(float, sys.argv[2:]); print(f"{sys.argv[1]:34s} kiln {k:.4f}  sklearn {s:.4f}  diff {k - s:+.4f}"); sys.exit(abs(k - s) > t)' "$@" ||
        fail "$1: kiln $2, sklearn $3: beyond $4"
}

# 1. parity
for m in stacking soft_vote hard_vote; do
    close "$m lending_club term (accuracy)" "$(cvmean $m term lc.csv c)" "$(ref $m term lc.csv c)" 0.01
done
cp s_stacking.yaml lc_stacking.yaml
for m in stacking mean; do
    close "$m cps1985 wage (R^2)" "$(cvmean $m wage cps.csv r)" "$(ref $m wage cps.csv r)" 0.02
done

# 2. save -> load -> predict: a held-out file scored in memory by kiln run,
# then from the saved artifact by kiln eval, predict and serve
tail -n +2502 lc.csv > tail.csv
{ head -n 1 lc.csv; cat tail.csv; } > test.csv
head -n 2501 lc.csv > train.csv
printf 'sources:\n  d: {file: train.csv}\n  t: {file: test.csv}\nframe: {from: d}\n' > held.yaml.new
printf 'steps:\n  - simple_imputer: {strategy: median}\n' >> held.yaml.new # shared by the members
sed -n '/^target:/,$p' lc_stacking.yaml | sed -e 's/  test: false/  test: {source: t}/' -e 's/  cv: {.*}/  cv: false/' \
    -e 's/  metrics: \[accuracy\]/  metrics: [accuracy, log_loss]/' >> held.yaml.new
mv held.yaml.new held.yaml
"$KILN" -q --json run held.yaml --no-store --out held.kiln > held.json || fail "held-out run"
"$KILN" -q --json eval --model held.kiln --data test.csv > eval.json || fail "kiln eval"
$py - held.json eval.json <<'PY' || fail "eval from the artifact differs from the run's scores"
import json, sys
run, ev = (json.load(open(p)) for p in sys.argv[1:])
t = run["test"]
got = ev.get("scores", ev.get("metrics", ev))
for k in ("accuracy", "log_loss"):
    assert t[k] == got[k], (k, t[k], got[k])
print(f"held-out 500 rows: accuracy {t['accuracy']:.4f}, log_loss {t['log_loss']:.6f} before and after saving")
PY
"$KILN" -q predict --model held.kiln --data test.csv --proba --out pred.csv || fail "kiln predict"
[ "$(wc -l < pred.csv)" = 501 ] || fail "kiln predict: $(wc -l < pred.csv) lines"
"$KILN" inspect held.kiln > inspect.txt || fail "kiln inspect"
grep -q "^pipeline: *simple_imputer -> logistic_regression" inspect.txt || fail "kiln inspect: $(cat inspect.txt)"
grep -q "^ensemble: *stacking of 2 members: \[onehot_encoder -> standard_scaler -> logistic_regression\] \[ordinal_encoder -> decision_tree\]" inspect.txt ||
    fail "kiln inspect: $(cat inspect.txt)"
# through the registry: registered by kiln run, predicted by name@stage
{ cat held.yaml; echo "register: {name: lcens, stage: production}"; } > reg.yaml
"$KILN" -q run reg.yaml --store st > /dev/null || fail "kiln run --store"
"$KILN" -q predict --model lcens@production --store st --data test.csv --proba --out pred2.csv ||
    fail "kiln predict from the registry"
cmp -s pred.csv pred2.csv || fail "the registered artifact predicts otherwise"

# kiln serve answers with the artifact: one row (the frame path) and a batch
$py - test.csv <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
num = lambda v: float(v) if v.replace(".", "", 1).replace("-", "", 1).isdigit() else v
inst = [{k: num(v) for k, v in r.items() if k != "term"} for r in rows[:20]]
json.dump({"instances": inst[:1]}, open("one.json", "w"))
json.dump({"instances": inst}, open("batch.json", "w"))
PY
start_server --model lc=held.kiln
expect_status 200 POST /v1/models/lc:predict one.json
cp "$W/body" one_out.json
expect_status 200 POST /v1/models/lc:predict batch.json
$py - "$W/body" one_out.json pred.csv <<'PY' || fail "serve's answers differ from kiln predict's"
import csv, json, sys
batch, one = (json.load(open(p)) for p in sys.argv[1:3])
want = list(csv.DictReader(open(sys.argv[3])))[:20]
for p, w in zip(one["predictions"] + batch["predictions"], want[:1] + want):
    assert p["label"] == w["prediction"], (p, w)
    for c, v in p["probabilities"].items():
        assert v == float(w["proba_" + c]), (c, v, w)
assert len(batch["predictions"]) == 20
print("kiln serve: one row and 20 rows answer as kiln predict (labels, probabilities)")
PY
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve did not exit 0 on SIGTERM: $(cat "$W/serve.err")"
SERVE_PID=

# kiln compare models takes an ensemble spec's pipeline (members and all)
"$KILN" -q --json compare models --data cps.csv --spec s_mean.yaml --spec s_stacking.yaml \
    --folds 3 --repeats 1 > cmp.json || fail "compare models of ensemble specs"
$py - cmp.json s_mean.json <<'PY' || fail "compare models: $(cat cmp.json)"
import json, sys
j = json.load(open(sys.argv[1]))
text = json.dumps(j)
assert "s_mean.yaml" in text and "s_stacking.yaml" in text, text[:300]
PY

# 3. the same bytes on 1 and 2 threads
"$KILN" -q --threads 1 run lc_stacking.yaml --no-store --out t1.kiln > /dev/null || fail "threads 1"
"$KILN" -q --threads 2 run lc_stacking.yaml --no-store --out t2.kiln > /dev/null || fail "threads 2"
cmp -s t1.kiln t2.kiln || fail "stacking artifacts differ between 1 and 2 threads"
spec soft_vote term lc.csv c > v.yaml
"$KILN" -q --threads 1 run v.yaml --no-store --out v1.kiln > /dev/null || fail "vote threads 1"
"$KILN" -q --threads 2 run v.yaml --no-store --out v2.kiln > /dev/null || fail "vote threads 2"
cmp -s v1.kiln v2.kiln || fail "vote artifacts differ between 1 and 2 threads"

# 4. bad input, before any data: the spec points at a file that does not
# exist, so an error that names the spec's place came before the read
bad() { # message, then the spec's ensemble: block on stdin
    { printf 'sources:\n  d: {file: missing.csv}\ntarget: y\n'; cat; } > bad.yaml
    expect "$1" 1 "$KILN" run bad.yaml --no-store --out bad.kiln
    grep -q "bad.yaml:[0-9]*:[0-9]*" "$W/err" || fail "no file:line:column: $(cat "$W/err")"
}
bad "a list of 1 member; an ensemble needs at least two" <<'EOF'
ensemble:
  method: soft_vote
  members:
    - model: logistic_regression
EOF
bad "member 2 has no model" <<'EOF'
ensemble:
  method: soft_vote
  members:
    - model: logistic_regression
    - steps: [standard_scaler]
EOF
bad "votes on classes, but task: makes it a regression: use method: mean" <<'EOF'
task: regression
ensemble:
  method: hard_vote
  members:
    - model: decision_tree
    - model: knn_classifier
EOF
bad "votes on classes, but member 1 (ridge) makes it a regression" <<'EOF'
ensemble:
  method: hard_vote
  members:
    - model: ridge
    - model: decision_tree
EOF
bad "unknown ensemble method 'stackng'.*did you mean 'stacking'" <<'EOF'
ensemble:
  method: stackng
  members: [{model: ridge}, {model: lasso}]
EOF
bad "unknown ensemble key 'memberz'.*did you mean 'members'" <<'EOF'
ensemble:
  method: mean
  memberz: [{model: ridge}, {model: lasso}]
EOF
bad "unknown ensemble member key 'modle'.*did you mean 'model'" <<'EOF'
ensemble:
  method: mean
  members: [{modle: ridge}, {model: lasso}]
EOF
bad "stacking needs final:" <<'EOF'
ensemble:
  method: stacking
  members: [{model: ridge}, {model: lasso}]
EOF
bad "final: is stacking's model" <<'EOF'
ensemble:
  method: mean
  members: [{model: ridge}, {model: lasso}]
  final: ridge
EOF
bad "model: and ensemble: are both given" <<'EOF'
model: ridge
ensemble:
  method: mean
  members: [{model: ridge}, {model: lasso}]
EOF
# a hard vote of members that follow the target, on a continuous target:
# refused once the task is known, before any member is fitted
spec hard_vote wage cps.csv c | sed 's/metrics: \[accuracy\]/metrics: [r2]/' > hv.yaml
expect "method hard_vote votes on classes, but 'wage' is a regression target" 1 \
    "$KILN" run hv.yaml --no-store --out hv.kiln
grep -q "info: cv\|info: fit" "$W/err" && fail "a member was fitted before the error: $(cat "$W/err")"
echo "ok"
