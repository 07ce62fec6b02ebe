#!/bin/bash
# Train/serve skew: the same rows through kiln run (its held-out
# predictions), kiln predict, kiln serve (v1 one row, v1 batch, v2) and
# kiln monitor check (its held-out prediction and score reference) agree
# bit for bit, on data that stresses reading: a date column (turned into
# calendar features), text with spaces, quotes, a comma and non-ASCII
# letters, boolean-like columns (true/false, yes/no), small integers, a
# number column with missing values in six forms ('', NA, n/a, null, ?,
# NaN: JSON null in a request), a text level 'None' (a missing token kept
# as a level at training).
# - a test source where a level is rare is read as new data is (kiln run
#   read it with its own types and token frequencies);
# - predict: columns in another order, or an extra column, give the same
#   bytes; a batch whose number column is all missing gives what serve gives
#   for nulls; rows whose level is 'None' predicted alone give what they get
#   in the whole file;
# - serve: dates written with a time or an offset give what the date gives;
#   a number sent as a string is a 400 naming the field (not read as text).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
HELDOUT_DUMP=${HELDOUT_DUMP:?set HELDOUT_DUMP to tests/tools/heldout_dump}
cd "$W"
$py - <<'PY'
import csv, datetime, random
random.seed(3)
cities = ["New York", "São Paulo", "O'Hare", 'He said "hi"', "Zürich", "a,b"]
miss = ["", "NA", "n/a", "null", "?", "NaN"]
rows = []
for i in range(300):
    d = datetime.date(2024, 1, 1) + datetime.timedelta(days=random.randrange(400))
    city, flag, yn = random.choice(cities), random.choice(["true", "false"]), random.choice(["yes", "no"])
    code, x = random.choice([1, 2, 3, 5, 8]), random.gauss(0, 1)
    xs = f"{x:.4f}" if random.random() > 0.15 else random.choice(miss)
    status = random.choice(["None", "open", "closed", "None"])
    score = ((x if xs not in miss else 0) + (city in ("Zürich", "O'Hare")) + (flag == "true")
             + 0.3 * code + (status == "None") + d.month / 6 + random.gauss(0, 0.5))
    rows.append([d.isoformat(), city, flag, yn, code, xs, status, "hi" if score > 2.2 else "lo"])
h = ["date", "city", "flag", "yn", "code", "x", "status", "y"]
def write(name, head, body):
    with open(name, "w", newline="") as f:
        w = csv.writer(f); w.writerow(head); w.writerows(body)
write("train.csv", h, rows[:220]); write("test.csv", h, rows[220:])
test = rows[220:]
write("t_order.csv", h[::-1], [r[::-1] for r in test])
write("t_extra.csv", h + ["extra"], [r + ["zz"] for r in test])
write("t_allmiss.csv", h, [r[:5] + [""] + r[6:] for r in test])
none = [i for i, r in enumerate(test) if r[6] == "None"][:3]
write("t_none.csv", h, [test[i] for i in none])
open("none_rows.txt", "w").write(" ".join(str(i) for i in none))
PY
cat > spec.yaml <<'YAML'
sources:
  tr: {file: train.csv}
  te: {file: test.csv}
frame: {from: tr}
target: y
steps: [datetime_features: {keep: false}]
model:
  gbdt: {n_estimators: 20}
evaluation:
  cv: false
  test: {source: te}
seed: 1
YAML
"$KILN" -q run spec.yaml --no-store --out run.kiln > /dev/null 2> run.err || { cat run.err; fail "run"; }
"$HELDOUT_DUMP" run.kiln > held.csv
"$KILN" -q predict --model run.kiln --data test.csv --proba --out pred.csv
same_preds() { # same_preds A B: labels equal, probabilities equal as doubles
    $py - "$1" "$2" <<'PY'
import csv, sys
a, b = (list(csv.DictReader(open(p))) for p in sys.argv[1:])
assert len(a) == len(b) and a, (len(a), len(b))
for i, (x, y) in enumerate(zip(a, b)):
    assert x["prediction"] == y["prediction"], (i, x, y)
    assert all(float(x[k]) == float(y[k]) for k in x if k.startswith("proba_")), (i, x, y)
PY
}
same_preds held.csv pred.csv || fail "kiln run's held-out predictions differ from kiln predict's"
# a test source where 'None' is rare: read as new data is (its training
# level), so the held-out predictions are still kiln predict's
$py - <<'PY'
import csv
rows = list(csv.reader(open("test.csv")))
none = [r for r in rows[1:] if r[6] == "None"][:2]
other = [r for r in rows[1:] if r[6] != "None"][:20]
with open("small.csv", "w", newline="") as f:
    csv.writer(f).writerows([rows[0]] + none + other)
