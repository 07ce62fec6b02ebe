#!/bin/bash
# Resampling steps (fit time only) against imbalanced-learn 0.10 on
# lending_club (5.2 % 'bad'; its numeric columns, and all columns for
# SMOTE-NC); ref_resample.py states each check:
#   - random over/under-sampling: class counts as imbalanced-learn's, the
#     rows copies of input rows of their class (the draws differ);
#   - Tomek links and edited nearest neighbours: the same rows removed;
#   - SMOTE, Borderline-SMOTE, ADASYN, SMOTE-NC: class counts as
#     imbalanced-learn's (ADASYN's rounding included), every synthetic row on a
#     segment between a row of its class and one of its k nearest in the class;
#   - same seed, same bytes;
#   - leakage: on pure noise (8 numeric columns and a 10-level text column,
#     10 % minority), target_encoder + smote + 1-NN scores chance under
#     kiln cv (balanced accuracy < 0.6) but well above it when the steps are
#     fitted on all rows before the folds (> 0.75);
#   - validation rows are never resampled: every fold scores its own rows
#     (test rows as without the step), and `kiln predict` with a run's
#     artifact (standard_scaler + smote + logistic regression) gives one
#     prediction per input row;
#   - bad input: a regression target (cv, before any fold; prep), an unknown
#     class, a strategy that changes no row (over-sampling the majority), a
#     ratio on three classes, SMOTE on a text feature, a class smaller than
#     k_neighbors, a missing value.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
if ! $py -c 'import imblearn' 2>/dev/null; then
    [ "${CI:-}" = true ] && fail "python3-imblearn is missing in CI"
    echo "SKIP: python3-imblearn not installed (scripts/bootstrap installs it)"; exit 77
fi
REF="$(dirname "$0")/ref_resample.py"
LC="$DATA/lending_club.csv"
$py - "$LC" "$W" <<'PY'
import sys, numpy as np, pandas as pd
src, w = sys.argv[1:]
d = pd.read_csv(src)
d[[c for c in d.columns if d[c].dtype != object] + ["Class"]].to_csv(f"{w}/lc.csv", index=False)
r = np.random.default_rng(7)
n = 600
noise = pd.DataFrame(r.normal(size=(n, 8)), columns=[f"x{i}" for i in range(8)])
noise["cat"] = r.choice(list("abcdefghij"), n)
noise["y"] = (r.random(n) < 0.1).astype(int)
noise.to_csv(f"{w}/noise.csv", index=False)
PY

# parity with imbalanced-learn
for s in random_over_sampler random_under_sampler smote borderline_smote adasyn tomek_links \
    edited_nearest_neighbours; do
    "$KILN" -q prep "$W/lc.csv" "$W/$s.csv" --target Class --step "$s"
    k=5; [ "$s" = edited_nearest_neighbours ] && k=3
    ref_py "$REF" "$s" "$W/lc.csv" "$W/$s.csv" Class $k || fail "$s differs from imbalanced-learn"
done
"$KILN" -q prep "$LC" "$W/nc.csv" --target Class --step smote_nc
ref_py "$REF" smote_nc "$LC" "$W/nc.csv" Class 5 || fail "smote_nc differs from imbalanced-learn"
"$KILN" -q prep "$W/lc.csv" "$W/s2.csv" --target Class --step 'smote:seed=3;sampling_strategy=0.5'
$py -c "
import pandas as pd, sys
c = pd.read_csv('$W/s2.csv').Class.value_counts()
sys.exit(0 if (c['bad'], c['good']) == (4670, 9340) else 1)" || fail "ratio 0.5: wrong counts"

# determinism
"$KILN" -q prep "$W/lc.csv" "$W/again.csv" --target Class --step smote
cmp -s "$W/smote.csv" "$W/again.csv" || fail "smote: same seed, other rows"

# leakage: honest cv at chance, the leaky protocol far above it
bacc() { "$KILN" -q --json cv "$@" | $py -c "import json,sys; print(json.load(sys.stdin)['mean']['balanced_accuracy'])"; }
honest=$(bacc --data "$W/noise.csv" --target y --model knn_classifier --param n_neighbors=1 \
    --step target_encoder --step smote)
