#!/bin/bash
# Parity of kiln's categorical encoders with scikit-learn's OneHotEncoder and
# OrdinalEncoder on real data (lending_club.csv: term, sub_grade, addr_state,
# verification_status, emp_length), with every 11th category cell blanked so
# missing values take part. (Unknown levels at transform time: unit tests.)
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
require_sklearn
COLS=term,sub_grade,addr_state,verification_status,emp_length

$py - "$DATA/lending_club.csv" "$W/cats.csv" "$COLS" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
keep = sys.argv[3].split(",")
idx = [rows[0].index(c) for c in keep]
out = csv.writer(open(sys.argv[2], "w", newline=""))
out.writerow(keep)
k = 0
for r in rows[1:]:
    v = [r[i] for i in idx]
    for j in range(len(v)):
        k += 1
        if k % 11 == 0: v[j] = ""
    out.writerow(v)
PY

"$KILN" -q prep "$W/cats.csv" "$W/onehot.csv" --step onehot_encoder
"$KILN" -q prep "$W/cats.csv" "$W/ordinal.csv" --step ordinal_encoder
$py - "$W/cats.csv" "$W/onehot.csv" "$W/ordinal.csv" <<'PY'
import csv, sys, numpy as np
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
rows = list(csv.reader(open(sys.argv[1])))
X = np.array([[v if v != "" else np.nan for v in r] for r in rows[1:]], dtype=object)
oh = OneHotEncoder(sparse_output=False).fit(X)
want = oh.transform(X)
got_rows = list(csv.reader(open(sys.argv[2])))
names = [str(n) for n in oh.get_feature_names_out(rows[0])]
assert got_rows[0] == names, (got_rows[0][:8], names[:8])
got = np.array(got_rows[1:], dtype=float)
assert got.shape == want.shape and np.array_equal(got, want), "one-hot differs"
print(f"onehot_encoder   {got.shape[1]} columns, identical to OneHotEncoder")
od = OrdinalEncoder().fit(X)
want = od.transform(X)
got = np.genfromtxt(sys.argv[3], delimiter=",", skip_header=1)
assert np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(np.nan_to_num(got), np.nan_to_num(want)), "ordinal differs"
print("ordinal_encoder  identical to OrdinalEncoder")
PY

# rare levels folded into one column (sklearn's min_frequency with
# handle_unknown=infrequent_if_exist), as a count and as a share of the rows;
# unknown levels at transform go to the infrequent column; the compact form
# writes the same columns.
for mf in 40 0.01; do
    "$KILN" -q prep "$W/cats.csv" "$W/rare.csv" --step "onehot_encoder:min_frequency=$mf;handle_unknown=ignore" --save "$W/rare.kst"
    "$KILN" -q prep "$W/cats.csv" "$W/rare_compact.csv" --step "onehot_encoder:min_frequency=$mf;handle_unknown=ignore;compact=compact"
    cmp -s "$W/rare.csv" "$W/rare_compact.csv" || { echo "FAIL: compact rare one-hot differs" >&2; exit 1; }
    head -1 "$W/cats.csv" > "$W/new.csv"
    sed -n '2,40p' "$W/cats.csv" | awk -F, 'BEGIN{OFS=","} NR%3==0{$1="never_seen"} {print}' >> "$W/new.csv"
    "$KILN" -q transform "$W/rare.kst" "$W/new.csv" "$W/rare_new.csv"
    $py - "$W/cats.csv" "$W/rare.csv" "$W/new.csv" "$W/rare_new.csv" "$mf" <<'PY'
import csv, sys, numpy as np
from sklearn.preprocessing import OneHotEncoder
def load(path):
    rows = list(csv.reader(open(path)))
    return rows[0], np.array([[v if v != "" else np.nan for v in r] for r in rows[1:]], dtype=object)
head, X = load(sys.argv[1])
mf = float(sys.argv[5]); mf = int(mf) if mf >= 1 else mf
oh = OneHotEncoder(sparse_output=False, min_frequency=mf, handle_unknown="infrequent_if_exist").fit(X)
for data, out in ((X, sys.argv[2]), (load(sys.argv[3])[1], sys.argv[4])):
    want = oh.transform(data)
    got = np.genfromtxt(out, delimiter=",", skip_header=1)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert np.array_equal(got, want), "min_frequency one-hot differs"
print(f"onehot min_frequency={sys.argv[5]}: {want.shape[1]} columns, identical to OneHotEncoder (also on unseen levels)")
PY
done
# drop=first|if_binary as sklearn's OneHotEncoder(drop=...): names and values,
# with missing values (a trailing nan level), with rare levels folded, and on
# new data with unseen levels (all zeros with handle_unknown=ignore); the
# compact form keeps every level, so it is refused with drop.
for drop in first if_binary; do
    for mf in 0 40; do
        "$KILN" -q prep "$W/cats.csv" "$W/drop.csv" --step "onehot_encoder:drop=$drop;min_frequency=$mf;handle_unknown=ignore" --save "$W/drop.kst"
        "$KILN" -q transform "$W/drop.kst" "$W/new.csv" "$W/drop_new.csv"
        $py - "$W/cats.csv" "$W/drop.csv" "$W/new.csv" "$W/drop_new.csv" "$drop" "$mf" <<'PY'
