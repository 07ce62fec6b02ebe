#!/bin/bash
# Meta-models take the columns their base takes: bagging and
# tuned_threshold of gbdt, bagging of a forest, adaboost (of trees), voting
# and stacking of gbdt and a forest or tree fit on text columns (and
# missing values) as their models do, where they said "feature 'term' is
# categorical ... encode first"; their artifacts load again (a member's
# text levels are kept with it); predict and serve (a batch and one row at
# a time) give the same answers. A base that takes numbers only still
# refuses text, naming the fix.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(cd "$(dirname "$0")/../data" && pwd)"
cd "$W"
awk 'NR <= 801' "$D/lending_club.csv" > lc.csv
"$KILN" -q train --data lc.csv --target Class --model bagging --param base=gbdt \
    --param base_params=n_estimators=8 --param n_estimators=3 --out bag.kiln > /dev/null 2> b.err ||
    { cat b.err; fail "bagging of gbdt refuses the text columns"; }
"$KILN" -q train --data lc.csv --target Class --model tuned_threshold --param base=gbdt \
    --param base_params=n_estimators=8 --param folds=3 --out thr.kiln > /dev/null 2> t.err ||
    { cat t.err; fail "tuned_threshold of gbdt refuses the text columns"; }
"$KILN" -q train --data lc.csv --target Class --model bagging --param base=random_forest \
    --param base_params=n_estimators=4 --param n_estimators=2 --out bagrf.kiln > /dev/null 2> b2.err ||
    { cat b2.err; fail "bagging of random_forest refuses the text columns"; }
"$KILN" -q train --data lc.csv --target Class --model adaboost --param n_estimators=5 \
    --out ada.kiln > /dev/null 2> a.err || { cat a.err; fail "adaboost refuses the text columns"; }
"$KILN" -q train --data lc.csv --target Class --model voting --param voting=soft \
    --param "models=gbdt:n_estimators=8;random_forest:n_estimators=4" --out vote.kiln \
    > /dev/null 2> v.err || { cat v.err; fail "voting of gbdt and a forest refuses the text columns"; }
"$KILN" -q train --data lc.csv --target Class --model stacking --param cv=3 \
    --param "models=gbdt:n_estimators=8;decision_tree:max_depth=4" --out stack.kiln \
    > /dev/null 2> s.err || { cat s.err; fail "stacking of gbdt and a tree refuses the text columns"; }
"$KILN" inspect bag.kiln | grep -q "bagging (classification, 22 features)" ||
    { "$KILN" inspect bag.kiln; fail "bagging does not read the text columns"; }
if "$KILN" -q train --data lc.csv --target Class --model bagging \
    --param base=logistic_regression --out lr.kiln > /dev/null 2> lr.err; then
    fail "bagging of logistic_regression took text columns"
fi
grep -q "feature 'term' is categorical; models take numeric columns (encode categories first" lr.err ||
    { cat lr.err; fail "the numeric-only base: message"; }
MODELS="bag thr bagrf ada vote stack"
for m in $MODELS; do
    "$KILN" -q predict --model $m.kiln --data lc.csv --proba --out p_$m.csv 2> p.err ||
        { cat p.err; fail "predict with $m.kiln"; }
done
$py - lc.csv <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))[:40]
out = []
for r in rows:
    r.pop("Class")
    d = {}
    for k, v in r.items():
        try:
            d[k] = float(v)
        except ValueError:
            d[k] = v if v != "" else None
    out.append(d)
json.dump({"instances": out}, open("batch.json", "w"))
for i in range(3):
    json.dump({"instances": [out[i]]}, open(f"one{i}.json", "w"))
PY
start_server --model bag="$W/bag.kiln" --model thr="$W/thr.kiln" --model bagrf="$W/bagrf.kiln" \
    --model ada="$W/ada.kiln" --model vote="$W/vote.kiln" --model stack="$W/stack.kiln" --threads 2
for m in $MODELS; do
    expect_status 200 POST /v1/models/$m:predict batch.json
    cp "$W/body" s_$m.json
    for i in 0 1 2; do
        expect_status 200 POST /v1/models/$m:predict one$i.json
        cp "$W/body" s_${m}_$i.json
    done
done
stop_server
$py - <<'PY' || fail "serve and predict differ"
import csv, json
for m in ("bag", "thr", "bagrf", "ada", "vote", "stack"):
    want = list(csv.DictReader(open(f"p_{m}.csv")))
    got = json.load(open(f"s_{m}.json"))["predictions"]
    got += [json.load(open(f"s_{m}_{i}.json"))["predictions"][0] for i in range(3)]
    for i, g in enumerate(got):
        w = want[i if i < 40 else i - 40]
        assert g["label"] == w["prediction"], (m, i, g, w)
        for c, p in g["probabilities"].items():
            assert abs(p - float(w["proba_" + c])) <= 1e-12, (m, i, c, p, w)
PY
echo "ok"
