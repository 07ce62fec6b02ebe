#!/bin/bash
# Alerts of kiln monitor check (--alerts rules.yaml, --record in a store)
# on lending_club batches, delivered to a webhook receiver on 127.0.0.1:
# - the receiver is down when the drift is found, comes up 1.5 s later and
#   answers 503 twice: the retries with backoff deliver the alert, exactly
#   once;
# - checks that find the same drift again send nothing (one incident); a
#   clean batch closes it; the next drift is a new incident, sent once;
# - with the receiver down for every retry the incident stays undelivered
#   in the store, and the next check delivers it, once;
# - within one windowed check, a rule with for: 2 over windows 3-5 of a
#   stream opens one incident at window 4;
# - an alert rule on a metric that does not exist, or a column that is not
#   an input: exit 2 naming it, and the recorded alerts are still there;
# - kiln monitor report draws the recorded checks and lists the alerts in
#   one HTML page with inline SVG and no script, which headless Chromium
#   (when installed) loads without a console message.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
lc, idx = lending_club()
lc.iloc[idx[:5000]].to_csv(f"{w}/ref.csv", index=False)
lc.iloc[idx[5000:7000]].to_csv(f"{w}/clean.csv", index=False)
s = lc.iloc[idx[7000:9000]].copy()
s["int_rate"] += 0.5 * lc["int_rate"].std()
s.to_csv(f"{w}/shift.csv", index=False)
t = lc.iloc[idx[5000:8000]].copy().reset_index(drop=True)   # 6 windows of 500
t.loc[1000:2499, "int_rate"] += 0.5 * lc["int_rate"].std()   # windows 3, 4, 5
t.to_csv(f"{w}/stream.csv", index=False)
PY
"$KILN" -q train --data "$W/ref.csv" --target Class --model gbdt --param n_estimators=20 \
    --out "$W/m.kiln" > /dev/null
PORT=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$W/receiver.py" <<'PY'
import http.server, sys, time
out, refuse = sys.argv[2], [int(sys.argv[4])]
time.sleep(float(sys.argv[3]))  # down for a while, then up but failing (503) `refuse` times
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if refuse[0] > 0:
            refuse[0] -= 1
            self.send_response(503); self.end_headers()
            return
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
RECEIVER=
start_receiver() { $py "$W/receiver.py" "$PORT" "$W/got.jsonl" "${1:-0}" "${2:-0}" & RECEIVER=$!; }
stop_receiver() { [ -z "$RECEIVER" ] || { kill "$RECEIVER"; wait "$RECEIVER" 2>/dev/null || true; RECEIVER=; }; }
trap 'stop_receiver; rm -rf "$W"' EXIT
cat > "$W/rules.yaml" <<EOF
rules:
  - name: rate_moved
    metric: psi
    column: int_rate
    condition: "> 0.2"
    severity: critical
sinks:
  - log
  - webhook: http://127.0.0.1:$PORT/alerts
    retries: 6
    backoff: 0.2
    timeout: 2
EOF
check() { # batch want_exit
    local rc=0
    "$KILN" -q --json monitor check --model "$W/m.kiln" --reference "$W/ref.csv" --data "$W/$1" \
        --alerts "$W/rules.yaml" --record --store "$W/store" ${3:-} > "$W/out.json" 2> "$W/err" || rc=$?
    [ "$rc" = "$2" ] || fail "check $1: exit $rc, wanted $2: $(cat "$W/err")"
}
posts() { [ -f "$W/got.jsonl" ] && wc -l < "$W/got.jsonl" || echo 0; }
touch "$W/got.jsonl"; rm "$W/got.jsonl"

start_receiver 1.5 2
check shift.csv 1
[ "$(posts)" = 1 ] || fail "receiver down for 1.5 s: $(posts) deliveries, wanted 1"
grep -q '"incident":1' "$W/got.jsonl" || fail "$(cat "$W/got.jsonl")"
grep -q '"column":"int_rate"' "$W/got.jsonl" || fail "$(cat "$W/got.jsonl")"
"$KILN" -q --json monitor alerts --store "$W/store" > "$W/alerts.json"
$py - "$W/alerts.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["alerts"]
assert len(a) == 1 and a[0]["delivered"] and a[0]["attempts"] >= 2 and a[0]["closed"] is None, a
PY
check shift.csv 1
[ "$(posts)" = 1 ] || fail "the same drift again: $(posts) deliveries, wanted 1 (one incident)"
check clean.csv 0
check shift.csv 1
[ "$(posts)" = 2 ] || fail "a new incident: $(posts) deliveries, wanted 2"
grep -q '"incident":2' "$W/got.jsonl" || fail "$(cat "$W/got.jsonl")"
stop_receiver

sed -i 's/retries: 6/retries: 1/' "$W/rules.yaml"
check clean.csv 0
check shift.csv 1
grep -q "alert not delivered" "$W/err" || fail "no word of the failed delivery: $(cat "$W/err")"
[ "$(posts)" = 2 ] || fail "receiver down: $(posts) deliveries"
"$KILN" -q monitor alerts --store "$W/store" | grep -q "rate_moved .* open .*undelivered" ||
    fail "$("$KILN" -q monitor alerts --store "$W/store")"
