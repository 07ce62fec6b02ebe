#!/bin/bash
# Ensembles for imbalanced classes against imbalanced-learn 0.10 on
# lending_club (its numeric columns; 5.2 % 'bad'), shuffled once, with the
# same folds (kiln cv's stratified folds, unshuffled, are StratifiedKFold(5)'s):
#   - balanced_random_forest (100 trees, each on every class under-sampled to
#     the smallest, then bootstrapped) = BalancedRandomForestClassifier;
#   - easy_ensemble (10 AdaBoost SAMME members of 50 stumps, each on a balanced
#     under-sample) = EasyEnsembleClassifier(AdaBoostClassifier(algorithm="SAMME"));
#   the draws differ between the libraries, so each side's mean balanced
#   accuracy over 3 seeds, within 1 point;
#   - the same seed gives a byte-identical model on 1 and 2 threads;
#   - a regression target is refused before any fold.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
if ! $py -c 'import imblearn' 2>/dev/null; then
    [ "${CI:-}" = true ] && fail "python3-imblearn is missing in CI"
    echo "SKIP: python3-imblearn not installed (scripts/bootstrap installs it)"; exit 77
fi
shuffled_quality_data "$DATA"
LC="$W/lending_club.csv"

bacc() { # model, seed: kiln cv's mean balanced accuracy
    "$KILN" -q --json cv --data "$LC" --target Class --model "$1" --param seed="$2" |
        $py -c "import json,sys; print(json.load(sys.stdin)['mean']['balanced_accuracy'])"
}
# the sanitizer build (no reference there) fits each ensemble on one seed
seeds="0 1 2"
if sanitized; then seeds=0; fi
for m in balanced_random_forest easy_ensemble; do
    kiln=$(for s in $seeds; do bacc $m $s; done | awk '{s += $1} END {printf "%.6f", s / NR}')
    if sanitized; then echo "$m: kiln $kiln (the sanitizer build runs no reference)"; continue; fi
    # kept between runs (ref_cached)
    ref=$(PYTHONWARNINGS=ignore ref_cached "$LC" "$m" <<'PY'
import sys, numpy as np, pandas as pd
from sklearn.ensemble import AdaBoostClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from imblearn.ensemble import BalancedRandomForestClassifier, EasyEnsembleClassifier
d = pd.read_csv(sys.argv[1]); X, y = d.drop(columns="Class"), d.Class
def model(s):
    if sys.argv[2] == "balanced_random_forest":
        return BalancedRandomForestClassifier(n_estimators=100, sampling_strategy="auto",
                                              replacement=False, random_state=s)
    return EasyEnsembleClassifier(n_estimators=10, random_state=s,
                                  estimator=AdaBoostClassifier(n_estimators=50, algorithm="SAMME"))
print("%.6f" % np.mean([cross_val_score(model(s), X, y, cv=StratifiedKFold(5),
                                        scoring="balanced_accuracy").mean() for s in range(3)]))
PY
)
    echo "$m: kiln $kiln, imbalanced-learn $ref"
    $py -c "import sys; sys.exit(0 if abs($kiln - $ref) <= 0.01 else 1)" ||
        fail "$m: balanced accuracy $kiln vs imbalanced-learn's $ref (more than 1 point apart)"
done

# determinism across thread counts
for m in balanced_random_forest easy_ensemble; do
    for t in 1 2; do
        "$KILN" -q --threads $t train --data "$LC" --target Class --model $m --param seed=4 \
            --param n_estimators=5 --test-size 0 --out "$W/$m.$t.kmd" > /dev/null
    done
    cmp -s "$W/$m.1.kmd" "$W/$m.2.kmd" || fail "$m: 1 and 2 threads give other models"
done

# bad input
expect "model .balanced_random_forest.: target .compressive_strength. looks continuous" 1 \
    "$KILN" cv --data "$DATA/concrete.csv" --target compressive_strength --model balanced_random_forest
expect "model .easy_ensemble.: target .compressive_strength. looks continuous" 1 \
    "$KILN" cv --data "$DATA/concrete.csv" --target compressive_strength --model easy_ensemble
echo ok
