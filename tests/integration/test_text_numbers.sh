#!/bin/bash
# A column of numbers with one cell that is not a number ('unknown', 'n/a':
# a missing-value marker the reader does not list, or a typo) is typed text
# by the CSV reader, as pandas types it object. Before, nothing said so:
# gbdt followed the text target and trained a classifier with a class per
# wage (accuracy 0.03, exit 0), ridge said the target "is text (classes)",
# logistic regression asked to one-hot encode a measurement, and kiln
# describe called the column an ID. Now:
# - gbdt (free choice, or classification) and logistic regression refuse a
#   text target of continuous numbers, naming the cell, its row and the fix
#   (--missing with the token added, --drop-missing-target); ridge says why;
#   the fix the message gives trains a regression;
# - a text target whose numbers are few whole classes (1..4) plus a token
#   is still classified (no false alarm);
# - kiln describe warns about the feature column (cell, row, fix), not "ID",
#   and the --missing it suggests reads the column as numbers;
# - a linear model on that feature names the cell; on the training part of
#   a split that lacks it, the message says where to look;
# - dates: ISO dates but for two in day/month/year typed the column text, and
#   datetime_features then said only "categorical, not a timestamp": describe
#   and the step now name the two cells;
# - numbers with thousands separators ("1,234.5") or a decimal comma ("1,5"
#   in a ';' file) are text, as in pandas without thousands=/decimal=, and
#   describe now says so.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(cd "$(dirname "$0")/../data" && pwd)"
cd "$W"
# wage (last column) of data row 4 replaced by a word
awk -F, -v OFS=, 'NR == 5 {$NF = "unknown"} {print}' "$D/cps1985.csv" > wages.csv
grep -q ',unknown$' wages.csv || fail "no 'unknown' wage written"

# 1. gbdt: refused (was: a classifier trained on 534 "classes")
if "$KILN" -q train --data wages.csv --target wage --model gbdt --out g.kmd 2> g.err; then
    fail "gbdt trained on a text target of numbers"
fi
grep -q "target 'wage' holds continuous numbers" g.err || { cat g.err; fail "gbdt: no reason"; }
grep -q "'unknown' (1 cell, row 4)" g.err || { cat g.err; fail "gbdt: the cell is not named"; }
grep -q -- "--drop-missing-target" g.err || { cat g.err; fail "gbdt: no fix"; }
# explicit classification: refused as for a numeric continuous target
"$KILN" -q train --data wages.csv --target wage --model gbdt --task classification \
    --out g.kmd 2> gc.err && fail "gbdt --task classification trained on a text wage"
grep -q "'unknown' (1 cell, row 4)" gc.err || { cat gc.err; fail "gbdt classification: no cell"; }
"$KILN" -q train --data wages.csv --target wage --model logistic_regression --out l.kmd 2> l.err &&
    fail "logistic_regression trained on a text wage"
grep -q "'unknown' (1 cell, row 4)" l.err || { cat l.err; fail "logistic_regression: no cell"; }
"$KILN" -q train --data wages.csv --target wage --model ridge --out r.kmd 2> r.err &&
    fail "ridge trained on a text wage"
grep -q "target 'wage' must be numbers to regress, but it is text only because 1 of its 534" r.err ||
    { cat r.err; fail "ridge: no reason"; }

# 2. the fix the message gives works: a regression on 533 rows
miss=$(sed -n "s/.*--missing '\([^']*\)'.*/\1/p" g.err)
[ "$miss" = "NA,N/A,NaN,nan,null,NULL,None,?,n/a,#N/A,#N/A N/A,#NA,<NA>,-NaN,-nan,1.#IND,-1.#IND,1.#QNAN,-1.#QNAN,unknown" ] || fail "suggested --missing: '$miss'"
"$KILN" train --data wages.csv --target wage --model gbdt --param n_estimators=10 \
    --missing "$miss" --drop-missing-target --out g.kmd > fix.out 2> fix.err ||
    { cat fix.err; fail "the suggested fix failed"; }
grep -q "trained gbdt (regression)" fix.out || { cat fix.out; fail "not a regression"; }

# 3. whole-number classes with one stray token: still classification
awk -F, -v OFS=, 'NR == 1 {print; next} {$NF = (NR % 4) + 1} NR == 7 {$NF = "other"} {print}' \
    "$D/vehicle.csv" > classes.csv
