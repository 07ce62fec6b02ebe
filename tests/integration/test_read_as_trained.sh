#!/bin/bash
# Every command that reads new data for something fitted reads it as the
# training data was read: the reader settings recorded at training (a
# .kiln artifact's READ section, a .kst steps file's) are replayed without
# being given again. One European file (';' between fields, '.' grouping
# thousands, ',' the decimal point, 'n/a' for missing, a text level 'None')
# and its twin in the default format (the same values):
# - predict, eval, monitor check (--data and --reference), monitor anomalies
#   --reference, monitor feedback's labels, transform and monitor retrain's
#   --holdout give on the
#   European file, without options, what they give on the twin with the
#   options that read it (--thousands none --decimal . --delimiter ,), which
#   override the recorded ones, each with a note saying so;
# - predict is right: an artifact fitted on the twin predicts the same;
# - a missing token is a level of a text column only where it was one in
#   the training data: a one-row file with 'None' predicts what the whole
#   file predicts for that row (it was read as missing: a token's fate
#   followed its frequency in the file at hand).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
cd "$W"
$py - <<'PY'
import random
random.seed(7)
def eu(v, d=3):
    return f"{v:,.{d}f}".replace(",", "_").replace(".", ",").replace("_", ".")
rows = []
for i in range(150):
    x, z = random.uniform(500, 5000), random.uniform(-3, 3)
    k = random.randrange(1000, 40000)  # integers with a thousands separator: 12.000
    c = random.choice(["None", "a b", "cc", "None"])
    y = 0.002 * x + 1.5 * z + 0.0001 * k + (3 if c == "None" else 0) + random.gauss(0, 0.3)
    rows.append((None if i % 11 == 4 else x, z, k, c, y))
def write(path, sep, fmt, cut=None):
    with open(path, "w") as f:
        f.write(sep.join(["x", "z", "k", "c", "y"]) + "\n")
        for x, z, k, c, y in rows[cut[0]:cut[1]] if cut else rows:
            f.write(sep.join(["n/a" if x is None else fmt(x), fmt(z), fmt(k, 0), c, fmt(y)]) + "\n")
us = lambda v, d=3: f"{v:.{d}f}"
write("eu.csv", ";", eu, (0, 120)); write("us.csv", ",", us, (0, 120))
write("new_eu.csv", ";", eu, (120, 150)); write("new_us.csv", ",", us, (120, 150))
with open("new_eu.csv") as f:
    lines = f.read().splitlines()
one = next(i for i, l in enumerate(lines) if ";None;" in l)
open("one_eu.csv", "w").write(lines[0] + "\n" + lines[one] + "\n")
open("one_row.txt", "w").write(str(one))
PY
US="--thousands none --decimal . --delimiter ,"
"$KILN" -q train --data eu.csv --target y --model gbdt --param n_estimators=20 --test-size 0 \
    --thousands . --decimal , --delimiter ';' --out eu.kiln > /dev/null 2> t.err ||
    { cat t.err; fail "train eu"; }
"$KILN" -q train --data us.csv --target y --model gbdt --param n_estimators=20 --test-size 0 \
    --out us.kiln > /dev/null
"$KILN" inspect eu.kiln | grep -q "^token levels: *c: 'None'" ||
    { "$KILN" inspect eu.kiln; fail "inspect: the token kept as a level"; }
# a column name with a '%' is recorded %-escaped (p%41q as p%2541q) and
# inspect undoes exactly that escape (not p%41q's own "%41": "pAq")
sed '1s/,c,/,p%41q,/' us.csv > pct.csv
"$KILN" -q train --data pct.csv --target y --model gbdt --param n_estimators=2 --test-size 0 \
    --out pct.kiln > /dev/null
"$KILN" -q prep pct.csv pct_prepped.csv --step onehot_encoder --target y --save pct.kst
for f in pct.kiln pct.kst; do
    "$KILN" --json inspect "$f" | $py -c '
import json, sys
r = json.load(sys.stdin)["reader"]
assert r["token_levels"] == [{"column": "p%41q", "token": "None"}], r' ||
        fail "inspect $f: the escaped column name of a token level"
done

# predict: right (the twin's model agrees), and the twin read with options
"$KILN" -q predict --model eu.kiln --data new_eu.csv --out p_eu.csv 2> p.err ||
    { cat p.err; fail "predict eu"; }
