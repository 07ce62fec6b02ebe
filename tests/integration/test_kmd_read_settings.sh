#!/bin/bash
# A .kmd model file (kiln train --out NAME.kmd, format 4) records the reader
# settings its training data was read with, and predict and eval replay them,
# as a .kiln artifact and a .kst steps file do (test_read_as_trained.sh).
# Before, a .kmd kept none: a model trained on a European file (';' between
# fields, '.' grouping thousands, ',' the decimal point) read new European
# data with the defaults unless every option was given again, and a missing
# token that was a level of a text column in training ('None') followed its
# frequency in the new file (one row: missing, another prediction).
# - predict and eval on the European file, without options, give what a
#   model trained on its twin in the default format gives on the twin, and
#   linear_regression's predictions are scikit-learn's LinearRegression on
#   pandas' read_csv(sep=';', thousands='.', decimal=',') of the same file;
# - options given to predict override the recorded ones, with a note;
# - a one-row file with 'None' predicts what the whole file predicts there;
# - train no longer warns that the .kmd keeps no settings, and inspect shows
#   them; the .kmd of kiln cluster and kiln anomaly (--save) record them too;
#   an older .kmd (format 2) still reads with the options given.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
cd "$W"
$py - <<'PY'
import random
random.seed(11)
def eu(v, d=3):  # 12.345,678
    return f"{v:,.{d}f}".replace(",", "_").replace(".", ",").replace("_", ".")
def us(v, d=3):
    return f"{v:.{d}f}"
rows = []
for i in range(160):
    x, z = random.uniform(500, 5000), random.uniform(-3, 3)
    k = random.randrange(1000, 40000)
    c = random.choice(["None", "lo", "hi", "None"])
    y = 0.002 * x + 1.5 * z + 0.0001 * k + (3 if c == "None" else 0) + random.gauss(0, 0.3)
    rows.append((None if i % 13 == 5 else x, z, k, c, y))
def write(path, sep, fmt, part):
    with open(path, "w") as f:
        f.write(sep.join(["x", "z", "k", "c", "y"]) + "\n")
        for x, z, k, c, y in part:
            f.write(sep.join(["n/a" if x is None else fmt(x), fmt(z), fmt(k, 0), c, fmt(y)]) + "\n")
write("eu.csv", ";", eu, rows[:120]); write("us.csv", ",", us, rows[:120])
write("new_eu.csv", ";", eu, rows[120:]); write("new_us.csv", ",", us, rows[120:])
lines = open("new_eu.csv").read().splitlines()
one = next(i for i, l in enumerate(lines) if ";None;" in l)
open("one_eu.csv", "w").write(lines[0] + "\n" + lines[one] + "\n")
open("one_row.txt", "w").write(str(one))
PY
EU=(--thousands . --decimal , --delimiter ';')
US=(--thousands none --decimal . --delimiter ,)
"$KILN" -q train --data eu.csv --target y --model gbdt --param n_estimators=20 --test-size 0 \
    "${EU[@]}" --out eu.kmd > /dev/null 2> t.err || { cat t.err; fail "train eu"; }
grep -q "keeps no reader settings" t.err && { cat t.err; fail "train still warns"; }
"$KILN" -q train --data us.csv --target y --model gbdt --param n_estimators=20 --test-size 0 \
    --out us.kmd > /dev/null
"$KILN" inspect eu.kmd > i.txt
grep -q "^reader: .* thousands=\. decimal=, delimiter=;$" i.txt || { cat i.txt; fail "inspect: reader"; }
grep -q "^token levels: *c: 'None'$" i.txt || { cat i.txt; fail "inspect: token levels"; }
"$KILN" --json inspect eu.kmd | $py -c '
import json, sys
r = json.load(sys.stdin)["reader"]
assert r["settings"]["decimal"] == "," and r["token_levels"] == [{"column": "c", "token": "None"}], r
' || fail "inspect --json: reader"

# predict: the European file as its twin, without options
"$KILN" -q predict --model eu.kmd --data new_eu.csv --out p_eu.csv 2> p.err ||
    { cat p.err; fail "predict eu"; }
"$KILN" -q predict --model us.kmd --data new_us.csv --out p_ref.csv
cmp -s p_eu.csv p_ref.csv || { paste -d' ' p_eu.csv p_ref.csv | head; fail "predict: eu != us"; }
[ "$(wc -l < p_eu.csv)" = 41 ] || fail "predict: $(wc -l < p_eu.csv) lines"
# options given here win, with a note
"$KILN" -q predict --model eu.kmd --data new_us.csv "${US[@]}" --out p_us.csv 2> pu.err ||
    { cat pu.err; fail "predict us with options"; }
cmp -s p_eu.csv p_us.csv || fail "predict: the options do not override the recorded settings"
grep -q "predict: note: the reader option decimal=\. given here overrides decimal=,, recorded" pu.err ||
    { cat pu.err; fail "predict: no note on the overriding option"; }