"$KILN" train --data classes.csv --target Class --model gbdt --param n_estimators=5 \
    --out c.kmd > c.out 2> c.err || { cat c.err; fail "classes 1..4 + 'other' refused"; }
grep -q "trained gbdt (classification)" c.out || { cat c.out; fail "classes: not classification"; }

# 4. describe: a feature of numbers with one 'n.a.' (not a default token;
# 'n/a' is one since the defaults are pandas')
{
    echo "id,x,y"
    for i in $(seq 1 49); do
        if [ "$i" = 30 ]; then echo "$i,n.a.,$((i % 2))"; else echo "$i,$i.5,$((i % 2))"; fi
    done
} > mostly.csv
"$KILN" describe mostly.csv > d.out 2>&1 || { cat d.out; fail "describe failed"; }
grep -q "column 'x' is text only because 1 of its 49 values is not a number: 'n.a.' (1 cell, row 30)" \
    d.out || { cat d.out; fail "describe: no warning on x"; }
grep -q "column 'x' looks like an ID" d.out && { cat d.out; fail "describe: x called an ID"; }
miss=$(sed -n "s/.*column 'x'.*--missing '\([^']*\)'.*/\1/p" d.out)
"$KILN" describe mostly.csv --missing "$miss" --json > d.json
$py - d.json <<'PY'
import json, sys
cols = {c["name"]: c for c in json.load(open(sys.argv[1]))["profile"]["column_profiles"]}
x = cols["x"]
assert x["type"] == "numeric" and x["missing"] == 1, x
PY

# 5. a linear model on that feature names the cell, or where to look
"$KILN" -q train --data mostly.csv --target y --ignore id --model logistic_regression \
    --test-size 0 --out m.kmd 2> m.err && fail "logistic_regression took a text x"
grep -q "feature 'x' is categorical only because 1 of its 49 values is not a number: 'n.a.'" m.err ||
    { cat m.err; fail "feature: no cell"; }

# 6. dates: ISO dates but for two in another format (day/month/year)
{
    echo "id,d,v"
    for i in $(seq 1 40); do
        m=$(printf %02d $(( (i % 12) + 1 ))); dd=$(printf %02d $(( (i % 27) + 1 )))
        case $i in 7 | 19) echo "$i,$dd/$m/2024,$i" ;; *) echo "$i,2024-$m-$dd,$i" ;; esac
    done
} > dates.csv
"$KILN" describe dates.csv > dd.out 2>&1 || { cat dd.out; fail "describe dates failed"; }
grep -q "column 'd' is text, not a timestamp, only because 2 of its 40 values are not an ISO-8601 date or time (YYYY-MM-DD\[Thh:mm\[:ss\]\]): '08/08/2024' (1 cell, row 7), '20/08/2024' (1 cell, row 19)" \
    dd.out || { cat dd.out; fail "describe: no warning on d"; }
"$KILN" -q prep dates.csv dd.csv --step datetime_features:columns=d 2> dt.err &&
    fail "datetime_features took a text d"
grep -q "column 'd' is categorical, not a timestamp, only because 2 of its 40 values" dt.err ||
    { cat dt.err; fail "datetime_features: no reason"; }

# 7. numbers written with thousands separators or a decimal comma: text, said so
printf 'id,price,qty\n1,"1,234.5",3\n2,"12,000",4\n3,999,5\n4,"1,000,000",6\n5,"2,500",7\n' > th.csv
printf 'a;b\n1,5;2\n3,25;4\n2;5\n7,5;1\n0,5;3\n' > euro.csv
"$KILN" describe th.csv > th.out 2>&1 || { cat th.out; fail "describe th.csv failed"; }
grep -q "column 'price' is text, but its values are numbers written with commas (e.g. '1,234.5', row 1)" \
    th.out || { cat th.out; fail "describe: thousands separators not said"; }
"$KILN" describe euro.csv > euro.out 2>&1 || { cat euro.out; fail "describe euro.csv failed"; }
grep -q "column 'a' is text, but its values are numbers written with commas (e.g. '1,5', row 1)" \
    euro.out || { cat euro.out; fail "describe: decimal comma not said"; }
echo "ok"