"$KILN" -q prep "$W/noise.csv" "$W/leak.csv" --target y --step target_encoder --step smote
leaky=$(bacc --data "$W/leak.csv" --target y --model knn_classifier --param n_neighbors=1)
$py -c "import sys; sys.exit(0 if $honest < 0.6 and $leaky > 0.75 else 1)" ||
    fail "leakage: kiln cv $honest (want < 0.6), fitted outside the folds $leaky (want > 0.75)"

# validation rows are never resampled (in the sanitizer build on the first
# 3,000 rows: tomek_links' neighbours on the scaled 9,857 were 10 ASan CPU s)
folds_data=$W/lc.csv
if sanitized; then
    head -n 3001 "$W/lc.csv" > "$W/lc3000.csv"
    folds_data=$W/lc3000.csv
    echo "sanitizer build: fold rows checked on the first 3,000 of 9,857 rows"
fi
rows() { "$KILN" -q --json cv --data "$folds_data" --target Class --model logistic_regression \
    --step standard_scaler "$@" | $py -c "import json,sys; print([f['test_rows'] for f in json.load(sys.stdin)['folds']])"; }
plain=$(rows)
for s in random_over_sampler smote tomek_links; do
    [ "$(rows --step "$s")" = "$plain" ] || fail "$s: folds score other rows than without it"
done
cat > "$W/run.yaml" <<YAML
sources:
  loans: {file: $W/lc.csv}
target: Class
steps:
  - standard_scaler: {}
  - smote: {k_neighbors: 5}
model:
  logistic_regression: {}
evaluation:
  cv: {folds: 3}
  metrics: [balanced_accuracy]
  test: {fraction: 0.2}
YAML
"$KILN" -q run "$W/run.yaml" --no-store --out "$W/run.kiln" > /dev/null
"$KILN" -q predict --model "$W/run.kiln" --data "$W/lc.csv" --out "$W/pred.csv"
[ "$(($(wc -l < "$W/pred.csv") - 1))" = 9857 ] || fail "predict: not one prediction per input row"

# bad input
expect "resamples the rows of each class, but the model is a regressor" 1 \
    "$KILN" cv --data "$DATA/concrete.csv" --target compressive_strength --model ridge --step smote
expect "not a class label" 1 "$KILN" prep "$DATA/concrete.csv" "$W/x.csv" \
    --target compressive_strength --step random_over_sampler
expect "names class 'maybe', which the target does not hold" 1 \
    "$KILN" prep "$W/lc.csv" "$W/x.csv" --target Class --step 'smote:sampling_strategy=maybe:3'
expect "a ratio must lie in (0, 1\] and needs two classes" 1 \
    "$KILN" prep "$DATA/wine.csv" "$W/x.csv" --target class --step 'random_under_sampler:sampling_strategy=0.5'
# a strategy naming only the class the step cannot change left every row as
# it was, silently (imbalanced-learn refuses it)
expect "sampling_strategy=majority would change no row (over-sampling grows" 1 \
    "$KILN" prep "$W/lc.csv" "$W/x.csv" --target Class --step 'smote:sampling_strategy=majority'
expect "sampling_strategy=minority would change no row (under-sampling shrinks" 1 \
    "$KILN" prep "$DATA/wine.csv" "$W/x.csv" --target class --step 'random_under_sampler:sampling_strategy=minority'
expect "feature 'term' is categorical; use smote_nc" 1 \
    "$KILN" prep "$LC" "$W/x.csv" --target Class --step smote
expect "needs the target column" 1 "$KILN" prep "$W/lc.csv" "$W/x.csv" --step smote
head -30 "$W/lc.csv" > "$W/few.csv"
expect "class 'bad' has [0-9]* rows; synthesising from 5 neighbours" 1 \
    "$KILN" prep "$W/few.csv" "$W/x.csv" --target Class --step smote
$py -c "
import pandas as pd; d = pd.read_csv('$W/lc.csv'); d.loc[3, 'int_rate'] = None
d.to_csv('$W/gap.csv', index=False)"
expect "column 'int_rate' is missing at row 4" 1 \
    "$KILN" prep "$W/gap.csv" "$W/x.csv" --target Class --step tomek_links
echo "ok"
