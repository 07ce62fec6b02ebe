#!/bin/bash
# kiln monitor anomalies: input anomalies of a prediction log. A GBDT on
# 3,000 lending_club rows (its artifact keeps a sample of 1,000 of the 2,400
# rows it was fitted on); a log of 2,000 other rows, one a second, in kiln
# serve's --prediction-log format, with 40 rows in the wrong unit (every
# numeric input times 10) in window 3 of 500 rows and 100 rows of another
# served model between them.
# - windows of 500 rows (--window, and --interval 500 s of the rows' time):
#   only window 3 is flagged, exit 1; the clean log flags none, exit 0;
# - each window's p-value is P(K >= k) of scipy.stats.betabinom(n, k_ref +
#   1/2, n_ref - k_ref + 1/2) within 1e-9, the forest fitted on the artifact's
#   1,000 rows; the same seed gives the same bytes (on 1 and 2 threads);
#   --reference FILE fits on the file instead and flags the same window;
# - the log's lines shuffled (kiln serve writes them from 64 buffers every
#   50 ms, not in request order): the same windows, in request order (--window
#   and --interval);
# - --alerts with --record: an anomaly_share rule is one webhook delivery;
#   re-reading the grown log checks only the new windows (no second
#   delivery), the last partial window waits until it is full, and the
#   incident closes on a clean window; kiln monitor report draws them;
# - kiln serve's own log (300 rows over HTTP) reads whole;
# - bad input: each is a clear error with its exit code, and the recorded
#   alerts are still there; an artifact written before the row sample asks
#   for --reference (exit 2) and works with it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
import datetime
lc, idx = lending_club()
live = train_live(lc.iloc[idx], 3000, 5500, "Class")
num = [c for c in live.columns if live[c].dtype != object]
T0 = 1796000000  # a multiple of 500: intervals of 500 s are the windows of 500 rows
def line(r, i, model="lc"):
    inputs = {k: (None if pd.isna(v) else float(v) if k in num else v) for k, v in r.items()}
    t = datetime.datetime.fromtimestamp(T0 + i, datetime.timezone.utc)
    return json.dumps({"time": t.strftime("%Y-%m-%dT%H:%M:%S.000000Z"), "request_id": i + 1,
                       "row": 0, "model": model, "version": "1", "inputs": inputs,
                       "output": {"label": "good"}}) + "\n"
