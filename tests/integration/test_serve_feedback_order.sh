#!/bin/bash
# kiln serve --feedback-window and kiln monitor feedback --window give the
# same windows for the same labels: the server fills a window with labels
# in the order they arrive, the command with labels in the labels file's
# order; the prediction log's line order (64 buffers written every 50 ms:
# not request order) plays no part.
# - the real kiln serve, 2 request threads, a small GBDT regression on
#   concrete, windows of 20 labels, --record-windows: 4 clients at once send
#   40 one-row requests each and a batch of 8 each (192 predictions);
# - the labels, shuffled (neither request nor log order), POSTed in 4 parts
#   in that order and written to labels.csv in that order;
# - kiln monitor feedback --window 20 on the server's prediction log: the
#   9 full windows and the 12 labels left are the server's recorded windows
#   (RMSE and MAE, 1e-12) and its /metrics "current" window; each window names
#   its labels' rows (from_label, to_label).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(dirname "$0")/../data"
head -301 "$D/concrete.csv" > "$W/train.csv"
{ head -1 "$D/concrete.csv"; sed -n '302,501p' "$D/concrete.csv"; } > "$W/live.csv"
"$KILN" -q train --data "$W/train.csv" --target compressive_strength --model gbdt \
    --param n_estimators=10 --out "$W/cc.kiln" > /dev/null
start_server --model cc="$W/cc.kiln" --threads 2 --feedback-window 20 \
    --prediction-log "$W/pred.jsonl" --record-windows --store "$W/store"

$py - "$W" "$URL" <<'PY' || fail "the clients failed"
import csv, json, random, sys, threading, urllib.request
w, url = sys.argv[1:]
rows = list(csv.DictReader(open(f"{w}/live.csv")))
def inst(r):
    return {k: float(v) for k, v in r.items() if k != "compressive_strength"}
def post(body):
    req = urllib.request.Request(url + "/v1/models/cc:predict", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    r = urllib.request.urlopen(req)
    assert r.status == 200
    return int(r.headers["X-Request-Id"]), json.load(r)["predictions"]
got = [[] for _ in range(4)]  # per client: (request_id, row, truth)
def client(c):
    mine = rows[c * 48:(c + 1) * 48]
    for r in mine[:40]:
        rid, _ = post({"instances": [inst(r)]})
        got[c].append((rid, 0, float(r["compressive_strength"])))
    rid, _ = post({"instances": [inst(r) for r in mine[40:]]})
    got[c] += [(rid, k, float(r["compressive_strength"])) for k, r in enumerate(mine[40:])]
ts = [threading.Thread(target=client, args=(c,)) for c in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
labels = [x for g in got for x in g]
assert len(labels) == 192 and len({(a, b) for a, b, _ in labels}) == 192
random.Random(5).shuffle(labels)
for k in range(4):
    part = labels[48 * k:48 * (k + 1)]
    json.dump({"labels": [{"request_id": a, "row": b, "label": t} for a, b, t in part]},
              open(f"{w}/fb{k + 1}.json", "w"))
with open(f"{w}/labels.csv", "w") as f:
    f.write("request_id,row,compressive_strength\n")
    f.writelines(f"{a},{b},{t!r}\n" for a, b, t in labels)
PY
for k in 1 2 3 4; do
    expect_status 200 POST /v2/models/cc/feedback "$W/fb$k.json"
    body_is 'j["joined"] == 48 and j["duplicate"] == 0 and j["unknown"]["count"] == 0'
done
curl -s "$URL/metrics" > "$W/m.txt"
stop_server # writes the log's last lines and the recorded windows
[ "$(wc -l < "$W/pred.jsonl")" = 192 ] || fail "the log has $(wc -l < "$W/pred.jsonl") lines, wanted 192"

"$KILN" -q --json monitor feedback --log "$W/pred.jsonl" --labels "$W/labels.csv" \
    --label compressive_strength --metric rmse --window 20 > "$W/rmse.json" ||
    fail "kiln monitor feedback failed"
"$KILN" -q --json monitor feedback --log "$W/pred.jsonl" --labels "$W/labels.csv" \
    --label compressive_strength --metric mae --window 20 > "$W/mae.json" ||
    fail "kiln monitor feedback --metric mae failed"

$py - "$W" <<'PY' || fail "kiln monitor feedback's windows are not the server's"
import json, sqlite3, sys
w = sys.argv[1]
db = sqlite3.connect(f"{w}/store/kiln.db")
srv = [json.loads(r)["live"] for (r,) in
       db.execute("SELECT result FROM monitor_checks WHERE model = 'cc' ORDER BY id")
       if "live" in json.loads(r)]
assert [x["window"] for x in srv] == list(range(1, 10)), srv
cur = {}
for line in open(f"{w}/m.txt"):
    if line.startswith("kiln_feedback_") and 'window="current"' in line:
        k, v = line.rsplit(" ", 1)
        cur[k.split("{")[0][len("kiln_feedback_"):]] = float(v)
rm, ma = (json.load(open(f"{w}/{m}.json")) for m in ("rmse", "mae"))
assert rm["joined"] == 192 and rm["duplicate"] == 0 and len(rm["versions"]) == 1, rm
cli_r = rm["versions"][0]["windows"]
cli_m = ma["versions"][0]["windows"]
assert len(cli_r) == 10 and [x["rows"] for x in cli_r] == [20] * 9 + [12], cli_r
def same(a, b):
    return abs(a - b) <= 1e-12 * max(1.0, abs(b))
for s, r, m in zip(srv, cli_r, cli_m):
    assert same(r["rmse"], s["value"]) and same(m["mae"], s["scores"]["mae"]), (s, r, m)
assert same(cli_r[9]["rmse"], cur["rmse"]) and same(cli_m[9]["mae"], cur["mae"]), (cli_r[9], cur)
assert [(x["from_label"], x["to_label"]) for x in cli_r] == \
    [(20 * k + 1, min(20 * k + 20, 192)) for k in range(10)], cli_r
log = [json.loads(l) for l in open(f"{w}/pred.jsonl")]
ids = [(x["request_id"], x["row"]) for x in log]
print("server and kiln monitor feedback: the same 10 windows, RMSE",
      [round(x["rmse"], 3) for x in cli_r],
      "; the log's lines in request order:", ids == sorted(ids))
PY
echo "serve feedback order: ok"
