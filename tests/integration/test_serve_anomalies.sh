#!/bin/bash
# kiln serve --drift-window: each window's rows are scored for input
# anomalies on the monitoring thread, with the isolation forest of kiln
# monitor anomalies fitted at load on the artifact's sample of its training
# rows. A GBDT on 700 concrete mixes; three windows of 100 rows sent over
# HTTP (curl): held-out mixes, the same mixes in the wrong unit (every input
# times 10), held-out mixes again.
# - /metrics: 3 windows scored, only the second flagged (kiln_anomaly_*);
# - an alert rule on `anomalous` opens one incident (log sink), and
#   --record-windows keeps each window's anomalies in the store;
# - the windows' anomalous rows are kiln monitor anomalies' on the
#   server's prediction log, for tumbling windows and sliding ones (--drift-
#   slide 50: each row scored once), and with --anomaly-rows 25 on every
#   4th row (the windows' sample), the wrong-unit window still flagged;
# - kiln monitor report draws them (share per window, the flagged one
#   marked) with the model's operational intervals (kiln monitor ops
#   --record of an access log with an error jump: requests, error share and
#   p95 latency, events marked), every figure rendered in headless Chromium;
# - an artifact written before the training-row sample still serves, and
#   the log and kiln_anomaly_scoring say that anomaly scoring is off;
# - --no-anomalies: no kiln_anomaly_* at all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
c = concrete(3)
live = train_live(c, 700, 900, "compressive_strength")
def body(df, path):
    json.dump({"instances": df.to_dict("records")}, open(path, "w"))
body(live.iloc[:100], f"{w}/normal1.json")
body(live.iloc[:100] * 10, f"{w}/wrong_unit.json")
body(live.iloc[100:200], f"{w}/normal2.json")
PY
"$KILN" -q train --data "$W/train.csv" --target compressive_strength --model gbdt \
    --param n_estimators=20 --out "$W/c.kiln" > /dev/null
cat > "$W/rules.yaml" <<'YAML'
rules:
  - {name: odd_inputs, metric: anomalous, condition: ">= 1", severity: critical}
sinks:
  - log
YAML
start_server --model c="$W/c.kiln" --threads 2 --drift-window 100 --record-windows \
    --store "$W/store" --alerts "$W/rules.yaml" --prediction-log "$W/pred.jsonl"
for f in normal1 wrong_unit normal2; do
    expect_status 200 POST /v1/models/c:predict "$W/$f.json"
done
metrics_after_windows "$W/metrics" 3
for _ in $(seq 100); do  # the anomalies of the last window are published with its drift
    grep -q '^kiln_anomaly_windows_total{model="c",version="1"} 3$' "$W/metrics" && break
    sleep 0.05; curl -s "$URL/metrics" > "$W/metrics"
done
grep -q '^kiln_anomaly_scoring{model="c",version="1"} 1$' "$W/metrics" || fail "scoring is not on: $(grep kiln_anomaly "$W/metrics")"
grep -q '^kiln_anomaly_windows_total{model="c",version="1"} 3$' "$W/metrics" || fail "not 3 windows scored: $(grep kiln_anomaly "$W/metrics")"
grep -q '^kiln_anomaly_flagged_windows_total{model="c",version="1"} 1$' "$W/metrics" || fail "not 1 window flagged: $(grep kiln_anomaly "$W/metrics")"
grep -q '^kiln_anomaly_flagged{model="c",version="1"} 0$' "$W/metrics" || fail "the last window is flagged"
grep -q '^kiln_anomaly_cpu_seconds_total{model="c",version="1"} [0-9]' "$W/metrics" || fail "no CPU time"
mem=$(awk '/^kiln_anomaly_memory_bytes\{model="c",version="1"\}/ {print $2}' "$W/metrics")
# a score and a slot per row of the window, and the window's 8 inputs
[ -n "$mem" ] && [ "$mem" -ge $((100 * (16 + 8 * 8))) ] && [ "$mem" -lt $((100 * (16 + 8 * 8) + 4096)) ] ||
    fail "kiln_anomaly_memory_bytes '$mem' is not the window's (8,000 bytes and the struct)"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve did not exit 0 on SIGTERM: $(cat "$W/serve.err")"
