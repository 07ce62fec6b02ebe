#!/bin/bash
# kiln inspect: a model (.kmd), fitted steps (.kst) and a frame (.kfr), told
# apart by their magic numbers (not their names), in text and --json; files
# of another kind, damaged or truncated files are refused with a clear error;
# a model file of format 2 (before the provenance record) still loads and
# says what it does not record.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
cd "$W"

# a regressor with held-out scores, a classifier with a categorical feature
"$KILN" -q --json train --data "$DATA/concrete.csv" --target compressive_strength --model ridge \
    --param alpha=0.1 --out ridge.kmd > ridge.train.json
"$KILN" -q train --data "$DATA/lending_club.csv" --target Class --model gbdt --test-size 0 \
    --param n_estimators=5 --out gbdt.kmd > /dev/null
"$KILN" -q prep "$DATA/concrete.csv" prepped.csv --target compressive_strength \
    --step standard_scaler --save steps.kst
"$KILN" -q convert "$DATA/wine.csv" wine.kfr
# the kind comes from the bytes: swap the names around
cp ridge.kmd ridge.bin; cp steps.kst steps.dat; cp wine.kfr wine.kmd

for f in ridge.bin gbdt.kmd steps.dat wine.kmd; do
    "$KILN" inspect "$f" > "$f.txt" || fail "inspect $f exited with $?"
    "$KILN" --json inspect "$f" > "$f.json" || fail "inspect --json $f exited with $?"
done
grep -q '^kind: *model (.kmd), format version 4$' ridge.bin.txt || fail "model kind: $(cat ridge.bin.txt)"
grep -q '^model: *ridge (regression)$' ridge.bin.txt || fail "model name: $(cat ridge.bin.txt)"
grep -q 'alpha=0.1,' ridge.bin.txt || fail "parameters: $(cat ridge.bin.txt)"
grep -q '^training rows: *824$' ridge.bin.txt || fail "training rows: $(cat ridge.bin.txt)"
grep -q '^held-out scores (206 rows): *rmse ' ridge.bin.txt || fail "scores: $(cat ridge.bin.txt)"
grep -q '^written by: *[0-9]' ridge.bin.txt || fail "version: $(cat ridge.bin.txt)"
grep -q '^kind: *fitted steps (.kst), format version 4$' steps.dat.txt || fail "steps kind: $(cat steps.dat.txt)"
grep -q '^  1. standard_scaler$' steps.dat.txt || fail "steps list: $(cat steps.dat.txt)"
grep -q '^training rows: *not recorded' steps.dat.txt || fail "steps rows: $(cat steps.dat.txt)"
grep -q '^kind: *frame (.kfr), format version 1.1$' wine.kmd.txt || fail "frame kind: $(cat wine.kmd.txt)"
grep -q '^rows: *178$' wine.kmd.txt || fail "frame rows: $(cat wine.kmd.txt)"
grep -q '^  class  *categorical  *feature (3 levels)$' wine.kmd.txt || fail "frame column: $(cat wine.kmd.txt)"
grep -q 'sub_grade  *categorical (35 levels)$' gbdt.kmd.txt || fail "categorical feature: $(cat gbdt.kmd.txt)"
grep -q '^classes: *bad good$' gbdt.kmd.txt || fail "classes: $(cat gbdt.kmd.txt)"
grep -q '^scores: *none recorded' gbdt.kmd.txt || fail "no scores: $(cat gbdt.kmd.txt)"

$py - "$DATA" <<'PY'
import json, sys, pandas as pd
data = sys.argv[1]
j = {n: json.load(open(f"{n}.json")) for n in ("ridge.bin", "gbdt.kmd", "steps.dat", "wine.kmd")}
for name, d in j.items():
    assert d["command"] == "inspect" and d["input"] == name and isinstance(d["stages"], list), d
