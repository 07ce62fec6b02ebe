#!/bin/bash
# One JSON vocabulary: every command's --json output parses, carries the
# stage records (`stages`), names the data file it read `input` (never
# in/file/spec) and the file it wrote `output` (never out); tree models list
# `importances`, never `coefficients`; reals print in their shortest exact
# form (0.1, not 0.10000000000000001) and read back to the same double.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
cd "$W"

# values whose %.17g text is longer than their shortest exact text
cat > floats.csv <<'CSV'
a,b,c
0.1,2.675,1e-300
0.7,0.3333333333333333,123456.789
0.2,-0.1,5e-324
CSV
head -200 "$DATA/concrete.csv" > c.csv
cat > spec.yaml <<'YAML'
sources:
  raw: {file: c.csv}
target: compressive_strength
steps:
  - standard_scaler
output: spec_out.csv
YAML

# name | expected input ("" when the command reads no data file) | command
run() {
    local name=$1 input=$2; shift 2
    "$KILN" -q --json "$@" > "$name.json" || fail "$name: kiln $* exited with $?"
    printf '%s\t%s\n' "$name" "$input" >> runs.tsv
}
: > runs.tsv
run describe c.csv describe c.csv
run convert c.csv convert c.csv c.kfr
run prep c.csv prep c.csv p.csv --step standard_scaler --save p.kst
run transform c.csv transform p.kst c.csv t.csv
run prep_spec spec.yaml prep spec.yaml
run schema c.csv schema infer c.csv -o s.yaml
run validate c.csv validate c.csv --schema s.yaml --out kept.csv
run train_ridge c.csv train --data c.csv --target compressive_strength --model ridge --out r.kmd
run train_gbdt c.csv train --data c.csv --target compressive_strength --model gbdt \
    --param n_estimators=10 --out g.kmd
run train_forest c.csv train --data c.csv --target compressive_strength --model random_forest \
    --param n_estimators=5 --out f.kmd
run train_tree c.csv train --data c.csv --target compressive_strength --model decision_tree \
    --out d.kmd
run predict c.csv predict --model r.kmd --data c.csv --out pred.csv
run eval c.csv eval --model g.kmd --data c.csv
run cv c.csv cv --data c.csv --target compressive_strength --model ridge --folds 3
run describe_floats floats.csv describe floats.csv
run version "" version

$py - <<'PY'
import json
bad = []
for line in open("runs.tsv"):
    name, want = line.rstrip("\n").split("\t")
    text = open(f"{name}.json").read()
    try:
        d = json.loads(text)
    except ValueError as e:
        bad.append(f"{name}: not JSON ({e})"); continue
    if not isinstance(d.get("stages"), list):
        bad.append(f"{name}: no stages array")
    elif d["stages"] and not all({"name", "wall_s", "cpu_s", "peak_rss_bytes"} <= set(s) for s in d["stages"]):
        bad.append(f"{name}: stage records lack fields: {d['stages']}")
    for old in ("in", "file", "spec", "out"):
        if old in d:
            bad.append(f"{name}: key '{old}' (the vocabulary says input/output)")
    if want and d.get("input") != want:
        bad.append(f"{name}: input is {d.get('input')!r}, want {want!r}")
    if name.startswith("train_"):
        tree = name != "train_ridge"
        if tree and ("coefficients" in d or not isinstance(d.get("importances"), dict)):
            bad.append(f"{name}: a tree model wants importances and no coefficients: "
                       f"{sorted(k for k in d if k in ('coefficients', 'importances'))}")
        elif tree and abs(sum(d["importances"].values()) - 1) > 1e-12:
            bad.append(f"{name}: importances sum to {sum(d['importances'].values())}")
        if not tree and ("importances" in d or "intercept" not in d.get("coefficients", {})):
            bad.append(f"{name}: ridge wants coefficients and no importances")
    if name in ("convert", "prep", "transform", "validate", "predict") or name.startswith("train_"):
        if not d.get("output"):
            bad.append(f"{name}: no output key")

# shortest round-trip reals
text = open("describe_floats.json").read()
for long_form in ("0.10000000000000001", "0.69999999999999996", "2.6749999999999998",
                  "123456.789000000004"):
    if long_form in text:
        bad.append(f"describe: {long_form} printed with 17 digits")
cols = {c["name"]: c for c in json.loads(text)["profile"]["column_profiles"]}
want = {"a": (0.1, 0.7), "b": (-0.1, 2.675), "c": (5e-324, 123456.789)}
for col, (lo, hi) in want.items():
    got = (cols[col]["min"], cols[col]["max"])
    if got != (lo, hi):
        bad.append(f"describe: column {col} min/max {got!r}, want exactly {(lo, hi)!r}")
for needle in ('"min": 0.1,', '"max": 0.7,', '"max": 2.675,', '"min": -0.1,', '"max": 123456.789,'):
    if needle not in text:
        bad.append(f"describe: {needle!r} not in the output")
if bad:
    raise SystemExit("\n".join(bad))
PY

# JSON Lines rows, a JSON writer too: shortest text, exact values
"$KILN" -q convert floats.csv floats.jsonl
grep -q '^{"a":0.1,"b":2.675,"c":1e-300}$' floats.jsonl || fail "jsonl row: $(head -1 floats.jsonl)"
$py - <<'PY'
import csv, json
rows = [json.loads(l) for l in open("floats.jsonl")]
want = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open("floats.csv"))]
assert rows == want, (rows, want)
PY
echo ok
