#!/bin/bash
# kiln monitor ops --alerts --record: operational events as alert rules,
# kept in the store's monitoring tables as kiln monitor check --record
# keeps its windows. A written access log of one model, intervals of 60 s
# with about 100 predict requests each and 2 % errors, 30 % errors in
# intervals 41-43, delivered to a webhook receiver on 127.0.0.1:
# - the first run (45 intervals) records 44 of them (the last may still be
#   filling) and sends the errors_up incident once;
# - the same log again records and sends nothing (intervals recorded
#   before are not observed again);
# - the grown log (53 intervals, 30 % errors again in 49-50) records the
#   rest, closes the first incident and opens a second, sent once;
# - kiln monitor alerts lists both; monitor_checks holds one row per
#   recorded interval, with its requests, events and the server's series
#   (requests, error share, p95 latency);
# - a rule with retrain:, a drift metric or a store that cannot be opened:
#   exit 2 or 3 naming it, and the recorded rows are all still there.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
require_sklearn
$py - "$W" <<'PY'
import sys, json, numpy as np, pandas as pd
w = sys.argv[1]
rng = np.random.RandomState(2)
t0 = 1796558400  # 2026-12-06T12:00:00Z
lines = []
for k in range(53):
    n = 95 + (7 * k) % 11
    share = 30 if 40 <= k < 43 or 48 <= k < 50 else 2
    bad = set(rng.choice(n, share * n // 100 if share > 2 else 2, replace=False))
    for i in range(n):
        t = t0 + 60 * k + 60 * (i + 0.5) / n
        s = "%s.%06dZ" % (pd.Timestamp(int(t), unit="s").strftime("%Y-%m-%dT%H:%M:%S"),
                          int(round((t % 1) * 1e6)) % 1000000)
        lines.append((k, json.dumps({"time": s, "request_id": k * 1000 + i, "method": "POST",
                                     "path": "/v1/models/c:predict",
                                     "status": 500 if i in bad else 200,
                                     "latency_us": int(2000 + rng.randint(0, 400)), "rows": 1,
                                     "model": "c"})))
open(f"{w}/first.jsonl", "w").write("".join(l + "\n" for k, l in lines if k < 45))
open(f"{w}/rest.jsonl", "w").write("".join(l + "\n" for k, l in lines if k >= 45))
PY
PORT=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$W/receiver.py" <<'PY'
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
$py "$W/receiver.py" "$PORT" "$W/got.jsonl" & RECEIVER=$!
trap 'kill "$RECEIVER" 2>/dev/null || true; wait "$RECEIVER" 2>/dev/null || true; rm -rf "$W"' EXIT
for i in $(seq 50); do
    $py -c "import socket; socket.create_connection(('127.0.0.1', $PORT))" 2>/dev/null && break
    sleep 0.1
done
posts() { [ -f "$W/got.jsonl" ] && wc -l < "$W/got.jsonl" || echo 0; }
cat > "$W/ops.yaml" <<EOF
rules:
  - {name: errors_up, metric: ops_jump, series: errors, condition: "> 0", severity: critical}
sinks:
  - webhook: http://127.0.0.1:$PORT/ops
EOF
cp "$W/first.jsonl" "$W/access.jsonl"
ops() { # want_exit
    local rc=0
    "$KILN" -q --json monitor ops --log "$W/access.jsonl" --interval 60 --alerts "$W/ops.yaml" \
        --record --store "$W/store" > "$W/ops.json" 2> "$W/err" || rc=$?
    [ "$rc" = "$1" ] || fail "monitor ops --record: exit $rc, wanted $1: $(cat "$W/err")"
}
ops 1
[ "$(posts)" = 1 ] || fail "first run: $(posts) deliveries, wanted 1"
$py - "$W/ops.json" "$W/got.jsonl" <<'PY'
import json, sys
j, a = json.load(open(sys.argv[1])), json.loads(open(sys.argv[2]).read())
assert j["intervals"] == 45 and j["recorded"] == {"intervals": 44, "recorded_before": 0, "pending": 1}, j
assert a["rule"] == "errors_up" and a["incident"] == 1 and a["interval_start"] == "2026-12-06T12:40:00.000Z", a
assert a["model"] == "(server)" and "since" in a, a
PY
ops 1   # events are still found in the log; nothing new is recorded or sent
[ "$(posts)" = 1 ] || fail "the same log again: $(posts) deliveries, wanted 1"
$py - "$W/ops.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["recorded"] == {"intervals": 0, "recorded_before": 44, "pending": 1}, j["recorded"]
assert j["alerts_opened"] == [] and j["intervals_alerting"] == 0, j
PY
cat "$W/rest.jsonl" >> "$W/access.jsonl"
ops 1
[ "$(posts)" = 2 ] || fail "the grown log: $(posts) deliveries, wanted 2"
$py - "$W/ops.json" "$W/got.jsonl" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
a = [json.loads(l) for l in open(sys.argv[2])]
assert j["recorded"] == {"intervals": 8, "recorded_before": 44, "pending": 1}, j["recorded"]
assert a[1]["incident"] == 2 and a[1]["interval_start"] == "2026-12-06T12:48:00.000Z", a[1]
PY
"$KILN" -q --json monitor alerts --store "$W/store" > "$W/alerts.json"
$py - "$W/alerts.json" "$W/store/kiln.db" <<'PY'
import json, sqlite3, sys
a = json.load(open(sys.argv[1]))["alerts"]
assert [x["id"] for x in a] == [2, 1] and all(x["rule"] == "errors_up" and x["delivered"] for x in a), a
assert a[1]["closed"] and a[0]["model"] == "(server)", a
db = sqlite3.connect(sys.argv[2])
rows = db.execute("SELECT data, rows, drift, result FROM monitor_checks WHERE model = '(server)' ORDER BY id").fetchall()
assert len(rows) == 52, len(rows)
starts = [json.loads(r[3])["interval_start_s"] for r in rows]
assert starts == sorted(set(starts)) and starts[0] == 1796558400 and starts[-1] == 1796558400 + 51 * 60
r40 = json.loads(rows[40][3])
assert rows[40][2] == 1 and r40["requests"] == rows[40][1] and r40["events"], r40
# the recorded scope's series (the server's): kiln monitor report draws them
s40, s0 = r40["series"], json.loads(rows[0][3])["series"]
assert s40["scope"] == "" and s40["requests"] == r40["requests"] and s40["error_share"] > 0.25, s40
assert s0["error_share"] < 0.05 and 0.002 <= s0["latency_p95_seconds"] <= 0.0025, s0
assert sum(r[2] for r in rows) >= 2
PY
n_checks() { $py -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM monitor_checks').fetchone()[0])" "$W/store/kiln.db"; }
before=$(n_checks)

# bad input: nothing recorded changes
cat > "$W/retrain.yaml" <<EOF
rules:
  - {name: r, metric: ops_events, condition: "> 0", retrain: {spec: s.yaml, holdout: h.csv}}
EOF
expect "rule 'r' has retrain:, which kiln monitor ops does not take" 2 \
    "$KILN" monitor ops --log "$W/access.jsonl" --alerts "$W/retrain.yaml" --record --store "$W/store"
printf 'rules:\n  - {name: d, metric: psi, condition: "> 0.2"}\n' > "$W/drift.yaml"
expect "rule 'd': metric 'psi' is one of kiln monitor check" 2 \
    "$KILN" monitor ops --log "$W/access.jsonl" --alerts "$W/drift.yaml" --record --store "$W/store"
touch "$W/notadir"
expect "monitor ops: --record:" 3 \
    "$KILN" monitor ops --log "$W/access.jsonl" --alerts "$W/ops.yaml" --record --store "$W/notadir/store"
{ head -3 "$W/first.jsonl"; echo '{"time": "yesterday", "path": "/v1/models/c:predict", "status": 200, "latency_us": 5}'; } > "$W/bad.jsonl"
expect "bad.jsonl:4: \"time\" is not a UTC time" 3 \
    "$KILN" monitor ops --log "$W/bad.jsonl" --alerts "$W/ops.yaml" --record --store "$W/store"
[ "$(n_checks)" = "$before" ] || fail "the recorded intervals changed: $(n_checks), were $before"
[ "$("$KILN" -q --json monitor alerts --store "$W/store" | $py -c 'import json,sys; print(len(json.load(sys.stdin)["alerts"]))')" = 2 ] ||
    fail "the recorded alerts changed"
echo ok
