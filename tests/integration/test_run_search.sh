#!/bin/bash
# kiln run with a searched model (model: {name, params, search}): the search
# runs as kiln tune's (6 random trials, steps inside each fold; the same
# trials as kiln tune), the best trial's parameters are refitted on the
# training rows (the same test score as a spec that fixes them), the
# artifact keeps the trials (kiln inspect, kiln report), the same spec, data
# and seed give the same bytes, and a bad space or search is an error naming
# file:line:column before any data is read.
set -u
. "$(dirname "$0")/lib.sh"
K=${KILN:?}
D=${KILN_TEST_DATA:?}
cp "$D/lending_club.csv" "$W/loans.csv"
cd "$W" || exit 1

head() { # the spec's sources, target and steps
    printf 'sources:\n  loans: {file: %s}\ntarget: Class\nsteps:\n  - simple_imputer: {strategy: median}\n' "$1"
}
tail_() { # evaluation and seed
    printf 'evaluation:\n  cv: {folds: 3, split: stratified}\n  metrics: [roc_auc, accuracy]\n'
    printf '  positive_class: bad\n  test: {fraction: 0.25}\nseed: 3\n'
}
{ head loans.csv; cat <<'EOF2'
model:
  name: gbdt
  params: {n_estimators: 20}
  search:
    strategy: random
    trials: 6
    cv: 3
    metric: roc_auc
    space:
      learning_rate: {log: [0.01, 0.3]}
      max_depth: {int: [2, 6]}
EOF2
tail_; } > search.yaml

# 1. six trials, the best chosen, its parameters the model's
$K --json --threads 1 run search.yaml --no-store --out a1.kiln > run.json 2> run.err ||
    fail "run: $(cat run.err)"
grep -q "info: search: 6 trials, best trial" run.err || fail "no search progress line: $(cat run.err)"
$py - run.json > chosen.txt <<'PY' || fail "run --json: $(cat run.json)"
import json, sys
r = json.load(open(sys.argv[1]))
s = r["search"]
assert s["strategy"] == "random" and s["metric"] == "roc_auc" and s["higher_is_better"], s
t = s["trials"]
assert [x["trial"] for x in t] == list(range(6)), t
assert all(x["status"] == "ok" and set(x["params"]) == {"learning_rate", "max_depth"} for x in t), t
assert len({json.dumps(x["params"], sort_keys=True) for x in t}) == 6, "repeated configurations"
best = max(t, key=lambda x: (x["score"], -x["trial"]))
assert s["best"]["trial"] == best["trial"] and s["best"]["params"] == best["params"], s["best"]
for x in t:
    lr, d = float(x["params"]["learning_rate"]), int(x["params"]["max_depth"])
    assert 0.01 <= lr <= 0.3 and 2 <= d <= 6, x
# the evaluation's CV (same folds) scores the chosen model: the best trial's score
assert abs(r["cv"]["mean"]["roc_auc"] - best["score"]) < 1e-12, (r["cv"], best)
print(best["params"]["learning_rate"], best["params"]["max_depth"], repr(r["test"]["roc_auc"]))
PY
read -r lr depth auc < chosen.txt

# 2. refitted on the training rows: the same test score as the parameters fixed
{ head loans.csv; printf 'model:\n  gbdt: {n_estimators: 20, learning_rate: %s, max_depth: %s}\n' "$lr" "$depth"
  tail_; } > fixed.yaml
$K --json run fixed.yaml --no-store --out f.kiln > fixed.json 2> fixed.err || fail "fixed: $(cat fixed.err)"
$py - fixed.json "$auc" <<'PY' || fail "the searched model is not the best trial's refit"
import json, sys
r = json.load(open(sys.argv[1]))
assert repr(r["test"]["roc_auc"]) == sys.argv[2], (r["test"], sys.argv[2])
PY

# 3. the artifact keeps the trials and the choice; inspect and the report show them
$K inspect a1.kiln > insp.txt || fail "inspect"
grep -q "^search: .*random, 6 trials, best trial .*learning_rate=$lr max_depth=$depth" insp.txt ||
    fail "inspect shows no chosen parameters: $(grep -v metrics: insp.txt)"
$K --json inspect a1.kiln > insp.json || fail "inspect --json"
$py - insp.json run.json <<'PY' || fail "artifact search: $(head -c 2000 insp.json)"
import json, sys
a = json.load(open(sys.argv[1]))["metrics"]["search"]
r = json.load(open(sys.argv[2]))["search"]
assert a["best"] == {k: r["best"][k] for k in a["best"]}, (a["best"], r["best"])
assert len(a["trials"]) == 6 and all(len(t["folds"]) == 3 for t in a["trials"]), a
assert [t["params"] for t in a["trials"]] == [t["params"] for t in r["trials"]]
assert not any("seconds" in t or "cost" in t for t in a["trials"]), "timings in the artifact"
PY
$K report a1.kiln --out report.html > /dev/null || fail "report"
grep -q "Hyperparameter search" report.html || fail "no search section in the report"
grep -q "Search history" report.html || fail "no search history in the report"
grep -q "learning_rate=$lr, max_depth=$depth" report.html || fail "the report lacks the best configuration"

