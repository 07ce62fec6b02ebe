#!/bin/bash
# Outputs that can be trusted, with the real binary:
# 1. prep --target (and a spec's target:) never transforms the target: it is
#    byte-identical in the output, naming it in columns= is refused, and the
#    saved steps transform new data that has no target column.
# 2. predict / eval / transform read new data with the types the model or
#    steps were fitted with: a one-row file, a batch whose categorical column
#    is empty, and category codes that look like numbers give the predictions
#    the same rows get inside the full file.
# 3. predict --keep carries an ID through; when the reader sets rows aside a
#    'row' column names each prediction's input row, and quarantined rows are
#    in the quarantine file.
# 4. predict --out - writes CSV to standard output; --proba on a regressor is
#    an error naming the fix.
# 5. No command's output replaces its input (by any name: ./x, a symbolic
#    link), unless --overwrite-input.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
cd "$W"

# 300 rows: id (text with leading zeros), colour (text), code (1..3, a
# category), x, y (regression target), cls (yes/no)
$py - <<'PY'
import random
random.seed(1)
with open("train.csv", "w") as f:
    f.write("id,colour,code,x,y,cls\n")
    for i in range(300):
        colour = random.choice(["red", "green", "blue"])
        code = random.choice("123")
        x = round(random.uniform(0, 10), 2)
        y = round(2 * x + {"red": 5, "green": -3, "blue": 0}[colour] + 1.5 * int(code)
                  + random.gauss(0, 0.5), 3)
        f.write(f"{i:04d},{colour},{code},{x},{y},{'yes' if y > 12 else 'no'}\n")
PY
col() { $py -c "import csv,sys; r=csv.DictReader(open(sys.argv[1])); print('\n'.join(row[sys.argv[2]] for row in r))" "$1" "$2"; }

# ---- 1. the target is never transformed ----
"$KILN" -q prep train.csv prepped.csv --target y --types code:categorical,id:numeric \
    --step simple_imputer:strategy=median --step standard_scaler --step onehot_encoder \
    --save steps.kst
[ "$(col train.csv y)" = "$(col prepped.csv y)" ] || fail "prep --target changed the target"
if "$KILN" -q prep train.csv bad.csv --target y --step 'standard_scaler:columns=x,y' 2> err.txt; then
    fail "a step was allowed to scale the target"
fi
grep -q "columns names 'y', the target" err.txt || fail "target refusal: $(cat err.txt)"
# new data without the target: one row, its code a number-looking category
head -2 train.csv | cut -d, -f1-4,6 > new_one.csv
"$KILN" -q transform steps.kst new_one.csv new_one_out.csv
"$KILN" -q transform steps.kst train.csv full_out.csv
[[ "$(head -1 new_one_out.csv)" == *code_3* ]] || fail "one-row transform lost the code levels"
grep -q ",y," new_one_out.csv && fail "transform invented a target"
# the row transformed alone equals the same row transformed in the full file
[ "$(sed -n 2p new_one_out.csv)" = "$(sed -n 2p full_out.csv | cut -d, -f1-8,10-)" ] ||
    fail "one-row transform differs: $(sed -n 2p new_one_out.csv)"
# ... and the target passes through unchanged when present
[ "$(col train.csv y)" = "$(col full_out.csv y)" ] || fail "transform changed the target"
# a spec's target: (target_encoder takes it as its target)
cat > spec.yaml <<'YAML'
sources:
  raw: {file: train.csv, read: {types: "code:categorical"}}
target: y
steps:
  - standard_scaler
  - target_encoder: {columns: colour}
output: spec_out.csv
save: spec.kst
YAML
"$KILN" -q prep spec.yaml
[ "$(col train.csv y)" = "$(col spec_out.csv y)" ] || fail "spec target: changed the target"
"$KILN" -q transform spec.kst new_one.csv spec_one.csv
[ "$(col spec_one.csv code)" = 3 ] || fail "spec transform: $(cat spec_one.csv)"

# ---- 2. predict / eval read with the fitted types ----
"$KILN" -q train --data train.csv --target y --model gbdt --param objective=squared_error \
    --ignore id,cls --types code:categorical --test-size 0 --out m.kmd
"$KILN" -q predict --model m.kmd --data train.csv --out p_full.csv
head -2 train.csv > one.csv
"$KILN" -q predict --model m.kmd --data one.csv --out p_one.csv
[ "$(sed -n 2p p_one.csv)" = "$(sed -n 2p p_full.csv)" ] || fail "one-row prediction differs"
"$KILN" -q eval --model m.kmd --data one.csv > /dev/null
# rows 11-20 with an empty colour: alone (the column all empty) and inside the full file
$py - <<'PY'
rows = open("train.csv").read().splitlines()
head, body = rows[0], rows[1:]
def blank(line):
    r = line.split(","); r[1] = ""; return ",".join(r)
body = [blank(l) if 10 <= i < 20 else l for i, l in enumerate(body)]
open("full_blank.csv", "w").write("\n".join([head] + body) + "\n")
open("batch_blank.csv", "w").write("\n".join([head] + body[10:20]) + "\n")
PY
"$KILN" -q predict --model m.kmd --data full_blank.csv --out p_fb.csv
"$KILN" -q predict --model m.kmd --data batch_blank.csv --out p_bb.csv
[ "$(sed -n 12,21p p_fb.csv)" = "$(tail -n +2 p_bb.csv)" ] || fail "empty-colour batch differs"
"$KILN" -q eval --model m.kmd --data batch_blank.csv > /dev/null
# a classifier whose class labels are text, on one row
"$KILN" -q train --data train.csv --target cls --model gbdt --ignore id,y --types code:categorical \
    --test-size 0 --out c.kmd
