#!/bin/bash
# retrain: actions in kiln serve: an alert rule with retrain: opens an
# incident, and the server runs its own binary's `kiln monitor retrain` as
# a child process off the request path; the incident reaches the webhook
# once, carrying the retrain's result as the CLI's alerts do.
# Concrete (RMSE): production v1 is a small GBDT on the mixes with little
# cement, served from the registry; 200 mixes with much cement (curl, 10
# rows a request) are two drift windows of 100 where cement moved:
# - rule mix_moved (retrain on fresh.csv, margin 0.5) opens incident 1 at
#   window 1: the retrain registers v2, scores both on the holdout and
#   promotes v2; the one delivery says so (version 2, promoted, reason);
#   window 2 (still open, retrain running or done) sends nothing more;
# - rule mix_moved_too opens its incident at the same window: a retrain of
#   the model runs already (one at a time per model), so it is skipped and
#   its delivery says why;
# - the audit table holds the retrain's steps with the rule and incident as
#   the trigger, and the server logged the outcome.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=$(cd "${KILN_TEST_DATA:-$(dirname "$0")/../data}" && pwd)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/retrain_lib.sh"
require_sklearn
cd "$W"
concrete_split "$DATA"
$py - <<'PY'
import json, pandas as pd
x = pd.read_csv("fresh.csv").iloc[:200].drop(columns=["compressive_strength"])
for k in range(20):
    json.dump({"instances": x.iloc[10 * k:10 * (k + 1)].to_dict("records")}, open(f"req{k:02d}.json", "w"))
PY
retrain_spec v1.yaml '{n_estimators: 15, max_leaves: 4}' 'register: {name: concrete, stage: production}'
retrain_spec retrain.yaml '{n_estimators: 50, learning_rate: 0.2, max_leaves: 15, min_samples_leaf: 5}'
"$KILN" -q run v1.yaml --store st > /dev/null
HOOK=$(free_port)
cat > alerts.yaml <<EOF
rules:
  - name: mix_moved
    metric: psi
    column: cement
    condition: "> 0.2"
    retrain: {spec: retrain.yaml, data: fresh.csv, holdout: holdout.csv, margin: 0.5}
  - name: mix_moved_too
    metric: psi
    column: cement
    condition: "> 0.3"
    retrain: {spec: retrain.yaml, data: fresh.csv, holdout: holdout.csv, margin: 0.5}
sinks:
  - webhook: http://127.0.0.1:$HOOK/alerts
EOF
start_receiver "$HOOK" "$W/got.jsonl"
start_server --model concrete@production --store st --threads 2 --drift-window 100 \
    --record-windows --alerts alerts.yaml
for f in req*.json; do
    t0=$(date +%s%N)
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "@$f" "$URL/v1/models/concrete:predict")
    [ "$code" = 200 ] || fail "$f: status $code"
    [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 1000 ] || fail "$f: a request waited for the retrain"