"$KILN" -q predict --model us.kiln --data new_us.csv --out p_ref.csv
cmp -s p_eu.csv p_ref.csv || { paste -d' ' p_eu.csv p_ref.csv | head; fail "predict: eu != us"; }
# shellcheck disable=SC2086
"$KILN" -q predict --model eu.kiln --data new_us.csv $US --out p_us.csv 2> pu.err ||
    { cat pu.err; fail "predict us with options"; }
cmp -s p_eu.csv p_us.csv || fail "predict: the options do not override the recorded settings"
grep -q "predict: note: the reader option decimal=\. given here overrides decimal=,, recorded" pu.err ||
    { cat pu.err; fail "predict: no note on the overriding option"; }
# one row with a token that is a level: as in the whole file
"$KILN" -q predict --model eu.kiln --data one_eu.csv --out p_one.csv
[ "$(sed -n 2p p_one.csv)" = "$(sed -n "$(($(cat one_row.txt) + 1))p" p_eu.csv)" ] ||
    fail "predict: the row with 'None' alone differs from the same row in the file"

# eval
"$KILN" -q --json eval --model eu.kiln --data new_eu.csv --no-intervals > e_eu.json 2> e.err ||
    { cat e.err; fail "eval eu"; }
# shellcheck disable=SC2086
"$KILN" -q --json eval --model eu.kiln --data new_us.csv --no-intervals $US > e_us.json 2> /dev/null
same_json() { # same_json A B: equal once the file names are left out
    $py - "$1" "$2" <<'PY'
import json, sys
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()
                if k not in ("data", "reference", "input", "stages", "log", "output", "labels")}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v
a, b = (clean(json.load(open(p))) for p in sys.argv[1:])
assert a == b, (a, b)
PY
}
same_json e_eu.json e_us.json || fail "eval: eu != us"
grep -q '"rows": 30' e_eu.json || { cat e_eu.json; fail "eval: rows"; }

# monitor check, the batch and a reference file
rc=0
"$KILN" -q --json monitor check --model eu.kiln --data new_eu.csv --reference eu.csv \
    > m_eu.json 2> m.err || rc=$?
[ "$rc" -le 1 ] || { cat m.err; fail "monitor check eu"; }
# shellcheck disable=SC2086
"$KILN" -q --json monitor check --model eu.kiln --data new_us.csv --reference us.csv $US \
    > m_us.json 2> /dev/null || true
same_json m_eu.json m_us.json || fail "monitor check: eu != us"
grep -q "unreadable\|cannot parse" m.err && { cat m.err; fail "monitor check: rows unread"; }
$py - m_eu.json <<'PY' || fail "monitor check: rows set aside"
import json, sys
j = json.load(open(sys.argv[1]))
text = json.dumps(j)
assert '"unreadable_rows": 0' in text or "unreadable" not in text, text[:2000]
PY

# monitor anomalies --reference (the log is JSON: only the reference is CSV)
$py - <<'PY'
import json
rows = [l.split(",") for l in open("new_us.csv").read().splitlines()[1:]]
with open("log.jsonl", "w") as f:
    for i, (x, z, k, c, y) in enumerate(rows):
        inputs = {"x": None if x == "n/a" else float(x), "z": float(z), "k": float(k), "c": c}
        f.write(json.dumps({"time": "2026-01-01T00:00:%02d.000000Z" % (i % 60),
                            "request_id": i + 1, "row": 0, "model": "m", "version": "1",
                            "inputs": inputs, "output": 1.0}) + "\n")
PY
rc=0
"$KILN" -q --json monitor anomalies --model eu.kiln --log log.jsonl --reference eu.csv \
    --window 10 > a_eu.json 2> a.err || rc=$?
[ "$rc" -le 1 ] || { cat a.err; fail "monitor anomalies eu"; }
# shellcheck disable=SC2086
"$KILN" -q --json monitor anomalies --model eu.kiln --log log.jsonl --reference us.csv \
    --window 10 $US > a_us.json 2> /dev/null || true
same_json a_eu.json a_us.json || fail "monitor anomalies: eu != us"

# monitor feedback: the labels are values of the target, read as it was
$py - <<'PY'
rows = [l.split(",") for l in open("new_us.csv").read().splitlines()[1:]]
eu = [l.split(";") for l in open("new_eu.csv").read().splitlines()[1:]]
with open("lab_us.csv", "w") as f, open("lab_eu.csv", "w") as g:
    f.write("request_id,row,y\n"); g.write("request_id;row;y\n")
    for i, (r, e) in enumerate(zip(rows, eu)):
        f.write(f"{i + 1},0,{r[4]}\n"); g.write(f"{i + 1};0;{e[4]}\n")
