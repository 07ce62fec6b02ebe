#!/bin/bash
# kiln serve --drift-window against the artifact's drift reference of its
# training rows (lending_club, 2,000 training rows: under the reference's
# sample size, so its tests equal scipy's on the training rows). The first
# window of 300 rows comes from a shifted distribution (int_rate + 0.5
# standard deviation, term all "term_60"): it drifts at once, which the
# first-window scheme (the first window as the reference) could not see;
# a stationary second window does not. KS and chi-square p-values equal
# scipy.stats' against the training rows (1e-9); the memory held is
# reported and bounded.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
lc, idx = lending_club()
lc.iloc[idx[:2000]].to_csv(f"{w}/train.csv", index=False)
train = lc.iloc[idx[:2000]]
live = lc.iloc[idx[2000:]].drop(columns=["Class"])
for c in live.columns:  # the server refuses categories its schema lacks
    if live[c].dtype == object:
        live = live[live[c].isna() | live[c].isin(set(train[c].dropna()))]
live = live.iloc[:600].reset_index(drop=True)
live.loc[:299, "int_rate"] += 0.5 * lc["int_rate"].std()
live.loc[:299, "term"] = "term_60"
live.to_csv(f"{w}/live.csv", index=False)
PY
"$KILN" -q train --data "$W/train.csv" --target Class --model gbdt --param n_estimators=10 \
    --test-size 0 --out "$W/lc.kiln" > /dev/null
start_server --model lc="$W/lc.kiln" --threads 2 --drift-window 300
send() { # FROM TO
    $py - "$W" "$URL" "$1" "$2" <<'PY' || fail "the client failed"
import csv, json, sys, urllib.request, urllib.error
w, url, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
text = {"term", "sub_grade", "addr_state", "verification_status", "emp_length"}
rows = list(csv.DictReader(open(f"{w}/live.csv")))[a:b]
inst = [{k: (None if v == "" else v if k in text else float(v)) for k, v in r.items()} for r in rows]
for i in range(0, len(inst), 25):
    req = urllib.request.Request(f"{url}/v1/models/lc:predict", json.dumps({"instances": inst[i:i + 25]}).encode(), {"Content-Type": "application/json"})
    try:
        assert urllib.request.urlopen(req).status == 200
    except urllib.error.HTTPError as e:
        sys.exit(f"{e}: {e.read()[:400]}")
PY
}
send 0 300
metrics_after_windows "$W/m1.txt" 1
send 300 600
metrics_after_windows "$W/m2.txt" 2
$py - "$W" <<'PY' || fail "the drift gauges are wrong"
import sys, numpy as np, pandas as pd
from scipy import stats
w = sys.argv[1]
def read(p):
    m = {}
    for line in open(p):
        if line.startswith("kiln_drift_"):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    return m
m1, m2 = read(f"{w}/m1.txt"), read(f"{w}/m2.txt")
g = lambda m, f, c=None: m[f'kiln_drift_{f}{{model="lc",version="1"' + (f',column="{c}"' if c else "") + "}"]
assert g(m1, "windows_total") == 1 and g(m2, "windows_total") == 2, (m1, m2)
assert g(m1, "reference_rows") == 2000, g(m1, "reference_rows")
train, live = pd.read_csv(f"{w}/train.csv"), pd.read_csv(f"{w}/live.csv")
cols = list(live.columns)
flag1 = sorted(c for c in cols if g(m1, "drifted", c))
assert flag1 == ["int_rate", "term"], f"the shifted first window flagged {flag1}"
flag2 = [c for c in cols if g(m2, "drifted", c)]
assert flag2 == [], f"the stationary second window flagged {flag2}"
win = live.iloc[:300]
for c in ("int_rate", "annual_inc", "revol_util"):
    a, b = train[c].dropna(), win[c].dropna()
    # the server's KS p-value is exact up to 200,000 cells (sizes' product), asymptotic above
    d, p = stats.ks_2samp(a, b, method="exact" if len(a) * len(b) <= 200000 else "asymp")
    assert abs(g(m1, "p", c) - p) < 1e-9, (c, g(m1, "p", c), p)
for c in ("term", "verification_status"):
    t = pd.concat([train[c].fillna("<missing>").value_counts(), win[c].fillna("<missing>").value_counts()], axis=1).fillna(0).values.T
    chi2, p, dof, _ = stats.chi2_contingency(t)
    assert abs(g(m1, "p", c) - p) < 1e-9, (c, g(m1, "p", c), p)
mem = g(m2, "memory_bytes")
n_num = sum(1 for c in cols if c not in {"term", "sub_grade", "addr_state", "verification_status", "emp_length"})
cap = 1024  # the ring's rows: the power of two from two windows
assert (cap + 300) * 8 * n_num <= mem < (cap + 300 + 2001) * 8 * (n_num + 1) + cap * 64 + 64 * 1024, mem
print(f"drift against the training reference: flagged {flag1} in the first window, none in the second; memory {mem:.0f} B")
PY
echo "serve drift reference: ok"
