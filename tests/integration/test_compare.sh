#!/bin/bash
# Do the rows a score is measured on look like the rows the model was
# fitted on? kiln compare, column by column, against scipy on real data
# (cps1985): the KS distance equal to scipy's ks_2samp, its asymptotic
# p-value within 3 % of scipy's (method="asymp"; 10 % below 0.001, where
# Stephens' approximation and scipy's finite-n one part), the chi-square statistic
# and p-value of each categorical column within 1e-9 of
# chi2_contingency(correction=False). Two random halves are not flagged; a
# planted shift (wages x 1.5, a third of the rows moved to one region) flags
# exactly those two columns, exit 1. kiln run states the same for its test
# rows: a random hold-out looks like the training rows, a time cut does not.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
require_sklearn
SRC=${KILN_SHARED_DATA:-$(dirname "$0")/../../../shared/data}
CPS="$(dirname "$0")/../data/cps1985.csv"
[ -f "$CPS" ] || CPS="$SRC/cps1985.csv"
$py - "$CPS" "$W" <<'PY'
import sys, numpy as np, pandas as pd
d = pd.read_csv(sys.argv[1]); w = sys.argv[2]
idx = np.random.RandomState(0).permutation(len(d))
d.iloc[idx[:300]].to_csv(f"{w}/ref.csv", index=False)
d.iloc[idx[300:]].to_csv(f"{w}/cur.csv", index=False)
s = d.iloc[idx[300:]].copy()
s["wage"] = s["wage"] * 1.5
s.loc[s.index[:80], "region"] = "south"
s.to_csv(f"{w}/shift.csv", index=False)
t = d.iloc[idx[300:]].copy()
t["wage"] = np.where(t["wage"] > 8, "high", "low")
t.to_csv(f"{w}/text_wage.csv", index=False)
PY
"$KILN" -q --json compare --reference "$W/ref.csv" --data "$W/cur.csv" > "$W/same.json" ||
    fail "two random halves flagged: $(cat "$W/same.json")"
rc=0
"$KILN" -q --json compare --reference "$W/ref.csv" --data "$W/shift.csv" > "$W/shift.json" || rc=$?
[ "$rc" = 1 ] || fail "a shifted file: exit $rc, wanted 1"
$py - "$W" <<'PY'
import json, sys, numpy as np, pandas as pd
from scipy import stats
w = sys.argv[1]
same = json.load(open(f"{w}/same.json")); shift = json.load(open(f"{w}/shift.json"))
assert same["columns_differing"] == 0, same
assert sorted(c["column"] for c in shift["columns"] if c["differs"]) == ["region", "wage"], shift
ref = pd.read_csv(f"{w}/ref.csv"); cur = pd.read_csv(f"{w}/shift.csv")
for c in shift["columns"]:
    a, b = ref[c["column"]], cur[c["column"]]
    if c["test"] == "ks":
        s = stats.ks_2samp(a, b, method="asymp")
        assert abs(c["statistic"] - s.statistic) < 1e-12, (c, s)
        # Stephens' asymptotic form against scipy's finite-n one
        assert abs(c["p"] - s.pvalue) <= (0.03 if s.pvalue >= 1e-3 else 0.1) * s.pvalue, (c, s)
    else:
        vals = sorted(set(a) | set(b))
        t = np.array([[(a == v).sum() for v in vals], [(b == v).sum() for v in vals]])
        st, p, dof, _ = stats.chi2_contingency(t, correction=False)
        assert abs(c["statistic"] - st) < 1e-9 * max(1, st), (c, st)
        assert abs(c["p"] - p) < 1e-9, (c, p)
        assert abs(c["effect"] - np.sqrt(st / t.sum())) < 1e-12
print("kiln compare: KS and chi-square equal scipy's; the planted shift is found")
PY
"$KILN" compare --reference "$W/ref.csv" --data "$W/shift.csv" > "$W/shift.txt" 2> /dev/null || true
grep -q "^2 of 11 columns differ" "$W/shift.txt" || fail "table: $(cat "$W/shift.txt")"
grep -q "^wage .*differs$" "$W/shift.txt" || fail "most different first: $(cat "$W/shift.txt")"
expect "column 'wage' is numeric in the reference and categorical in the other rows" 1 \
    "$KILN" compare --reference "$W/ref.csv" --data "$W/text_wage.csv"

# kiln run: a random hold-out vs a time cut on wage
cp "$CPS" "$W/cps.csv"
cat > "$W/random.yaml" << 'YAML'
sources: {d: {file: cps.csv}}
target: union
task: classification
steps: [onehot_encoder: {handle_unknown: ignore}]
model: {logistic_regression: {}}
seed: 1
YAML
sed 's/^seed: 1$/evaluation: {test: {by: wage, from: 10}}\nseed: 1/' "$W/random.yaml" > "$W/cut.yaml"
(cd "$W" && "$KILN" run random.yaml --no-store --out r.kiln > random.txt 2> /dev/null) || fail "run"
grep -q "the test rows look like the training rows (11 columns compared)" "$W/random.txt" ||
    fail "random hold-out: $(head -6 "$W/random.txt")"
(cd "$W" && "$KILN" run cut.yaml --no-store --out c.kiln > cut.txt 2> cut.err) || fail "run cut"
grep -q "columns differ between training and test rows: .*wage (D " "$W/cut.txt" ||
    fail "time cut: $(head -6 "$W/cut.txt")"
grep -q "warn: .* columns differ between the training and the test rows" "$W/cut.err" ||
    fail "no warning: $(cat "$W/cut.err")"
"$KILN" -q --json inspect "$W/c.kiln" > "$W/c.json"
$py - "$W/c.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["metrics"]["representativeness"]
assert r["columns_compared"] == 11 and "wage" in [d["column"] for d in r["differing"]], r
PY
echo ok