r = j["ridge.bin"]
assert (r["kind"], r["format_version"], r["model"], r["task"]) == ("model", "4", "ridge", "regression"), r
assert r["parameters"]["alpha"] == 0.1 and r["target"] == "compressive_strength", r
feats = list(pd.read_csv(f"{data}/concrete.csv").columns[:-1])
assert [f["name"] for f in r["features"]] == feats and {f["type"] for f in r["features"]} == {"numeric"}, r
assert r["classes"] is None and r["training_rows"] == 824 and r["kiln_version"], r
# the scores recorded are those train printed
trained = json.load(open("ridge.train.json"))["test"]
assert r["metrics"] == trained, (r["metrics"], trained)
g = j["gbdt.kmd"]
assert g["task"] == "classification" and g["classes"] == ["bad", "good"] and g["metrics"] is None, g
lc = pd.read_csv(f"{data}/lending_club.csv")
cat = {f["name"]: f.get("levels") for f in g["features"] if f["type"] == "categorical"}
assert cat == {c: lc[c].nunique() for c in lc.columns if lc[c].dtype == object and c != "Class"}, cat
assert g["training_rows"] == len(lc) and g["parameters"]["n_estimators"] == 5, g
s = j["steps.dat"]
assert s["kind"] == "steps" and [x["name"] for x in s["steps"]] == ["standard_scaler"], s
assert s["steps"][0]["parameters"]["with_mean"] is True and s["target"] == "compressive_strength", s
assert [c["name"] for c in s["columns"]] == feats + ["compressive_strength"], s
assert s["training_rows"] is None and s["kiln_version"] is None, s
w = j["wine.kmd"]
wine = pd.read_csv(f"{data}/wine.csv")
assert w["kind"] == "frame" and w["format_version"] == "1.1" and w["rows"] == len(wine), w
assert [c["name"] for c in w["columns"]] == list(wine.columns), w
assert w["columns"][-1] == {"name": "class", "type": "categorical", "role": "feature", "levels": 3}, w
PY

# a model file of format 2, as kiln wrote it before the provenance record
# (tests/data/gbdt_format2.kmd: the gbdt.kmd command above, run by kiln at
# commit fd80f32)
cp "$DATA/gbdt_format2.kmd" old.kmd
"$KILN" inspect old.kmd > old.txt || fail "a format 2 model: $(cat old.txt)"
grep -q '^kind: *model (.kmd), format version 2$' old.txt || fail "old kind: $(cat old.txt)"
grep -q '^training rows: *not recorded (format 2' old.txt || fail "old rows: $(cat old.txt)"
grep -q '^written by: *not recorded' old.txt || fail "old version: $(cat old.txt)"
"$KILN" --json inspect old.kmd | $py -c "
import json, sys; d = json.load(sys.stdin)
assert d['format_version'] == '2' and d['training_rows'] is None and d['kiln_version'] is None, d
assert d['metrics'] is None and d['classes'] == ['bad', 'good'], d"
"$KILN" -q predict --model old.kmd --data "$DATA/lending_club.csv" --out old.csv
"$KILN" -q predict --model gbdt.kmd --data "$DATA/lending_club.csv" --out new.csv
cmp -s old.csv new.csv || fail "a format 2 model predicts otherwise"

# refused: another kind of file, an empty one, a damaged one, a truncated one, none
head -c 100 ridge.kmd > short.kmd
$py -c "b = bytearray(open('ridge.kmd', 'rb').read()); b[60] ^= 1; open('flipped.kmd', 'wb').write(b)"
: > empty.kfr
expect "concrete.csv is not a Kiln model, steps or frame file.*kiln describe" 1 \
    "$KILN" inspect "$DATA/concrete.csv"
cp "$DATA/concrete.csv" data.kmd
expect "data.kmd is not a Kiln model, steps or frame file" 1 "$KILN" inspect data.kmd
expect "empty.kfr is not a Kiln model, steps or frame file" 1 "$KILN" inspect empty.kfr
expect "flipped.kmd: checksum mismatch; the file is damaged" 1 "$KILN" --json inspect flipped.kmd
expect "short.kmd: end marker missing (truncated?)" 1 "$KILN" inspect short.kmd
expect "cannot open nothing.kmd" 1 "$KILN" inspect nothing.kmd
expect "inspect: missing FILE; see .kiln help inspect." 2 "$KILN" inspect
expect "unknown option --bogus" 2 "$KILN" inspect ridge.kmd --bogus
grep -q '^usage: kiln inspect FILE' <<< "$("$KILN" help inspect)" || fail "help inspect"
grep -q '^  inspect ' <<< "$("$KILN" help)" || fail "inspect in the command list"
echo ok