import csv, sys, warnings, numpy as np
from sklearn.preprocessing import OneHotEncoder
warnings.simplefilter("ignore")  # sklearn warns that unknown levels encode like the dropped one
def load(path):
    rows = list(csv.reader(open(path)))
    return rows[0], np.array([[v if v != "" else np.nan for v in r] for r in rows[1:]], dtype=object)
head, X = load(sys.argv[1])
drop, mf = sys.argv[5], int(sys.argv[6])
kw = dict(min_frequency=mf, handle_unknown="infrequent_if_exist") if mf else dict(handle_unknown="ignore")
oh = OneHotEncoder(sparse_output=False, drop=drop, **kw).fit(X)
names = [str(n).replace("_infrequent_sklearn", "_infrequent") for n in oh.get_feature_names_out(head)]  # kiln: <column>_infrequent
for data, out in ((X, sys.argv[2]), (load(sys.argv[3])[1], sys.argv[4])):
    got_rows = list(csv.reader(open(out)))
    assert got_rows[0] == names, (drop, mf, got_rows[0], names)
    want = oh.transform(data)
    got = np.array(got_rows[1:], dtype=float)
    assert got.shape == want.shape and np.array_equal(got, want), f"drop={drop} one-hot differs"
print(f"onehot drop={drop} min_frequency={mf}: {len(names)} columns, identical to OneHotEncoder (also on unseen levels)")
PY
    done
done
expect "drop=first goes with compact=dense" 1 "$KILN" prep "$W/cats.csv" "$W/x.csv" --step "onehot_encoder:drop=first;compact=compact"

# with drop=first a GLM of one-hot columns has standard errors (the full set
# is collinear with the intercept: the warning says so and names drop=first);
# its table matches statsmodels' OLS with the same baseline levels
$py - "$DATA/lending_club.csv" "$W/glm.csv" <<'PY'
import sys, pandas as pd
d = pd.read_csv(sys.argv[1])
d[["int_rate", "term", "verification_status", "annual_inc"]].dropna().to_csv(sys.argv[2], index=False)
PY
"$KILN" -q prep "$W/glm.csv" "$W/glm_full.csv" --step onehot_encoder
"$KILN" train --data "$W/glm_full.csv" --target int_rate --model glm --test-size 0 --out "$W/g.kmd" > /dev/null 2> "$W/err"
grep -q "encode with 'onehot_encoder:drop=first'" "$W/err" || fail "singular GLM: $(cat "$W/err")"
"$KILN" -q prep "$W/glm.csv" "$W/glm_drop.csv" --step "onehot_encoder:drop=first"
"$KILN" -q --json train --data "$W/glm_drop.csv" --target int_rate --model glm --test-size 0 --out "$W/g.kmd" > "$W/glm.json"
$py - "$W/glm_drop.csv" "$W/glm.json" <<'PY'
import sys, json, pandas as pd, statsmodels.api as sm
d = pd.read_csv(sys.argv[1]); y = d.pop("int_rate")
ref = sm.OLS(y, sm.add_constant(d)).fit()
table = {r["term"]: r for r in json.load(open(sys.argv[2]))["summary"]["table"]}
for name in d.columns:
    got = table[name]
    assert got["std_error"] is not None, name
    assert abs(got["coef"] - ref.params[name]) <= 1e-6 * max(1, abs(ref.params[name])), name
    assert abs(got["std_error"] - ref.bse[name]) <= 1e-6 * ref.bse[name], (name, got["std_error"], ref.bse[name])
print(f"glm on drop=first one-hot columns: {len(d.columns)} coefficients and standard errors match statsmodels OLS within 1e-6")
PY
# feature hashing: FeatureHasher(input_type="string") fed "<column>=<value>"
# per non-missing cell (and the bare values with with_names=false)
for names in true false; do
    "$KILN" -q prep "$W/cats.csv" "$W/hash.csv" --step "hashing_encoder:n_features=32;with_names=$names"
    $py - "$W/cats.csv" "$W/hash.csv" "$names" <<'PY'
import csv, sys, numpy as np
from sklearn.feature_extraction import FeatureHasher
rows = list(csv.reader(open(sys.argv[1])))
head = rows[0]
with_names = sys.argv[3] == "true"
samples = [[(f"{h}={v}" if with_names else v) for h, v in zip(head, r) if v != ""] for r in rows[1:]]
want = FeatureHasher(n_features=32, input_type="string").transform(samples).toarray()
got = np.genfromtxt(sys.argv[2], delimiter=",", skip_header=1)
assert got.shape == want.shape and np.array_equal(got, want), "hashing differs"
print(f"hashing_encoder with_names={sys.argv[3]}: identical to FeatureHasher")
PY
done
echo "11 passed, 0 failed"
