#!/bin/bash
# Errors that name the right fix (trust issue): a missing target value (drop
# the rows: --drop-missing-target, which train, cv and eval take), an
# infinite feature value (the column and the data row, also when a split
# reorders rows), a fit that stopped at max_iter (the value used, and
# raising it), a timestamp feature (the datetime_features step), a split
# that leaves one class to train on (the class and the fold or split, and
# how to split instead). Where the fix is a command, the test follows it.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
$py - "$DATA/wine.csv" "$W" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head, body = rows[0], rows[1:]
w = sys.argv[2]
def write(name, header, data):
    out = csv.writer(open(f"{w}/{name}", "w", newline=""))
    out.writerow(header)
    out.writerows(data)
# the target missing in data rows 40 and 90
write("miss.csv", head, [r[:-1] + [""] if i in (39, 89) else r for i, r in enumerate(body)])
# hue (column 11) infinite in data row 150
hue = head.index("hue")
write("inf.csv", head, [r[:hue] + ["inf"] + r[hue + 1:] if i == 149 else r for i, r in enumerate(body)])
# a timestamp feature
write("ts.csv", ["when"] + head,
      [[f"2020-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00"] + r for i, r in enumerate(body)])
# two classes, sorted by class
two = sorted([r for r in body if r[-1] != "class_2"], key=lambda r: r[-1])
write("sorted.csv", head, two)
PY
F="$W/miss.csv"

# ---- a missing target: the rows are dropped, not imputed
fix="drop those rows with --drop-missing-target"
expect "target 'class' is missing in 2 of 178 rows (first: row 40).*$fix" 1 \
    "$KILN" train --data "$F" --target class --model gaussian_nb --out "$W/m.kmd"
expect "target 'class' is missing in 2 of 178 rows (first: row 40).*$fix" 1 \
    "$KILN" cv --data "$F" --target class --model gaussian_nb
"$KILN" -q train --data "$DATA/wine.csv" --target class --model gaussian_nb --out "$W/nb.kmd" > /dev/null
expect "target 'class' is missing in 2 of 178 rows (first: row 40).*$fix" 1 \
    "$KILN" eval --model "$W/nb.kmd" --data "$F"
"$KILN" train --data "$F" --target class --model gaussian_nb --drop-missing-target --out "$W/m.kmd" \
    > /dev/null 2> "$W/err" || fail "train --drop-missing-target: $(cat "$W/err")"
grep -q "dropped 2 of 178 rows whose target 'class' is missing" "$W/err" || fail "$(cat "$W/err")"
"$KILN" -q --json cv --data "$F" --target class --model gaussian_nb --drop-missing-target > "$W/cv.json"
"$KILN" -q --json eval --model "$W/nb.kmd" --data "$F" --drop-missing-target > "$W/ev.json"
$py - "$W/cv.json" "$W/ev.json" <<'PY'
import json, sys
cv, ev = (json.load(open(p)) for p in sys.argv[1:3])
assert sum(f["test_rows"] for f in cv["folds"]) == 176, cv["folds"]
assert ev["rows"] == 176, ev
PY
echo "missing target: refused with --drop-missing-target named; the option drops the 2 rows in train, cv and eval"

# ---- an infinite value: the column and the data row, and a working fix
fix="correct it at its source, or clip it with kiln prep IN OUT --step 'outlier_clip:columns=hue'"
for model in logistic_regression random_forest gaussian_nb knn_classifier; do
    expect "feature 'hue', row 150 is inf; models take finite numbers: $fix" 1 \
        "$KILN" train --data "$W/inf.csv" --target class --model $model --out "$W/m.kmd"
done
expect "feature 'hue', row 150 is inf" 1 "$KILN" cv --data "$W/inf.csv" --target class --model gaussian_nb
expect "feature 'hue', row 150 is inf" 1 "$KILN" eval --model "$W/nb.kmd" --data "$W/inf.csv"
"$KILN" -q prep "$W/inf.csv" "$W/clipped.csv" --target class --step 'outlier_clip:columns=hue'
"$KILN" -q train --data "$W/clipped.csv" --target class --model gaussian_nb --out "$W/m.kmd" > /dev/null
echo "infinite value: column and data row named; outlier_clip, as suggested, makes it trainable"

# ---- a fit stopped at max_iter: the value used, and raising it
expect "poisson_regressor did not converge: it used all max_iter=2 iterations .*raise max_iter (e.g. --param max_iter=20)" 0 \
    "$KILN" train --data "$DATA/concrete.csv" --target compressive_strength --model poisson_regressor \
    --param max_iter=2 --out "$W/m.kmd"
expect "logistic_regression did not converge: it used all max_iter=3 iterations .*--param max_iter=30" 0 \
    "$KILN" train --data "$DATA/wine.csv" --target class --model logistic_regression \
    --param max_iter=3 --out "$W/m.kmd"
echo "non-convergence: the max_iter used is stated, and raising it suggested"

# ---- a timestamp feature: datetime_features, and the suggestion works
fix="turn it into calendar features with the step 'datetime_features:columns=when;keep=false'"
expect "feature 'when' is a timestamp; models take numeric columns: $fix" 1 \
    "$KILN" train --data "$W/ts.csv" --target class --model gaussian_nb --out "$W/m.kmd"
expect "feature 'when' is a timestamp.*or leave it out with --ignore when" 1 \
    "$KILN" cv --data "$W/ts.csv" --target class --model gaussian_nb
"$KILN" -q prep "$W/ts.csv" "$W/cal.csv" --target class --step 'datetime_features:columns=when;keep=false'
"$KILN" -q train --data "$W/cal.csv" --target class --model gaussian_nb --out "$W/m.kmd" > /dev/null
"$KILN" -q cv --data "$W/ts.csv" --target class --model gaussian_nb \
    --step 'datetime_features:columns=when;keep=false' > /dev/null
echo "timestamp feature: datetime_features named; prep and cv --step with it work"

# ---- one class left to train on: the class, the fold or split, the fix
S="$W/sorted.csv"
expect "cross-validation fold 1 of 2: its 65 training rows hold a single class of 'class' ('class_1').*use --stratify (the default for classifiers) or --shuffle" 1 \
    "$KILN" cv --data "$S" --target class --model gaussian_nb --no-stratify --folds 2
expect "cross-validation fold 1 of 2: its [0-9]* training rows hold a single class of 'class' ('class_0').*the earliest rows hold one class: use fewer --folds" 1 \
    "$KILN" cv --data "$S" --target class --model gaussian_nb --time-series --folds 2
"$KILN" -q cv --data "$S" --target class --model gaussian_nb --folds 2 > /dev/null
expect "the training part of the --test-size 0.99 split (seed 0, 1 rows) holds a single class of 'class' ('class_[01]'); add --stratify" 1 \
    "$KILN" train --data "$S" --target class --model gaussian_nb --test-size 0.99 --out "$W/m.kmd"
echo "single class after a split: class and fold/split named, with the split that works"
