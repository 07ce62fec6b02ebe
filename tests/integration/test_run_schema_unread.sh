#!/bin/bash
# The input schema a kiln run artifact infers (a spec without schema:) puts
# no value rule on the columns the model never reads, the target and the
# ignored ones. With the training rows' range on them, kiln predict set aside
# every new row whose id was past the training ids (0 predictions), and kiln
# eval left out the rows whose true value was past the training maximum: a
# score on the easier rows, with no word in it but the quarantine note.
# - concrete with a mix_id column (ignored), 200 training mixes under 60 MPa;
#   30 new rows with ids 1001.., 15 of them stronger than any training mix;
# - kiln predict scores every new row; kiln eval scores every row, and its
#   RMSE equals Python's on kiln predict's output (1e-9);
# - the input columns keep their rules: a row with a new level of a text
#   input is still set aside (the schema still checks what the model reads).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(dirname "$0")/../data"
cd "$W"
# training: 200 mixes weaker than 60 MPa; new: 30 others, half stronger
awk -F, 'NR == 1 {print "mix_id," $0 ",site"; next}
    $9 < 60 && n < 200 {n++; print n "," $0 "," (n % 2 ? "north" : "south")}' \
    "$D/concrete.csv" > train.csv
{
    echo "mix_id,$(head -1 "$D/concrete.csv"),site"
    # (awk counts: `awk | head` under pipefail fails when head closes first)
    { awk -F, 'NR > 1 && $9 >= 60 && ++m <= 15' "$D/concrete.csv"
      awk -F, 'NR > 1 && $9 < 60 && ++n > 200 && ++k <= 15' "$D/concrete.csv"; } |
        awk '{print 1000 + NR "," $0 ",north"}'
} > new.csv
{ cat new.csv; tail -1 new.csv | sed 's/,north$/,west/; s/^[0-9]*,/2000,/'; } > new_site.csv
max_train=$(cut -d, -f10 train.csv | tail -n +2 | sort -g | tail -1)
max_new=$(cut -d, -f10 new.csv | tail -n +2 | sort -g | tail -1)
awk -v a="$max_new" -v b="$max_train" 'BEGIN {exit !(a > b)}' ||
    fail "the new rows' strength ($max_new) is not above the training maximum ($max_train)"
cat > spec.yaml <<'EOF'
sources:
  mixes: {file: train.csv}
target: compressive_strength
ignore: [mix_id]
task: regression
model:
  gbdt: {n_estimators: 20}
evaluation:
  cv: {folds: 3}
  metrics: [rmse]
  test: {fraction: 0.2}
seed: 1
EOF
"$KILN" -q run spec.yaml --no-store --out m.kiln > /dev/null
"$KILN" -q predict --model m.kiln --data new.csv --keep mix_id --out pred.csv 2> pred.err ||
    fail "kiln predict: $(cat pred.err)"
[ "$(wc -l < pred.csv)" = 31 ] ||
    fail "kiln predict scored $(($(wc -l < pred.csv) - 1)) of 30 rows: $(cat pred.err)"
[ ! -s pred.err ] || fail "kiln predict set rows aside: $(cat pred.err)"
"$KILN" -q --json eval --model m.kiln --data new.csv > eval.json 2> eval.err ||
    fail "kiln eval: $(cat eval.err)"
$py - <<'PY' || fail "kiln eval's RMSE is not that of every row"
import csv, json, math
truth = {r["mix_id"]: float(r["compressive_strength"]) for r in csv.DictReader(open("new.csv"))}
pred = list(csv.DictReader(open("pred.csv")))
rmse = math.sqrt(sum((truth[p["mix_id"]] - float(p["prediction"])) ** 2 for p in pred) / len(pred))
e = json.load(open("eval.json"))
assert e["rows"] == 30, e["rows"]
assert abs(e["rmse"] - rmse) < 1e-9 * rmse, (e["rmse"], rmse)
print(f"kiln eval: RMSE {rmse:.4f} on all 30 rows (Python's on kiln predict's output)")
PY
# what the model reads keeps its rules: a new site is still set aside
"$KILN" -q predict --model m.kiln --data new_site.csv --out pred_site.csv 2> site.err ||
    fail "kiln predict: $(cat site.err)"
grep -q "site categories, 1 row \[quarantine\]" site.err ||
    fail "a new level of an input was not set aside: $(cat site.err)"
echo "run schema of unread columns: ok"
