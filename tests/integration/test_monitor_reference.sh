#!/bin/bash
# kiln monitor check without --reference: the artifact's drift reference
# (KN_ART_REFERENCE) against the training file given as --reference, on
# real data. cps1985 (534 rows) and house_votes84 (435) are under the
# sample size: every statistic is the same, bit for bit. lending_club (6,000
# training rows, numeric columns sampled to 2,001 order statistics): the
# same drifted columns and verdicts on a stable batch and on a shifted one,
# KS D within 1e-3, PSI within 5e-3, Wasserstein within 5 % of the
# column's standard deviation, p-values within 0.05 (or both under 1e-6);
# categorical figures identical (value counts are exact).
# The reference is deterministic (byte-identical artifacts), bounded
# (kiln inspect reports its size), and an artifact without one is a usage
# error that names --reference.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data_lib.sh"
cd "$W"
data_py <<'PY'
lc, idx = lending_club()
lc.iloc[idx[:6000]].to_csv("ref.csv", index=False)
lc.iloc[idx[6000:8000]].to_csv("cur.csv", index=False)
s = lc.iloc[idx[8000:9800]].copy()
s["int_rate"] += 0.5 * lc["int_rate"].std()
s.loc[s.index[:300], "addr_state"] = "ZZ"
s.loc[s.index[300:500], "annual_inc"] = np.nan
s.to_csv("shift.csv", index=False)
for name in ("cps1985", "house_votes84"):
    t = pd.read_csv(f"{d}/{name}.csv")
    i = np.random.RandomState(1).permutation(len(t))
    h = len(t) * 3 // 5
    t.iloc[i[:h]].to_csv(f"{name}_ref.csv", index=False)
    t.iloc[i[h:]].to_csv(f"{name}_cur.csv", index=False)
PY
train() { # data target out [options]
    local data=$1 target=$2 out=$3
    shift 3
    KILN_DETERMINISTIC_TIME=1 "$KILN" -q train --data "$data" --target "$target" --model gbdt \
        --param n_estimators=10 --test-size 0 --out "$out" "$@" > /dev/null
}
train ref.csv Class lc.kiln
train cps1985_ref.csv wage cps.kiln
train house_votes84_ref.csv Class hv.kiln
# a held-out split: the reference is the rows the model was fitted on
KILN_DETERMINISTIC_TIME=1 "$KILN" -q train --data ref.csv --target Class --model gbdt \
    --param n_estimators=10 --out lc_split.kiln > /dev/null

check() { # model batch out [--reference FILE]: exit 0 or 1
    local m=$1 b=$2 out=$3 rc=0
    shift 3
    "$KILN" -q --json monitor check --model "$m" --data "$b" "$@" > "$out" || rc=$?
    [ "$rc" -le 1 ] || fail "monitor check $m $b $*: exit $rc ($(cat "$out"))"
    echo "$rc"
}
for c in "lc.kiln cur.csv ref.csv" "lc.kiln shift.csv ref.csv" "cps.kiln cps1985_cur.csv cps1985_ref.csv" \
    "hv.kiln house_votes84_cur.csv house_votes84_ref.csv"; do
    set -- $c
    a=$(check "$1" "$2" "$1.$2.stored.json")
    b=$(check "$1" "$2" "$1.$2.file.json" --reference "$3")
    [ "$a" = "$b" ] || fail "$1 on $2: exit $a with the stored reference, $b with --reference $3"
done
[ "$(check lc.kiln shift.csv x.json)" = 1 ] || fail "the shifted batch does not drift"
[ "$(check lc.kiln cur.csv x.json)" = 0 ] || fail "a random part of lending_club drifts"

$py - <<'PY'
import json, math, sys
def load(p):
    return json.load(open(p))
def cols(j):
    return {c["column"]: c for c in j["columns"] + [j["prediction"]]}
stats = ("psi", "psi_threshold", "ks_d", "ks_p", "wasserstein", "chi2", "chi2_p", "js", "p",
         "p_adjusted", "missing_reference", "missing", "unseen", "unseen_share", "n_reference", "n")
def same(a, b, k=""):
    if k == "wasserstein" and a is not None and b is not None:
        return abs(a - b) <= 1e-12 * max(1.0, abs(b))  # summed per gap of the stored sample
    return a == b or (a is None and b is None)
# under the sample size: identical figures (the Wasserstein distance to rounding)
for m, b in (("cps.kiln", "cps1985_cur.csv"), ("hv.kiln", "house_votes84_cur.csv")):
    s, f = load(f"{m}.{b}.stored.json"), load(f"{m}.{b}.file.json")
    assert s["reference_source"] == "artifact" and f["reference_source"] == "file", (s, f)
    cs, cf = cols(s), cols(f)
    if set(cs) != set(cf):
        sys.exit(f"FAIL: {m}: columns differ: {sorted(cs)} {sorted(cf)}")
    for c in cs:
        for k in stats + ("drifted", "why", "unseen_values"):
            if not same(cs[c][k], cf[c][k], k):
                sys.exit(f"FAIL: {m} {c} {k}: stored {cs[c][k]!r}, file {cf[c][k]!r}")
    print(f"{m}: {len(cs)} columns identical")