PY
"$KILN" -q --json monitor feedback --log log.jsonl --labels lab_eu.csv --model eu.kiln \
    --metric rmse > f_eu.json 2> f.err || [ $? = 1 ] || { cat f.err; fail "monitor feedback eu"; }
# shellcheck disable=SC2086
"$KILN" -q --json monitor feedback --log log.jsonl --labels lab_us.csv --model eu.kiln \
    --metric rmse $US > f_us.json 2> /dev/null || true
same_json f_eu.json f_us.json || fail "monitor feedback: eu != us"
$py - f_eu.json <<'PY' || fail "monitor feedback: the live RMSE"
import json, math, sys
j = json.load(open(sys.argv[1]))
got = j["versions"][0]["windows"][0]["rmse"]
y = [float(l.split(",")[4]) for l in open("new_us.csv").read().splitlines()[1:]]
want = math.sqrt(sum((v - 1.0) ** 2 for v in y) / len(y))
assert j["joined"] == 30 and math.isclose(got, want, rel_tol=1e-12), (got, want, j)
PY

# prep --save and transform
"$KILN" -q prep eu.csv prepped.csv --step standard_scaler --step onehot_encoder --target y \
    --save st.kst --thousands . --decimal , --delimiter ';' 2> s.err || { cat s.err; fail "prep"; }
"$KILN" inspect st.kst | grep -q "^reader: .* thousands=\. decimal=, delimiter=;$" ||
    { "$KILN" inspect st.kst; fail "inspect: the steps file's reader settings"; }
"$KILN" inspect st.kst | grep -q "^token levels: *c: 'None'$" ||
    { "$KILN" inspect st.kst; fail "inspect: the steps file's token levels"; }
"$KILN" -q transform st.kst eu.csv t_eu.csv 2> te.err || { cat te.err; fail "transform eu"; }
cmp -s prepped.csv t_eu.csv || { diff prepped.csv t_eu.csv | head; fail "transform eu != prep"; }
# shellcheck disable=SC2086
"$KILN" -q transform st.kst us.csv t_us.csv $US 2> tu.err || { cat tu.err; fail "transform us"; }
cmp -s prepped.csv t_us.csv || fail "transform: the options do not override"
grep -q "transform: note: the reader option" tu.err || { cat tu.err; fail "transform: no note"; }

# monitor retrain: production and the new version scored on a European holdout
cat > spec.yaml <<'YAML'
sources:
  d: {file: eu.csv, read: {thousands: ".", decimal: ",", delimiter: ";"}}
target: y
task: regression
model:
  gbdt: {n_estimators: 10}
evaluation:
  cv: false
  metrics: [rmse]
  test: {fraction: 0.2}
register: {name: m, stage: production}
seed: 1
YAML
"$KILN" -q run spec.yaml --store st > /dev/null 2> r.err || { cat r.err; fail "run"; }
sed 's/n_estimators: 10/n_estimators: 12/; /^register:/d' spec.yaml > spec2.yaml
rc=0
"$KILN" -q --json monitor retrain --model m --spec spec2.yaml --holdout new_eu.csv --store st \
    --margin 1000 > rt.json 2> rt.err || rc=$?
[ "$rc" -le 1 ] || { cat rt.err rt.json; fail "monitor retrain with a European holdout"; }
"$KILN" -q --json eval --model m@v1 --store st --data new_eu.csv --no-intervals > e1.json
"$KILN" -q --json eval --model m@v2 --store st --data new_eu.csv --no-intervals > e2.json
$py - rt.json e1.json e2.json <<'PY' || fail "monitor retrain: the holdout scores"
import json, sys
r, e1, e2 = (json.load(open(p)) for p in sys.argv[1:])
def rmse(e):
    for k in ("scores", "metrics"):
        if k in e and "rmse" in e[k]:
            return e[k]["rmse"]
    return e["rmse"]
assert r["holdout_rows"] == 30, r
assert abs(r["production"] - rmse(e1)) <= 1e-12 * max(1, abs(rmse(e1))), (r, e1)
assert abs(r["staging"] - rmse(e2)) <= 1e-12 * max(1, abs(rmse(e2))), (r, e2)
PY
echo "ok"