SERVE_PID=
! grep -q "Sanitizer\|runtime error" "$W/serve.err" || fail "sanitizer: $(cat "$W/serve.err")"
grep 'alert: {.*"rule":"odd_inputs"' "$W/serve.err" | grep -q '"metric":"anomalous"' || fail "no alert in the log: $(cat "$W/serve.err")"
$py - "$W" <<'PY' || fail "the recorded windows are wrong"
import json, sqlite3, sys
w = sys.argv[1]
db = sqlite3.connect(f"file:{w}/store/kiln.db?mode=ro", uri=True)
res = [json.loads(r[0]) for r in db.execute("SELECT result FROM monitor_checks WHERE model = 'c' ORDER BY id")]
assert len(res) == 3, len(res)
a = [r["anomalies"] for r in res]
assert [x["flagged"] for x in a] == [False, True, False], a
assert all(x["rows"] == 100 for x in a), a
assert a[1]["share"] > 0.5 and a[1]["p"] < 1e-6, a[1]
assert a[0]["share"] < 0.06 and a[2]["share"] < 0.06, a
assert [x["flagged_windows"] for x in a] == [0, 1, 1], a
inc = db.execute("SELECT rule, closed FROM monitor_alerts WHERE model = 'c'").fetchall()
assert len(inc) == 1 and inc[0][0] == "odd_inputs" and inc[0][1] is not None, inc
print("anomalous shares per window:", [round(x["share"], 3) for x in a], "p:", ["%.3g" % x["p"] for x in a])
PY
# the same forest as kiln monitor anomalies: its counts on the prediction
# log (requests in their order) in windows of 50 rows add up to the
# server's windows of 100, tumbling here and sliding by 50 rows below,
# where each row is scored once, when the first window holding it ends
$py - "$W/pred.jsonl" "$W/ordered.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
lines.sort(key=lambda j: (j["request_id"], j["row"]))
open(sys.argv[2], "w").write("".join(json.dumps(j) + "\n" for j in lines))
PY
rc=0; "$KILN" -q --json monitor anomalies --log "$W/ordered.jsonl" --model "$W/c.kiln" --window 50 \
    > "$W/cli.json" || rc=$?
[ "$rc" = 1 ] || fail "kiln monitor anomalies on the server's log: exit $rc"
start_server --model c="$W/c.kiln" --threads 2 --drift-window 100 --drift-slide 50 \
    --record-windows --store "$W/slide"
for f in normal1 wrong_unit normal2; do
    expect_status 200 POST /v1/models/c:predict "$W/$f.json"
done
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "the sliding server did not exit 0 on SIGTERM: $(cat "$W/serve.err")"
SERVE_PID=
$py - "$W" <<'PY' || fail "the server's anomalous rows differ from kiln monitor anomalies'"
import json, sqlite3, sys
w = sys.argv[1]
k50 = [x["anomalous_rows"] for x in json.load(open(f"{w}/cli.json"))["window_results"]]
assert len(k50) == 6, k50
def served(store):
    db = sqlite3.connect(f"file:{w}/{store}/kiln.db?mode=ro", uri=True)
    return [json.loads(r[0])["anomalies"]["anomalous_rows"] for r in db.execute("SELECT result FROM monitor_checks WHERE model = 'c' ORDER BY id")]
tumbling, sliding = served("store"), served("slide")
assert tumbling == [k50[i] + k50[i + 1] for i in (0, 2, 4)], (tumbling, k50)
assert sliding == [k50[i] + k50[i + 1] for i in range(5)], (sliding, k50)
print("anomalous rows per 50:", k50, "tumbling:", tumbling, "sliding:", sliding)
PY
# --anomaly-rows 25: windows of 100 rows scored on every 4th row the server
# receives (row numbers 0, 4, 8, ...): the counts are kiln monitor
# anomalies' per-row flags (windows of one row) at those rows, and the
# window of wrong units is still flagged on its sample
start_server --model c="$W/c.kiln" --threads 2 --drift-window 100 --anomaly-rows 25 \
    --record-windows --store "$W/sample"
for f in normal1 wrong_unit normal2; do
    expect_status 200 POST /v1/models/c:predict "$W/$f.json"
done
metrics_after_windows "$W/metrics" 3
for _ in $(seq 100); do
    grep -q '^kiln_anomaly_windows_total{model="c",version="1"} 3$' "$W/metrics" && break
    sleep 0.05; curl -s "$URL/metrics" > "$W/metrics"
done
grep -q '^kiln_anomaly_window_rows{model="c",version="1"} 25$' "$W/metrics" ||
    fail "the last window's scored rows are not 25: $(grep kiln_anomaly "$W/metrics")"
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "the sampling server did not exit 0 on SIGTERM: $(cat "$W/serve.err")"
SERVE_PID=
"$KILN" -q --json monitor anomalies --log "$W/ordered.jsonl" --model "$W/c.kiln" --window 1 \
    > "$W/rows.json" || true
