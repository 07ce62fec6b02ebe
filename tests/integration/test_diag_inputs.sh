#!/bin/bash
# Issue 20's audit (session 19): bad input stopped before any work, known
# groups in kiln cluster, the baseline beside kiln tune's scores.
# - kiln curve validation over a parameter the model lacks, or a value out
#   of its range at the second point: an error naming it before the data is
#   read (the data file named does not exist).
# - kiln run with a slice_by column the data lacks: an error naming it (and
#   the likely column) before any fold or fit.
# - kiln cluster --labels COLUMN: the column is left out of the features and
#   the clusters' agreement with it printed; equal to scikit-learn's
#   adjusted_rand_score and normalized_mutual_info_score on the written
#   clusters. A misspelt --labels column: did you mean, no fit.
#   With --out -, standard output holds the clusters only. kiln anomaly
#   --labels COLUMN likewise: left out, the ROC-AUC of the rows outside its
#   most common value as anomalies (equal to a pairwise count in numpy).
# - kiln tune: the baseline (class prior / mean of the training rows) beside
#   the best trial's CV score and the held-out score, in text and JSON; kiln
#   run: beside each CV score too (it was in the test scores only).
# - the fit verdict of a balanced ensemble, whose accuracy is under the
#   constant's: judged by balanced accuracy, not "under-fitting".
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
cd "$W"

# --- curve: parameter checked before the data
expect "--range depth=1: model 'decision_tree': unknown parameter 'depth'.*before reading the data" 1 \
    "$KILN" curve validation --data missing.csv --target class --model decision_tree \
    --range depth=1,2
expect "--range alpha=-2: model 'ridge': parameter 'alpha' = -2 is out of range" 1 \
    "$KILN" curve validation --data missing.csv --target y --model ridge --range alpha=1,-2
# a --param that the range overrides is fine; the curve still runs
"$KILN" -q curve validation --data "$DATA/wine.csv" --target class --model decision_tree \
    --param max_depth=2 --range max_depth=1,3 > vc.txt 2> /dev/null || fail "curve after the check"
grep -q "<- best" vc.txt || fail "no best value: $(cat vc.txt)"

# --- run: slice_by checked before any fold
cat > sl.yaml << YAML
sources: {d: {file: $DATA/cps1985.csv}}
target: wage
steps: [onehot_encoder]
model: {ridge: {}}
evaluation: {slice_by: regoin}
YAML
rc=0
"$KILN" run sl.yaml --no-store --out sl.kiln > /dev/null 2> err.txt || rc=$?
[ "$rc" = 1 ] || fail "slice_by regoin: rc $rc"
grep -q "sl.yaml:5:24: evaluation: slice_by: the test rows have no column 'regoin' (did you mean 'region'?)" \
    err.txt || fail "slice_by error: $(cat err.txt)"
if grep -q -E "fold [0-9]+/|cv: |fit: done" err.txt; then fail "work before the slice_by error: $(cat err.txt)"; fi
[ ! -e sl.kiln ] || fail "an artifact after the slice_by error"
sed -i 's/regoin/region/' sl.yaml
"$KILN" -q run sl.yaml --no-store --out sl.kiln > run.txt 2> /dev/null || fail "run with slice_by region"
grep -q "worst slice: region = " run.txt || fail "no worst slice in the run summary: $(cat run.txt)"
# the baseline beside every CV score of the run, as beside its test scores
grep -q "^  rmse  .*  train [0-9.]*  baseline [0-9.]*$" run.txt ||
    fail "no baseline beside the run's CV scores: $(cat run.txt)"

# --- cluster --labels
"$KILN" --json cluster --data "$DATA/wine.csv" --labels class --param n_clusters=3 \
    --out c.csv > c.json 2> /dev/null || fail "cluster --labels"
"$KILN" cluster --data "$DATA/wine.csv" --labels class --param n_clusters=3 --out c2.csv \
    > c.txt 2> /dev/null || fail "cluster --labels (text)"
grep -q "^against column class (3 groups): adjusted_rand 0\.[0-9]*, normalized_mutual_info 0\.[0-9]*$" c.txt ||
    fail "no agreement line: $(cat c.txt)"
cmp -s c.csv c2.csv || fail "text and JSON runs wrote different clusters"
# a text label left among the features: the hint names --labels too
expect "leave it out with --ignore class (or --labels class to score the clusters against it)$" 1 \
    "$KILN" cluster --data "$DATA/wine.csv" --param n_clusters=3 --out x.csv
# --out -: standard output holds the clusters only (the summary on stderr)
"$KILN" cluster --data "$DATA/wine.csv" --labels class --param n_clusters=3 --out - \
    > c3.csv 2> c3.err || fail "cluster --out -"
cmp -s c.csv c3.csv || fail "--out - wrote more than the clusters: $(tail -3 c3.csv)"
grep -q "^against column class" c3.err || fail "no summary on stderr with --out -"
expect "--labels: the data has no column 'klass' (did you mean 'class'?)$" 1 \
    "$KILN" cluster --data "$DATA/wine.csv" --labels klass --param n_clusters=3 --out x.csv
[ ! -e x.csv ] || fail "clusters written after a --labels error"
# a missing label: named before the fit (no fit stage runs)
awk -F, 'BEGIN { OFS = "," } NR == 5 { $NF = "" } 1' "$DATA/wine.csv" > wine_gap.csv
expect "--labels class: row 4 has no value; every row needs its class" 1 \
    "$KILN" --json cluster --data wine_gap.csv --labels class --param n_clusters=3 --out x.csv
expect "--labels class: row 4 has no value; every row needs its class" 1 \
    "$KILN" anomaly --data wine_gap.csv --labels class --out x.csv
