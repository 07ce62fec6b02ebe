#!/bin/bash
# Reader options for numbers written with a thousands separator or a
# decimal comma (--thousands, --decimal; read: {thousands, decimal} in a
# spec), read as pandas' read_csv(thousands=, decimal=) reads them; without
# them such numbers stay text and describe names the options. An artifact
# records the settings (its READ section), so predict reads new data the
# way the training data was read without being told again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
cd "$W"
# a European file: ';' between fields, '.' groups thousands, ',' is the point
cat > eu.csv <<'CSV'
amount;rate;city;count;note
1.234,5;0,25;Lyon;12.000;a
2.000.000,75;-3,5;Paris;7;b
12;1,5e3;Nice;1.000.000;c
"3.456,125";NA;Lille;8;1,5
-0,5;,5;Metz;9;d
7.5;2,;Brest;10;1.5
CSV
"$KILN" convert eu.csv eu_out.csv --thousands . --decimal , 2> conv.err ||
    { cat conv.err; fail "convert with --thousands . --decimal ,"; }
# and a US file with quoted thousands separators
cat > us.csv <<'CSV'
price,qty,name
"1,234.5","12,000",x
"2,000,000",7,y
12.25,"1,000",z
,8,w
"-3,456.75",9,v
CSV
"$KILN" convert us.csv us_out.csv --thousands , 2> conv2.err ||
    { cat conv2.err; fail "convert with --thousands ,"; }
if $py -c 'import pandas' 2>/dev/null; then
    $py - "$W" <<'PY' || fail "Kiln's reading differs from pandas'"
import sys, math, pandas as pd
w = sys.argv[1]
def same(kiln_csv, ref):
    k = pd.read_csv(kiln_csv, keep_default_na=False, na_values=[""], dtype=str)
    assert list(k.columns) == list(ref.columns), (list(k.columns), list(ref.columns))
    for c in ref.columns:
        numeric = ref[c].dtype.kind in "fi"
        for i, (a, b) in enumerate(zip(k[c], ref[c])):
            if numeric:
                x = float("nan") if pd.isna(a) else float(a)
                ok = (math.isnan(x) and pd.isna(b)) or x == float(b)
            else:
                ok = (pd.isna(a) and pd.isna(b)) or a == b
            assert ok, (kiln_csv, c, i, a, b)
        # numbers are read as numbers where pandas does: text where it does not
        if not numeric:
            assert any(not pd.isna(v) and not v.replace(".", "").isdigit() for v in k[c]), (c, list(k[c]))
same(f"{w}/eu_out.csv", pd.read_csv(f"{w}/eu.csv", sep=";", thousands=".", decimal=","))
same(f"{w}/us_out.csv", pd.read_csv(f"{w}/us.csv", thousands=","))
ref = pd.read_csv(f"{w}/eu.csv", sep=";", thousands=".", decimal=",")
assert ref["amount"].dtype.kind == "f" and ref["note"].dtype == object, ref.dtypes
PY
else
    [ "${CI:-}" != true ] || fail "pandas is missing in CI"
    echo "note: pandas absent, the comparison with it is skipped"
fi
# the columns Kiln reads as numbers (whatever pandas says): amount 1234.5 ...
"$KILN" --json describe eu.csv --thousands . --decimal , > d.json
$py - d.json <<'PY' || fail "describe with the options"
import json, sys
d = json.load(open(sys.argv[1]))
types = {c["name"]: c["type"] for c in d["profile"]["column_profiles"]}
assert types == {"amount": "numeric", "rate": "numeric", "city": "categorical",
                 "count": "numeric", "note": "categorical"}, types
PY
# without the options: text, and describe names the options that read it
"$KILN" describe eu.csv > plain.out 2>&1
grep -q "column 'amount' is text, but its values are numbers written with commas (e.g. '1.234,5', row 1): read them as numbers with --thousands . --decimal ," plain.out ||
    { cat plain.out; fail "describe does not name --thousands . --decimal ,"; }
"$KILN" describe us.csv > plain_us.out 2>&1
grep -q "column 'qty' is text, .*read them as numbers with --thousands , " plain_us.out ||
    { cat plain_us.out; fail "describe does not name --thousands ,"; }
# the same mark twice, or a digit, is refused with the fix
if "$KILN" convert eu.csv x.csv --thousands , --decimal , 2> same.err; then fail "same marks taken"; fi
grep -q "thousands and decimal are both ','" same.err || { cat same.err; fail "same marks: message"; }
# an artifact reads new data as its training data was read
$py - "$W" <<'PY'
import random, sys
random.seed(5)
w = sys.argv[1]
def eu(v):
    return f"{v:,.3f}".replace(",", "_").replace(".", ",").replace("_", ".")
with open(f"{w}/tr_eu.csv", "w") as e, open(f"{w}/tr_us.csv", "w") as u:
    e.write("x;z;c;y\n"); u.write("x,z,c,y\n")
    for i in range(80):
        x, z, c = random.uniform(500, 5000), random.uniform(-3, 3), random.choice("ab")
        y = 0.002 * x + 1.5 * z + (2 if c == "a" else 0) + random.gauss(0, 0.3)
        e.write(f"{eu(x)};{eu(z)};{c};{eu(y)}\n")
        u.write(f"{x:.3f},{z:.3f},{c},{y:.3f}\n")
PY
"$KILN" -q train --data tr_eu.csv --target y --model gbdt --param n_estimators=20 \
    --thousands . --decimal , --out eu.kiln 2> t1.err || { cat t1.err; fail "train eu"; }
"$KILN" -q train --data tr_us.csv --target y --model gbdt --param n_estimators=20 \
    --out us.kiln 2> t2.err || { cat t2.err; fail "train us"; }
"$KILN" -q predict --model eu.kiln --data tr_eu.csv --out p_eu.csv 2> p1.err ||
    { cat p1.err; fail "predict eu without the options"; }
"$KILN" -q predict --model us.kiln --data tr_us.csv --out p_us.csv
cmp -s p_eu.csv p_us.csv || { paste -d' ' p_eu.csv p_us.csv | head; fail "eu artifact's predictions differ"; }
"$KILN" --json inspect eu.kiln | grep -q '"name": "read"' || fail "no read section in the artifact"
"$KILN" inspect eu.kiln | grep -q "^reader: *thousands=\. decimal=, missing=NA,N/A," ||
    { "$KILN" inspect eu.kiln; fail "inspect: the reader settings"; }
# kiln monitor check reads the new batch with the artifact's settings too
"$KILN" -q monitor check --model eu.kiln --data tr_eu.csv > mon.out 2> mon.err ||
    [ $? = 1 ] || { cat mon.err; fail "monitor check of a European batch"; }
grep -q "cannot parse" mon.err && { cat mon.err; fail "monitor check read x as text"; }
# a spec's source says the same with read:
cat > spec.yaml <<'YAML'
sources:
  d: {file: tr_eu.csv, read: {thousands: ".", decimal: ","}}
target: y
model:
  gbdt: {n_estimators: 20}
evaluation:
  cv: {folds: 2}
  test: false
seed: 1
YAML
"$KILN" -q run spec.yaml --no-store --out run.kiln > /dev/null 2> run.err || { cat run.err; fail "run"; }
"$KILN" -q predict --model run.kiln --data tr_eu.csv --out p_run.csv 2> p3.err ||
    { cat p3.err; fail "predict with the run's artifact"; }
[ "$(wc -l < p_run.csv)" = 81 ] || fail "run artifact: rows"
echo "ok"
