#!/bin/bash
# POST /v2/models/NAME/feedback: true labels joined by request id (and row)
# to the predictions the real kiln serve made, scored per window of joined
# labels and per version in /metrics.
# - a GBDT classifier on lending_club: 300 one-row requests and 3 batches
#   of 100 (labels by "row"); labels sent in two bodies, in shuffled order,
#   with unknown request ids among them; windows of 200: the last full
#   window's and the filling window's accuracy and ROC-AUC (probability of
#   "good", the class that sorts last) equal scikit-learn's on the same
#   labels (1e-12); the unknown ids are counted and named in the answer;
# - a GBDT regression on concrete in the same server: RMSE and MAE of the
#   window equal numpy's (1e-9);
# - bad bodies are 400 naming the field, and change no figure;
# - under --require-key the route needs a key, as the predict routes do.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
lc, idx = lending_club()
lc.iloc[idx[:3000]].to_csv(f"{w}/train.csv", index=False)
lc.iloc[idx[3000:3600]].to_csv(f"{w}/live.csv", index=False)
c = pd.read_csv(f"{d}/concrete.csv").sample(frac=1, random_state=1)
c.iloc[:700].to_csv(f"{w}/ctrain.csv", index=False)
c.iloc[700:].to_csv(f"{w}/clive.csv", index=False)
PY
"$KILN" -q train --data "$W/train.csv" --target Class --model gbdt --param n_estimators=20 \
    --out "$W/lc.kiln" > /dev/null
"$KILN" -q train --data "$W/ctrain.csv" --target compressive_strength --model gbdt \
    --param n_estimators=20 --out "$W/cc.kiln" > /dev/null
start_server --model lc="$W/lc.kiln" --model cc="$W/cc.kiln" --threads 2 --feedback-window 200

# predictions, then labels in shuffled order with unknown ids among them
$py - "$W" "$URL" <<'PY' || fail "the client failed"
import csv, json, random, sys, urllib.request
w, url = sys.argv[1:]
def post(path, body):
    req = urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    r = urllib.request.urlopen(req)
    assert r.status == 200
    return int(r.headers["X-Request-Id"]), json.load(r)
def inst(r, text):
    return {k: (None if v == "" else v if k in text else float(v)) for k, v in r.items()}
text = {"term", "sub_grade", "addr_state", "verification_status", "emp_length"}
rows = list(csv.DictReader(open(f"{w}/live.csv")))
joined = []  # (label entry, truth, predicted label, probability of "good")
for i, r in enumerate(rows):
    x = inst({k: v for k, v in r.items() if k != "Class"}, text)
    if i < 300:
        rid, out = post("/v1/models/lc:predict", {"instances": [x]})
        p = out["predictions"][0]
        joined.append(({"request_id": rid, "label": r["Class"]}, r["Class"], p["label"], p["probabilities"]["good"]))
for b in range(3):
    batch = rows[300 + 100 * b: 400 + 100 * b]
    rid, out = post("/v1/models/lc:predict", {"instances": [inst({k: v for k, v in r.items() if k != "Class"}, text) for r in batch]})
    for k, (r, p) in enumerate(zip(batch, out["predictions"])):
        joined.append(({"request_id": rid, "row": k, "label": r["Class"]}, r["Class"], p["label"], p["probabilities"]["good"]))
random.Random(5).shuffle(joined)
unknown = [{"request_id": 10**9 + k, "label": "good"} for k in range(12)] + [{"request_id": joined[0][0]["request_id"], "row": 7777, "label": "bad"}]
first = [j[0] for j in joined[:350]] + unknown[:5]
second = unknown[5:] + [j[0] for j in joined[350:]]
json.dump({"labels": first}, open(f"{w}/first.json", "w"))
json.dump({"labels": second}, open(f"{w}/second.json", "w"))
json.dump([j[1:] for j in joined], open(f"{w}/joined.json", "w"))
json.dump([u["request_id"] for u in unknown], open(f"{w}/unknown.json", "w"))
# the regression: 250 one-row requests, labels as numbers
crows = list(csv.DictReader(open(f"{w}/clive.csv")))[:250]
cl, cj = [], []
for r in crows:
    rid, out = post("/v2/models/cc/infer" if False else "/v1/models/cc:predict", {"instances": [inst({k: v for k, v in r.items() if k != "compressive_strength"}, set())]})
    cl.append({"request_id": rid, "label": float(r["compressive_strength"])})
    cj.append((float(r["compressive_strength"]), out["predictions"][0]))
json.dump({"labels": cl}, open(f"{w}/creg.json", "w"))
json.dump(cj, open(f"{w}/cjoined.json", "w"))
PY