PY
sed 's/te: {file: test.csv}/te: {file: small.csv}/' spec.yaml > small.yaml
"$KILN" -q run small.yaml --no-store --out small.kiln > /dev/null 2> small.err ||
    { cat small.err; fail "run with a small test source"; }
"$HELDOUT_DUMP" small.kiln > held_small.csv
"$KILN" -q predict --model small.kiln --data small.csv --proba --out pred_small.csv
same_preds held_small.csv pred_small.csv ||
    fail "a test source with a rare level: kiln run's held-out predictions differ from predict's"
for v in order extra; do
    "$KILN" -q predict --model run.kiln --data "t_$v.csv" --proba --out "p_$v.csv"
    cmp -s "p_$v.csv" pred.csv || fail "predict: columns $v: the predictions differ"
done
"$KILN" -q predict --model run.kiln --data t_allmiss.csv --proba --out p_allmiss.csv
"$KILN" -q predict --model run.kiln --data t_none.csv --proba --out p_none.csv
$py - <<'PY' || fail "predict: the rows with 'None' alone differ from the same rows in the file"
import csv
full = list(csv.DictReader(open("pred.csv")))
alone = list(csv.DictReader(open("p_none.csv")))
rows = [int(i) for i in open("none_rows.txt").read().split()]
assert len(alone) == len(rows) == 3, (alone, rows)
for r, i in zip(alone, rows):
    assert r == full[i], (r, full[i])
PY

# monitor check: the held-out reference against the same rows: no difference at all
"$KILN" -q --json monitor check --model run.kiln --data test.csv > mc.json || true
$py - mc.json <<'PY' || fail "monitor check: the held-out reference differs from the predictions"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["reference_predictions"] == "held-out" and j["reference_scores"], j
for k in ("prediction", "score"):
    c = j[k]
    assert c["n"] == c["n_reference"] == 80 and c["psi"] == 0 and c["p"] == 1, (k, c)
assert j["score"]["ks_d"] == 0 and j["prediction"]["js"] == 0, j
PY

start_server --model m=run.kiln --threads 2
$py - "$PORT" <<'PY' || fail "kiln serve differs from kiln predict"
import csv, http.client, json, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
def post(path, body):
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, json.loads(r.read())
conn.request("GET", "/v2/models/m"); meta = json.loads(conn.getresponse().read())
types = {i["name"]: i["datatype"] for i in meta["inputs"]}
MISS = {"", "NA", "n/a", "null", "?", "NaN"}
def val(name, s):
    if types[name] == "FP64":
        return None if s in MISS else float(s)
    return None if s == "" else s
def check(data, ref):
    rows, want = list(csv.DictReader(open(data))), list(csv.DictReader(open(ref)))
    inst = [{k: val(k, v) for k, v in r.items() if k in types} for r in rows]
    exp = [(w["prediction"], float(w["proba_hi"]), float(w["proba_lo"])) for w in want]
    for i, x in enumerate(inst):
        st, j = post("/v1/models/m:predict", {"instances": [x]})
        assert st == 200, (data, i, st, j)
        p = j["predictions"][0]
        assert (p["label"], p["probabilities"]["hi"], p["probabilities"]["lo"]) == exp[i], (data, i, p, exp[i])
        st, j = post("/v2/models/m/infer", {"inputs": [
            {"name": k, "datatype": t, "shape": [1], "data": [x[k]]} for k, t in types.items()]})
        assert st == 200, (data, i, st, j)
        o = {t["name"]: t["data"][0] for t in j["outputs"]}
        assert (o["prediction"], o["proba_hi"], o["proba_lo"]) == exp[i], (data, i, o, exp[i])
    st, j = post("/v1/models/m:predict", {"instances": inst})
    assert st == 200, (data, st, j)
    got = [(p["label"], p["probabilities"]["hi"], p["probabilities"]["lo"]) for p in j["predictions"]]
    assert got == exp, data
    return inst
inst = check("test.csv", "pred.csv")
check("t_allmiss.csv", "p_allmiss.csv")
# dates with a time or an offset: the same instant's date features
x = dict(inst[0])
base = post("/v1/models/m:predict", {"instances": [x]})[1]["predictions"][0]
for d in ("T00:00:00Z", " 00:00:00", "T00:00:00", "T02:00:00+02:00"):
    y = dict(x); y["date"] = x["date"] + d
    st, j = post("/v1/models/m:predict", {"instances": [y]})
    assert st == 200 and j["predictions"][0] == base, (d, st, j)
# a number as a string is refused, naming the field
y = dict(x); y["code"] = str(y["code"])
st, j = post("/v1/models/m:predict", {"instances": [y]})
assert st == 400 and j["error"]["field"] == "code", (st, j)
PY
echo "ok"
