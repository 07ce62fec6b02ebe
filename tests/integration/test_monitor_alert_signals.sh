#!/bin/bash
# Alert rules on the new signals, delivered to a webhook receiver on
# 127.0.0.1, each incident exactly once:
# - input anomalies (kiln monitor check --anomalies --alerts): a GBDT on
#   3,000 lending_club rows, 2,000 other rows in 4 windows of 500 with 40
#   rows of window 3 in the wrong unit (every numeric column 10 times);
#   a rule anomaly_share > 0.05 opens one incident, at window 3, and a rule
#   anomalous_windows >= 1 one more (open from window 3 to the end);
# - operational anomalies (kiln monitor ops --log --alerts): a written
#   access log of one model, 40 intervals of 60 s with about 100 predict
#   requests each and 2 % errors, then 3 intervals with 30 % errors and 10
#   more at 2 %: a rule ops_jump on the errors series opens one incident at
#   interval 41 (the server's and the model's series jump together), a rule
#   on the latency series none;
# - a rule on a metric of the other command, an anomaly metric without
#   --anomalies, or a metric that does not exist: exit 2 naming it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
lc, idx = lending_club()
live = train_live(lc.iloc[idx], 3000, 5000, "Class")
rows = np.random.RandomState(1).choice(np.arange(1000, 1500), 40, replace=False)
num = [c for c in live.columns if live[c].dtype != object]
live.loc[rows, num] = live.loc[rows, num] * 10
live.to_csv(f"{w}/live.csv", index=False)
# the access log: interval k starts at t0 + 60 k; requests spread over it
rng = np.random.RandomState(2)
t0 = 1796558400  # 2026-12-06T12:00:00Z
with open(f"{w}/access.jsonl", "w") as f:
    f.write(json.dumps({"time": "2026-12-06T12:00:00.000000Z", "event": "start"}) + "\n")
    for k in range(53):
        n = 95 + (7 * k) % 11
        bad = set(rng.choice(n, 30 * n // 100 if 40 <= k < 43 else 2, replace=False))
        for i in range(n):
            t = t0 + 60 * k + 60 * (i + 0.5) / n
            s = "%s.%06dZ" % (pd.Timestamp(int(t), unit="s").strftime("%Y-%m-%dT%H:%M:%S"),
                              int(round((t % 1) * 1e6)) % 1000000)
            f.write(json.dumps({"time": s, "request_id": k * 1000 + i, "method": "POST",
                                "path": "/v1/models/c:predict", "status": 500 if i in bad else 200,
                                "latency_us": int(2000 + rng.randint(0, 400)), "rows": 1,
                                "model": "c"}) + "\n")
PY
"$KILN" -q train --data "$W/train.csv" --target Class --model gbdt --param n_estimators=10 \
    --out "$W/lc.kiln" > /dev/null
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

# input anomalies
cat > "$W/anom.yaml" <<EOF
rules:
  - {name: odd_rows, metric: anomaly_share, condition: "> 0.05", severity: critical}
sinks:
  - webhook: http://127.0.0.1:$PORT/alerts
EOF
check() { "$KILN" -q --json monitor check --model "$W/lc.kiln" --reference "$W/train.csv" \
    --data "$W/live.csv" --window 500 "$@"; }
rc=0; check --anomalies --alerts "$W/anom.yaml" > "$W/anom.json" || rc=$?
[ "$rc" = 1 ] || fail "anomaly alert: exit $rc, wanted 1"
[ "$(posts)" = 1 ] || fail "a planted anomaly window: $(posts) deliveries, wanted 1"
$py - "$W/got.jsonl" "$W/anom.json" <<'PY' || fail "the anomaly alert is wrong: $(cat "$W/got.jsonl")"
import json, sys
a = json.loads(open(sys.argv[1]).read())
j = json.load(open(sys.argv[2]))
w3 = j["window_results"][2]["anomalies"]
assert a["rule"] == "odd_rows" and a["metric"] == "anomaly_share" and a["window"] == 3, a
assert a["incident"] == "odd_rows@window3" and a["severity"] == "critical", a
assert a["value"] == w3["share"] and a["value"] > 0.05, (a, w3)
opened = [[x["open"] for x in r["alerts"]][0] for r in j["window_results"]]
assert opened == [False, False, True, False], opened
assert j["windows_alerting"] == 1, j["windows_alerting"]
PY
rm "$W/got.jsonl"
cat > "$W/anom2.yaml" <<EOF
rules:
  - {name: odd_windows, metric: anomalous_windows, condition: ">= 1"}
  - {name: odd_p, metric: anomaly_p, condition: "< 1e-12"}
sinks:
  - webhook: http://127.0.0.1:$PORT/alerts
EOF
rc=0; check --anomalies --alerts "$W/anom2.yaml" > "$W/anom2.json" || rc=$?
[ "$rc" = 1 ] || fail "anomalous_windows: exit $rc, wanted 1"
[ "$(posts)" = 2 ] || fail "two rules on one planted window: $(posts) deliveries, wanted 2"
grep -q '"incident":"odd_windows@window3"' "$W/got.jsonl" && grep -q '"incident":"odd_p@window3"' "$W/got.jsonl" ||
    fail "$(cat "$W/got.jsonl")"
$py - "$W/anom2.json" <<'PY' || fail "anomalous_windows does not stay open"
import json, sys
j = json.load(open(sys.argv[1]))
opened = [[x["open"] for x in r["alerts"]][0] for r in j["window_results"]]
assert opened == [False, False, True, True], opened
PY
expect "rule 'odd_rows' watches 'anomaly_share', which needs --anomalies" 2 check --alerts "$W/anom.yaml"

# operational anomalies
rm "$W/got.jsonl"
cat > "$W/ops.yaml" <<EOF
rules:
  - {name: errors_up, metric: ops_jump, series: errors, condition: "> 0", severity: critical}
  - {name: slow, metric: ops_jump, series: latency, condition: "> 0"}
sinks:
  - log
  - webhook: http://127.0.0.1:$PORT/ops
EOF
rc=0; "$KILN" -q --json monitor ops --log "$W/access.jsonl" --interval 60 --alerts "$W/ops.yaml" \
    > "$W/ops.json" 2> "$W/ops.err" || rc=$?
[ "$rc" = 1 ] || fail "ops alert: exit $rc, wanted 1: $(cat "$W/ops.err")"
[ "$(posts)" = 1 ] || fail "a planted error-rate jump: $(posts) deliveries, wanted 1: $(cat "$W/got.jsonl")"
[ "$(grep -c "kiln: alert: " "$W/ops.err")" = 1 ] || fail "the log sink: $(cat "$W/ops.err")"
$py - "$W/got.jsonl" "$W/ops.json" <<'PY' || fail "the ops alert is wrong: $(cat "$W/got.jsonl")"
import json, sys
a = json.loads(open(sys.argv[1]).read())
j = json.load(open(sys.argv[2]))
assert a["rule"] == "errors_up" and a["metric"] == "ops_jump" and a["series"] == "errors", a
assert a["incident"] == "errors_up@window41" and a["interval_start"] == "2026-12-06T12:40:00.000Z", a
assert a["value"] == 2 and a["data"].endswith("access.jsonl"), a   # the server's and c's series
assert sorted(e["model"] for e in a["events"] if e["series"] == "error_share") == ["", "c"], a
assert [x["rule"] for x in j["alerts_opened"]] == ["errors_up"], j["alerts_opened"]
assert 1 <= j["intervals_alerting"] <= 3, j["intervals_alerting"]
PY
rm "$W/got.jsonl"
rc=0; "$KILN" -q monitor ops --log "$W/access.jsonl" --interval 60 --model c --alerts "$W/ops.yaml" \
    > "$W/ops.txt" 2> /dev/null || rc=$?
[ "$rc" = 1 ] && [ "$(posts)" = 1 ] || fail "--model c: exit $rc, $(posts) deliveries, wanted 1"
grep -q '"value":1' "$W/got.jsonl" && grep -q '"model":"c"' "$W/got.jsonl" || fail "$(cat "$W/got.jsonl")"
grep -q "^1 alert incident opened" "$W/ops.txt" || fail "$(cat "$W/ops.txt")"

# rules the command cannot measure, metrics that do not exist
expect "rule 'errors_up': metric 'ops_jump' is one of an access log's series" 2 \
    check --alerts "$W/ops.yaml"
expect "rule 'odd_rows': metric 'anomaly_share' is one of kiln monitor check" 2 \
    "$KILN" monitor ops --log "$W/access.jsonl" --alerts "$W/anom.yaml"
printf 'rules:\n  - {name: x, metric: ops_jumps, condition: "> 0"}\n' > "$W/bad.yaml"
expect "bad.yaml:2:23: rule 'x': no metric 'ops_jumps'; the metrics are psi.*anomaly_share.*ops_jump" 2 \
    "$KILN" monitor ops --log "$W/access.jsonl" --alerts "$W/bad.yaml"
printf 'rules:\n  - {name: x, metric: ops_jump, series: disk, condition: "> 0"}\n' > "$W/bad.yaml"
expect "series 'disk' is not one of requests, errors, latency" 2 \
    "$KILN" monitor ops --log "$W/access.jsonl" --alerts "$W/bad.yaml"
printf 'rules:\n  - {name: x, metric: psi, series: errors, condition: "> 0"}\n' > "$W/bad.yaml"
expect "rule 'x': series selects an ops_\* metric's series" 2 check --alerts "$W/bad.yaml"
echo "ok"
