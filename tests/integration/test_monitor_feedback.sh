#!/bin/bash
# kiln monitor feedback: a GBDT on 6,000 lending_club rows served by the
# real kiln serve with --prediction-log; 2,000 other rows sent over HTTP in
# batches of 100; their true Class joined back by request id and row.
# - per window of 500 labels in the labels file's order (shuffled: neither
#   request nor log order; kiln serve's windows take labels as they come),
#   accuracy (the logged label against the truth) and ROC-AUC (the logged
#   probability of the positive class, scikit-learn's roc_auc_score) equal
#   Python's from the log (1e-12);
# - labels flipped in the third window only: that window, and no other,
#   falls below the artifact's test accuracy by the margin (exit 1);
# - labels with request ids the log does not hold: exit 3 naming them,
#   nothing scored; --unknown skip scores the rest and counts them.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
lc, idx = lending_club()
lc.iloc[idx[:6000]].to_csv(f"{w}/train.csv", index=False)
lc.iloc[idx[6000:8000]].to_csv(f"{w}/live.csv", index=False)
PY
"$KILN" -q train --data "$W/train.csv" --target Class --model gbdt --param n_estimators=30 \
    --out "$W/lc.kiln" > /dev/null
start_server --model lc="$W/lc.kiln" --threads 2 --prediction-log "$W/pred.jsonl"
$py - "$W" "$URL" <<'PY' || fail "the client failed"
import csv, json, sys, urllib.request
w, url = sys.argv[1:]
rows = list(csv.DictReader(open(f"{w}/live.csv")))
text = {"term", "sub_grade", "addr_state", "verification_status", "emp_length"}
inst = [{k: (None if v == "" else v if k in text else float(v)) for k, v in r.items() if k != "Class"} for r in rows]
out = open(f"{w}/labels.csv", "w")
out.write("request_id,row,Class\n")
for i in range(0, len(inst), 100):
    req = urllib.request.Request(f"{url}/v1/models/lc:predict", json.dumps({"instances": inst[i:i + 100]}).encode(), {"Content-Type": "application/json"})
    r = urllib.request.urlopen(req)
    assert r.status == 200
    rid = r.headers["X-Request-Id"]
    for k in range(len(inst[i:i + 100])):
        out.write(f"{rid},{k},{rows[i + k]['Class']}\n")
out.close()
PY
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve exited $?"
SERVE_PID=
[ "$(wc -l < "$W/pred.jsonl")" = 2000 ] || fail "the log holds $(wc -l < "$W/pred.jsonl") rows"

$py - "$W" <<'PY'
import csv, random
w = __import__("sys").argv[1]
rows = list(csv.reader(open(f"{w}/labels.csv")))
head, body = rows[0], rows[1:]
random.Random(3).shuffle(body)  # labels arrive in any order
csv.writer(open(f"{w}/shuffled.csv", "w"), lineterminator="\n").writerows([head] + body)
flip = {"good": "bad", "bad": "good"}
# the third window of 500 labels, in the labels' order
third = {(r[0], r[1]) for r in body[1000:1500]}
csv.writer(open(f"{w}/flipped.csv", "w"), lineterminator="\n").writerows(
    [head] + [[r[0], r[1], flip[r[2]] if (r[0], r[1]) in third else r[2]] for r in body])
csv.writer(open(f"{w}/unknown.csv", "w"), lineterminator="\n").writerows([head] + body + [["999999", "0", "good"], ["888888", "3", "bad"]])
PY
fb() { # labels want_exit extra...
    local labels=$1 want=$2 rc=0; shift 2
    "$KILN" -q --json monitor feedback --log "$W/pred.jsonl" --labels "$W/$labels" \
        --model "$W/lc.kiln" --window 500 "$@" > "$W/fb.json" 2> "$W/err" || rc=$?
    [ "$rc" = "$want" ] || fail "feedback $labels: exit $rc, wanted $want: $(cat "$W/err") $(head -c 1500 "$W/fb.json")"
}
fb shuffled.csv 0
cp "$W/fb.json" "$W/acc.json"
fb shuffled.csv 0 --metric roc_auc --margin 0.2  # about 26 positives a window: a noisy AUC
cp "$W/fb.json" "$W/auc.json"
fb flipped.csv 1
cp "$W/fb.json" "$W/flip.json"
$py - "$W" <<'PY'
import csv, json, sys
from sklearn.metrics import roc_auc_score
w = sys.argv[1]
# the logged predictions in the order of the labels (shuffled.csv), and their truth
by_id = {(str(l["request_id"]), str(l["row"])): l for l in map(json.loads, open(f"{w}/pred.jsonl"))}
order = list(csv.DictReader(open(f"{w}/shuffled.csv")))
log = [by_id[(r["request_id"], r["row"])] for r in order]
t = [r["Class"] for r in order]
acc, auc, flip = (json.load(open(f"{w}/{n}.json")) for n in ("acc", "auc", "flip"))
pos = acc and json.load(open(f"{w}/acc.json"))
for j in (acc, auc, flip):
    assert j["joined"] == 2000 and j["unknown"] == 0 and len(j["versions"]) == 1, j
wa, wu = acc["versions"][0]["windows"], auc["versions"][0]["windows"]
assert [x["rows"] for x in wa] == [500] * 4, wa
for k in range(4):
    part = range(500 * k, 500 * (k + 1))
    a = sum(log[i]["output"]["label"] == t[i] for i in part) / 500
    assert abs(wa[k]["accuracy"] - a) <= 1e-12, (k, wa[k], a)
    labels = sorted(log[0]["output"]["probabilities"])
    positive = "good" if "good" in labels else labels[-1]
    y = [t[i] == positive for i in part]
    s = [log[i]["output"]["probabilities"][positive] for i in part]
    u = roc_auc_score(y, s)
    assert abs(wu[k]["roc_auc"] - u) <= 1e-12, (k, wu[k], u)
below = [x["below_test"] for x in flip["versions"][0]["windows"]]
assert below == [False, False, True, False], (below, flip)
assert not any(x["below_test"] for x in wa), wa
print("feedback: accuracy", [round(x["accuracy"], 4) for x in wa], "test", acc["test"])
PY
expect "2 labels of .*unknown.csv match no logged prediction (request ids 999999, 888888); nothing was scored" 3 \
    "$KILN" monitor feedback --log "$W/pred.jsonl" --labels "$W/unknown.csv" --model "$W/lc.kiln"
fb unknown.csv 0 --unknown skip
$py -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['joined'] == 2000 and j['unknown'] == 2, j" "$W/fb.json"
expect "has no label column 'outcome'; name it with --label" 3 "$KILN" monitor feedback --log "$W/pred.jsonl" \
    --labels "$W/labels.csv" --model "$W/lc.kiln" --label outcome
echo ok
