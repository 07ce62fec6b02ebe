#!/bin/bash
# The retraining trigger on concrete (compressive strength, RMSE) in a real
# store. Production v1 is a small GBDT fitted on the mixes with little
# cement; the fresh rows and the holdout are mixes with much cement.
# - kiln monitor check --alerts (a rule with retrain:) --record finds the
#   drift, opens an incident and retrains: the run is recorded, registered
#   as v2 at staging, scored with production on the holdout (both RMSEs
#   equal Python's on kiln predict's output, 1e-9) and promoted; the audit
#   rows of every step are there in order;
# - the same incident checked again starts no second retrain;
# - a spec on a shuffled target is registered to staging (v3) but not
#   promoted, the reason named; production stays v2;
# - a retrain that another process holds (its trigger row without an end
#   row) is skipped, unless older than --stale-hours;
# - clear errors, each leaving production as it was: a spec whose target
#   differs, a holdout without the target, a missing spec, a retrain rule
#   without --record;
# - a model with no production version: the retrain's version is promoted
#   when the gate passes.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=$(cd "${KILN_TEST_DATA:?tests/data}" && pwd)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/retrain_lib.sh"
require_sklearn
cd "$W"
concrete_split "$DATA"
retrain_spec v1.yaml '{n_estimators: 15, max_leaves: 4}' 'register: {name: concrete, stage: production}'
retrain_spec retrain.yaml '{n_estimators: 200, learning_rate: 0.1, max_leaves: 15, min_samples_leaf: 5}'
TARGET=age retrain_spec wrong_target.yaml '{n_estimators: 20}'
"$KILN" -q run v1.yaml --store st > /dev/null
cat > alerts.yaml <<'EOF'
rules:
  - name: mix_moved
    metric: psi
    column: cement
    condition: "> 0.2"
    severity: critical
    retrain: {spec: retrain.yaml, data: fresh.csv, holdout: holdout.csv, margin: 0.5}
EOF
production() {
    "$KILN" models versions concrete --store st --json |
        $py -c 'import json, sys; print([v["version"] for v in json.load(sys.stdin)["versions"] if v["stage"] == "production"])'
}
audit() { "$KILN" models audit concrete --store st --json > audit.json; }

# 1. drift fires, the rule retrains, the better model is promoted
rc=0
"$KILN" -q monitor check --model concrete@production --data fresh.csv --reference old.csv \
    --alerts alerts.yaml --record --store st --json > check1.json || rc=$?
[ "$rc" = 1 ] || fail "check with drift: rc $rc"
"$KILN" -q predict --model concrete@v1 --data nolabel.csv --store st --out p1.csv
"$KILN" -q predict --model concrete@v2 --data nolabel.csv --store st --out p2.csv
audit
$py - <<'PY' || fail "retrain by the alert rule"
import json, numpy as np, pandas as pd
a = json.load(open("check1.json"))["alerts"][0]
r = a["retrain"]
assert a["open"] and a["new"] and r["outcome"] == "promoted", a
assert r["version"] == 2 and r["production_version"] == 1 and r["metric"] == "rmse", r
y = pd.read_csv("holdout.csv")["compressive_strength"].to_numpy()
rmse = lambda f: np.sqrt(np.mean((pd.read_csv(f)["prediction"].to_numpy() - y) ** 2))
assert abs(r["staging"] - rmse("p2.csv")) < 1e-9 and abs(r["production"] - rmse("p1.csv")) < 1e-9, (r, rmse("p1.csv"), rmse("p2.csv"))
assert r["production"] - r["staging"] >= 0.5 and r["holdout_rows"] == len(y)
rows = json.load(open("audit.json"))["audit"][::-1]   # oldest first
steps = [(x["action"], x["version"], x["from"], x["to"]) for x in rows[2:]]
want = [("retrain trigger", 0, None, None), ("retrain run started", 0, None, None),
        ("retrain run finished", 0, None, None), ("register", 2, None, "none"),
        ("promote", 2, "none", "staging"), ("retrain compare", 2, None, None),
        ("replaced", 1, "production", "archived"), ("promote", 2, "staging", "production"),
        ("retrain promoted", 2, None, None)]
assert steps == want, steps
trig, fin, cmp, done = rows[2], rows[4], rows[7], rows[10]
assert trig["reason"] == "rule mix_moved, incident %d" % a["incident"], trig
assert '"rule":"mix_moved"' in trig["detail"] and fin["run"] == r["run_id"], (trig, fin)
assert "staging v2 %.6g, production v1 %.6g" % (r["staging"], r["production"]) in cmp["detail"], cmp
assert done["reason"] == "v2 replaces v1 in production", done
PY
[ "$(production)" = "[2]" ] || fail "production after the retrain: $(production)"

# 2. the same incident again: no second retrain
rc=0
"$KILN" -q monitor check --model concrete@production --data fresh.csv --reference old.csv \
    --alerts alerts.yaml --record --store st --json > check2.json || rc=$?