def write(df, path, other=True):
    with open(path, "w") as f:
        for i in range(2000):
            f.write(line(df.iloc[i], i))
            if other and i % 20 == 7:  # another served model's rows, left out by --name lc
                f.write(line(df.iloc[2000 + i // 20], i, "other"))
write(live, f"{w}/clean.jsonl")
bad = live.copy()
rows = np.random.RandomState(1).choice(np.arange(1000, 1500), 40, replace=False)
bad.loc[rows, num] = bad.loc[rows, num] * 10
write(bad, f"{w}/planted.jsonl")
with open(f"{w}/more.jsonl", "w") as f:  # 500 clean rows after the log's 2,000
    for i in range(2000, 2500):
        f.write(line(live.iloc[i], i))
PY
"$KILN" -q train --data "$W/train.csv" --target Class --model gbdt --param n_estimators=10 \
    --out "$W/lc.kiln" > /dev/null
an() { "$KILN" monitor anomalies --model "$W/lc.kiln" --name lc "$@"; }

rc=0; an --log "$W/planted.jsonl" --window 500 > "$W/table.txt" || rc=$?
cat "$W/table.txt"
[ "$rc" = 1 ] || fail "planted anomalies: exit $rc, wanted 1"
[ "$(grep -c 'ANOMALOUS' "$W/table.txt")" = 1 ] && grep -q '^window 3 .*ANOMALOUS' "$W/table.txt" ||
    fail "the table does not flag window 3 alone"
rc=0; an --log "$W/planted.jsonl" --window 500 --json > "$W/a.json" || rc=$?
[ "$rc" = 1 ] || fail "planted anomalies (--json): exit $rc"
for t in 1 2; do
    "$KILN" --threads $t monitor anomalies --model "$W/lc.kiln" --name lc \
        --log "$W/planted.jsonl" --window 500 --json > "$W/b$t.json" || true
done
cmp -s "$W/a.json" "$W/b1.json" && cmp -s "$W/a.json" "$W/b2.json" ||
    fail "runs with the same seed (on 1 and 2 threads) differ"
rc=0; an --log "$W/planted.jsonl" --interval 500 --json > "$W/interval.json" || rc=$?
[ "$rc" = 1 ] || fail "planted anomalies (--interval): exit $rc"
rc=0; an --log "$W/clean.jsonl" --window 500 --json > "$W/clean.json" || rc=$?
[ "$rc" = 0 ] || fail "clean log: exit $rc, wanted 0"
rc=0; an --log "$W/planted.jsonl" --window 500 --reference "$W/train.csv" --json > "$W/file.json" || rc=$?
[ "$rc" = 1 ] || fail "planted anomalies (--reference): exit $rc"
$py - "$W" <<'PY'
import random, sys
w = sys.argv[1]
lines = open(f"{w}/planted.jsonl").readlines()
random.Random(3).shuffle(lines)
open(f"{w}/shuffled.jsonl", "w").writelines(lines)
PY
for how in "--window 500" "--interval 500"; do
    rc=0; an --log "$W/shuffled.jsonl" $how --json > "$W/shuffled.json" || rc=$?
    [ "$rc" = 1 ] || fail "the shuffled log ($how): exit $rc, wanted 1"
    $py - "$W/shuffled.json" "$W/$([ "$how" = "--window 500" ] && echo a || echo interval).json" <<'PY' ||
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:])
strip = lambda j: [{k: v for k, v in r.items() if k != "first_line"} for r in j["window_results"]]
assert strip(got) == strip(want), (strip(got), strip(want))
PY
        fail "the shuffled log's windows ($how) are not the request-ordered log's"
done
$py - "$W" <<'PY' || fail "the anomaly windows are wrong"
import json, sys
from scipy import stats
w = sys.argv[1]
load = lambda n: json.load(open(f"{w}/{n}.json"))
a, iv, clean, f = load("a"), load("interval"), load("clean"), load("file")
for j, want, rows in ((a, [3], 1000), (iv, [3], 1000), (clean, [], 1000), (f, [3], 3000)):
    m = j["anomaly_model"]
    assert m["model"] == "isolation_forest" and m["test"] == "beta-binomial", m
    assert m["reference_rows"] == rows, m
    assert "annual_inc" in m["columns"] and "term" not in m["columns"], m["columns"]
    assert j["rows"] == 2000 and j["rows_of_other_models"] == 100 and j["windows"] == 4, j["rows"]
    flagged = [r["window"] for r in j["window_results"] if r["flagged"]]
    assert flagged == want, (flagged, want)
    assert j["windows_anomalous"] == len(want)
    kr = m["reference_anomalous_rows"]
    for r in j["window_results"]:
        n, k = r["rows"], r["anomalous_rows"]
        assert n == 500 and r["share"] == k / n
        # the tail summed from scipy's pmf (its sf is 1 - cdf: 0 in far tails)
        p = stats.betabinom.pmf(range(k, n + 1), n, kr + 0.5, rows - kr + 0.5).sum() if k else 1.0
        assert abs(r["p"] - p) <= 1e-9 * max(p, 1e-300) or abs(r["p"] - p) < 1e-15, (r["p"], p)
    print([r["anomalous_rows"] for r in j["window_results"]], kr)
assert a["reference_source"] == "artifact" and a["reference_sampled_from"] == 2400
assert f["reference_source"] == "file"
assert [r["anomalous_rows"] for r in a["window_results"]] == [r["anomalous_rows"] for r in iv["window_results"]]
assert iv["window_results"][2]["interval_start"] == "2026-11-30T01:10:00Z", iv["window_results"][2]
assert a["window_results"][2]["anomalous_rows"] >= 36
PY

# ---- alerts and the store ----
PORT=$(free_port)
cat > "$W/receiver.py" <<'PY'
import http.server, sys
out = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(out, "ab") as f:
            f.write(body + b"\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
$py "$W/receiver.py" "$PORT" "$W/got.jsonl" & RECEIVER=$!
trap 'kill $RECEIVER 2>/dev/null; if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null; fi; rm -rf "$W"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" -X POST -d x 2>/dev/null && break; sleep 0.1; done
rm -f "$W/got.jsonl"
cat > "$W/rules.yaml" <<EOF
rules:
  - {name: wrong_unit, metric: anomaly_share, condition: "> 0.05", window: 500, severity: critical}
sinks:
  - webhook: http://127.0.0.1:$PORT/alerts
    retries: 3
    backoff: 0.2
EOF
posts() { [ -f "$W/got.jsonl" ] && wc -l < "$W/got.jsonl" || echo 0; }
grep -v '"other"' "$W/planted.jsonl" > "$W/grow.jsonl"
head -250 "$W/more.jsonl" >> "$W/grow.jsonl"   # window 5 half full
rec() { # want_exit
    local rc=0
    an --log "$W/grow.jsonl" --alerts "$W/rules.yaml" --record --store "$W/store" --json \
        > "$W/rec.json" 2> "$W/err" || rc=$?
    [ "$rc" = "$1" ] || fail "record: exit $rc, wanted $1: $(cat "$W/err")"
}
rec 1
[ "$(posts)" = 1 ] || fail "$(posts) deliveries, wanted 1"
grep -q '"rule":"wrong_unit"' "$W/got.jsonl" && grep -q '"window":3' "$W/got.jsonl" ||
    fail "the delivery: $(cat "$W/got.jsonl")"
$py - "$W/rec.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["windows"] == 5 and j["recorded"] == {"windows_recorded_before": 0, "pending_rows": 250}, j["recorded"]
assert j["window_results"][4]["pending"] is True and j["window_results"][4]["alerts"] == []
assert [r["alerts"][0]["open"] for r in j["window_results"][:4]] == [False, False, True, False]
PY
rec 0   # the same log again: nothing new to check
[ "$(posts)" = 1 ] || fail "re-reading the log: $(posts) deliveries, wanted 1"
tail -250 "$W/more.jsonl" >> "$W/grow.jsonl"   # window 5 full
rec 0
$py - "$W/rec.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["recorded"] == {"windows_recorded_before": 4, "pending_rows": 0}, j["recorded"]
r = j["window_results"]
assert [x.get("recorded_before", False) for x in r] == [True] * 4 + [False]
assert r[4]["rows"] == 500 and r[4]["alerts"][0]["firing"] is False
PY
"$KILN" -q --json monitor alerts --store "$W/store" > "$W/alerts.json"
$py - "$W/alerts.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["alerts"]
assert len(a) == 1 and a[0]["rule"] == "wrong_unit" and a[0]["delivered"] and a[0]["closed"], a
PY
# kiln monitor report draws the 5 recorded windows (no drift check among them)
"$KILN" -q monitor report --model "$W/lc.kiln" --store "$W/store" --out "$W/monitor.html" ||
    fail "monitor report failed on the recorded anomaly windows"
grep -q '1 of 5 windows flagged' "$W/monitor.html" && grep -q 'No drift check was recorded' "$W/monitor.html" ||
    fail "the report of the anomaly windows: $(grep -o '<p>[^<]*</p>' "$W/monitor.html" | head -5)"

# ---- kiln serve's own prediction log ----
start_server --model lc="$W/lc.kiln" --threads 2 --prediction-log "$W/served.jsonl"
$py - "$W" "$URL" <<'PY' || fail "the client failed"
import csv, json, sys, urllib.request
w, url = sys.argv[1:]
rows = list(csv.DictReader(open(f"{w}/train.csv")))[:300]
text = {"term", "sub_grade", "addr_state", "verification_status", "emp_length"}
inst = [{k: (None if v == "" else v if k in text else float(v)) for k, v in r.items() if k != "Class"} for r in rows]
for i in range(0, 300, 100):
    req = urllib.request.Request(f"{url}/v1/models/lc:predict", json.dumps({"instances": inst[i:i + 100]}).encode(), {"Content-Type": "application/json"})
    assert urllib.request.urlopen(req).status == 200
PY
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || fail "kiln serve exited $?"; SERVE_PID=
rc=0; "$KILN" -q --json monitor anomalies --log "$W/served.jsonl" --model "$W/lc.kiln" \
    --window 100 > "$W/served.json" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "the served log: exit $rc"
$py - "$W/served.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["rows"] == 300 and j["windows"] == 3 and j["non_numeric_cells"] == 0, j
PY

# ---- bad input ----
expect "give one" 2 an --log "$W/planted.jsonl" --window 500 --interval 60
printf 'rules:\n  - {name: drifty, metric: psi, condition: "> 0.2"}\n' > "$W/drift.yaml"
expect "rule 'drifty': metric 'psi' is not measured on a prediction log's inputs.*kiln monitor check" 2 \
    an --log "$W/planted.jsonl" --alerts "$W/drift.yaml" --record --store "$W/store"
printf 'rules:\n  - {name: w, metric: anomaly_share, condition: "> 0.1", window: 100}\n' > "$W/win.yaml"
expect "the rules have window: 100 rows, the check --interval 60 s" 2 \
    an --log "$W/planted.jsonl" --interval 60 --alerts "$W/win.yaml"
expect "holds rows of more than one model ('lc', 'other', ...): give --name" 2 \
    "$KILN" monitor anomalies --model "$W/lc.kiln" --log "$W/planted.jsonl"
expect "has no rows of model 'nope'" 3 "$KILN" monitor anomalies --model "$W/lc.kiln" --log "$W/planted.jsonl" --name nope
{ head -3 "$W/clean.jsonl"; echo '{"request_id": 9, "output": 1}'; } > "$W/broken.jsonl"
expect "broken.jsonl:4: not a prediction log line (no \"inputs\")" 3 an --log "$W/broken.jsonl"
{ head -3 "$W/clean.jsonl"; echo 'not json'; } > "$W/broken.jsonl"
expect "broken.jsonl:4: not a prediction log line" 3 an --log "$W/broken.jsonl"
head -3 "$W/clean.jsonl" | sed 's/"time": "[^"]*", //' > "$W/notime.jsonl"
expect "notime.jsonl:1: --interval needs each row's \"time\"" 3 an --log "$W/notime.jsonl" --interval 60
expect "cannot open the prediction log" 3 an --log "$W/missing.jsonl"
# an artifact written before the row sample (lib.sh)
without_reference_rows "$W/lc.kiln" "$W/old.kiln"
"$KILN" -q inspect "$W/old.kiln" > /dev/null || fail "the artifact without rows does not load"
expect "old.kiln keeps no sample of its training rows.*pass --reference FILE" 2 \
    "$KILN" monitor anomalies --model "$W/old.kiln" --log "$W/clean.jsonl" --name lc
rc=0; "$KILN" -q monitor anomalies --model "$W/old.kiln" --log "$W/clean.jsonl" --name lc \
    --reference "$W/train.csv" > /dev/null || rc=$?
[ "$rc" = 0 ] || fail "the old artifact with --reference: exit $rc"
"$KILN" -q --json monitor alerts --store "$W/store" | grep -q '"rule": "wrong_unit"' ||
    fail "the recorded alert is gone"
echo ok
