#!/bin/bash
# kiln serve --drift-window: the inputs of a served GBDT (lending_club) in
# tumbling windows of 300 rows, the first window the reference (an artifact
# without a drift reference of its training rows). A stream
# of 900 rows: the reference, a stationary window, then a window with a
# planted shift (int_rate + 1 standard deviation; term all "term_60").
# - after the stationary window no input drifted;
# - after the shifted one int_rate and term drifted, their KS / chi-square
#   p-values equal scipy.stats' on the same rows (1e-9 absolute, as
#   kiln monitor check's parity), and the other
#   inputs are not flagged;
# - the memory held is reported and bounded (per numeric input: the
#   reference window, the ring's 1,024 rows (the power of two from two
#   windows), the copy tested; rows padded to cache lines; bins per text input).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/data_lib.sh"
data_py <<'PY'
lc, idx = lending_club()
live = train_live(lc.iloc[idx], 3000, 3900, "Class")
sd = lc["int_rate"].std()
live.loc[600:, "int_rate"] += sd
live.loc[600:, "term"] = "term_60"
live.to_csv(f"{w}/live.csv", index=False)
PY
"$KILN" -q train --data "$W/train.csv" --target Class --model gbdt --param n_estimators=10 \
    --out "$W/lc_ref.kiln" > /dev/null
# as an artifact written before drift references (no section 8): the
# first window is the reference (test_serve_drift_reference.sh: with one)
$py - "$W/lc_ref.kiln" "$W/lc.kiln" <<'PY'
import hashlib, struct, sys
b = open(sys.argv[1], "rb").read()
at, out = 16, []
for _ in range(struct.unpack("<I", b[12:16])[0]):
    sid, flags, stored, raw = struct.unpack("<IIQQ", b[at:at + 24])
    if sid != 8:
        out.append(b[at:at + 24 + stored])
    at += 24 + stored
body = b[:8] + struct.pack("<II", struct.unpack("<I", b[8:12])[0], len(out)) + b"".join(out)
open(sys.argv[2], "wb").write(body + hashlib.blake2b(body, digest_size=32).digest() + b"\0KILNEND1")
PY
start_server --model lc="$W/lc.kiln" --threads 2 --drift-window 300
send() { # FROM TO
    $py - "$W" "$URL" "$1" "$2" <<'PY' || fail "the client failed"
import csv, json, sys, urllib.request
w, url, a, b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
text = {"term", "sub_grade", "addr_state", "verification_status", "emp_length"}
rows = list(csv.DictReader(open(f"{w}/live.csv")))[a:b]
inst = [{k: (None if v == "" else v if k in text else float(v)) for k, v in r.items()} for r in rows]
for i in range(0, len(inst), 25):
    req = urllib.request.Request(f"{url}/v1/models/lc:predict", json.dumps({"instances": inst[i:i + 25]}).encode(), {"Content-Type": "application/json"})
    assert urllib.request.urlopen(req).status == 200
PY
}
send 0 600
metrics_after_windows "$W/m1.txt" 1
send 600 900
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
assert g(m1, "reference_rows") == 300
live = pd.read_csv(f"{w}/live.csv")
cols = list(live.columns)
flag1 = [c for c in cols if f'kiln_drift_drifted{{model="lc",version="1",column="{c}"}}' in m1 and g(m1, "drifted", c)]
assert flag1 == [], f"stationary window flagged {flag1}"
flag2 = sorted(c for c in cols if g(m2, "drifted", c))
assert flag2 == ["int_rate", "term"], f"shifted window flagged {flag2}"
ref, cur = live.iloc[:300], live.iloc[600:900]
d, p = stats.ks_2samp(ref["int_rate"].dropna(), cur["int_rate"].dropna())
assert abs(g(m2, "p", "int_rate") - p) < 1e-9, (g(m2, "p", "int_rate"), p)
# a stationary numeric input of the shifted window, against scipy too
d, p = stats.ks_2samp(ref["annual_inc"].dropna(), cur["annual_inc"].dropna())
assert abs(g(m2, "p", "annual_inc") - p) < 1e-9, (g(m2, "p", "annual_inc"), p)
t = pd.concat([ref["term"].fillna("<missing>").value_counts(), cur["term"].fillna("<missing>").value_counts()], axis=1).fillna(0).values.T
chi2, p, dof, _ = stats.chi2_contingency(t)
assert abs(g(m2, "p", "term") - p) < 1e-9, (g(m2, "p", "term"), p)
mem = g(m2, "memory_bytes")
n_num = sum(1 for c in cols if c not in {"term", "sub_grade", "addr_state", "verification_status", "emp_length"})
cap = 1024
assert (cap + 2 * 300) * 8 * n_num <= mem < (cap + 2 * 300) * 8 * (n_num + 1) + cap * 64 + 64 * 1024, mem
print(f"drift: flagged {flag2} after the shift, none before; KS p of int_rate {g(m2, 'p', 'int_rate'):.3g}; memory {mem:.0f} B")
PY
echo "serve drift: ok"
