#!/usr/bin/env bash
# Dedupe by keys and the frame sort on 78,856 rows (lending_club from
# tests/data, 8 times, as ../shared/data has it), enough for the parallel
# paths (radix passes on the team, word building, row gathers): dedupe
# against pandas' drop_duplicates(keep="first"/"last") with missing cells
# in categorical, whole and fractional numeric, int64 beyond 2^53, time and
# free-text (ARFF string) keys, over keys that span little (a direct index) and keys that
# do not (hashed); the sort against sort_values(kind="stable"); the same
# bytes at 1 and 2 threads.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$W"

$py - "$KILN_TEST_DATA/lending_club.csv" <<'PY'
import sys, numpy as np, pandas as pd
one = pd.read_csv(sys.argv[1])
lc = pd.concat([one] * 8, ignore_index=True)
n = len(lc)
lc.insert(0, "row", np.arange(n))
i = lc.index
lc.loc[i % 50 == 7, "addr_state"] = np.nan           # categorical
lc.loc[i % 40 == 3, "int_rate"] = np.nan             # fractional numbers
lc.loc[i % 30 == 11, "inq_last_6mths"] = np.nan      # whole numbers
lc["big"] = pd.array(2**60 + (i * 7919 % 613), dtype="Int64")  # int64 beyond 2^53
lc.loc[i % 45 == 2, "big"] = pd.NA
lc["day"] = (pd.Timestamp("2020-01-01") + pd.to_timedelta(i * 31 % 397, unit="D")).strftime("%Y-%m-%d")
lc.loc[i % 35 == 4, "day"] = np.nan
lc["note"] = ["n%d" % (r * 7919 % 20011) for r in range(n)]
lc.loc[i % 25 == 9, "note"] = np.nan
lc["tag"] = ["t%d" % (r * 7919 % 70001) for r in range(n)]  # nearly all distinct at first
lc.to_csv("lc.csv", index=False)
# free text (string columns) in ARFF
with open("lc.arff", "w") as f:
    f.write("@relation lc\n@attribute row numeric\n@attribute note string\n@attribute tag string\n"
            "@attribute addr_state string\n@attribute funded_amnt numeric\n@data\n")
    for r in lc[["row", "note", "tag", "addr_state", "funded_amnt"]].itertuples(index=False):
        f.write(",".join("?" if pd.isna(v) else str(v) for v in r) + "\n")
PY

# name | dedupe keys | keep | file
cases="a|addr_state|first|csv
b|addr_state,term,inq_last_6mths|last|csv
c|int_rate|first|csv
d|big|last|csv
e|day,addr_state|first|csv
f|funded_amnt,int_rate,annual_inc|last|csv
g|note|first|arff
h|note,addr_state|last|arff
j|tag|first|arff
k|tag|last|arff
i|sub_grade,funded_amnt,int_rate,annual_inc,revol_util,emp_length,term,verification_status|first|csv"
while IFS='|' read -r name keys keep file; do
    printf 'sources:\n  lc: {file: lc.%s}\nframe:\n  from: lc\ndedupe: {keys: [%s], keep: %s}\noutput: d_%s.csv\n' \
        "$file" "$keys" "$keep" "$name" > d_$name.yaml
    for t in 1 2; do
        "$KILN" --threads $t -q prep d_$name.yaml > /dev/null || fail "dedupe $name at $t threads"
        cp d_$name.csv d_${name}_$t.csv
    done
    cmp d_${name}_1.csv d_${name}_2.csv || fail "dedupe $name differs between 1 and 2 threads"
done <<< "$cases"

printf 'sources:\n  lc: {file: lc.csv}\nframe:\n  from: lc\n  sort: {by: [int_rate, big, day, addr_state], descending: [big], nulls: first}\noutput: s.csv\n' > s.yaml
for t in 1 2; do
    "$KILN" --threads $t -q prep s.yaml > /dev/null || fail "sort at $t threads"
    cp s.csv s_$t.csv
done
cmp s_1.csv s_2.csv || fail "sort differs between 1 and 2 threads"

# free-text keys group and join by codes: a text key against a categorical one
$py - <<'PY'
import pandas as pd
lc = pd.read_csv("lc.csv")
states = list(dict.fromkeys(lc["addr_state"].dropna()))[:-4]  # 4 states find no match
pd.DataFrame({"addr_state": states, "pop": [1.5 * k for k in range(len(states))]}).to_csv("st.csv", index=False)
PY
cat > gj.yaml <<'YAML'
sources:
  lc: {file: lc.arff}
  st: {file: st.csv}
  g:
    group: lc
    by: [note]
    aggregate: {n: count, m: mean funded_amnt}
frame:
  from: lc
  join:
    - {with: st, on: [addr_state], how: left}
    - {with: g, on: [note], how: inner}
output: gj.csv
YAML
for t in 1 2; do
    "$KILN" --threads $t -q prep gj.yaml > /dev/null || fail "text-key group-by and join at $t threads"
    cp gj.csv gj_$t.csv
done
cmp gj_1.csv gj_2.csv || fail "text-key group-by and join differ between 1 and 2 threads"

# (the sanitizer build leaves the comparison with pandas to the release build)
ref_py - "$cases" <<'PY' || fail "dedupe, sort or text-key group-by and join differ from pandas"
import sys, pandas as pd
lc = pd.read_csv("lc.csv", dtype={"big": str})  # exact (pandas reads Int64 through doubles)
for line in sys.argv[1].splitlines():
    name, keys, keep, _ = line.split("|")
    want = lc.drop_duplicates(subset=keys.split(","), keep=keep)
    got = pd.read_csv(f"d_{name}.csv")
    assert len(got) > 1 and len(got) < len(lc), (name, len(got))
    assert got["row"].tolist() == want["row"].tolist(), (name, len(got), len(want))
lc["big"] = pd.Series([int(b) if isinstance(b, str) else None for b in lc["big"]], dtype=object)
by = ["int_rate", "big", "day", "addr_state"]
want = lc.sort_values(by, ascending=[c != "big" for c in by], kind="stable", na_position="first")
got = pd.read_csv("s.csv")
assert got["row"].tolist() == want["row"].tolist(), ("sort", got["row"].head(8).tolist(), want["row"].head(8).tolist())
lc = pd.read_csv("lc.csv")
g = lc.groupby("note", sort=False).agg(n=("row", "size"), m=("funded_amnt", "mean")).reset_index()
want = lc[["row", "addr_state", "note"]].merge(pd.read_csv("st.csv"), on="addr_state", how="left")
want = want.merge(g, on="note", how="left")  # pandas' inner merge reorders rows
want = want[want["note"].notna()].reset_index(drop=True)  # every present note has a group
got = pd.read_csv("gj.csv")
assert got["row"].tolist() == want["row"].tolist(), ("text join", len(got), len(want))
for c in ("pop", "n", "m"):
    assert ((got[c] - want[c]).abs().fillna(0) <= 1e-9 * want[c].abs().fillna(0).clip(lower=1)).all(), c
    assert (got[c].isna() == want[c].isna()).all(), c
PY
echo ok
