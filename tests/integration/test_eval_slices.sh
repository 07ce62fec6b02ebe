#!/bin/bash
# kiln eval states how sure a score is and where a model fails: bootstrap
# intervals for every score (seeded: the same seed gives the same bounds),
# and --slice-by scores each value's rows and names the worst slice. The
# data plant one failing slice: in region c the label follows a feature the
# model never sees, so region c must be named worst, for a .kmd model (region
# not an input) and for a .kiln pipeline (region one-hot encoded as an input).
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"

$py - "$W" <<'PY'
import sys, numpy as np
w = sys.argv[1]
rng = np.random.RandomState(5)
n = 2000
reg = rng.choice(list("abcd"), n)
x = rng.randn(n, 3)
y = (x[:, 0] + 0.3 * x[:, 1] > 0).astype(int)
c = reg == "c"
y[c] = (x[c, 2] > 0).astype(int)  # region c: a coin flip for the model
with open(f"{w}/sl.csv", "w") as f:
    f.write("x0,x1,x2,region,y\n")
    for i in range(n):
        f.write(f"{x[i,0]:.5f},{x[i,1]:.5f},{x[i,2]:.5f},{reg[i]},{y[i]}\n")
PY
cd "$W"
"$KILN" -q train --data sl.csv --target y --model logistic_regression --ignore region,x2 \
    --out sl.kmd > /dev/null 2>&1
"$KILN" -q --json eval --model sl.kmd --data sl.csv --slice-by region > a.json
"$KILN" -q --json eval --model sl.kmd --data sl.csv --slice-by region > b.json
"$KILN" -q --json eval --model sl.kmd --data sl.csv --seed 9 > c.json
"$KILN" -q --json eval --model sl.kmd --data sl.csv --no-intervals > d.json
$py - a.json b.json c.json d.json <<'PY'
import json, sys
a, b, c, d = (json.load(open(p)) for p in sys.argv[1:])
assert a["intervals"] == b["intervals"], "same seed, different bounds"
assert a["intervals"] != c["intervals"], "another seed, the same bounds"
assert "intervals" not in d and "slices" not in d, d
assert a["level"] == 0.95
for name, (lo, hi) in a["intervals"].items():
    assert lo <= a[name] <= hi, (name, lo, a[name], hi)
    assert hi - lo < 0.15, (name, lo, hi)  # 2,000 rows: a narrow interval
# slices: one per region, counts add up, each has its own intervals
sl = {s["value"]: s for s in a["slices"]}
assert sorted(sl) == list("abcd"), sorted(sl)
assert sum(s["rows"] for s in sl.values()) == a["rows"] == 2000
assert a["worst_slice"] == "c", a["worst_slice"]
assert sl["c"]["accuracy"] < 0.75 < min(sl[v]["accuracy"] for v in "abd"), sl
# the planted slice's upper bound is below every other slice's lower bound
assert all(sl["c"]["intervals"]["accuracy"][1] < sl[v]["intervals"]["accuracy"][0] for v in "abd")
# the slice's accuracy is the share of its rows predicted right
PY
"$KILN" eval --model sl.kmd --data sl.csv --slice-by region > out.txt 2> /dev/null
grep -q "^95 % intervals (bootstrap):  accuracy \[" out.txt || fail "no interval line: $(cat out.txt)"
grep -q "^worst slice: region = c (" out.txt || fail "no worst slice line: $(cat out.txt)"

# a .kiln pipeline: region is an input here (one-hot encoded by a step);
# the slices are taken from the raw rows, before the steps
cat > sl.yaml << 'YAML'
sources: {d: {file: sl.csv}}
target: y
task: classification
ignore: [x2]
steps: [onehot_encoder: {}]
model: {logistic_regression: {}}
seed: 1
YAML
"$KILN" -q run sl.yaml --no-store --out sl.kiln > /dev/null 2>&1 || fail "kiln run"
"$KILN" -q --json eval --model sl.kiln --data sl.csv --slice-by region > k.json
$py - k.json <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))
assert k["worst_slice"] == "c", k["worst_slice"]
assert sum(s["rows"] for s in k["slices"]) == k["rows"]
assert all(lo <= k[n] <= hi for n, (lo, hi) in k["intervals"].items())
PY

# kiln run: evaluation {slice_by} scores the test rows per region, the
# summary names the worst slice and the artifact keeps the slices and the
# test scores' intervals; bootstrap: 0 turns the intervals off
printf 'evaluation: {slice_by: region}\n' >> sl.yaml
"$KILN" -q run sl.yaml --no-store --out sl2.kiln > run.txt 2> /dev/null || fail "kiln run with slices"
grep -q "^  worst slice: region = c (" run.txt || fail "run summary: $(cat run.txt)"
grep -q "^  accuracy  *0\.[0-9]* \[0\.[0-9]*, 0\.[0-9]*\]" run.txt || fail "run summary without intervals"
"$KILN" -q --json inspect sl2.kiln > i.json
$py - i.json <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
assert m["test_slices"]["by"] == "region" and m["test_slices"]["worst"] == "c", m["test_slices"]
assert sum(v["rows"] for v in m["test_slices"]["values"]) == m["rows"]["test"]
lo, hi = m["test_intervals"]["accuracy"]
assert lo <= m["test"]["accuracy"] <= hi
PY
sed -i 's/evaluation: {slice_by: region}/evaluation: {bootstrap: 0}/' sl.yaml
"$KILN" -q run sl.yaml --no-store --out sl3.kiln > /dev/null 2>&1
"$KILN" -q --json inspect sl3.kiln | grep -q '"test_intervals": null' || fail "bootstrap: 0 kept intervals"

# slicing errors name the column and the fix
expect "slice column 'nope' is not in the data" 1 "$KILN" eval --model sl.kmd --data sl.csv --slice-by nope
expect "slice column 'x0' has more than 100 distinct values" 1 \
    "$KILN" eval --model sl.kmd --data sl.csv --slice-by x0
echo ok
