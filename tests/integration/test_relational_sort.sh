#!/usr/bin/env bash
# The prep spec's frame sort (stable, several keys, some descending, missing
# cells first or last) against pandas' sort_values(kind="stable",
# na_position=...), and dedupe by keys after it against drop_duplicates(
# keep="first"/"last"), on lending_club (tests/data, from ../shared/data) with
# missing cells in categorical, numeric and text keys; the same bytes at 1
# and 2 threads.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$W"

$py - "$KILN_TEST_DATA/lending_club.csv" <<'PY'
import sys, numpy as np, pandas as pd
lc = pd.read_csv(sys.argv[1])
lc.insert(0, "row", np.arange(len(lc)))
lc["note"] = ["n%d" % (r * 7919 % 100003) for r in range(len(lc))]  # free text
lc.loc[lc.index % 50 == 7, "addr_state"] = np.nan
lc.loc[lc.index % 40 == 3, "revol_util"] = np.nan
lc.loc[lc.index % 30 == 11, "note"] = np.nan
lc.loc[lc.index % 20 == 5, "annual_inc"] = np.nan
lc.to_csv("lc.csv", index=False)
lc.to_json("lc.jsonl", orient="records", lines=True)  # its text is free text (string columns)
PY

# name | by | descending | nulls | dedupe keys | keep | file
cases="a|addr_state,revol_util|revol_util|last|||csv
b|sub_grade,annual_inc,note|sub_grade|first|||csv
c|note|note|last|||csv
d|term,addr_state,int_rate|int_rate|first|term,addr_state|first|csv
e|addr_state,funded_amnt||last|addr_state|last|csv
f|addr_state,note,int_rate|note|first|||jsonl
g|note,row||last|note|last|jsonl"
while IFS='|' read -r name by desc nulls dkeys keep file; do
    {
        printf 'sources:\n  lc: {file: lc.%s}\nframe:\n  from: lc\n' "$file"
        printf '  sort: {by: [%s], descending: [%s], nulls: %s}\n' "$by" "$desc" "$nulls"
        [ -z "$dkeys" ] || printf 'dedupe: {keys: [%s], keep: %s}\n' "$dkeys" "$keep"
        printf 'output: sorted_%s.csv\n' "$name"
    } > sort_$name.yaml
    for t in 1 2; do
        "$KILN" --threads $t -q prep sort_$name.yaml > /dev/null || fail "sort $name at $t threads"
        cp sorted_$name.csv sorted_${name}_$t.csv
    done
    cmp sorted_${name}_1.csv sorted_${name}_2.csv || fail "sort $name differs between 1 and 2 threads"
done <<< "$cases"

$py - "$cases" <<'PY' || fail "sort or dedupe differs from pandas"
import sys, numpy as np, pandas as pd
lc = pd.read_csv("lc.csv")
for line in sys.argv[1].splitlines():
    name, by, desc, nulls, dkeys, keep, _ = line.split("|")
    by = by.split(","); desc = set(filter(None, desc.split(",")))
    w = lc.sort_values(by, ascending=[c not in desc for c in by], kind="stable", na_position=nulls)
    if dkeys:
        w = w.drop_duplicates(subset=dkeys.split(","), keep=keep)
    w = w.reset_index(drop=True)
    got = pd.read_csv(f"sorted_{name}.csv")
    assert list(got.columns) == list(w.columns), (name, list(got.columns))
    assert len(got) == len(w), (name, len(got), len(w))
    assert (got["row"] == w["row"]).all(), (name, "row order", got["row"].head(10).tolist(), w["row"].head(10).tolist())
PY

printf 'sources:\n  lc: {file: lc.csv}\nframe:\n  from: lc\n  sort: {by: [int_rate], descending: [term]}\noutput: x.csv\n' > bad.yaml
expect "descending names 'term', which is not in by" 1 "$KILN" -q prep bad.yaml
printf 'sources:\n  lc: {file: lc.csv}\nframe:\n  from: lc\n  sort: {by: [nope]}\noutput: x.csv\n' > bad2.yaml
expect "sort: no column 'nope'" 1 "$KILN" -q prep bad2.yaml
echo ok
