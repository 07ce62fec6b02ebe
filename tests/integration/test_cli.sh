#!/bin/bash
# The real kiln binary end to end: describe (table and JSON), errors with
# locations and exit codes, quarantine, convert round trips, memory limit.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
unset GOMP_SPINCOUNT # kiln as a user runs it: it starts itself again (src/cli/main.c)

# describe on a real dataset: 1030 rows, 9 columns, 25 duplicate rows (documented in its provenance)
"$KILN" describe "$DATA/concrete.csv" --json > "$W/d.json"
$py - "$W/d.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["profile"]
assert p["rows"] == 1030 and p["columns"] == 9, p
assert p["duplicate_rows"] == 25, p["duplicate_rows"]
assert d["read"]["rows_read"] == 1030 and d["read"]["rows_skipped"] == 0
names = [s["name"] for s in d["stages"]]
assert names == ["read", "profile"], names
for s in d["stages"]:
    assert s["wall_s"] >= 0 and s["cpu_s"] >= 0 and s["peak_rss_bytes"] > 0, s
c = {c["name"]: c for c in p["column_profiles"]}
age = c["age"]
assert age["min"] == 1 and age["max"] == 365, age
PY
"$KILN" describe "$DATA/concrete.csv" | grep -q "duplicate rows: 25" || fail "table output"

# a ragged row fails with file:line:column and exit code 1
printf 'a,b\n1,2\n3\n' > "$W/bad.csv"
set +e
"$KILN" describe "$W/bad.csv" 2> "$W/err.txt"
rc=$?
set -e
[ $rc -eq 1 ] || fail "exit code $rc for a bad row"
grep -q "bad.csv:3:2: expected 2 fields, found 1" "$W/err.txt" || fail "error location: $(cat "$W/err.txt")"

# quarantine keeps going and states the counts
"$KILN" describe "$W/bad.csv" --on-bad-rows quarantine --json > "$W/q.json"
$py -c "import json,sys; r=json.load(open('$W/q.json'))['read']; assert (r['rows_read'],r['rows_kept'],r['rows_quarantined'])==(2,1,1), r"
grep -q '^3,"expected 2 fields, found 1","3"$' "$W/bad.csv.rejects.csv" || fail "quarantine file"

# usage errors exit 2 and name the fix
set +e
"$KILN" describe 2> "$W/u.txt"; rc=$?
"$KILN" describe "$DATA/concrete.csv" --on-bad-rows drop 2>> "$W/u.txt"; rc2=$?
set -e
[ $rc -eq 2 ] && [ $rc2 -eq 2 ] || fail "usage exit codes $rc $rc2"
grep -q "must be one of fail|skip|quarantine" "$W/u.txt" || fail "bad enum message"

# convert through every format and back: identical CSV
"$KILN" -q convert "$DATA/concrete.csv" "$W/c.kfr"
for fmt in jsonl arff kfr; do
    "$KILN" -q convert "$W/c.kfr" "$W/rt.$fmt"
    "$KILN" -q convert "$W/rt.$fmt" "$W/back-$fmt.csv"
done
"$KILN" -q convert "$W/c.kfr" "$W/direct.csv"
for fmt in jsonl arff kfr; do cmp "$W/direct.csv" "$W/back-$fmt.csv" || fail "$fmt round trip"; done
"$KILN" -q convert "$W/c.kfr" "$W/c.svm" --target compressive_strength
"$KILN" describe "$W/c.svm" --json | $py -c "import json,sys; p=json.load(sys.stdin)['profile']; assert p['rows']==1030 and p['columns']==9, p"

# memory limit: a clean failure naming the stage, not a kill
set +e
"$KILN" --memory-limit 64K describe "$DATA/concrete.csv" 2> "$W/m.txt"; rc=$?
set -e
[ $rc -eq 1 ] || fail "memory limit exit code $rc"
grep -q "memory limit exceeded in stage 'read'" "$W/m.txt" || fail "memory message: $(cat "$W/m.txt")"