[ "$rc" = 1 ] || fail "second check: rc $rc"
audit
$py - <<'PY' || fail "one retrain per incident"
import json
r = json.load(open("check2.json"))["alerts"][0]["retrain"]
assert r["outcome"] == "skipped" and "was started for rule mix_moved, incident 1" in r["reason"], r
rows = json.load(open("audit.json"))["audit"]
assert sum(x["action"] == "retrain trigger" for x in rows) == 1, rows
PY

# 3. a worse spec: registered to staging, not promoted, the reason named
rc=0
"$KILN" -q monitor retrain --model concrete --spec retrain.yaml --data shuffled.csv \
    --holdout holdout.csv --margin 0.5 --store st --json > worse.json || rc=$?
[ "$rc" = 1 ] || fail "worse spec: rc $rc"
audit
$py - <<'PY' || fail "worse spec refused"
import json
r = json.load(open("worse.json"))
assert r["outcome"] == "refused" and r["version"] == 3 and r["staging"] > r["production"], r
assert "staging v3's rmse on the holdout" in r["reason"] and "is not better than production v2's" in r["reason"], r
rows = json.load(open("audit.json"))["audit"]
assert rows[0]["action"] == "retrain refused" and rows[0]["reason"] == r["reason"], rows[0]
assert [x["action"] for x in rows[:4]] == ["retrain refused", "retrain compare", "promote", "register"], rows[:4]
assert rows[2]["to"] == "staging" and rows[2]["version"] == 3, rows[2]
PY
[ "$(production)" = "[2]" ] || fail "production after the refusal: $(production)"
"$KILN" models versions concrete --store st --json | grep -q '"stage": "staging"' ||
    fail "v3 is not in staging"

# 4. a retrain under way (another process's trigger row, no end row) holds the model
$py - <<'PY'
import sqlite3, time
db = sqlite3.connect("st/kiln.db")
mid = db.execute("SELECT id FROM models WHERE name = 'concrete'").fetchone()[0]
db.execute("INSERT INTO audit(time, actor, action, model_id, reason, detail) VALUES (?, 'other',"
           " 'retrain trigger', ?, 'by hand', 'a retrain in another process')", (time.time() - 2, mid))
db.commit()
PY
expect "is under way" 1 "$KILN" -q monitor retrain --model concrete --spec retrain.yaml \
    --data fresh.csv --holdout holdout.csv --store st
rc=0
"$KILN" -q monitor retrain --model concrete --spec retrain.yaml --data fresh.csv \
    --holdout holdout.csv --stale-hours 0.0001 --store st --json > stale.json || rc=$?
[ "$rc" = 1 ] || fail "stale retrain: rc $rc"  # same model as v2: not better by 0.01
audit
$py - <<'PY' || fail "an abandoned retrain"
import json
r = json.load(open("stale.json"))
assert r["outcome"] == "refused" and r["version"] == 4, r
rows = json.load(open("audit.json"))["audit"]
trig = [x for x in rows if x["action"] == "retrain trigger"][0]
assert "never ended counts as abandoned" in trig["detail"], trig
PY

# 5. clear errors; production stays v2
expect "wrong_target.yaml learns 'age', but production v2 of 'concrete' learns 'compressive_strength'" 3 \
    "$KILN" -q monitor retrain --model concrete --spec wrong_target.yaml --data fresh.csv \
    --holdout holdout.csv --store st
expect "holdout nolabel.csv has no column 'compressive_strength', the model's target" 3 \
    "$KILN" -q monitor retrain --model concrete --spec retrain.yaml --data fresh.csv \
    --holdout nolabel.csv --store st
expect "cannot open missing.yaml" 3 "$KILN" -q monitor retrain --model concrete \
    --spec missing.yaml --holdout holdout.csv --store st
expect "store st has no model 'nosuch'; its models: concrete" 3 "$KILN" -q monitor retrain \
    --model nosuch --spec retrain.yaml --holdout holdout.csv --store st
expect "rule 'mix_moved' has retrain:, which needs --record" 2 "$KILN" -q monitor check \
    --model concrete@production --data fresh.csv --reference old.csv --alerts alerts.yaml --store st
audit
$py - <<'PY' || fail "failed retrains audited"
import json
rows = json.load(open("audit.json"))["audit"]
failed = [x["reason"] for x in rows if x["action"] == "retrain failed"]
assert len(failed) == 3 and "learns 'age'" in failed[2] and "cannot open missing.yaml" in failed[0], failed
PY
[ "$(production)" = "[2]" ] || fail "production after the errors: $(production)"

# 6. no production version: the first one is promoted when the gate passes
retrain_spec first.yaml '{n_estimators: 15, max_leaves: 4}' 'register: {name: fresh_mix, stage: staging}'
"$KILN" -q run first.yaml --store st > /dev/null
"$KILN" -q monitor retrain --model fresh_mix --spec retrain.yaml --data fresh.csv \
    --holdout holdout.csv --store st --json > first.json || fail "first production: rc $?"
$py - <<'PY' || fail "first production version"
import json
r = json.load(open("first.json"))
assert r["outcome"] == "promoted" and r["production"] is None and r["version"] == 2, r
assert "first version in production" in r["reason"], r
PY
echo "ok"
