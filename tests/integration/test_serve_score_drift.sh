#!/bin/bash
# A classifier's scores drift where its predicted classes barely move:
# lending_club (6,000 training rows, a GBDT with 1,500 held-out rows), new
# rows with int_rate + 1 sd. The predicted classes stay almost all "good"
# (their chi-square test does not move), while P(bad) does. Both `kiln
# monitor check` and `kiln serve --drift-window` test the score ((score):
# the positive class's probability) beside the classes: 1,000 shifted rows
# drift on it, 1,000 unshifted rows (seeded) do not; against a stored
# reference of 2,000 training rows the score's KS D and p-value equal
# scipy's on kiln predict's probabilities. And the server's first window
# of 1,000 rows gives the same figures, bit for bit, as `kiln monitor
# check` on those rows (every input, the predictions, the scores): one
# computation in both.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
lc, idx = lending_club()
train = lc.iloc[idx[:6000]]
train.to_csv(f"{w}/train.csv", index=False)
train.iloc[:2000].to_csv(f"{w}/small.csv", index=False)
live = lc.iloc[idx[6000:]].drop(columns=["Class"])
for c in live.columns:  # the schemas (of small.csv too) refuse categories they lack
    if live[c].dtype == object:
        live = live[live[c].isna() | live[c].isin(set(train.iloc[:2000][c].dropna()))]
live = live.iloc[:2000].reset_index(drop=True)
live.iloc[:1000].to_csv(f"{w}/stable.csv", index=False)
live.loc[1000:, "int_rate"] += lc["int_rate"].std()
live.iloc[1000:].to_csv(f"{w}/shifted.csv", index=False)
live.to_csv(f"{w}/live.csv", index=False)
PY
"$KILN" -q train --data "$W/train.csv" --target Class --model gbdt --param n_estimators=30 \
    --test-size 0.25 --seed 1 --out "$W/lc.kiln" > /dev/null
# no held-out rows: the stored reference keeps the training rows' scores (all 2,000)
"$KILN" -q train --data "$W/small.csv" --target Class --model gbdt --param n_estimators=30 \
    --test-size 0 --out "$W/small.kiln" > /dev/null
"$KILN" monitor check --model "$W/small.kiln" --data "$W/shifted.csv" --json > "$W/small.json" || true
# monitor check: the score drifts on the shifted rows only
rc=0
"$KILN" monitor check --model "$W/lc.kiln" --data "$W/stable.csv" --json > "$W/stable.json" || rc=$?
[ "$rc" = 0 ] || fail "monitor check of the stable rows: exit $rc"
rc=0
"$KILN" monitor check --model "$W/lc.kiln" --data "$W/shifted.csv" --json > "$W/shifted.json" || rc=$?
[ "$rc" = 1 ] || fail "monitor check of the shifted rows: exit $rc"
"$KILN" monitor check --model "$W/lc.kiln" --data "$W/shifted.csv" > "$W/shifted.txt" || true
grep -q '^(score) ' "$W/shifted.txt" || fail "the table has no (score) row: $(cat "$W/shifted.txt")"
grep -q 'scores drifted' "$W/shifted.txt" || fail "the summary does not say the scores drifted: $(head -1 "$W/shifted.txt")"
"$KILN" -q predict --model "$W/small.kiln" --data "$W/small.csv" --proba --out "$W/ptrain.csv"
"$KILN" -q predict --model "$W/small.kiln" --data "$W/shifted.csv" --proba --out "$W/plive.csv"
$py - "$W" <<'PY' || fail "monitor check's score test is wrong"
import json, sys, pandas as pd
from scipy import stats
w = sys.argv[1]
st, sh = json.load(open(f"{w}/stable.json")), json.load(open(f"{w}/shifted.json"))
assert st["reference_scores"] and sh["reference_scores"], (st["reference_scores"], sh["reference_scores"])
assert st["score"]["column"] == "(score)" and not st["score"]["drifted"], st["score"]
assert sh["score"]["drifted"], sh["score"]
assert sh["drift"] and not st["drift"], (sh["drift"], st["drift"])
assert not sh["prediction"]["drifted"], sh["prediction"]  # the classes alone would not say it
sm = json.load(open(f"{w}/small.json"))
pt, pl = pd.read_csv(f"{w}/ptrain.csv"), pd.read_csv(f"{w}/plive.csv")
# P of the second class (the model's class order: sorted labels, bad < good)
col = sorted(c for c in pt.columns if c.startswith("proba_"))[1]
ref, b = pt[col].values, pl[col].values
d, p = stats.ks_2samp(ref, b, method="exact" if len(ref) * len(b) <= 200000 else "asymp")
assert sm["reference_predictions"] == "stored reference" and sm["score"]["n_reference"] == 2000, sm["score"]
assert abs(sm["score"]["ks_d"] - d) < 1e-12 and abs(sm["score"]["ks_p"] - p) <= 1e-9 * p + 1e-300, (sm["score"], d, p)
print(f"score: stable p {st['score']['p']:.3g}, shifted p {sh['score']['p']:.3g} (D {sh['score']['ks_d']:.4f}); "
      f"classes: shifted p {sh['prediction']['p']:.3g} drifted {sh['prediction']['drifted']}")