"$KILN" -q predict --model c.kmd --data one.csv --proba --out c_one.csv
"$KILN" -q predict --model c.kmd --data train.csv --proba --out c_full.csv
[ "$(sed -n 2p c_one.csv)" = "$(sed -n 2p c_full.csv)" ] || fail "one-row class prediction differs"

# ---- 3. --keep and the row column ----
(head -3 train.csv; echo "0002,red,1,2.5,9,no,EXTRA"; sed -n 5,6p train.csv) > bad.csv
"$KILN" -q predict --model m.kmd --data bad.csv --on-bad-rows skip --keep id --out p_skip.csv
[ "$(head -1 p_skip.csv)" = "row,id,prediction" ] || fail "skip header: $(head -1 p_skip.csv)"
[ "$(col p_skip.csv row | tr '\n' ' ')" = "1 2 4 5 " ] || fail "row numbers: $(cat p_skip.csv)"
[ "$(col p_skip.csv id | tr '\n' ' ')" = "0000 0001 0003 0004 " ] || fail "ids: $(cat p_skip.csv)"
# each kept row's prediction is the one the full file gives it
[ "$(col p_skip.csv prediction | sed -n 3p)" = "$(sed -n 5p p_full.csv)" ] || fail "skip shifted rows"
"$KILN" -q predict --model m.kmd --data bad.csv --on-bad-rows quarantine --keep id,cls \
    --out p_quar.csv
[ "$(head -1 p_quar.csv)" = "row,id,cls,prediction" ] || fail "quarantine header"
grep -q '^4,"expected 6 fields, found 7","0002,red,1,2.5,9,no,EXTRA"$' bad.csv.rejects.csv ||
    fail "quarantine file: $(cat bad.csv.rejects.csv)"
# no rows set aside: no row column; --keep of a non-feature works
"$KILN" -q predict --model m.kmd --data one.csv --keep id --out p_keep.csv
[ "$(head -1 p_keep.csv)" = "id,prediction" ] || fail "keep header: $(cat p_keep.csv)"
if "$KILN" -q predict --model m.kmd --data one.csv --keep nosuch --out x.csv 2> err.txt; then
    fail "--keep of a missing column passed"
fi
grep -q "no column 'nosuch'" err.txt || fail "--keep message: $(cat err.txt)"

# ---- 4. standard output, --proba on a regressor ----
"$KILN" -q predict --model m.kmd --data train.csv --out - > p_stdout.csv
cmp p_stdout.csv p_full.csv || fail "--out - differs from the file"
[ ! -e ./- ] || fail "--out - created a file named '-'"
if "$KILN" -q predict --model m.kmd --data one.csv --proba --out x.csv 2> err.txt; then
    fail "--proba on a regressor passed"
fi
grep -q "regression model.*drop --proba" err.txt || fail "--proba message: $(cat err.txt)"

# ---- 5. outputs never replace inputs ----
cp train.csv keep.csv
ln -s keep.csv link.csv
refused() { # command...: must fail naming the input, and leave keep.csv as it was
    if "$@" 2> err.txt; then fail "not refused: $*"; fi
    grep -q "overwrite-input\|is the file of source" err.txt || fail "message for $*: $(cat err.txt)"
    cmp keep.csv train.csv || fail "$* replaced its input"
}
refused "$KILN" -q prep keep.csv ./keep.csv --step standard_scaler
refused "$KILN" -q prep keep.csv out.csv --step standard_scaler --save link.csv
refused "$KILN" -q convert keep.csv link.csv
refused "$KILN" -q convert link.csv "$W/keep.csv"
refused "$KILN" -q transform steps.kst keep.csv ./keep.csv
refused "$KILN" -q predict --model m.kmd --data keep.csv --out link.csv
if "$KILN" -q train --data keep.csv --target y --model ridge --out ./keep.csv 2> err.txt; then
    fail "train wrote over its data"
fi
grep -q "is the input" err.txt || fail "train message: $(cat err.txt)"
cmp keep.csv train.csv || fail "train replaced its data"
cp m.kmd m2.kmd
if "$KILN" -q predict --model m2.kmd --data one.csv --out m2.kmd 2> /dev/null; then
    fail "predict wrote over its model"
fi
cmp m.kmd m2.kmd || fail "predict replaced its model"
cat > schema.yaml <<'YAML'
version: 1
columns:
  - {name: x, type: numeric}
YAML
refused "$KILN" -q validate keep.csv --schema schema.yaml --out ./keep.csv
cat > self.yaml <<'YAML'
sources:
  raw: {file: keep.csv}
steps:
  - standard_scaler
output: link.csv
YAML
refused "$KILN" -q prep self.yaml
# on purpose: --overwrite-input
"$KILN" -q convert keep.csv ./keep.csv --overwrite-input
"$KILN" -q prep self.yaml --overwrite-input
cmp -s keep.csv train.csv && fail "--overwrite-input did not write"
echo "ok"
