#!/bin/bash
# kiln monitor check on real data (tests/data: lending_club, cps1985,
# house_votes84), every statistic against scipy within 1e-9:
# ks_2samp (default method: exact below 10,001 values a side, p-values
# relative to scipy's however small, the
# asymptotic kstwo branch above, exercised with a reference of 19,714
# rows), wasserstein_distance, chi2_contingency (Yates' correction on
# two-valued columns, missing cells a value of their own) and
# jensenshannon over the values' counts, the PSI against numpy. Two random
# parts of one file do not drift (exit 0); a 0.5 sd shift of int_rate, an
# unseen state and missing incomes are found and named (exit 1); a batch
# without the model's columns is an error naming them (exit 3).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
lc, idx = lending_club()
lc.iloc[idx[:5000]].to_csv(f"{w}/ref.csv", index=False)
lc.iloc[idx[5000:7000]].to_csv(f"{w}/cur.csv", index=False)
pd.concat([lc, lc]).to_csv(f"{w}/ref_big.csv", index=False)
s = lc.iloc[idx[7000:9000]].copy()
s["int_rate"] += 0.5 * lc["int_rate"].std()
s.loc[s.index[:300], "addr_state"] = "ZZ"
s.loc[s.index[300:500], "annual_inc"] = np.nan
s.to_csv(f"{w}/shift.csv", index=False)
s.drop(columns=["int_rate", "term"]).to_csv(f"{w}/lack.csv", index=False)
# 3 % of the rows' int_rate at the column's top: a KS p far under alpha, a
# PSI under its threshold (not drift; the table says why)
b = lc.copy()
b.loc[b.index[np.random.RandomState(0).permutation(len(b))[:len(b) * 3 // 100]], "int_rate"] = lc["int_rate"].max()
b.to_csv(f"{w}/bump.csv", index=False)
for name in ("cps1985", "house_votes84"):
    t = pd.read_csv(f"{d}/{name}.csv")
    i = np.random.RandomState(1).permutation(len(t))
    h = len(t) * 3 // 5
    t.iloc[i[:h]].to_csv(f"{w}/{name}_ref.csv", index=False)
    t.iloc[i[h:]].to_csv(f"{w}/{name}_cur.csv", index=False)
PY
"$KILN" -q train --data "$W/ref.csv" --target Class --model gbdt --param n_estimators=30 \
    --out "$W/lc.kiln" > /dev/null
"$KILN" -q train --data "$W/cps1985_ref.csv" --target wage --model gbdt --param n_estimators=10 --out "$W/cps.kiln" > /dev/null
"$KILN" -q train --data "$W/house_votes84_ref.csv" --target Class --model gbdt \
    --param n_estimators=10 --out "$W/hv.kiln" > /dev/null

check() { # model reference batch out: exit 0 or 1 (drift) are fine here
    local rc=0
    "$KILN" -q --json monitor check --model "$1" --reference "$2" --data "$3" > "$4" || rc=$?
    [ "$rc" -le 1 ] || fail "monitor check $*: exit $rc"
    echo "$rc"
}
# a bare model file (.kmd) holds no pipeline or schema: a clear error naming the fix
"$KILN" -q train --data "$W/cps1985_ref.csv" --target wage --model gbdt --param n_estimators=5 \
    --out "$W/bare.kmd" > /dev/null
expect "bare model file.*\.kiln artifact" 3 "$KILN" monitor check --model "$W/bare.kmd" \
    --reference "$W/cps1985_ref.csv" --data "$W/cps1985_cur.csv"
[ "$(check "$W/lc.kiln" "$W/ref.csv" "$W/cur.csv" "$W/same.json")" = 0 ] ||
    fail "two random parts of lending_club drift: $(cat "$W/same.json")"
check "$W/lc.kiln" "$W/ref_big.csv" "$W/cur.csv" "$W/big.json" > /dev/null
check "$W/cps.kiln" "$W/cps1985_ref.csv" "$W/cps1985_cur.csv" "$W/cps.json" > /dev/null
check "$W/hv.kiln" "$W/house_votes84_ref.csv" "$W/house_votes84_cur.csv" "$W/hv.json" > /dev/null
[ "$(check "$W/lc.kiln" "$W/ref.csv" "$W/shift.csv" "$W/shift.json")" = 1 ] ||
    fail "a shifted batch: no drift"

$py - "$W" <<'PY'
import json, sys, numpy as np, pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon
w = sys.argv[1]
def psi(r, c):
    a = np.maximum(r / r.sum(), 1e-4); b = np.maximum(c / c.sum(), 1e-4)
    return float(np.sum((b - a) * np.log(b / a)))
def close(what, got, want, tol=1e-9):
    if not abs(got - want) <= tol * max(1.0, abs(want)):
        sys.exit(f"FAIL: {what}: kiln {got!r}, scipy {want!r}")
checked = {"ks": 0, "ks_asymp": 0, "chi2": 0, "yates": 0}
for ref, cur, out in [("ref", "cur", "same"), ("ref_big", "cur", "big"),
                      ("cps1985_ref", "cps1985_cur", "cps"),
                      ("house_votes84_ref", "house_votes84_cur", "hv"), ("ref", "shift", "shift")]:
    R = pd.read_csv(f"{w}/{ref}.csv", keep_default_na=False, na_values=[""])
    C = pd.read_csv(f"{w}/{cur}.csv", keep_default_na=False, na_values=[""])
    j = json.load(open(f"{w}/{out}.json"))
    assert j["columns"], out
    for c in j["columns"]:
        name = c["column"]; r = R[name]; b = C[name]
        close(f"{out} {name} missing", c["missing"], b.isna().mean())
        if c["kind"] == "numeric":
            x, y = r.dropna().to_numpy(float), b.dropna().to_numpy(float)
            k = stats.ks_2samp(x, y)
            close(f"{out} {name} KS D", c["ks_d"], k.statistic)
            close(f"{out} {name} KS p", c["ks_p"], k.pvalue)
            # relative too: a tiny p-value (a shifted column) keeps its digits
            if not (k.pvalue == c["ks_p"] or abs(c["ks_p"] / k.pvalue - 1) <= 1e-9):
                sys.exit(f"FAIL: {out} {name} KS p: kiln {c['ks_p']!r}, scipy {k.pvalue!r}")
            close(f"{out} {name} Wasserstein", c["wasserstein"], stats.wasserstein_distance(x, y))
            checked["ks_asymp" if max(len(x), len(y)) > 10000 else "ks"] += 1
            q = np.sort(x)[[int(i / 10 * (len(x) - 1)) for i in range(1, 10)]]
            edges = np.unique(q)
            rc = np.bincount(np.searchsorted(edges, x, "left"), minlength=len(edges) + 1)
            cc = np.bincount(np.searchsorted(edges, y, "left"), minlength=len(edges) + 1)
            rc = np.append(rc, r.isna().sum()); cc = np.append(cc, b.isna().sum())
            close(f"{out} {name} PSI", c["psi"], psi(rc.astype(float), cc.astype(float)))
        else:
            vals = sorted(set(r.dropna()) | set(b.dropna()))
            rc = np.array([(r == v).sum() for v in vals] + [r.isna().sum()], float)
            cc = np.array([(b == v).sum() for v in vals] + [b.isna().sum()], float)
            keep = rc + cc > 0
            chi = stats.chi2_contingency(np.vstack([rc[keep], cc[keep]]))
            close(f"{out} {name} chi2", c["chi2"], chi[0])
            close(f"{out} {name} chi2 p", c["chi2_p"], chi[1])
            close(f"{out} {name} JS", c["js"], jensenshannon(rc, cc))
            close(f"{out} {name} PSI", c["psi"], psi(rc, cc))
            checked["yates" if keep.sum() == 2 else "chi2"] += 1
            unseen = sorted(set(b.dropna()) - set(r.dropna()))
            assert c["unseen"] == len(unseen), (out, name, c["unseen"], unseen)
for k, n in checked.items():
    if n < 3: sys.exit(f"FAIL: only {n} columns took the {k} path")
s = json.load(open(f"{w}/shift.json"))
top = {c["column"]: c for c in s["columns"] if c["drifted"]}
assert set(top) == {"int_rate", "addr_state", "annual_inc"}, top.keys()
assert top["annual_inc"]["why"] == "missing" and top["addr_state"]["unseen_values"] == ["ZZ"]
assert [c["column"] for c in s["columns"][:3]] != [], s
assert all(c["importance"] is not None for c in s["columns"]) and s["importances"]
assert s["reference_predictions"] == "held-out"
print("parity:", checked)
PY
expect "lacks 2 of the model's 22 input columns: term, int_rate" 3 \
    "$KILN" monitor check --model "$W/lc.kiln" --reference "$W/ref.csv" --data "$W/lack.csv"
expect "missing --data" 2 "$KILN" monitor check --model "$W/lc.kiln" --reference "$W/ref.csv"
rc=0
"$KILN" monitor check --model "$W/lc.kiln" --reference "$W/ref.csv" --data "$W/shift.csv" \
    > "$W/table.txt" || rc=$?
[ "$rc" = 1 ] || fail "table: exit $rc"
grep -q "^DRIFT: 3 of 22 columns drifted" "$W/table.txt" || fail "$(cat "$W/table.txt")"
grep -q "1 unseen: ZZ" "$W/table.txt" || fail "$(cat "$W/table.txt")"
# a significant p with a small PSI: no drift, and the table says so
"$KILN" monitor check --model "$W/lc.kiln" --reference "$W/ref_big.csv" --data "$W/bump.csv" \
    > "$W/bump.txt" || fail "bump: exit $? $(cat "$W/bump.txt")"
grep -q "^int_rate .* PSI small$" "$W/bump.txt" || fail "$(cat "$W/bump.txt")"
grep -q "^(PSI small: the adjusted p is under --alpha 0.01" "$W/bump.txt" || fail "$(cat "$W/bump.txt")"
echo "ok"