done
posts() { [ -f "$W/got.jsonl" ] && wc -l < "$W/got.jsonl" || echo 0; }
for _ in $(seq 600); do [ "$(posts)" -ge 2 ] && break; sleep 0.1; done
[ "$(posts)" = 2 ] || fail "$(posts) deliveries within 60 s, wanted 2: $(cat "$W/serve.err")"
stop_server
stop_receiver
[ "$(posts)" = 2 ] || fail "$(posts) deliveries, wanted 2 (one per incident)"
"$KILN" -q predict --model concrete@v1 --data nolabel.csv --store st --out p1.csv
"$KILN" -q predict --model concrete@v2 --data nolabel.csv --store st --out p2.csv
"$KILN" --json models audit concrete --store st > audit.json
$py - <<'PY' || fail "the deliveries: $(cat got.jsonl)"
import json, numpy as np, pandas as pd
got = {a["rule"]: a for a in map(json.loads, open("got.jsonl"))}
a, b = got["mix_moved"], got["mix_moved_too"]
assert a["window"] == 1 and a["model"] == "concrete@production" and a["incident"] == 1, a
r = a["retrain"]
assert r["outcome"] == "promoted" and r["promoted"] is True and r["version"] == 2, r
assert r["production_version"] == 1 and r["metric"] == "rmse" and r["margin"] == 0.5, r
assert r["reason"] == "v2 replaces v1 in production" and r["incident"] == "rule mix_moved, incident 1", r
y = pd.read_csv("holdout.csv")["compressive_strength"].to_numpy()
rmse = lambda f: np.sqrt(np.mean((pd.read_csv(f)["prediction"].to_numpy() - y) ** 2))
assert abs(r["staging"] - rmse("p2.csv")) < 1e-9 and abs(r["production"] - rmse("p1.csv")) < 1e-9, r
s = b["retrain"]
assert b["window"] == 1 and s["outcome"] == "skipped" and s["promoted"] is False, b
assert "one at a time" in s["reason"], s
audit = json.dumps(json.load(open("audit.json")))
assert "rule mix_moved, incident 1" in audit and "retrain promoted" in audit, audit[:2000]
print("retrain from the server:", r["outcome"], r["version"], "; second rule:", s["reason"])
PY
grep -q "retrain [0-9]* of 'concrete' promoted (version 2, promoted yes): v2 replaces v1" "$W/serve.err" ||
    fail "the server did not log the outcome: $(cat "$W/serve.err")"
# on stop, a retrain still running after --retrain-grace is sent SIGTERM:
# the server exits soon after, and the incident is still delivered once,
# with the retrain's failure (a slow spec: 500,000 rounds; v1 served again,
# whose reference the requests drift from)
retrain_spec slow.yaml '{n_estimators: 500000, learning_rate: 0.001, max_leaves: 31, min_samples_leaf: 1}'
sed 's/retrain.yaml/slow.yaml/' alerts.yaml | sed '/mix_moved_too/,/retrain:/d' > alerts_slow.yaml
grep -q "slow.yaml" alerts_slow.yaml && ! grep -q mix_moved_too alerts_slow.yaml || fail "alerts_slow.yaml: $(cat alerts_slow.yaml)"
rm -f "$W/got.jsonl"
start_receiver "$HOOK" "$W/got.jsonl"
start_server --model concrete@v1 --store st --threads 2 --drift-window 100 \
    --alerts alerts_slow.yaml --retrain-grace 1
for f in req0*.json; do
    curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary "@$f" \
        "$URL/v1/models/concrete:predict"
done
# the retrain runs as the server's child process
for _ in $(seq 300); do pgrep -P "$SERVE_PID" > /dev/null && break; sleep 0.1; done
pgrep -P "$SERVE_PID" > /dev/null || fail "no retrain started: $(cat "$W/serve.err")"
t0=$(date +%s)
stop_server
[ $(($(date +%s) - t0)) -lt 30 ] || fail "the server took $(($(date +%s) - t0)) s to stop"
grep -q "the retrain of 'concrete' still runs after [0-9]* s: SIGTERM" "$W/serve.err" ||
    fail "no SIGTERM to the retrain logged: $(cat "$W/serve.err")"
stop_receiver
[ "$(posts)" = 1 ] || fail "$(posts) deliveries after the stopped retrain, wanted 1"
$py - <<'PY' || fail "the delivery: $(cat got.jsonl)"
import json
a = json.loads(open("got.jsonl").readline())
assert a["rule"] == "mix_moved" and a["retrain"]["promoted"] is False, a
assert a["retrain"]["outcome"] == "failed" and "--retrain-grace" in a["retrain"]["reason"], a
print("stopped retrain delivered:", a["retrain"].get("outcome"), "-", a["retrain"].get("reason"))
PY
# retrain: on a model served from a file is refused at the start, naming the rule
"$KILN" -q train --data old.csv --target compressive_strength --model gbdt \
    --param n_estimators=10 --out c.kiln > /dev/null
expect "rule 'mix_moved' has retrain:, which registers a new version of the model, but model 'c' is served from a file" 1 \
    "$KILN" serve --model c=c.kiln --drift-window 100 --alerts alerts.yaml --port 0
echo "serve retrain: ok"
