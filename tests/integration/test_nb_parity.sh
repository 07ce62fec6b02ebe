#!/bin/bash
# Naive Bayes against scikit-learn: gaussian_nb = GaussianNB on wine.csv (3
# classes, raw features) and a binary version, with and without sample
# weights; multinomial_nb and bernoulli_nb on lending_club.csv's count
# columns, categorical_nb on its ordinal-encoded categorical columns (Kiln's
# ordinal_encoder writes the codes both sides read). Probabilities within
# 1e-9, predicted labels identical, save/load included (predict runs on the
# saved model).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
sed 's/,class_2$/,class_0/' "$DATA/wine.csv" > "$W/binary.csv"
$py - "$DATA/wine.csv" "$W/weighted.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
out = csv.writer(open(sys.argv[2], "w", newline=""))
out.writerow(rows[0] + ["w"])
for i, r in enumerate(rows[1:]): out.writerow(r + [0.5 + (i * 7) % 5])
PY
check() { # name, data, var_smoothing, extra kiln args...
    local name=$1 data=$2 vs=$3; shift 3
    "$KILN" -q train --data "$data" --target class --model gaussian_nb --param "var_smoothing=$vs" \
        --test-size 0 --out "$W/$name.kmd" "$@" > /dev/null
    "$KILN" -q predict --model "$W/$name.kmd" --data "$data" --out "$W/$name.pred.csv" --proba
    ref_py - "$data" "$W/$name.pred.csv" "$vs" "$name" <<'PY'
import sys, numpy as np, pandas as pd
from sklearn.naive_bayes import GaussianNB
df = pd.read_csv(sys.argv[1]); y = df.pop("class").to_numpy()
w = df.pop("w").to_numpy() if "w" in df else None
nb = GaussianNB(var_smoothing=float(sys.argv[3])).fit(df.to_numpy(), y, sample_weight=w)
want = nb.predict_proba(df.to_numpy())
got = pd.read_csv(sys.argv[2])
probs = got[[f"proba_{c}" for c in nb.classes_]].to_numpy()
d = np.max(np.abs(probs - want))
same = (got["prediction"].to_numpy() == nb.predict(df.to_numpy())).all()
print(f"{sys.argv[4]:12s} max |probability - sklearn| = {d:.2g}, labels identical: {same}")
assert d <= 1e-9 and same, sys.argv[4]
PY
}
check multiclass "$DATA/wine.csv" 1e-9
check binary "$W/binary.csv" 1e-9
check smoothed "$DATA/wine.csv" 0.01
check weighted "$W/weighted.csv" 1e-9 --weight w

# discrete models: lending_club's counts and (ordinal-encoded) categories
LC="$DATA/lending_club.csv"
counts=delinq_2yrs,inq_last_6mths,acc_now_delinq,open_il_6m,open_il_12m,open_il_24m,inq_fi,inq_last_12m,num_il_tl
cats=term,sub_grade,addr_state,verification_status,emp_length
$py - "$LC" "$W/counts.csv" "$counts" <<'PY'
import sys, pandas as pd
df = pd.read_csv(sys.argv[1])
df[sys.argv[3].split(",") + ["Class"]].assign(w=1 + df.index % 4).to_csv(sys.argv[2], index=False)
PY
"$KILN" -q prep "$LC" "$W/codes.csv" --step "ordinal_encoder:columns=$cats"
$py - "$W/codes.csv" "$W/cats.csv" "$cats" <<'PY'
import sys, pandas as pd
df = pd.read_csv(sys.argv[1])
df[sys.argv[3].split(",") + ["Class"]].to_csv(sys.argv[2], index=False)
PY
discrete() { # name, data, model, sklearn estimator, kiln args...
    local name=$1 data=$2 model=$3 est=$4; shift 4
    "$KILN" -q train --data "$data" --target Class --model $model --test-size 0 --out "$W/$name.kmd" "$@" > /dev/null
    "$KILN" -q predict --model "$W/$name.kmd" --data "$data" --out "$W/$name.pred.csv" --proba
    ref_py - "$data" "$W/$name.pred.csv" "$est" "$name" <<'PY'
import sys, numpy as np, pandas as pd
from sklearn.naive_bayes import MultinomialNB, BernoulliNB, CategoricalNB
data, pred, est, name = sys.argv[1:]
df = pd.read_csv(data); y = df.pop("Class").to_numpy()
w = df.pop("w").to_numpy() if "w" in df else None
if "weighted" not in name: w = None
nb = eval(est).fit(df.to_numpy(), y, sample_weight=w)
want = nb.predict_proba(df.to_numpy())
got = pd.read_csv(pred)
probs = got[[f"proba_{c}" for c in nb.classes_]].to_numpy()
d = np.max(np.abs(probs - want))
same = (got["prediction"].to_numpy() == nb.predict(df.to_numpy())).all()
print(f"{name:22s} max |probability - sklearn| = {d:.2g}, labels identical: {same}")
assert d <= 1e-9 and same, name
PY
}
discrete multinomial "$W/counts.csv" multinomial_nb "MultinomialNB()" --ignore w
discrete multinomial_weighted "$W/counts.csv" multinomial_nb "MultinomialNB(alpha=0.3)" --param alpha=0.3 --weight w
discrete multinomial_flat "$W/counts.csv" multinomial_nb "MultinomialNB(fit_prior=False)" --param fit_prior=false --ignore w
discrete bernoulli "$W/counts.csv" bernoulli_nb "BernoulliNB()" --ignore w
discrete bernoulli_b1 "$W/counts.csv" bernoulli_nb "BernoulliNB(binarize=1, alpha=0.5)" --param binarize=1 --param alpha=0.5 --ignore w
discrete bernoulli_weighted "$W/counts.csv" bernoulli_nb "BernoulliNB()" --weight w
discrete categorical "$W/cats.csv" categorical_nb "CategoricalNB()"
discrete categorical_a "$W/cats.csv" categorical_nb "CategoricalNB(alpha=0.1)" --param alpha=0.1

printf 'a,b,Class\n1,-2,x\n0,1,y\n2,0,x\n' > "$W/neg.csv"
rc=0; "$KILN" train --data "$W/neg.csv" --target Class --model multinomial_nb --test-size 0 --out "$W/x.kmd" 2> "$W/err" || rc=$?
[ $rc = 1 ] && grep -q "feature 'b', row 1 is -2; counts must be >= 0" "$W/err" || fail "negative count: $(cat "$W/err")"
rc=0; "$KILN" train --data "$W/neg.csv" --target Class --model categorical_nb --test-size 0 --out "$W/x.kmd" 2> "$W/err" || rc=$?
[ $rc = 1 ] && grep -q "categories must be codes 0, 1, 2" "$W/err" || fail "negative code: $(cat "$W/err")"
echo "naive Bayes: all passed"