# over the sample size: the same verdicts, figures within the stated tolerance
import pandas as pd
ref = pd.read_csv("ref.csv")
worst = {"ks_d": 0, "psi": 0, "wasserstein/sd": 0, "p": 0}
for b in ("cur.csv", "shift.csv"):
    s, f = load(f"lc.kiln.{b}.stored.json"), load(f"lc.kiln.{b}.file.json")
    if sorted(s["drifted"]) != sorted(f["drifted"]) or s["drift"] != f["drift"]:
        sys.exit(f"FAIL: {b}: drifted {s['drifted']} with the stored reference, {f['drifted']} with the file")
    cs, cf = cols(s), cols(f)
    for c in cs:
        a, z = cs[c], cf[c]
        for k in ("drifted", "why", "n_reference", "n", "missing_reference", "missing", "unseen"):
            if not same(a[k], z[k]):
                sys.exit(f"FAIL: {b} {c} {k}: stored {a[k]!r}, file {z[k]!r}")
        if a["kind"] == "categorical":
            for k in ("chi2", "chi2_p", "js", "psi"):
                if not same(a[k], z[k]):
                    sys.exit(f"FAIL: {b} {c} {k}: stored {a[k]!r}, file {z[k]!r} (counts are exact)")
            continue
        sd = float(ref[c].std()) if c in ref else 1.0
        dif = {"ks_d": abs(a["ks_d"] - z["ks_d"]), "psi": abs(a["psi"] - z["psi"]),
               "wasserstein/sd": abs(a["wasserstein"] - z["wasserstein"]) / (sd or 1),
               "p": 0 if max(a["p"], z["p"]) < 1e-6 else abs(a["p"] - z["p"])}
        tol = {"ks_d": 1e-3, "psi": 5e-3, "wasserstein/sd": 0.05, "p": 0.05}
        for k in dif:
            worst[k] = max(worst[k], dif[k])
            if dif[k] > tol[k]:
                sys.exit(f"FAIL: {b} {c} {k}: stored {a}, file {z}: off by {dif[k]} > {tol[k]}")
print("lending_club, largest differences:", {k: float(f"{v:.3g}") for k, v in worst.items()})
PY

# the split model's reference is its training rows (4,800 of 6,000) and it
# compares predictions with the held-out ones
"$KILN" -q --json inspect lc_split.kiln > split.json
$py - <<'PY'
import json, sys
r = json.load(open("split.json"))["reference"]
if r["rows"] != 4800 or r["predictions"]:
    sys.exit(f"FAIL: a split model's reference: {r}")
PY
check lc_split.kiln cur.csv split_check.json > /dev/null
grep -q '"reference_predictions": "held-out"' split_check.json ||
    fail "the split model does not compare with its held-out predictions: $(head -c 300 split_check.json)"

# deterministic: the same data and seed give the same bytes
train ref.csv Class lc2.kiln
cmp -s lc.kiln lc2.kiln || fail "the same data and seed gave different artifacts"
# bounded: at most 2,001 values per numeric column, 1,000 per text one
"$KILN" -q --json inspect lc.kiln > inspect.json
"$KILN" inspect lc.kiln | grep -q "^reference: .*6000 rows: 17 numeric columns" ||
    fail "kiln inspect does not show the reference: $("$KILN" inspect lc.kiln)"
$py - <<'PY'
import json, sys
r = json.load(open("inspect.json"))["reference"]
bound = r["numeric_columns"] * (2001 * 8 + 64) + r["text_columns"] * 1000 * 64 + 2001 * 8 + 64
if not (r["values_kept"] <= 2001 * r["numeric_columns"] + 1000 * r["text_columns"]
        and r["bytes"] <= bound and 0 < r["file_bytes"] <= r["bytes"] + 64):
    sys.exit(f"FAIL: reference size {r}")
print(f"reference of lending_club: {r['bytes']} bytes, {r['file_bytes']} in the file")
PY

# an artifact without a reference: a usage error naming --reference; with it, it works
$py - <<'PY'
import struct, hashlib, sys
b = open("cps.kiln", "rb").read()
magic, version, n = b[:8], *struct.unpack("<II", b[8:16])
at, out = 16, []
for _ in range(n):
    sid, flags, stored, raw = struct.unpack("<IIQQ", b[at:at + 24])
    if sid != 8:
        out.append(b[at:at + 24 + stored])
    at += 24 + stored
body = magic + struct.pack("<II", version, len(out)) + b"".join(out)
open("old.kiln", "wb").write(body + hashlib.blake2b(body, digest_size=32).digest() + b"\0KILNEND1")
PY
"$KILN" -q inspect old.kiln | grep -q "^reference: *none" || fail "inspect of an artifact without a reference"
expect "holds no drift reference.*--reference" 2 "$KILN" monitor check --model old.kiln \
    --data cps1985_cur.csv
check old.kiln cps1985_cur.csv old.json --reference cps1985_ref.csv > /dev/null
echo "ok"
