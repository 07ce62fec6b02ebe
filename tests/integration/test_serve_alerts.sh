#!/bin/bash
# kiln serve --alerts: the rules of kiln monitor check --alerts evaluated on
# each finished drift window by the server's monitoring thread, incidents
# de-duplicated, log and webhook sinks with retries off the request path.
# A GBDT on concrete mixes, tumbling windows of 100 rows:
#   1, 2 stationary; 3, 4 cement times 1.6; 5 stationary; 6 cement times
#   1.6; 7 stationary with 10 refused rows (cement not a number).
# Rules: the PSI of cement over 0.2, prediction drift, a refused share over
# 5 %. Incidents: cement 3-4 and 6, predictions 3-4 and 6, refused 7: five,
# each delivered exactly once to a receiver on 127.0.0.1 that is down for
# the first 1.5 s after the first incident (the webhook retries, doubling
# from 0.2 s; requests are answered meanwhile), with the store (--record-
# windows: kiln monitor alerts lists them, delivered) and without one (in
# memory). A rule on a metric that does not exist is an error at start
# naming its line; a column that is not an input, an anomaly metric with
# --no-anomalies and a rule without --drift-window are errors naming the
# rule.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
c = concrete(3)
live = train_live(c, 600, 1000, "compressive_strength")
live = pd.concat([live, live.iloc[:290]], ignore_index=True)  # 690 rows
for a, b in ((200, 400), (500, 600)):
    live.loc[a:b - 1, "cement"] *= 1.6
live.to_csv(f"{w}/live.csv", index=False)
PY
"$KILN" -q train --data "$W/train.csv" --target compressive_strength --model gbdt \
    --param n_estimators=30 --out "$W/c.kiln" > /dev/null
HOOK=$(free_port)
cat > "$W/rules.yaml" <<EOF
rules:
  - name: cement_moved
    metric: psi
    column: cement
    condition: "> 0.2"
    severity: critical
  - name: predictions_moved
    metric: prediction_drift
    condition: ">= 1"
  - name: refused_rows
    metric: invalid_share
    condition: "> 0.05"
sinks:
  - log
  - webhook: http://127.0.0.1:$HOOK/alerts
    retries: 6
    backoff: 0.2
EOF
send() { # FROM TO: rows of live.csv in batches of 10; no request may wait for the webhook
    $py - "$W" "$URL" "$1" "$2" <<'PY' || fail "the client failed"
import csv, json, sys, time, urllib.request
w, url, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [{n: float(v) for n, v in r.items()} for r in csv.DictReader(open(f"{w}/live.csv"))]
for i in range(a, b, 10):
    t = time.time()
    req = urllib.request.Request(f"{url}/v1/models/c:predict", json.dumps({"instances": rows[i:min(i + 10, b)]}).encode(), {"Content-Type": "application/json"})
    assert urllib.request.urlopen(req).status == 200
    assert time.time() - t < 1.0, "a request waited for the webhook"
PY
}
echo '{"instances": [{"cement": "lots", "age": 28}]}' > "$W/bad.json"
run() { # the whole stream; $W/got.jsonl receives the deliveries
    rm -f "$W/got.jsonl"
    send 0 290
    start_receiver "$HOOK" "$W/got.jsonl" 1.5
    send 290 600
    for i in $(seq 10); do expect_status 400 POST /v1/models/c:predict "$W/bad.json"; done
    send 600 690
    stop_server
    stop_receiver
}
check() { # what the receiver got: one delivery per incident
    $py - "$W" "$1" <<'PY' || fail "the deliveries are wrong ($1): $(cat "$W/got.jsonl" 2>/dev/null)"
import json, sys
w, how = sys.argv[1:]
got = [json.loads(l) for l in open(f"{w}/got.jsonl")]
seen = sorted((a["rule"], a["window"]) for a in got)
assert seen == [("cement_moved", 3), ("cement_moved", 6), ("predictions_moved", 3), ("predictions_moved", 6), ("refused_rows", 7)], seen
assert len({json.dumps(a["incident"]) for a in got}) == 5, "incidents repeated"
for a in got:
    assert a["model"] == "c" and a["version"] == "1" and a["data"] == "kiln serve: version 1", a
    if a["rule"] == "cement_moved":
        assert a["column"] == "cement" and a["value"] > 0.2 and "cement" in a["drifted_columns"], a
    if a["rule"] == "refused_rows":
        assert abs(a["value"] - 0.1) < 1e-12, a
print(f"{how}: 5 incidents, each delivered once: {seen}")
PY
}
start_server --model c="$W/c.kiln" --threads 2 --drift-window 100 --alerts "$W/rules.yaml" \
    --record-windows --store "$W/store"
run
check "with the store"
grep -q 'alert: {.*"rule":"refused_rows"' "$W/serve.err" || fail "the log sink wrote nothing: $(cat "$W/serve.err")"
"$KILN" --json monitor alerts --model c --store "$W/store" > "$W/alerts.json"
$py - "$W" <<'PY' || fail "kiln monitor alerts does not list the server's incidents: $(cat "$W/alerts.json")"
import json, sys
a = json.load(open(f"{sys.argv[1]}/alerts.json"))["alerts"]
assert len(a) == 5 and all(x["delivered"] for x in a), a
assert sorted(x["rule"] for x in a) == ["cement_moved", "cement_moved", "predictions_moved", "predictions_moved", "refused_rows"]
assert sum(x["closed"] is None for x in a) == 1  # refused_rows: window 7 is the last
# window 3's incidents (the first two; their detail is window 4's, the
# last that fired) found the receiver down: the first was retried until it was up
tries = [x["attempts"] for x in sorted(a, key=lambda x: x["id"])[:2]]
assert max(tries) > 1, tries
print(f"window 3's deliveries took {tries} attempts")
PY
start_server --model c="$W/c.kiln" --threads 2 --drift-window 100 --alerts "$W/rules.yaml"
run
check "in memory"
# bad rules: each stops the start with the reason
printf 'rules:\n  - name: a\n    metric: psi\n    condition: "> 1"\n  - name: b\n    metric: drift_score\n    condition: "> 1"\n' > "$W/bad1.yaml"
expect "bad1.yaml:6.*drift_score" 1 "$KILN" serve --model c="$W/c.kiln" --drift-window 100 --alerts "$W/bad1.yaml"
printf 'rules:\n  - {name: a, metric: psi, column: slump, condition: "> 1"}\n' > "$W/bad2.yaml"
expect "rule 'a' watches column 'slump', which is not an input" 1 "$KILN" serve --model c="$W/c.kiln" --drift-window 100 --alerts "$W/bad2.yaml"
printf 'rules:\n  - {name: a, metric: psi, column: cemnt, condition: "> 1"}\n' > "$W/bad2b.yaml"
expect "rule 'a' watches column 'cemnt', which is not an input column of a served model (did you mean 'cement'?)" 1 "$KILN" serve --model c="$W/c.kiln" --drift-window 100 --alerts "$W/bad2b.yaml"
printf 'rules:\n  - {name: a, metric: anomaly_share, condition: "> 0.1"}\n' > "$W/bad3.yaml"
expect "rule 'a' watches 'anomaly_share', the input anomalies of each drift window: drop --no-anomalies" 1 "$KILN" serve --model c="$W/c.kiln" --drift-window 100 --no-anomalies --alerts "$W/bad3.yaml"
expect "give --drift-window N" 1 "$KILN" serve --model c="$W/c.kiln" --alerts "$W/rules.yaml"
echo "serve alerts: ok"