$py - "$W" <<'PY' || fail "the sampled windows' anomalous rows differ from kiln monitor anomalies'"
import json, sqlite3, sys
w = sys.argv[1]
flags = [x["anomalous_rows"] for x in json.load(open(f"{w}/rows.json"))["window_results"]]
assert len(flags) == 300, len(flags)
db = sqlite3.connect(f"file:{w}/sample/kiln.db?mode=ro", uri=True)
got = [json.loads(r[0])["anomalies"] for r in db.execute("SELECT result FROM monitor_checks WHERE model = 'c' ORDER BY id")]
assert [g["rows"] for g in got] == [25, 25, 25], got
want = [sum(flags[r] for r in range(100 * k, 100 * k + 100, 4)) for k in range(3)]
assert [g["anomalous_rows"] for g in got] == want, (got, want)
assert [g["flagged_windows"] for g in got] == [0, 1, 1], got
print("sampled anomalous rows per window:", want)
PY
# the model's operational intervals beside them: an access log of 30 intervals
# of 60 s, about 100 requests each, 2 % errors, 30 % in intervals 21-23
$py - "$W" <<'PY'
import json, sys, time, numpy as np
w, rng, t0 = sys.argv[1], np.random.RandomState(2), 1796558400
with open(f"{w}/access.jsonl", "w") as f:
    for k in range(30):
        n = 95 + (7 * k) % 11
        bad = set(rng.choice(n, 30 * n // 100 if 20 <= k < 23 else 2, replace=False))
        for i in range(n):
            t = t0 + 60 * k + 60 * (i + 0.5) / n
            when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t))) + ".%06dZ" % int((t % 1) * 1e6)
            f.write(json.dumps({"time": when, "request_id": k * 1000 + i, "method": "POST",
                                "path": "/v1/models/c:predict", "status": 500 if i in bad else 200,
                                "latency_us": int(2000 + rng.randint(0, 400)), "rows": 1, "model": "c"}) + "\n")
PY
rc=0; "$KILN" -q monitor ops --log "$W/access.jsonl" --interval 60 --model c --record \
    --store "$W/store" > /dev/null || rc=$?
[ "$rc" = 1 ] || fail "monitor ops found no event in the error jump: exit $rc"
"$KILN" -q monitor report --model c --store "$W/store" --out "$W/monitor.html" ||
    fail "kiln monitor report failed on the server's windows"
grep -q 'id="anomalies"' "$W/monitor.html" || fail "the report does not draw the anomalies"
grep -q '1 of 3 windows flagged' "$W/monitor.html" || fail "the report does not count the flagged window"
grep -q 'id="ops"' "$W/monitor.html" || fail "the report does not draw the operational series"
grep -q '29 recorded intervals' "$W/monitor.html" || fail "the report does not hold 29 intervals"
n_svg=$(grep -o "<svg " "$W/monitor.html" | wc -l)
[ "$n_svg" = 6 ] || fail "monitor report: $n_svg figures, not 6 (drift 2, anomalies 1, ops 3)"
$py - "$W/monitor.html" <<'PY' || fail "the report's figures do not mark the flagged window and the events"
import re, sys
html = open(sys.argv[1]).read()
figs = re.findall(r'<svg .*?</svg>', html, re.S)
anom = [f for f in figs if 'aria-label="anomalous share per window"' in f]
err = [f for f in figs if 'aria-label="share of requests answered with an error"' in f]
assert len(anom) == 1 and ">flagged<" in anom[0], "the flagged window is not marked"
assert len(err) == 1 and ">event<" in err[0], "the error events are not marked"
PY
if grep -q "<script" "$W/monitor.html"; then fail "monitor report has a script"; fi
chrome_figures "$W/monitor.html"
# an artifact written before the training-row sample (lib.sh)
without_reference_rows "$W/c.kiln" "$W/old.kiln"
start_server --model c="$W/old.kiln" --drift-window 100
expect_status 200 POST /v1/models/c:predict "$W/normal1.json"
grep -q "model 'c' version 1: input-anomaly scoring is off: its artifact keeps no sample of its training rows" "$W/serve.err" ||
    fail "no note that scoring is off: $(cat "$W/serve.err")"
metrics_after_windows "$W/metrics" 1
grep -q '^kiln_anomaly_scoring{model="c",version="1"} 0$' "$W/metrics" || fail "kiln_anomaly_scoring is not 0"
if grep -q '^kiln_anomaly_windows_total' "$W/metrics"; then fail "an old artifact's windows were scored"; fi
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || fail "the old artifact's server did not exit 0"; SERVE_PID=
start_server --model c="$W/c.kiln" --drift-window 100 --no-anomalies
expect_status 200 POST /v1/models/c:predict "$W/normal1.json"
metrics_after_windows "$W/metrics" 1
if grep -q 'kiln_anomaly' "$W/metrics"; then fail "--no-anomalies still scores"; fi
echo "serve anomalies: ok"
