#!/bin/bash
# class_weight, one parameter for every classifier that takes sample weights
# (gbdt, random_forest, extra_trees, decision_tree, balanced_random_forest,
# logistic_regression, linear_svm, gaussian_nb, multinomial_nb, bernoulli_nb,
# categorical_nb, adaboost): none, balanced, or label:weight pairs.
#   - explicit weights bad:5,good:1 on lending_club (numeric columns, scaled
#     inside the folds) match scikit-learn's class_weight={"bad": 5, "good": 1}
#     for logistic regression and its sample weights for GaussianNB (which has
#     no class_weight): mean balanced accuracy over the same 5 stratified folds
#     within 0.005;
#   - explicit weights equal to "balanced"'s give the same probabilities;
#   - every model above accepts it and the weights change its predictions;
#   - an unknown class and a malformed value fail naming the parameter;
#   - reporting: kiln cv, whose headline metric is accuracy, warns on
#     lending_club (5.2 % minority) with the majority-only score, and not on
#     wine (27 % smallest class).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
shuffled_quality_data "$DATA"
LC="$W/lending_club.csv"

cvjson() { "$KILN" -q --json cv --data "$LC" --target Class "$@"; }
mean() { $py -c "import json,sys; print(json.load(sys.stdin)['mean']['$1'])"; }

# the sanitizer build runs Kiln's side only (the release build compares)
ref=$(PYTHONWARNINGS=ignore ref_py - "$LC" <<'PY'
import sys, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.preprocessing import StandardScaler
from sklearn.model_selection import StratifiedKFold
from sklearn.metrics import balanced_accuracy_score
d = pd.read_csv(sys.argv[1]); X, y = d.drop(columns="Class").to_numpy(), d.Class.to_numpy()
out = []
for model in ("logistic", "nb"):
    s = []
    for tr, te in StratifiedKFold(5).split(X, y):
        sc = StandardScaler().fit(X[tr])
        if model == "logistic":
            m = LogisticRegression(class_weight={"bad": 5, "good": 1}, max_iter=1000, tol=1e-8)
            m.fit(sc.transform(X[tr]), y[tr])
        else:
            m = GaussianNB().fit(sc.transform(X[tr]), y[tr], sample_weight=np.where(y[tr] == "bad", 5.0, 1.0))
        s.append(balanced_accuracy_score(y[te], m.predict(sc.transform(X[te]))))
    out.append("%.6f" % np.mean(s))
print(" ".join(out))
PY
)
read -r ref_lr ref_nb <<< "$ref"
k_lr=$(cvjson --model logistic_regression --step standard_scaler --param class_weight=bad:5,good:1 \
    --param tol=1e-8 --param max_iter=1000 | mean balanced_accuracy)
k_nb=$(cvjson --model gaussian_nb --step standard_scaler --param class_weight=bad:5,good:1 |
    mean balanced_accuracy)
echo "logistic: kiln $k_lr sklearn $ref_lr; gaussian_nb: kiln $k_nb sklearn $ref_nb"
sanitized || $py -c "import sys; sys.exit(0 if abs($k_lr - $ref_lr) <= 0.005 and abs($k_nb - $ref_nb) <= 0.005 else 1)" ||
    fail "explicit class weights differ from scikit-learn's"

# explicit = balanced when the numbers are balanced's: n / (2 x count) per class
w=$($py -c "
import pandas as pd; c = pd.read_csv('$LC').Class.value_counts(); n = c.sum()
print(','.join('%s:%.17g' % (k, n / (2 * v)) for k, v in c.items()))")
for cw in balanced "$w"; do
    "$KILN" -q train --data "$LC" --target Class --model gaussian_nb --param "class_weight=$cw" \
        --test-size 0 --out "$W/nb.kmd" > /dev/null
    "$KILN" -q predict --model "$W/nb.kmd" --data "$LC" --proba --out "$W/p_${cw%%:*}.csv"
done
cmp -s "$W/p_balanced.csv" "$W/p_${w%%:*}.csv" || fail "explicit weights equal to balanced's predict otherwise"

# every weighted classifier takes it, and it changes what the model predicts
# (the sanitizer build: on lending_club's first 3,000 rows)
WLC=$LC
if sanitized; then head -n 3001 "$LC" > "$W/lc3000.csv" && WLC=$W/lc3000.csv; fi
for m in gbdt random_forest extra_trees decision_tree balanced_random_forest logistic_regression \
    linear_svm gaussian_nb multinomial_nb bernoulli_nb adaboost; do
    extra=()
    case $m in gbdt) extra=(--param n_estimators=20) ;;
    random_forest | extra_trees | balanced_random_forest) extra=(--param n_estimators=10) ;;
    multinomial_nb) extra=(--step minmax_scaler) ;;
    linear_svm | logistic_regression) extra=(--step standard_scaler) ;;
    esac
    p=$(LC=$WLC cvjson --model $m --folds 3 "${extra[@]}" | mean recall)
    q=$(LC=$WLC cvjson --model $m --folds 3 "${extra[@]}" --param class_weight=bad:20,good:1 | mean recall)
    [ "$p" != "$q" ] || fail "$m: class_weight=bad:20,good:1 changed nothing (recall $p)"
done
hv() { "$KILN" -q --json cv --data "$DATA/house_votes84.csv" --target Class --model categorical_nb \
    --step 'simple_imputer:columns=type:categorical;strategy=constant;fill_text=absent' \
    --step ordinal_encoder "$@" | mean recall; }
[ "$(hv)" != "$(hv --param class_weight=republican:0.05)" ] ||
    fail "categorical_nb: class_weight changed nothing"

# bad input
expect "class_weight names class 'maybe', which the target does not hold (its classes: bad, good)" 1 \
    "$KILN" cv --data "$LC" --target Class --model gbdt --param class_weight=maybe:2
expect "class_weight=bad5: give none, balanced, or label:weight pairs" 1 \
    "$KILN" cv --data "$LC" --target Class --model adaboost --param class_weight=bad5
expect "class_weight=bad:-1" 1 \
    "$KILN" cv --data "$LC" --target Class --model logistic_regression --param class_weight=bad:-1

# the accuracy warning on imbalanced data
"$KILN" cv --data "$LC" --target Class --model gaussian_nb > /dev/null 2> "$W/err"
grep -q "warn: accuracy is the headline metric, but the smallest class holds 5.2 % of the rows: always answering the largest class scores 0.948" "$W/err" ||
    fail "no accuracy warning on lending_club: $(cat "$W/err")"
"$KILN" cv --data "$DATA/wine.csv" --target class --model gaussian_nb > /dev/null 2> "$W/err"
! grep -q "headline metric" "$W/err" || fail "an accuracy warning on wine"
echo ok
