#!/usr/bin/env bash
# Prep specs' group-by and joins against pandas on lending_club (tests/data,
# from ../shared/data): every aggregate over one and two keys, the inner,
# left, semi and anti joins with missing, duplicated and absent keys, the
# integer 7 meeting the text "7", empty inputs, the row limit of exploding
# joins, and the same output bytes at 1 and 2 threads.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$W"

$py - "$KILN_TEST_DATA/lending_club.csv" <<'PY'
import sys, numpy as np, pandas as pd
lc = pd.read_csv(sys.argv[1])
lc.insert(0, "row", np.arange(len(lc)))
lc.loc[lc.index % 50 == 7, "addr_state"] = np.nan      # missing keys
lc.loc[lc.index % 40 == 3, "revol_util"] = np.nan      # missing values
lc.to_csv("lc.csv", index=False)
states = list(dict.fromkeys(lc["addr_state"].dropna()))
keep = states[:-5]                                     # 5 states find no match
right = pd.DataFrame({"state": keep + [keep[0], "ZZ", np.nan],  # a repeated key, an unused one, a missing one
                      "pop": np.arange(len(keep) + 3) * 1.5})
right.to_csv("states.csv", index=False)
PY

cat > group.yaml <<'YAML'
sources:
  lc: {file: lc.csv}
  g:
    group: lc
    by: [addr_state]
    aggregate: {n: count, n_util: count revol_util, s: sum funded_amnt, m: mean int_rate,
                lo: min annual_inc, hi: max annual_inc, sd: std revol_util, nu: nunique sub_grade,
                f: first int_rate, l: last int_rate by funded_amnt, fb: first int_rate by funded_amnt}
  g2:
    group: lc
    by: [addr_state, term]
    aggregate: {n: count, m: mean revol_util, sd: std int_rate}
frame:
  from: g
  join:
    - {with: g2, on: [addr_state], how: left}
output: grouped.csv
YAML
for t in 1 2; do
    "$KILN" --threads $t -q prep group.yaml > /dev/null || fail "group-by spec at $t threads"
    cp grouped.csv grouped_$t.csv
done
cmp grouped_1.csv grouped_2.csv || fail "group-by output differs between 1 and 2 threads"

$py - <<'PY' || fail "group-by differs from pandas"
import numpy as np, pandas as pd
lc = pd.read_csv("lc.csv")
g = lc.groupby("addr_state", sort=False)
def by_order(grp, col, order, last):
    s = grp.dropna(subset=[col]).sort_values(order, kind="stable")
    return s[col].iloc[-1] if last else s[col].iloc[0]
want = pd.DataFrame({
    "n": g.size(), "n_util": g["revol_util"].count(), "s": g["funded_amnt"].sum(),
    "m": g["int_rate"].mean(), "lo": g["annual_inc"].min(), "hi": g["annual_inc"].max(),
    "sd": g["revol_util"].std(), "nu": g["sub_grade"].nunique(), "f": g["int_rate"].first(),
    "l": g.apply(lambda d: by_order(d, "int_rate", "funded_amnt", True)),
    "fb": g.apply(lambda d: by_order(d, "int_rate", "funded_amnt", False))}).reset_index()
g2 = lc.groupby(["addr_state", "term"], sort=False)
want2 = pd.DataFrame({"n": g2.size(), "m": g2["revol_util"].mean(),
                      "sd": g2["int_rate"].std()}).reset_index()
want = want.merge(want2, on="addr_state", how="left", suffixes=("", "_right"))
got = pd.read_csv("grouped.csv")
assert list(got.columns) == list(want.columns), (list(got.columns), list(want.columns))
assert len(got) == len(want), (len(got), len(want))
for c in want.columns:
    if want[c].dtype == object:
        assert (got[c].fillna("") == want[c].fillna("")).all(), c
    else:
        assert np.allclose(got[c], want[c], rtol=1e-12, atol=0, equal_nan=True), c
PY

for how in inner left semi anti; do
    cat > join_$how.yaml <<YAML
sources:
  lc: {file: lc.csv}
  st: {file: states.csv}
frame:
  from: lc
  join:
    - {with: st, on: [addr_state], right_on: [state], how: $how}
output: joined_$how.csv
YAML
    for t in 1 2; do
        "$KILN" --threads $t -q --json prep join_$how.yaml > report_$how.json ||
            fail "$how join at $t threads"
        cp joined_$how.csv joined_${how}_$t.csv
    done
    cmp joined_${how}_1.csv joined_${how}_2.csv || fail "$how join differs between 1 and 2 threads"