# one row with the token that was a level: as in the whole file
"$KILN" -q predict --model eu.kmd --data one_eu.csv --out p_one.csv
[ "$(sed -n 2p p_one.csv)" = "$(sed -n "$(($(cat one_row.txt) + 1))p" p_eu.csv)" ] ||
    fail "predict: the row with 'None' alone differs from the same row in the file"

# eval: the same scores as on the twin
"$KILN" -q --json eval --model eu.kmd --data new_eu.csv --no-intervals > e_eu.json 2> e.err ||
    { cat e.err; fail "eval eu"; }
"$KILN" -q --json eval --model us.kmd --data new_us.csv --no-intervals > e_us.json
$py - e_eu.json e_us.json <<'PY' || fail "eval: eu != us"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["rows"] == b["rows"] == 40, (a["rows"], b["rows"])
for k in ("rmse", "mae", "r2"):
    assert a[k] == b[k], (k, a[k], b[k])
PY

# against scikit-learn on pandas' reading of the European file
"$KILN" -q train --data eu.csv --target y --ignore x,c --model linear_regression --test-size 0 \
    "${EU[@]}" --out lin.kmd > /dev/null
"$KILN" -q predict --model lin.kmd --data new_eu.csv --out p_lin.csv
ref_py - <<'PY' || fail "linear_regression on the European file differs from scikit-learn's"
import numpy as np, pandas as pd
from sklearn.linear_model import LinearRegression
read = dict(sep=";", thousands=".", decimal=",")
tr, te = pd.read_csv("eu.csv", **read), pd.read_csv("new_eu.csv", **read)
assert tr["k"].dtype.kind in "if" and tr["z"].dtype.kind == "f", tr.dtypes
want = LinearRegression().fit(tr[["z", "k"]], tr["y"]).predict(te[["z", "k"]])
got = pd.read_csv("p_lin.csv")["prediction"].to_numpy()
d = np.max(np.abs(got - want) / np.maximum(1, np.abs(want)))
print(f"linear_regression, European file: max relative |kiln - sklearn| = {d:.2g}")
assert d < 1e-9, d
PY

# the .kmd files of kiln cluster and kiln anomaly record them too
"$KILN" -q cluster --data eu.csv --ignore x,c,y --param n_clusters=3 "${EU[@]}" --out c.csv \
    --save km_eu.kmd 2> c.err || { cat c.err; fail "cluster eu"; }
"$KILN" -q cluster --data us.csv --ignore x,c,y --param n_clusters=3 --out c.csv --save km_us.kmd
"$KILN" -q predict --model km_eu.kmd --data new_eu.csv --out k_eu.csv 2> k.err ||
    { cat k.err; fail "predict with the cluster model"; }
"$KILN" -q predict --model km_us.kmd --data new_us.csv --out k_us.csv
cmp -s k_eu.csv k_us.csv || fail "cluster model: eu != us"
"$KILN" -q --json eval --model km_eu.kmd --data new_eu.csv > ke_eu.json 2> k.err ||
    { cat k.err; fail "eval with the cluster model"; }
"$KILN" -q --json eval --model km_us.kmd --data new_us.csv > ke_us.json
grep -o '"inertia": [^,]*' ke_eu.json > ki_eu.txt && grep -o '"inertia": [^,]*' ke_us.json > ki_us.txt &&
    cmp -s ki_eu.txt ki_us.txt || fail "eval of the cluster model: $(cat ki_eu.txt ki_us.txt)"
"$KILN" -q anomaly --data eu.csv --ignore x,c,y "${EU[@]}" --out a.csv --save if_eu.kmd 2> a.err ||
    { cat a.err; fail "anomaly eu"; }
"$KILN" -q anomaly --data us.csv --ignore x,c,y --out a.csv --save if_us.kmd
"$KILN" -q predict --model if_eu.kmd --data new_eu.csv --out i_eu.csv 2> i.err ||
    { cat i.err; fail "predict with the anomaly model"; }
"$KILN" -q predict --model if_us.kmd --data new_us.csv --out i_us.csv
cmp -s i_eu.csv i_us.csv || fail "anomaly model: eu != us"

# an older .kmd records nothing: it reads with the options given, as before
"$KILN" inspect "$DATA/gbdt_format2.kmd" | grep -q "^reader: *not recorded" ||
    { "$KILN" inspect "$DATA/gbdt_format2.kmd"; fail "inspect: an old .kmd"; }
"$KILN" -q predict --model "$DATA/gbdt_format2.kmd" --data "$DATA/lending_club.csv" \
    --out p_old.csv 2> o.err || { cat o.err; fail "predict with a format 2 .kmd"; }
[ "$(wc -l < p_old.csv)" = 9858 ] || fail "predict with a format 2 .kmd: $(wc -l < p_old.csv) lines"
echo "kmd reader settings: all passed"
