#!/bin/bash
# The result of a retrain travels with the alert that started it. On
# concrete (RMSE), production v1 is a small GBDT on the mixes with little
# cement; a check of mixes with much cement fires a rule with retrain: and
# a webhook sink (a receiver on 127.0.0.1):
# - the one delivery carries the retrain: the new version (2), the holdout
#   RMSE of staging and of production (equal to Python's on kiln predict's
#   output, 1e-9), promoted true and the reason, the same object the
#   check's JSON holds;
# - a second rule's retrain on a shuffled target is refused: its delivery
#   says promoted false, the version left in staging and why;
# - kiln monitor retrain --json by hand says the same things: version,
#   staging and production scores, promoted, outcome and reason.
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
"$KILN" -q run v1.yaml --store st > /dev/null
PORT=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > receiver.py <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
$py receiver.py "$PORT" "$W/got.jsonl" & RECEIVER=$!
trap 'kill "$RECEIVER" 2>/dev/null || true; wait "$RECEIVER" 2>/dev/null || true; rm -rf "$W"' EXIT
for i in $(seq 50); do
    $py -c "import socket; socket.create_connection(('127.0.0.1', $PORT))" 2>/dev/null && break
    sleep 0.1
done
posts() { [ -f "$W/got.jsonl" ] && wc -l < "$W/got.jsonl" || echo 0; }
cat > alerts.yaml <<EOF
rules:
  - name: mix_moved
    metric: psi
    column: cement
    condition: "> 0.2"
    retrain: {spec: retrain.yaml, data: fresh.csv, holdout: holdout.csv, margin: 0.5}
sinks:
  - webhook: http://127.0.0.1:$PORT/alerts
EOF
rc=0
"$KILN" -q monitor check --model concrete@production --data fresh.csv --reference old.csv \
    --alerts alerts.yaml --record --store st --json > check.json || rc=$?
[ "$rc" = 1 ] || fail "check with drift: exit $rc"
[ "$(posts)" = 1 ] || fail "$(posts) deliveries, wanted 1"
"$KILN" -q predict --model concrete@v1 --data nolabel.csv --store st --out p1.csv
"$KILN" -q predict --model concrete@v2 --data nolabel.csv --store st --out p2.csv
$py - <<'PY' || fail "the alert's retrain result: $(cat got.jsonl)"
import json, numpy as np, pandas as pd
got = json.loads(open("got.jsonl").read())
a = json.load(open("check.json"))["alerts"][0]
r = got["retrain"]
assert got["rule"] == "mix_moved" and got["incident"] == a["incident"] == 1, got
assert r == a["retrain"], (r, a["retrain"])
assert r["outcome"] == "promoted" and r["promoted"] is True and r["version"] == 2, r
assert r["production_version"] == 1 and r["metric"] == "rmse" and r["margin"] == 0.5, r
assert r["reason"] == "v2 replaces v1 in production", r
y = pd.read_csv("holdout.csv")["compressive_strength"].to_numpy()
rmse = lambda f: np.sqrt(np.mean((pd.read_csv(f)["prediction"].to_numpy() - y) ** 2))
assert abs(r["staging"] - rmse("p2.csv")) < 1e-9 and abs(r["production"] - rmse("p1.csv")) < 1e-9, r
PY

# a retrain that is refused: its delivery says so, and why
cat > worse.yaml <<EOF
rules:
  - name: mix_moved_again
    metric: psi
    column: cement
    condition: "> 0.2"
    retrain: {spec: retrain.yaml, data: shuffled.csv, holdout: holdout.csv, margin: 0.5}
sinks:
  - webhook: http://127.0.0.1:$PORT/alerts
EOF
rc=0
"$KILN" -q monitor check --model concrete@production --data fresh.csv --reference old.csv \
    --alerts worse.yaml --record --store st --json > check2.json || rc=$?
[ "$rc" = 1 ] || fail "second check: exit $rc"
[ "$(posts)" = 2 ] || fail "$(posts) deliveries, wanted 2"
$py - <<'PY' || fail "the refused retrain's delivery: $(tail -1 got.jsonl)"
import json
got = json.loads(open("got.jsonl").read().splitlines()[1])
r = got["retrain"]
assert got["rule"] == "mix_moved_again" and r["outcome"] == "refused" and r["promoted"] is False, r
assert r["version"] == 3 and r["production_version"] == 2 and r["staging"] > r["production"], r
assert r["reason"].startswith("staging v3's rmse on the holdout") and "production stays v2" in r["reason"], r
PY

# by hand: kiln monitor retrain --json
rc=0
"$KILN" -q monitor retrain --model concrete --spec retrain.yaml --data shuffled.csv \
    --holdout holdout.csv --margin 0.5 --store st --json > hand.json || rc=$?
[ "$rc" = 1 ] || fail "retrain by hand: exit $rc, wanted 1 (refused)"
$py - <<'PY' || fail "kiln monitor retrain --json: $(cat hand.json)"
import json
r = json.load(open("hand.json"))
assert r["command"] == "monitor retrain" and r["outcome"] == "refused" and r["promoted"] is False, r
assert r["version"] == 4 and r["production_version"] == 2, r
assert isinstance(r["staging"], float) and isinstance(r["production"], float), r
assert "production stays v2" in r["reason"], r
PY
echo ok
