#!/bin/bash
# kiln run: a spec end to end with the real binary: the summary and JSON,
# byte-identical artifacts on 1 and 2 threads, CV on the training rows only,
# the store and the registry, and the spec's errors with file:line:column.
set -u
. "$(dirname "$0")/lib.sh"
K=${KILN:?}
D=${KILN_TEST_DATA:?}
cp "$D/lending_club.csv" "$W/loans.csv"
cd "$W" || exit 1

cat > spec.yaml <<'EOF'
sources:
  loans: {file: loans.csv}
target: Class
steps:
  - simple_imputer: {strategy: median}
model:
  gbdt: {n_estimators: 30, learning_rate: 0.1}
evaluation:
  cv: {folds: 3, split: stratified}
  metrics: [roc_auc, accuracy]
  positive_class: bad
  test: {fraction: 0.25}
register: {name: loans, stage: staging}
seed: 3
description: flags loans likely to go bad
EOF

# 1. the JSON summary: rows, CV on the training rows, test beside the baseline
$K --json run spec.yaml --store st > run.json 2> run.err || fail "run: $(cat run.err)"
$py - run.json <<'PY' || fail "run --json: $(cat run.json)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["command"] == "run" and r["task"] == "classification", r
rows = r["rows"]
assert rows["in"] == rows["kept"] == 9857 and rows["train"] + rows["test"] == 9857, rows
assert rows["test"] == round(9857 * 0.25) or abs(rows["test"] - 9857 * 0.25) < 3, rows
assert r["cv"]["k"] == 3 and len(r["cv"]["folds"]) == 3
assert set(r["cv"]["mean"]) == {"roc_auc", "accuracy"}
assert 0.6 < r["test"]["roc_auc"] < 0.9 and r["baseline"]["roc_auc"] == 0.5, r
assert r["positive_class"] == "bad"
assert r["artifact"]["bytes"] > 1000 and len(r["artifact"]["hash"]) == 64
assert r["registered"] == {"name": "loans", "version": 1, "stage": "staging", "replaced": None}, r
assert r["run_id"].startswith("r") and r["cost"] > 0
names = [s["name"] for s in r["stages"]]
for want in ("sources", "lineage", "split", "cv", "fit", "test", "artifact", "store"):
    assert want in names, names
PY
# a progress line per stage on standard error
for s in data split cv fit test artifact; do
    grep -q "info: $s: " run.err || fail "no progress line for $s: $(cat run.err)"
done

# 2. the human summary names the next commands; a second run is version 2
$K run spec.yaml --store st > run.txt 2>&1 || fail "second run: $(cat run.txt)"
grep -q "cv        3 folds (stratified, rows shuffled by seed [0-9]*)" run.txt || fail "summary: $(cat run.txt)"
grep -q "baseline 0.5000" run.txt || fail "no baseline: $(cat run.txt)"
# a stage holds one version: the summary names the one this run moved out
grep -q "model     loans v2 (stage staging; v1 left staging for archived)" run.txt ||
    fail "version 2: $(cat run.txt)"
grep -q "kiln predict --model loans@staging" run.txt || fail "next commands: $(cat run.txt)"