ref_py - "$DATA/wine.csv" c.csv c.json << 'PY'
import json, sys
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
d, c, j = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2]), json.load(open(sys.argv[3]))
assert j["features"] == d.shape[1] - 1, j  # the label is not a feature
assert j["labels"] == "class" and j["groups"] == 3, j
ari = adjusted_rand_score(d["class"], c["cluster"])
nmi = normalized_mutual_info_score(d["class"], c["cluster"])
assert abs(j["adjusted_rand"] - ari) < 1e-12, (j["adjusted_rand"], ari)
assert abs(j["normalized_mutual_info"] - nmi) < 1e-12, (j["normalized_mutual_info"], nmi)
PY

# --- anomaly --labels: left out of the features, the ROC-AUC of the rows
# outside the most common value (letter_imbalanced: 780 'A', 222 others)
"$KILN" --json anomaly --data "$DATA/letter_imbalanced.csv" --labels lettr --out la.csv \
    > la.json 2> /dev/null || fail "anomaly --labels"
"$KILN" anomaly --data "$DATA/letter_imbalanced.csv" --labels lettr --out la2.csv \
    > /dev/null 2> la.err || fail "anomaly --labels (text)"
grep -q "^against column lettr: ROC-AUC of the 222 rows outside its most common value 'A' (780 rows) as anomalies 0\.[0-9]*$" \
    la.err || fail "no ROC-AUC line: $(cat la.err)"
$py - "$DATA/letter_imbalanced.csv" la.csv la.json << 'PY'
import json, sys
import numpy as np, pandas as pd
d, s, j = pd.read_csv(sys.argv[1]), pd.read_csv(sys.argv[2]), json.load(open(sys.argv[3]))
assert j["features"] == d.shape[1] - 1, j
assert (j["normal_value"], j["normal_rows"], j["rare_rows"]) == ("'A'", 780, 222), j
# ROC-AUC of "not A" against -score (lower scores are more anomalous), with ties
y, x = (d["lettr"] != "A").to_numpy(), -s["score"].to_numpy()
pos, neg = x[y], x[~y]
auc = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
assert abs(j["roc_auc"] - auc) < 1e-12, (j["roc_auc"], auc)
PY
expect "--labels: the data has no column 'lett' (did you mean 'lettr'?)" 1 \
    "$KILN" anomaly --data "$DATA/letter_imbalanced.csv" --labels lett --out x.csv
expect "--labels lettr scores a fit on every row; --label lettr --normal V fits on one class" 2 \
    "$KILN" anomaly --data "$DATA/letter_imbalanced.csv" --labels lettr --label lettr \
    --normal A --out x.csv
expect "leave it out with --ignore lettr (or --labels lettr to measure the scores against it)" 1 \
    "$KILN" anomaly --data "$DATA/letter_imbalanced.csv" --out x.csv

# --- tune: the baseline beside the scores
printf 'max_depth: {int: [1, 6]}\n' > space.yaml
"$KILN" --json tune --data "$DATA/wine.csv" --target class --model decision_tree \
    --space space.yaml --trials 3 > t.json 2> /dev/null || fail "tune --json"
"$KILN" tune --data "$DATA/wine.csv" --target class --model decision_tree \
    --space space.yaml --trials 3 > t.txt 2> /dev/null || fail "tune"
grep -q "^best: trial [0-9]*, accuracy .* (train [0-9.]*, baseline 0\.[0-9]*):" t.txt ||
    fail "no baseline beside the best trial: $(cat t.txt)"
grep -q "^held-out: accuracy .*; baseline (prior/mean) 0\.[0-9]*$" t.txt ||
    fail "no baseline beside the held-out score: $(cat t.txt)"
$py - t.json << 'PY'
import json, sys
j = json.load(open(sys.argv[1]))
b, t = j["best"], j["test"]
# wine's classes 59/71/48: the training rows' majority class is ~40 % of any rows
assert 0.3 < b["baseline"] < 0.45, b
assert all(0.3 < x["baseline"] < 0.45 for x in j["trials"]), j["trials"]
assert "baseline %.4f" % b["baseline"] in b["verdict"]["evidence"], b
# the held-out baseline: a count of the test rows' majority-class rows
assert 0.3 < t["baseline"] < 0.45 and abs(t["baseline"] * t["rows"] - round(t["baseline"] * t["rows"])) < 1e-9, t
PY
printf 'alpha: {log: [0.01, 100]}\n' > alpha.yaml
"$KILN" --json tune --data "$DATA/concrete.csv" --target compressive_strength --model ridge \
    --space alpha.yaml --trials 2 --metric r2 > r.json 2> /dev/null ||
    fail "tune ridge"
$py - r.json << 'PY'
import json, sys
j = json.load(open(sys.argv[1]))
# the training rows' mean scored on other rows: R^2 at or a little below 0
assert -0.1 < j["test"]["baseline"] <= 0 and -0.1 < j["best"]["baseline"] <= 0, (j["test"], j["best"])
PY
# --- the fit verdict of a model built for imbalance: EasyEnsemble gives up
# rows of the largest class (78 % of letter_imbalanced): accuracy under the
# constant's is not under-fitting when balanced accuracy shows it learnt
"$KILN" --json cv --data "$DATA/letter_imbalanced.csv" --target lettr --model easy_ensemble \
    --seed 0 --folds 3 > ee.json 2> /dev/null || fail "cv easy_ensemble"
$py - ee.json << 'PY'
import json, sys
j = json.load(open(sys.argv[1]))
v = j["verdict"]
assert v["fit"] != "under-fitting", v
assert "judged by balanced_accuracy" in v["evidence"], v
PY
echo ok