done

$py - <<'PY' || fail "joins differ from pandas"
import json, numpy as np, pandas as pd
lc = pd.read_csv("lc.csv")
st = pd.read_csv("states.csv").dropna(subset=["state"])  # a missing key never matches
hit = lc["addr_state"].isin(st["state"])
want = {
    "inner": lc.merge(st, left_on="addr_state", right_on="state", how="inner").drop(columns="state"),
    "left": lc.merge(st, left_on="addr_state", right_on="state", how="left").drop(columns="state"),
    "semi": lc[hit], "anti": lc[~hit]}
for how, w in want.items():
    got = pd.read_csv(f"joined_{how}.csv")
    if how == "inner":  # this pandas groups an inner join's rows by key: compare in left order
        w = w.sort_values(["row", "pop"], kind="stable")
    w = w.reset_index(drop=True)
    assert list(got.columns) == list(w.columns), (how, list(got.columns))
    assert len(got) == len(w), (how, len(got), len(w))
    for c in w.columns:
        if w[c].dtype == object:
            assert (got[c].fillna("") == w[c].fillna("")).all(), (how, c)
        else:
            assert np.allclose(got[c], w[c], rtol=0, atol=0, equal_nan=True), (how, c)
    rep = json.load(open(f"report_{how}.json"))["joins"][0]
    assert rep["left_unmatched"] == int((~hit).sum()), (how, rep)
    assert rep["right_unmatched"] == 2, (how, rep)  # "ZZ" and the missing key
    assert len(rep["unmatched_examples"]) == 5, (how, rep)
    assert rep["out_rows"] == len(w), (how, rep)
PY

# the integer 7 meets the text "7" (and "7.0"), whichever side is which
printf 'k,v\na,1\n7,2\n7.0,3\n,4\n' > text_keys.csv
printf 'k,w\n7,10\n8,20\n' > int_keys.csv
printf 'k,w\n' > empty.csv
cat > mixed.yaml <<'YAML'
sources:
  t: {file: text_keys.csv}
  i: {file: int_keys.csv}
frame:
  from: t
  join:
    - {with: i, on: [k], how: left}
output: mixed.csv
YAML
"$KILN" -q prep mixed.yaml > /dev/null || fail "join of text and integer keys"
[ "$(cat mixed.csv)" = "$(printf 'k,v,w\na,1,\n7,2,10\n7.0,3,10\n,4,')" ] ||
    fail "text '7' should meet integer 7: $(cat mixed.csv)"

# empty inputs: an empty right side leaves left rows unmatched; an empty
# left side gives no rows; grouping nothing gives no groups
sed -e 's/int_keys.csv/empty.csv/' mixed.yaml > empty_right.yaml
"$KILN" -q prep empty_right.yaml > /dev/null || fail "join with an empty right side"
[ "$(cat mixed.csv)" = "$(printf 'k,v,w\na,1,\n7,2,\n7.0,3,\n,4,')" ] ||
    fail "empty right side: $(cat mixed.csv)"
cat > empty_left.yaml <<'YAML'
sources:
  e: {file: empty.csv}
  i: {file: int_keys.csv}
  g: {group: e, by: [k], aggregate: {n: count, s: sum w}}
frame:
  from: e
  join:
    - {with: i, on: [k], how: inner}
    - {with: g, on: [k], how: anti}
output: empty_out.csv
YAML
"$KILN" -q prep empty_left.yaml > /dev/null || fail "join and group-by of an empty left side"
[ "$(cat empty_out.csv)" = "k,w,w_right" ] || fail "empty left side: $(cat empty_out.csv)"

# a join that would explode (one key on 9,857 x 1,100 rows) stops with the sizes
$py -c '
import pandas as pd
pd.DataFrame({"k": [1] * 1100, "z": range(1100)}).to_csv("many.csv", index=False)
pd.read_csv("lc.csv").assign(k=1).to_csv("lc1.csv", index=False)'
cat > explode.yaml <<'YAML'
sources:
  l: {file: lc1.csv}
  m: {file: many.csv}
frame:
  from: l
  join:
    - {with: m, on: [k], how: inner}
output: never.csv
YAML
expect "9857 x 1100 rows would give 10842700 rows, past the limit" 1 "$KILN" -q prep explode.yaml
[ ! -e never.csv ] || fail "an exploding join wrote output"
echo ok