# 3. byte-identical artifacts for the same spec, data and seed on 1 and 2 threads
$K -q --threads 1 run spec.yaml --no-store --out a1.kiln || fail "threads 1"
$K -q --threads 2 run spec.yaml --no-store --out a2.kiln || fail "threads 2"
cmp -s a1.kiln a2.kiln || fail "artifacts differ between 1 and 2 threads"
$K -q run spec.yaml --no-store --out a3.kiln --seed 4 || fail "seed 4"
cmp -s a1.kiln a3.kiln && fail "another seed gave the same artifact"
# the stored artifact is the same bytes, content-addressed
ls st/artifacts/*.kiln > /dev/null 2>&1 || fail "no artifact in the store"

# 4. a prep-only spec is still what kiln prep runs; kiln prep refuses a run spec
cat > prep.yaml <<'EOF'
sources:
  loans: {file: loans.csv}
output: prepared.csv
EOF
$K -q prep prep.yaml || fail "prep-only spec"
expect "kiln run spec.yaml" 1 $K prep spec.yaml
expect "no model: to train" 1 $K run prep.yaml --no-store --out x.kiln

# 5. the spec's errors name file:line:column and the fix; nothing is written
bad() { # bad NAME 'yaml' 'message'
    printf '%s\n' "$2" > "$1.yaml"
    expect "$3" 1 $K run "$1.yaml" --store st2
    [ -e st2 ] && fail "$1: a failed spec made a store"
    return 0
}
bad unknown_model 'sources: {l: {file: loans.csv}}
target: Class
model: {gbm: {}}' "unknown_model.yaml:3:9: .*gbm"
bad bad_param 'sources: {l: {file: loans.csv}}
target: Class
model: {gbdt: {n_estimators: -3}}' "bad_param.yaml:3:15: model gbdt: .*n_estimators"
bad unknown_key 'sources: {l: {file: loans.csv}}
target: Class
model: gbdt
evaluation: {folds: 3}' "unknown_key.yaml:4:14: unknown evaluation key 'folds'"
bad no_target 'sources: {l: {file: loans.csv}}
model: gbdt' "no_target.yaml:1:1: a spec with a model needs target"
bad bad_split 'sources: {l: {file: loans.csv}}
target: Class
model: gbdt
evaluation: {cv: {split: random}}' "bad_split.yaml:4:26: split 'random'"
bad bad_fraction 'sources: {l: {file: loans.csv}}
target: Class
model: gbdt
evaluation: {test: {fraction: 1.5}}' "fraction is a share"
bad bad_metric 'sources: {l: {file: loans.csv}}
target: Class
model: gbdt
evaluation: {metrics: [auc]}' "bad_metric.yaml:4:23: .*auc"
# columns only the data can check still name the spec's line:column, with a
# near name among the data's columns
bad target_typo 'sources: {l: {file: loans.csv}}
target: Clas
model: gbdt' "target_typo.yaml:2:9: target: the frame has no column 'Clas' (did you mean 'Class'?)"
bad ignore_typo 'sources: {l: {file: loans.csv}}
target: Class
ignore:
  - term
  - int_rte
model: gbdt' "ignore_typo.yaml:5:5: ignore: the frame has no column 'int_rte' (did you mean 'int_rate'?)"
bad ignore_flow 'sources: {l: {file: loans.csv}}
target: Class
ignore: [term, nowhere_at_all]
model: gbdt' "ignore_flow.yaml:3:16: ignore: the frame has no column 'nowhere_at_all'$"
bad test_by_typo 'sources: {l: {file: loans.csv}}
target: Class
model: gbdt
evaluation:
  test: {by: funded_amt, from: 10000}' "test_by_typo.yaml:5:14: evaluation: test: by: the frame has no column 'funded_amt' (did you mean 'funded_amnt'?)"
bad slice_typo 'sources: {l: {file: loans.csv}}
target: Class
model: gbdt
evaluation: {slice_by: addr_stat}' "slice_typo.yaml:4:24: evaluation: slice_by: the test rows have no column 'addr_stat' (did you mean 'addr_state'?)"
# kiln cv and kiln tune take no spec (an ensemble: is kiln run's): a spec
# given to them is refused naming kiln run, not taken as a stray argument
expect "cv: takes no spec file (spec.yaml): 'kiln run spec.yaml' runs a spec, its evaluation: cv:, model: search: and ensemble: included" \
    2 $K cv spec.yaml
expect "tune: takes no spec file (spec.yaml): 'kiln run spec.yaml'" 2 \
    $K tune --data loans.csv --target Class --model gbdt spec.yaml
# a missing data file: the run fails naming it; the store is left as it was
printf 'sources: {l: {file: nowhere.csv}}\ntarget: Class\nmodel: gbdt\n' > missing.yaml
expect "nowhere.csv" 1 $K run missing.yaml --store st3
[ -e st3 ] && fail "a failed run made a store"
state() { # the store's rows and artifact files
    $py -c "import sqlite3; print('\n'.join(sqlite3.connect('st/kiln.db').iterdump()))"
    ls st/artifacts
}
state > before.txt
expect "nowhere.csv" 1 $K run missing.yaml --store st
# a full disk: the artifact cannot be written; the device stays a device
expect "/dev/full" 1 $K run spec.yaml --store st --out /dev/full
[ -c /dev/full ] || fail "/dev/full is no longer a device"
state > after.txt
cmp -s before.txt after.txt || fail "a failed run changed the store: $(diff before.txt after.txt | head)"
# a target that is not a column
printf 'sources: {l: {file: loans.csv}}\ntarget: klass\nmodel: gbdt\n' > notcol.yaml
expect "no column 'klass'" 1 $K run notcol.yaml --no-store --out n.kiln
[ -e n.kiln ] && fail "a failed run wrote its --out"

# 6. a time cut and no CV
$py - <<'PY'
import csv
rows = list(csv.reader(open("loans.csv")))
with open("timed.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(rows[0] + ["t"])
    for i, r in enumerate(rows[1:]):
        w.writerow(r + [i])
PY
cat > cut.yaml <<'EOF'
sources:
  l: {file: timed.csv}
target: Class
model: {logistic_regression: {max_iter: 200}}
steps:
  - simple_imputer: {}
  - onehot_encoder: {handle_unknown: ignore}
  - standard_scaler: {}
evaluation:
  cv: false
  test: {by: t, from: 8000}
EOF
$K --json run cut.yaml --no-store --out cut.kiln > cut.json 2> cut.err || fail "time cut: $(cat cut.err)"
$py - cut.json <<'PY' || fail "time cut: $(cat cut.json)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["rows"]["train"] == 8000 and r["rows"]["test"] == 1857, r["rows"]
assert "cv" not in r
PY
# 7. a separate source as the test set; the run records the steps' parameters
head -8001 loans.csv > first.csv
{ head -1 loans.csv; tail -n +8002 loans.csv; } > later.csv
cat > bysource.yaml <<'EOF'
sources:
  train: {file: first.csv}
  later: {file: later.csv}
frame: {from: train}
target: Class
steps:
  - simple_imputer: {strategy: median}
model: {gbdt: {n_estimators: 20}}
evaluation: {cv: false, test: {source: later}}
EOF
$K --json run bysource.yaml --store st4 > src.json 2> src.err || fail "test source: $(cat src.err)"
$py - src.json <<'PY' || fail "test source: $(cat src.json)"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["rows"]["train"] == 8000 and r["rows"]["test"] == 1857, r["rows"]
PY
$K --json runs show latest --store st4 > show.json 2>&1 || fail "runs show: $(cat show.json)"
grep -q 'step.1=simple_imputer\|"step.1": "simple_imputer"' show.json &&
    grep -q 'step.1.strategy=median\|"step.1.strategy": "median"' show.json ||
    fail "the steps' parameters are not recorded: $(head -c 1500 show.json)"
# 8. two specs on the same data, split and seed: their fold scores pair
sed 's/n_estimators: 30/n_estimators: 10/; s/name: loans, stage: staging/name: loans2/' spec.yaml > spec2.yaml
$K -q run spec2.yaml --store st > /dev/null || fail "spec2"
ids=$($py -c "import sqlite3; print(' '.join('r%06d' % i for (i,) in sqlite3.connect('st/kiln.db').execute('SELECT id FROM runs ORDER BY id DESC LIMIT 2')))")
$K runs compare $ids --store st > cmp.txt 2>&1 || fail "compare: $(cat cmp.txt)"
grep -q "over 3 folds.*p = " cmp.txt || fail "no paired test for runs on the same folds: $(tail -3 cmp.txt)"
# 9. the gate: a version that requires a column production's callers do not
# send stays out of production, registered at stage none with the reason
$py -c "
import csv
r = list(csv.reader(open('loans.csv')))
w = csv.writer(open('wider.csv', 'w', newline=''))
w.writerow(r[0] + ['extra'])
for i, row in enumerate(r[1:]): w.writerow(row + [i % 7])
"
printf 'sources: {l: {file: loans.csv}}\ntarget: Class\nmodel: {gbdt: {n_estimators: 10}}\nevaluation: {cv: false}\nregister: {name: g, stage: production}\n' > g1.yaml
sed 's/loans.csv/wider.csv/' g1.yaml > g2.yaml
$K -q run g1.yaml --store sg > /dev/null || fail "gate: first version"
expect "recorded as g v2 (stage none), but the gate kept it out of production: .*requires column 'extra'" 1 \
    $K run g2.yaml --store sg
$K --json models versions g --store sg > gv.json || fail "versions after a refusal"
$py - gv.json <<'PY' || fail "gate refusal: $(cat gv.json)"
import json, sys
v = json.load(open(sys.argv[1]))
vs = v["versions"] if isinstance(v, dict) else v
st = {x["version"]: x["stage"] for x in vs}
assert st == {1: "production", 2: "none"}, st
PY
# one row of new data scores (the schema's row-count bounds are for training batches)
head -2 loans.csv > one.csv
$K -q predict --model g@production --store sg --data one.csv --out one_pred.csv || fail "one-row predict"
[ "$(wc -l < one_pred.csv)" = 2 ] || fail "one-row predict: $(cat one_pred.csv)"
# --out may not replace an input or the store's database
expect "is the input" 2 $K run spec.yaml --no-store --out loans.csv
expect "store's database" 2 $K run spec.yaml --store st --out st/kiln.db
# a secret key with a changed digit is refused before any work
$K -q keygen --out k > /dev/null || fail "keygen"
$py -c "
s = open('k.key').read(); i = len('kiln-secret-key ') + 3
open('bad.key', 'w').write(s[:i] + ('0' if s[i] != '0' else '1') + s[i + 1:])"
expect "damaged secret key" 1 $K run spec.yaml --no-store --sign-key bad.key --out bad.kiln
[ -e bad.kiln ] && fail "a damaged key signed an artifact"
echo ok
