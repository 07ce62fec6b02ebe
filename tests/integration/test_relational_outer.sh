#!/usr/bin/env bash
# Right and full outer joins in prep specs against pandas' merge(how="right")
# and merge(how="outer") on lending_club (tests/data, from ../shared/data):
# missing keys (never matching, as in SQL), a repeated right key, keys found
# on one side only, the integer 7 meeting the text "7", empty inputs, the
# unmatched-keys report, and the same output bytes at 1 and 2 threads.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$W"

$py - "$KILN_TEST_DATA/lending_club.csv" <<'PY'
import sys, numpy as np, pandas as pd
lc = pd.read_csv(sys.argv[1])
lc.insert(0, "row", np.arange(len(lc)))
lc.loc[lc.index % 50 == 7, "addr_state"] = np.nan      # missing keys
lc.to_csv("lc.csv", index=False)
states = list(dict.fromkeys(lc["addr_state"].dropna()))
keep = states[:-5]                                     # 5 states find no match
right = pd.DataFrame({"state": keep + [keep[0], "ZZ", np.nan, "YY"],  # repeated, unused, missing
                      "pop": np.arange(len(keep) + 4) * 1.5})
right.to_csv("states.csv", index=False)
PY

for how in right full; do
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

$py - <<'PY' || fail "right and full joins differ from pandas"
import json, numpy as np, pandas as pd
lc = pd.read_csv("lc.csv")
st = pd.read_csv("states.csv")
# pandas matches missing keys with each other; Kiln never does, so pandas
# joins the rows with a key and the right rows without one come unmatched
st_key = st.dropna(subset=["state"])
def keyed(m):  # Kiln keeps one key column: right's key where no left row pairs
    m["addr_state"] = m["addr_state"].where(m["row"].notna(), m["state"])
    return m.drop(columns="state")
st_nokey = st[st["state"].isna()]
# right: right order, each right row once per left match in left order
right = keyed(pd.concat([lc.merge(st_key, left_on="addr_state", right_on="state", how="right"),
                         st_nokey.assign(addr_state=np.nan)]).sort_values("pop", kind="stable"))
# full: the left join's rows in left order, then right rows no left row matched
outer = keyed(pd.concat([lc.merge(st_key, left_on="addr_state", right_on="state", how="outer"),
                         st_nokey]))
unmatched_right = ~st["state"].isin(lc["addr_state"].dropna())
full = keyed(pd.concat([lc.merge(st_key, left_on="addr_state", right_on="state", how="left"),
                        st[unmatched_right]]))
def canon(d):
    return d.sort_values(["row", "pop"], kind="stable", na_position="last").reset_index(drop=True)
assert canon(full).fillna(-1).equals(canon(outer).fillna(-1)), "full join rows differ from pandas outer"
for how, w in {"right": right, "full": full}.items():
    got = pd.read_csv(f"joined_{how}.csv")
    w = w[list(lc.columns) + ["pop"]].reset_index(drop=True)
    assert list(got.columns) == list(w.columns), (how, list(got.columns))
    assert len(got) == len(w), (how, len(got), len(w))
    for c in w.columns:
        if w[c].dtype == object:
            assert (got[c].fillna("") == w[c].fillna("")).all(), (how, c)
        else:
            assert np.allclose(got[c], w[c], rtol=0, atol=0, equal_nan=True), (how, c)
    rep = json.load(open(f"report_{how}.json"))["joins"][0]
    hit = lc["addr_state"].isin(st_key["state"])
    assert rep["left_unmatched"] == int((~hit).sum()), (how, rep)
    assert rep["right_unmatched"] == int(unmatched_right.sum()) == 3, (how, rep)  # ZZ, YY, missing
    want_ex = list(lc.loc[~hit, "addr_state"].dropna())[:5]  # unmatched left keys
    assert rep["unmatched_examples"] == want_ex, (how, rep["unmatched_examples"], want_ex)
    assert rep["out_rows"] == len(w), (how, rep)
PY

# the integer 7 meets the text "7" (and "7.0"), whichever side is which; a
# right-only key keeps its value, as text where the key types differ
printf 'k,v\na,1\n7,2\n7.0,3\n,4\n' > text_keys.csv
printf 'k,w\n7,10\n8,20\n,30\n' > int_keys.csv
printf 'k,w\n' > empty.csv
join_spec() { # left right how output
    printf 'sources:\n  l: {file: %s}\n  r: {file: %s}\nframe:\n  from: l\n  join:\n    - {with: r, on: [k], how: %s}\noutput: %s\n' \
        "$1" "$2" "$3" "$4"
}
check() { # left right how want
    join_spec "$1" "$2" "$3" out.csv > j.yaml
    "$KILN" -q prep j.yaml > /dev/null 2>&1 || fail "$3 join of $1 and $2"
    [ "$(cat out.csv)" = "$(printf "$4")" ] || fail "$3 join of $1 and $2: $(cat out.csv)"
}
check text_keys.csv int_keys.csv right 'k,v,w\n7,2,10\n7.0,3,10\n8,,20\n,,30'
check text_keys.csv int_keys.csv full 'k,v,w\na,1,\n7,2,10\n7.0,3,10\n,4,\n8,,20\n,,30'
check int_keys.csv text_keys.csv right 'k,w,v\na,,1\n7,10,2\n7,10,3\n,,4'
check int_keys.csv text_keys.csv full 'k,w,v\n7,10,2\n7,10,3\n8,20,\n,30,\na,,1\n,,4'
# empty inputs: the other side's rows, unmatched
check empty.csv int_keys.csv right 'k,w,w_right\n7,,10\n8,,20\n,,30'
check empty.csv int_keys.csv full 'k,w,w_right\n7,,10\n8,,20\n,,30'
check int_keys.csv empty.csv right 'k,w,w_right'
check int_keys.csv empty.csv full 'k,w,w_right\n7,10,\n8,20,\n,30,'
join_spec text_keys.csv int_keys.csv outer out.csv > outer.yaml
expect "how 'outer' is not inner, left, right, full, semi or anti" 1 "$KILN" -q prep outer.yaml
echo ok
