#!/bin/bash
# A retrain: action left undone by one server run is picked up by the next,
# once (kiln serve --record-windows keeps the incidents in the store, and
# the audit trail keeps each retrain's claim per incident). Concrete (RMSE):
# production v1 is a small GBDT on the mixes with little cement; 100 mixes
# with much cement over HTTP are one drift window where cement moved.
# - Run 1 (the webhook receiver is down): rules mix_moved and mix_moved_too
#   both open an incident at window 1; mix_moved's retrain runs, so
#   mix_moved_too's is skipped (one retrain of a model at a time); neither
#   incident is delivered. The server stops.
# - Run 2 (receiver up, no traffic): mix_moved_too's incident is open and no
#   retrain was started for it: the server runs it at start and delivers
#   the incident once, with the result; mix_moved's is not retrained again.
# - Run 3: nothing is retrained.
# The audit trail holds exactly one retrain trigger per incident.
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
x = pd.read_csv("fresh.csv").iloc[:100].drop(columns=["compressive_strength"])
json.dump({"instances": x.to_dict("records")}, open("req.json", "w"))
PY
retrain_spec v1.yaml '{n_estimators: 10, max_leaves: 4}' 'register: {name: concrete, stage: production}'
retrain_spec retrain.yaml '{n_estimators: 20, learning_rate: 0.3, max_leaves: 8}'
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
    retries: 0
    timeout: 1
EOF
triggers() { # the audit's retrain triggers: "REASON" per line
    $py -c 'import sqlite3; [print(r) for r, in sqlite3.connect("st/kiln.db").execute("SELECT reason FROM audit WHERE action = '"'retrain trigger'"' ORDER BY id")]'
}
ended() { $py -c 'import sqlite3; print(sqlite3.connect("st/kiln.db").execute("SELECT count(*) FROM audit WHERE action IN ('"'retrain promoted', 'retrain refused', 'retrain failed'"')").fetchone()[0])'; }
serve() { start_server --model concrete@production --store st --threads 2 --drift-window 100 \
    --record-windows --alerts alerts.yaml; }

# run 1: the receiver is down
serve
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @req.json "$URL/v1/models/concrete:predict")
[ "$code" = 200 ] || fail "predict: status $code"
for _ in $(seq 600); do [ "$(ended)" -ge 1 ] && break; sleep 0.1; done
[ "$(ended)" = 1 ] || fail "run 1: the retrain did not end within 60 s: $(cat "$W/serve.err")"
stop_server
grep -q "rule 'mix_moved_too': retrain not started: another retrain of the model is running" \
    "$W/serve.err" || fail "run 1: mix_moved_too's retrain was not skipped: $(cat "$W/serve.err")"
[ "$(triggers)" = "rule mix_moved, incident 1" ] || fail "run 1: triggers $(triggers)"
"$KILN" -q --json monitor alerts --store st > alerts1.json
$py - <<'PY' || fail "run 1: the incidents: $(cat alerts1.json)"
import json
a = {x["rule"]: x for x in json.load(open("alerts1.json"))["alerts"]}
assert sorted(a) == ["mix_moved", "mix_moved_too"], a
assert all(x["closed"] is None and x["delivered"] is None for x in a.values()), a
assert a["mix_moved"]["id"] == 1 and a["mix_moved_too"]["id"] == 2, a
PY

# run 2: mix_moved_too's retrain runs at start, its incident is delivered once
start_receiver "$HOOK" "$W/got.jsonl"
serve
posts() { [ -f "$W/got.jsonl" ] && wc -l < "$W/got.jsonl" || echo 0; }
for _ in $(seq 600); do [ "$(posts)" -ge 1 ] && [ "$(ended)" -ge 2 ] && break; sleep 0.1; done
stop_server
[ "$(posts)" = 1 ] || fail "run 2: $(posts) deliveries, wanted 1: $(cat "$W/serve.err")"
grep -q "incident 2 of 'concrete@production' is open and no retrain was started for it" \
    "$W/serve.err" || fail "run 2: the pick-up is not logged: $(cat "$W/serve.err")"
! grep -q "incident 1 of" "$W/serve.err" || fail "run 2: incident 1 picked up again: $(cat "$W/serve.err")"
$py - <<'PY' || fail "run 2: the delivery: $(cat "$W/got.jsonl")"
import json
a = json.loads(open("got.jsonl").readline())
assert a["rule"] == "mix_moved_too" and a["incident"] == 2 and a["resumed"] is True, a
r = a["retrain"]
assert r["outcome"] in ("promoted", "refused") and r["incident"] == "rule mix_moved_too, incident 2", r
print("picked up:", a["rule"], "incident", a["incident"], "->", r["outcome"], "-", r["reason"])
PY

# run 3: nothing left to retrain
serve
sleep 1.5
pgrep -P "$SERVE_PID" > /dev/null && fail "run 3: a retrain runs: $(cat "$W/serve.err")"
stop_server
stop_receiver
! grep -q "retrain of 'concrete@production' started" "$W/serve.err" ||
    fail "run 3: a retrain started: $(cat "$W/serve.err")"
[ "$(posts)" = 1 ] || fail "run 3: $(posts) deliveries, wanted 1"
want=$(printf 'rule mix_moved, incident 1\nrule mix_moved_too, incident 2')
[ "$(triggers)" = "$want" ] || fail "the audit's triggers: $(triggers)"
[ "$(ended)" = 2 ] || fail "$(ended) retrains ended, wanted 2"
echo ok