# 4. the same spec, data and seed give the same bytes (on 1 and 2 threads); another
#    search seed other trials
$K -q --threads 2 run search.yaml --no-store --out a2.kiln > /dev/null || fail "threads 2"
cmp -s a1.kiln a2.kiln || fail "the artifacts of two runs differ"
sed 's/    metric: roc_auc/    metric: roc_auc\n    seed: 11/' search.yaml > seed11.yaml
$K --json run seed11.yaml --no-store --out a3.kiln > seed11.json 2> /dev/null || fail "seed 11"
$py - run.json seed11.json <<'PY' || fail "the search's seed changed nothing"
import json, sys
a, b = (json.load(open(p))["search"] for p in sys.argv[1:])
assert b["seed"] == 11 and a["seed"] == 3, (a["seed"], b["seed"])
assert [t["params"] for t in a["trials"]] != [t["params"] for t in b["trials"]]
PY

# 5. the same search as kiln tune's: with shuffled stratified folds, the same
#    hold-out and seed, the same trials with the same scores and test score
sed 's/  cv: {folds: 3, split: stratified}/  cv: {folds: 3, split: stratified, shuffle: true}/' \
    search.yaml > shuffled.yaml
$K --json run shuffled.yaml --no-store --out s.kiln > shuffled.json 2> /dev/null || fail "shuffled"
printf 'learning_rate: {log: [0.01, 0.3]}\nmax_depth: {int: [2, 6]}\n' > tune_space.yaml
$K --json tune --data loans.csv --target Class --model gbdt --param n_estimators=20 \
    --step simple_imputer:strategy=median --space tune_space.yaml --trials 6 --folds 3 \
    --stratify --seed 3 --test-fraction 0.25 --metric roc_auc --positive-class bad \
    > tune.json 2> tune.err || fail "tune: $(cat tune.err)"
$py - shuffled.json tune.json <<'PY' || fail "kiln run's search is not kiln tune's"
import json, sys
r, t = (json.load(open(p)) for p in sys.argv[1:])
a = [(x["params"], x["score"]) for x in r["search"]["trials"]]
b = [(x["params"], x["score"]) for x in t["trials"]]
assert a == b, (a, b)
assert r["test"]["roc_auc"] == t["test"]["score"], (r["test"], t["test"])
PY

# 6. a bad space or search fails at the spec's line and column, before any data
#    is read (the source does not exist)
bad() { # LINES-OF-THE-SEARCH MESSAGE
    { head nowhere.csv; printf 'model:\n  name: gbdt\n  params: {n_estimators: 20}\n  search:\n'
      printf '%s\n' "$1"; tail_; } > bad.yaml
    expect "$2" 1 $K run bad.yaml --no-store --out b.kiln
    grep -q "nowhere" "$W/err" && fail "the data was read before the search was checked: $(cat "$W/err")"
    return 0
}
bad '    space:
      max_dept: {int: [2, 6]}
      learning_rate: {log: [0.01, 0.3]}' "bad.yaml:11:7: gbdt has no parameter 'max_dept'"
bad '    space:
      learning_rate: {log: [0, 0.3]}' "bad.yaml:11:28: learning_rate: log: \[0, 0.3\] reaches 0"
bad '    space:
      max_depth: {int: [6, 2]}' "bad.yaml:11:24: max_depth: int: \[6, 2\] is an empty range"
bad '    trials: 0
    space: {max_depth: {int: [2, 6]}}' "bad.yaml:10:13: trials: 0 is outside 1..1000000"
bad '    strategy: grid
    space: {learning_rate: {log: [0.01, 0.3]}}' "bad.yaml:11:28: learning_rate: strategy: grid needs grid: N"
bad '    space: {n_estimators: {int: [10, 50]}}' "bad.yaml:10:13: n_estimators is searched and also fixed"
bad '    stratgy: tpe
    space: {max_depth: {int: [2, 6]}}' "bad.yaml:10:5: unknown search key 'stratgy'"
bad '    strategy: bayes
    space: {max_depth: {int: [2, 6]}}' "bad.yaml:10:15: strategy 'bayes' is not one of random, grid, tpe, halving"
bad '    trials: 4' "bad.yaml:10:5: search needs space:"

# 7. kiln tune's space file: an unknown parameter before a good one is the error
#    (it was lost, and the search crashed on the half-read space)
printf 'max_dept: {int: [2, 6]}\nlearning_rate: {log: [0.01, 0.3]}\n' > space.yaml
expect "space.yaml:1:1: gbdt has no parameter 'max_dept'" 1 \
    $K tune --data loans.csv --target Class --model gbdt --space space.yaml --trials 2
echo OK