# bad bodies first: 400 naming the field, nothing counted
printf '{"labels": [{"request_id": 1, "label": "good"}, {"request_id": 2}]}' > "$W/bad1.json"
expect_status 400 POST /v2/models/lc/feedback "$W/bad1.json"
body_is 'j["error"]["field"] == "labels[1].label"'
printf '{"labels": [{"request_id": "x", "label": "good"}]}' > "$W/bad2.json"
expect_status 400 POST /v2/models/lc/feedback "$W/bad2.json"
body_is 'j["error"]["field"] == "labels[0].request_id"'
printf '{"label": []}' > "$W/bad3.json"
expect_status 400 POST /v2/models/lc/feedback "$W/bad3.json"
body_is 'j["error"]["field"] == "labels"'
printf '{"labels": [' > "$W/bad4.json"
expect_status 400 POST /v2/models/lc/feedback "$W/bad4.json"
body_is 'j["error"]["code"] == "bad_json"'
printf '{"labels": [{"request_id": 1, "label": "high"}]}' > "$W/bad5.json"
expect_status 400 POST /v2/models/cc/feedback "$W/bad5.json"
body_is 'j["error"]["field"] == "labels[0].label" and "number" in j["error"]["message"]'
expect_status 404 POST /v2/models/nope/feedback "$W/bad5.json"
expect_status 405 GET /v2/models/lc/feedback
curl -s "$URL/metrics" > "$W/m0.txt"
grep -q '^kiln_feedback_labels_total{model="lc",version="1"} 0$' "$W/m0.txt" ||
    fail "a bad body changed the labels count: $(grep feedback_labels "$W/m0.txt")"

expect_status 200 POST /v2/models/lc/feedback "$W/first.json"
cp "$W/body" "$W/a1.json"
expect_status 200 POST /v2/models/lc/feedback "$W/second.json"
cp "$W/body" "$W/a2.json"
expect_status 200 POST /v2/models/cc/feedback "$W/creg.json"
cp "$W/body" "$W/a3.json"
curl -s "$URL/metrics" > "$W/m.txt"
$py - "$W" <<'PY' || fail "the feedback figures differ from scikit-learn's"
import json, math, re, sys
import numpy as np
from sklearn.metrics import accuracy_score, roc_auc_score, mean_squared_error, mean_absolute_error
w = sys.argv[1]
m = {}
for line in open(f"{w}/m.txt"):
    if line.startswith("kiln_feedback_"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
a1, a2, a3 = (json.load(open(f"{w}/a{i}.json")) for i in (1, 2, 3))
unknown = json.load(open(f"{w}/unknown.json"))
assert a1["joined"] == 350 and a1["unknown"]["count"] == 5, a1
assert a1["unknown"]["request_ids"] == unknown[:5], a1
assert a2["joined"] == 250 and a2["unknown"]["count"] == 8 and a2["unknown"]["request_ids"] == unknown[5:], a2
assert a2["versions"] == {"1": 250}, a2
assert a3["joined"] == 250 and a3["unknown"]["count"] == 0, a3
j = json.load(open(f"{w}/joined.json"))
def s(name, model, window=None):
    key = f'kiln_feedback_{name}{{model="{model}",version="1"' + (f',window="{window}"' if window else "") + "}"
    assert key in m, (key, sorted(m))
    return m[key]
assert s("labels_total", "lc") == 600 and s("unknown_total", "lc") == 13 and s("windows_total", "lc") == 3, m
for win, part in (("last", j[400:600]),):
    y = [t for t, _, _ in part]
    acc = accuracy_score(y, [p for _, p, _ in part])
    auc = roc_auc_score([t == "good" for t in y], [q for _, _, q in part])
    assert abs(s("accuracy", "lc", win) - acc) < 1e-12, (s("accuracy", "lc", win), acc)
    assert abs(s("roc_auc", "lc", win) - auc) < 1e-12, (s("roc_auc", "lc", win), auc)
    print(f"lc window {win}: accuracy {acc:.4f}, ROC-AUC {auc:.4f} (scikit-learn equal)")
assert f'kiln_feedback_accuracy{{model="lc",version="1",window="current"}}' not in m  # the window is empty
c = json.load(open(f"{w}/cjoined.json"))
for win, part in (("last", c[:200]), ("current", c[200:])):
    y, p = np.array([t for t, _ in part]), np.array([q for _, q in part])
    rmse, mae = math.sqrt(mean_squared_error(y, p)), mean_absolute_error(y, p)
    assert abs(s("rmse", "cc", win) - rmse) < 1e-9 * rmse, (s("rmse", "cc", win), rmse)
    assert abs(s("mae", "cc", win) - mae) < 1e-9 * mae, (s("mae", "cc", win), mae)
    print(f"cc window {win}: RMSE {rmse:.4f}, MAE {mae:.4f} (scikit-learn equal)")
assert s("window_labels", "cc") == 50 and s("memory_bytes", "cc") > 0
PY

# --require-key: the feedback route is keyed like the predict routes
kill "$SERVE_PID"
wait "$SERVE_PID" || fail "kiln serve did not exit 0"
SERVE_PID=
KEY=$("$KILN" keys create --role predict --store "$W/ks" --quiet)
start_server --store "$W/ks" --model cc="$W/cc.kiln" --require-key
expect_status 401 POST /v2/models/cc/feedback "$W/creg.json"
SERVE_KEY=$KEY expect_status 200 POST /v2/models/cc/feedback "$W/creg.json"
body_is 'j["joined"] == 0 and j["unknown"]["count"] == 250'
echo "serve feedback: ok"