# JSON logs and help
{ "$KILN" --log-format json --memory-limit 64K describe "$DATA/concrete.csv" 2>&1 || true; } | $py -c "import json,sys; [json.loads(l) for l in sys.stdin]"
grep -q "usage: kiln describe" <<< "$("$KILN" help describe)" || fail "help describe"
grep -q "describe" <<< "$("$KILN" --help)" || fail "--help"
# parameter tables: the type column starts at one place, long names included
cols=$("$KILN" help model gbdt | awk '/^    [a-z_0-9]+ +[a-z]+ +/{ match($0, /^    [a-z_0-9]+ +/); print RLENGTH }' | sort -u | wc -l)
[ "$cols" = 1 ] || fail "help model gbdt: parameter types in $cols columns"
grep -q "early_stopping_rounds" <<< "$("$KILN" help model gbdt)" || fail "help model gbdt: early_stopping_rounds missing"
"$KILN" demo --dataset churn --out "$W/demo" --rows 2000 | grep -q "duplicate rows" || fail "demo"
# prep --save then transform: the saved steps replay exactly, on new data too
head -600 "$DATA/lending_club.csv" > "$W/train.csv"
{ head -1 "$DATA/lending_club.csv"; tail -300 "$DATA/lending_club.csv"; } > "$W/new.csv"
"$KILN" -q prep "$W/train.csv" "$W/train_out.csv" --step simple_imputer:strategy=median \
    --step robust_scaler --step 'onehot_encoder:handle_unknown=ignore' --save "$W/s.kst"
"$KILN" -q transform "$W/s.kst" "$W/train.csv" "$W/train_again.csv"
cmp "$W/train_out.csv" "$W/train_again.csv" || fail "transform differs from prep"
"$KILN" -q transform "$W/s.kst" "$W/new.csv" "$W/new_out.csv"
[ "$(head -1 "$W/new_out.csv")" = "$(head -1 "$W/train_out.csv")" ] || fail "transform columns"
set +e
"$KILN" transform "$W/s.kst" "$DATA/concrete.csv" "$W/x.csv" 2> "$W/t.txt"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "which the data to transform lacks" "$W/t.txt" || fail "transform schema check"
# dedupe: concrete.csv has 25 exact duplicate rows (documented in its provenance)
"$KILN" --json prep "$DATA/concrete.csv" "$W/dd.csv" --dedupe > "$W/dd.json"
$py -c "import json; d=json.load(open('$W/dd.json')); assert d['duplicates_removed']==25 and d['rows']==1005, d"
# eval --curves: ROC / PR / calibration of a binary classifier, equal to sklearn's
sed 's/,class_2$/,class_0/' "$DATA/wine.csv" > "$W/wine2.csv"
"$KILN" -q train --data "$W/wine2.csv" --target class --model gaussian_nb --test-size 0 --out "$W/nb.kmd" > /dev/null
"$KILN" -q eval --model "$W/nb.kmd" --data "$W/wine2.csv" --curves "$W/curves.json" > /dev/null
"$KILN" -q predict --model "$W/nb.kmd" --data "$W/wine2.csv" --proba --out "$W/nb.csv"
$py - "$W/wine2.csv" "$W/nb.csv" "$W/curves.json" <<'PY'
import sys, json, numpy as np, pandas as pd
from sklearn.metrics import roc_curve, precision_recall_curve
from sklearn.calibration import calibration_curve
y = (pd.read_csv(sys.argv[1])["class"] == "class_1").astype(int)
p = pd.read_csv(sys.argv[2])["proba_class_1"].to_numpy()
c = json.load(open(sys.argv[3]))
assert c["positive_class"] == "class_1"
fpr, tpr, _ = roc_curve(y, p)
assert np.allclose(c["roc"]["fpr"], fpr, rtol=0, atol=1e-12) and np.allclose(c["roc"]["tpr"], tpr, rtol=0, atol=1e-12)
prec, rec, thr = precision_recall_curve(y, p)
assert np.allclose(c["precision_recall"]["precision"], prec, rtol=0, atol=1e-12)
assert np.allclose(c["precision_recall"]["threshold"][:-1], thr, rtol=0, atol=1e-12)
t_, p_ = calibration_curve(y, p, n_bins=10)
assert np.allclose(c["calibration"]["fraction_positive"], t_, rtol=0, atol=1e-12)
PY
set +e
"$KILN" eval --model "$W/nb.kmd" --data "$W/wine2.csv" --curves /nonexistent/dir/c.json 2> "$W/c.txt"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "cannot write /nonexistent/dir/c.json" "$W/c.txt" || fail "curves write error"
echo "1 passed, 0 failed"