PY
# kiln serve: the same rows through the server, each window recorded
start_server --model lc="$W/lc.kiln" --threads 2 --drift-window 1000 --record-windows \
    --store "$W/store"
$py - "$W" "$URL" <<'PY' || fail "the client failed"
import csv, json, sys, urllib.request, urllib.error
w, url = sys.argv[1], sys.argv[2]
text = {"term", "sub_grade", "addr_state", "verification_status", "emp_length"}
rows = list(csv.DictReader(open(f"{w}/live.csv")))
inst = [{k: (None if v == "" else v if k in text else float(v)) for k, v in r.items()} for r in rows]
for i in range(0, len(inst), 25):
    req = urllib.request.Request(f"{url}/v1/models/lc:predict", json.dumps({"instances": inst[i:i + 25]}).encode(), {"Content-Type": "application/json"})
    try:
        assert urllib.request.urlopen(req).status == 200
    except urllib.error.HTTPError as e:
        sys.exit(f"{e}: {e.read()[:400]}")
PY
metrics_after_windows "$W/m.txt" 2
for _ in $(seq 100); do # the records go through the monitoring thread's queue
    n=$($py - "$W" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}/store/kiln.db?mode=ro", uri=True)
print(db.execute("SELECT count(*) FROM monitor_checks WHERE model = 'lc'").fetchone()[0])
PY
)
    [ "$n" -ge 2 ] && break
    sleep 0.1
done
$py - "$W" <<'PY' || fail "the server's windows differ from monitor check"
import json, sqlite3, sys
w = sys.argv[1]
db = sqlite3.connect(f"file:{w}/store/kiln.db?mode=ro", uri=True)
res = [json.loads(r[0]) for r in db.execute("SELECT result FROM monitor_checks WHERE model = 'lc' ORDER BY id")]
assert len(res) == 2, len(res)
m = {}
for line in open(f"{w}/m.txt"):
    if line.startswith("kiln_drift_") and 'column="(score)"' in line:
        k, v = line.rsplit(" ", 1)
        m[k.split("{")[0]] = float(v)
# the gauges: the last window (shifted) drifted on the score
assert m["kiln_drift_drifted"] == 1 and m["kiln_drift_p"] == res[1]["score"]["p"], m
assert res[0]["score"] and not res[0]["score"]["drifted"], res[0]["score"]
assert res[1]["score"]["drifted"], res[1]["score"]
# window 1 against monitor check on the same 1,000 rows: every figure, the same bits
check = json.load(open(f"{w}/stable.json"))
keys = ("psi", "psi_threshold", "ks_d", "ks_p", "wasserstein", "chi2", "chi2_p", "js", "p",
        "p_adjusted", "missing", "missing_reference", "n", "n_reference", "drifted")
cs = {c["column"]: c for c in check["columns"]}
ss = {c["column"]: c for c in res[0]["columns"]}
assert set(cs) == set(ss), (sorted(cs), sorted(ss))
pairs = [(cs[c], ss[c]) for c in cs] + [(check["prediction"], res[0]["prediction"]), (check["score"], res[0]["score"])]
bad = [(a["column"], k, a[k], b[k]) for a, b in pairs for k in keys if a[k] != b[k]]
assert not bad, bad[:10]
print(f"serve window 1 = monitor check on its rows: {len(pairs)} tests x {len(keys)} figures identical; "
      f"window 2 drifted on the score (p {res[1]['score']['p']:.3g})")
PY
echo "score drift: ok"
