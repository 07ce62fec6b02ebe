#!/bin/bash
# A prediction labelled twice is scored once, with its first label: a client
# that retries a feedback POST (a timeout, a restart) or appends its labels
# file again must not count the same predictions twice in the live score.
# - the real kiln serve (a small GBDT regression on concrete, windows of 10
#   labels): 20 one-row requests and a batch of 5, all 25 labelled; then 8
#   of those labels sent again with other values: the answer says joined 0,
#   duplicate 8; /metrics keeps 25 labels, 2 windows, 5 filling, counts 8
#   duplicates, and the windows' RMSE equals the first labels' (1e-9);
# - kiln monitor feedback on the server's prediction log with the labels
#   file holding the 8 again: 25 joined, 8 duplicate, and the server's
#   windows (the labels in the order sent, the first labels), to 1e-12.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(dirname "$0")/../data"
head -301 "$D/concrete.csv" > "$W/train.csv"
{ head -1 "$D/concrete.csv"; sed -n '302,326p' "$D/concrete.csv"; } > "$W/live.csv"
"$KILN" -q train --data "$W/train.csv" --target compressive_strength --model gbdt \
    --param n_estimators=10 --out "$W/cc.kiln" > /dev/null
start_server --model cc="$W/cc.kiln" --threads 2 --feedback-window 10 \
    --prediction-log "$W/pred.jsonl"

$py - "$W" "$URL" <<'PY' || fail "the client failed"
import csv, json, sys, urllib.request
w, url = sys.argv[1:]
def post(path, body):
    req = urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    r = urllib.request.urlopen(req)
    assert r.status == 200
    return int(r.headers["X-Request-Id"]), json.load(r)
rows = list(csv.DictReader(open(f"{w}/live.csv")))
def inst(r):
    return {k: float(v) for k, v in r.items() if k != "compressive_strength"}
labels, joined = [], []  # label entries; (truth, prediction) in label order
for r in rows[:20]:
    rid, out = post("/v1/models/cc:predict", {"instances": [inst(r)]})
    labels.append({"request_id": rid, "label": float(r["compressive_strength"])})
    joined.append((float(r["compressive_strength"]), out["predictions"][0]))
rid, out = post("/v1/models/cc:predict", {"instances": [inst(r) for r in rows[20:]]})
for k, (r, p) in enumerate(zip(rows[20:], out["predictions"])):
    labels.append({"request_id": rid, "row": k, "label": float(r["compressive_strength"])})
    joined.append((float(r["compressive_strength"]), p))
again = [dict(l, label=l["label"] + 40.0) for l in labels[3:9] + labels[21:23]]
json.dump({"labels": labels}, open(f"{w}/first.json", "w"))
json.dump({"labels": again}, open(f"{w}/again.json", "w"))
json.dump(joined, open(f"{w}/joined.json", "w"))
with open(f"{w}/labels.csv", "w") as f:
    f.write("request_id,row,compressive_strength\n")
    for l in labels + again:
        f.write(f'{l["request_id"]},{l.get("row", 0)},{l["label"]!r}\n')
PY

expect_status 200 POST /v2/models/cc/feedback "$W/first.json"
body_is 'j["joined"] == 25 and j["duplicate"] == 0 and j["unknown"]["count"] == 0'
expect_status 200 POST /v2/models/cc/feedback "$W/again.json"
body_is 'j["joined"] == 0 and j["duplicate"] == 8 and j["versions"] == {"1": 0}'
curl -s "$URL/metrics" > "$W/m.txt"
kill "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve did not exit 0"
SERVE_PID=

"$KILN" -q --json monitor feedback --log "$W/pred.jsonl" --labels "$W/labels.csv" --label compressive_strength \
    --window 10 > "$W/fb.json" || fail "kiln monitor feedback failed"
"$KILN" -q monitor feedback --log "$W/pred.jsonl" --labels "$W/labels.csv" --label compressive_strength --window 10 \
    > "$W/fb.txt" || fail "kiln monitor feedback failed"
grep -q "^25 labels joined to 25 logged predictions; rmse per window (no test score to set it against: give --model)$" "$W/fb.txt" ||
    fail "monitor feedback's first line: $(head -1 "$W/fb.txt")"
grep -q "^8 labels left out: their prediction had a label before (the first counts)$" "$W/fb.txt" ||
    fail "the duplicates are not reported: $(cat "$W/fb.txt")"

$py - "$W" <<'PY' || fail "a label sent twice changed the live score"
import json, math, sys
w = sys.argv[1]
m = {}
for line in open(f"{w}/m.txt"):
    if line.startswith("kiln_feedback_"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
def s(name, window=None):
    return m['kiln_feedback_%s{model="cc",version="1"%s}' % (name, f',window="{window}"' if window else "")]
assert s("labels_total") == 25 and s("duplicate_total") == 8, m
assert s("windows_total") == 2 and s("window_labels") == 5 and s("unknown_total") == 0, m
j = json.load(open(f"{w}/joined.json"))
def rmse(part):
    return math.sqrt(sum((t - p) ** 2 for t, p in part) / len(part))
for win, part in (("last", j[10:20]), ("current", j[20:])):
    assert abs(s("rmse", win) - rmse(part)) < 1e-9 * rmse(part), (win, s("rmse", win), rmse(part))
fb = json.load(open(f"{w}/fb.json"))
assert fb["joined"] == 25 and fb["duplicate"] == 8 and fb["unknown"] == 0, fb
# kiln monitor feedback's windows are the server's: the labels in the order
# sent, each prediction with its first label
got = [x["rmse"] for x in fb["versions"][0]["windows"]]
want = [rmse(j[0:10]), rmse(j[10:20]), rmse(j[20:])]
assert len(got) == 3 and all(abs(a - b) <= 1e-12 * b for a, b in zip(got, want)), (got, want)
assert abs(got[1] - s("rmse", "last")) <= 1e-12 * got[1], (got, s("rmse", "last"))
assert abs(got[2] - s("rmse", "current")) <= 1e-12 * got[2], (got, s("rmse", "current"))
print("windows' RMSE", [round(x, 4) for x in want], "with the first labels; 8 duplicates left out")
PY
echo "serve feedback duplicates: ok"