# --model as another text than the check's: an empty list, and a warning that
# names the models the store has alerts of (not a silent "no alerts")
"$KILN" -q monitor alerts --store "$W/store" --model m > "$W/none.txt" 2> "$W/none.err" ||
    fail "monitor alerts --model m: $(cat "$W/none.err")"
[ "$(wc -l < "$W/none.txt")" = 1 ] || fail "monitor alerts --model m listed: $(cat "$W/none.txt")"
grep -qF "no alert of 'm'; the store's alerts are of: $W/m.kiln" "$W/none.err" ||
    fail "monitor alerts --model m: no word of the store's models: $(cat "$W/none.err")"
start_receiver
sleep 0.5
check shift.csv 1
[ "$(posts)" = 3 ] || fail "the undelivered incident: $(posts) deliveries, wanted 3"
grep -q '"incident":3' "$W/got.jsonl" || fail "$(cat "$W/got.jsonl")"
check shift.csv 1
[ "$(posts)" = 3 ] || fail "delivered twice: $(posts)"

cat > "$W/stream.yaml" <<EOF
rules:
  - {name: rate_window, metric: ks_d, column: int_rate, condition: "> 0.1", for: 2, window: 500}
sinks:
  - webhook: http://127.0.0.1:$PORT/alerts
EOF
rc=0
"$KILN" -q --json monitor check --model "$W/m.kiln" --reference "$W/ref.csv" \
    --data "$W/stream.csv" --alerts "$W/stream.yaml" > "$W/stream.json" || rc=$?
[ "$rc" = 1 ] || fail "stream: exit $rc"
[ "$(posts)" = 4 ] || fail "stream: $(posts) deliveries, wanted 4"
tail -1 "$W/got.jsonl" | grep -q '"incident":"rate_window@window4"' || fail "$(tail -1 "$W/got.jsonl")"
$py - "$W/stream.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
opened = [[a["open"] for a in w["alerts"]][0] for w in j["window_results"]]
assert opened == [False, False, False, True, True, False], opened
PY

cat > "$W/bad.yaml" <<'EOF'
rules:
  - name: nonsense
    metric: accuracy_drop
    condition: "> 1"
EOF
expect "bad.yaml:3:13: rule 'nonsense': no metric 'accuracy_drop'; the metrics are psi" 2 \
    "$KILN" monitor check --model "$W/m.kiln" --reference "$W/ref.csv" --data "$W/shift.csv" \
    --alerts "$W/bad.yaml" --record --store "$W/store"
printf 'rules:\n  - {name: x, metric: psi, column: salary, condition: "> 1"}\n' > "$W/badcol.yaml"
expect "rule 'x' watches column 'salary', which is not an input column" 2 \
    "$KILN" monitor check --model "$W/m.kiln" --reference "$W/ref.csv" --data "$W/shift.csv" \
    --alerts "$W/badcol.yaml" --record --store "$W/store"
printf 'rules:\n  - {name: x, metric: psi, column: int_rte, condition: "> 1"}\n' > "$W/badcol2.yaml"
expect "rule 'x' watches column 'int_rte', which is not an input column of the model (did you mean 'int_rate'?)" 2 \
    "$KILN" monitor check --model "$W/m.kiln" --reference "$W/ref.csv" --data "$W/shift.csv" \
    --alerts "$W/badcol2.yaml" --record --store "$W/store"
[ "$("$KILN" -q --json monitor alerts --store "$W/store" | $py -c 'import json,sys; print(len(json.load(sys.stdin)["alerts"]))')" = 3 ] ||
    fail "the recorded alerts changed"

"$KILN" -q monitor report --model "$W/m.kiln" --store "$W/store" --out "$W/monitor.html" > /dev/null ||
    fail "monitor report failed"
[ "$(grep -c "<svg" "$W/monitor.html")" = 2 ] || fail "monitor report: not 2 figures"
grep -q "<td>int_rate</td><td>[0-9.]*</td><td>6 of 8</td>" "$W/monitor.html" ||
    fail "monitor report: int_rate's row: $(grep -o "<td>int_rate</td>[^\n]\{0,60\}" "$W/monitor.html")"
[ "$(grep -o "<td>rate_moved</td>" "$W/monitor.html" | wc -l)" = 3 ] || fail "monitor report: not 3 alerts"
if grep -q "<script" "$W/monitor.html"; then fail "monitor report has a script"; fi
expect "holds no checks of 'nope'" 1 "$KILN" monitor report --model nope --store "$W/store" --out "$W/x.html"
# one load in Chromium: no console message, every figure drawn, and the
# alert history in the DOM it built
chrome_figures "$W/monitor.html"
if command -v chromium > /dev/null || command -v chromium-browser > /dev/null; then
    grep -q "Alert history" "$W/sized.dom" || fail "chromium's DOM lacks the alert history"
fi
echo ok
