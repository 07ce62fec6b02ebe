#!/bin/bash
# The registry's gate compares the candidate with production on the same
# rows: the candidate's test rows, rebuilt from its artifact (spec, seed,
# the data it read, checked by content hash), both versions scored on them.
# Real kiln run / kiln models on concrete (GBDT regressions, RMSE):
# - v1 in production (30 trees; the figures of v4-v7 do not matter: 10),
#   trained on the data with N(0, 20) noise on the target
#   (its own test RMSE is large: noisy test rows); v2 a weak model (4 trees)
#   on the clean data: its own test RMSE is far below v1's, but on v2's test
#   rows (a separate test source) v1 is better: the gate refuses, naming the
#   rows, and changes nothing; its figures are Python's RMSE of kiln
#   predict's predictions of both versions on those rows;
# - v3 a strong model on the clean data (a test fraction) passes, and the
#   audit row says both were scored on its test rows (rows, seed, data file
#   and hash);
# - v4 read a file that is gone when it is promoted: the gate says its test
#   rows cannot be had and why, and compares each version's own test score,
#   on its own test rows (in the audit row); v5's file changed: likewise,
#   with both hashes;
# - v6 against v5, whose training rows cannot be had: likewise (they might
#   hold the candidate's test rows); v7 against v6, the same file with
#   another split: the candidate's test rows v6 was fitted on are left out
#   (they would flatter production), the count said.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(cd "$(dirname "$0")/../data" && pwd)"
cd "$W"
$py - "$D" <<'PY'
import csv, random, shutil, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/concrete.csv")))
rnd = random.Random(7)
with open("noisy.csv", "w", newline="") as f:
    w = csv.DictWriter(f, rows[0].keys())
    w.writeheader()
    for r in rows:
        w.writerow(dict(r, compressive_strength=repr(float(r["compressive_strength"]) + rnd.gauss(0, 20))))
for name in ("clean.csv", "gone.csv", "changed.csv"):
    shutil.copy(f"{d}/concrete.csv", name)
idx = list(range(len(rows)))
random.Random(4).shuffle(idx)
for name, part in (("fit.csv", idx[:830]), ("hold.csv", idx[830:])):  # v2's rows
    with open(name, "w", newline="") as f:
        w = csv.DictWriter(f, rows[0].keys())
        w.writeheader()
        w.writerows(rows[i] for i in sorted(part))
PY
spec() { # NAME TREES STAGE SEED SOURCES TEST
    printf 'sources:\n%btarget: compressive_strength\nmodel:\n  gbdt: {n_estimators: %s, learning_rate: 0.1}\nevaluation:\n  metrics: [rmse]\n  test: %s\nregister: {name: conc, stage: %s}\nseed: %s\n' \
        "$5" "$2" "$6" "$3" "$4" > "$1.yaml"
    "$KILN" -q run "$1.yaml" --store st > "$1.out" 2>&1 || fail "kiln run $1: $(cat "$1.out")"
}
frac="{fraction: 0.2}"
spec v1 30 production 3 "  conc: {file: noisy.csv}\n" "$frac"
spec v2 4 none 4 "  conc: {file: fit.csv}\n  hold: {file: hold.csv}\nframe: {from: conc}\n" "{source: hold}"
spec v3 30 none 5 "  conc: {file: clean.csv}\n" "$frac"
spec v4 10 none 6 "  conc: {file: gone.csv}\n" "$frac"
spec v5 10 none 7 "  conc: {file: changed.csv}\n" "$frac"
spec v6 10 none 8 "  conc: {file: clean.csv}\n" "$frac"
spec v7 10 none 9 "  conc: {file: clean.csv}\n" "$frac"
"$KILN" --json runs list --store st > runs.json

# v2: better by its own test score, worse than v1 on its test rows: refused
rc=0
"$KILN" models promote conc 2 --stage production --store st > p2.out 2> p2.err || rc=$?
[ "$rc" = 1 ] || fail "promote v2: exit $rc, wanted 1 (refused): $(cat p2.out p2.err)"
grep -q "gate: metric check failed: held-out rmse [0-9.]* is worse than production v1's [0-9.]* by .*both on the candidate's 200 test rows (rebuilt from its spec, seed 4, data fit.csv at BLAKE2b [0-9a-f]\{12\} and 1 other file; production was fitted on none of them)" p2.err ||
    fail "the refusal does not name the rows: $(cat p2.err)"
"$KILN" models versions conc --store st > versions.txt
grep -q "^v1 .*production" versions.txt || fail "the refusal changed production: $(cat versions.txt)"

# the refusal's figures are Python's: both versions' RMSE on v2's test rows
"$KILN" -q predict --model conc@v1 --store st --data hold.csv --out p1.csv
"$KILN" -q predict --model conc@v2 --store st --data hold.csv --out p2.csv
$py - "$(cat p2.err)" <<'PY' || fail "the refusal's figures are not v1's and v2's on v2's test rows"
import csv, json, math, re, sys
runs = {r["id"]: r["metric"]["value"] for r in json.load(open("runs.json"))["runs"]}
own1, own2 = runs["r000001"], runs["r000002"]
assert own2 < own1 - 5, (own1, own2)  # by their own test rows, v2 is far better
truth = [float(r["compressive_strength"]) for r in csv.DictReader(open("hold.csv"))]
def rmse(f):
    pred = [float(r["prediction"]) for r in csv.DictReader(open(f))]
    assert len(pred) == len(truth)
    return math.sqrt(sum((a - b) ** 2 for a, b in zip(truth, pred)) / len(truth))
m = re.search(r"held-out rmse ([0-9.]+) is worse than production v1's ([0-9.]+)", sys.argv[1])
c, p = float(m.group(1)), float(m.group(2))
assert abs(c - rmse("p2.csv")) < 1e-5 * c and abs(c - own2) < 1e-5 * c, (c, rmse("p2.csv"), own2)
assert abs(p - rmse("p1.csv")) < 1e-5 * p, (p, rmse("p1.csv"))
assert p < c, (p, c)  # v1 is better on those rows
print(f"own test rows: v1 {own1:.3f}, v2 {own2:.3f}; on v2's {len(truth)} rows: "
      f"v1 {p:.3f}, v2 {c:.3f}: refused")
PY

# v3: passes; the audit row says which rows
"$KILN" models promote conc 3 --stage production --store st > /dev/null 2> p3.err ||
    fail "promote v3: $(cat p3.err)"
"$KILN" models audit conc --store st > audit.txt
grep -q "promote .*conc v3 .*held-out rmse [0-9.]* vs production v1 [0-9.]*, both on the candidate's 206 test rows (rebuilt from its spec, seed 5, data clean.csv at BLAKE2b [0-9a-f]\{12\}; production was fitted on none of them) (margin 0.01)" audit.txt ||
    fail "the audit row does not name the rows: $(cat audit.txt)"

# v4: its data is gone: each on its own test rows, said so (a wide margin:
# the figures are not the point here)
rm gone.csv
"$KILN" models promote conc 4 --stage production --margin 100 --store st > /dev/null 2> p4.err ||
    fail "promote v4: $(cat p4.err)"
"$KILN" models audit conc --store st > audit.txt
grep -q "promote .*conc v4 .*held-out rmse [0-9.]* vs production v3 [0-9.]*, each on its own test rows: the candidate's test rows to score production on cannot be had (source 'conc': gone.csv, which the run read, cannot be read here (.*; a relative path is from the folder kiln ran in)) (margin 100)" audit.txt ||
    fail "the audit row of v4 does not say why its own test rows were used: $(grep 'conc v4' audit.txt)"

# v5: its data changed since the run: likewise, with the hashes
echo "540,0,0,162,2.5,1040,676,28,79.99" >> changed.csv
"$KILN" models promote conc 5 --stage production --margin 100 --store st > /dev/null 2> p5.err ||
    fail "promote v5: $(cat p5.err)"
"$KILN" models audit conc --store st > audit.txt
grep -q "conc v5 .*each on its own test rows: the candidate's test rows to score production on cannot be had (source 'conc': changed.csv changed since the run (BLAKE2b [0-9a-f]\{12\}, the run read [0-9a-f]\{12\}))" audit.txt ||
    fail "a changed file is not named: $(grep 'conc v5' audit.txt)"

# v6: production (v5) cannot show its training rows (its file changed): the
# candidate's test rows may hold rows it was fitted on, so each on its own
"$KILN" models promote conc 6 --stage production --margin 100 --store st > /dev/null 2> p6.err ||
    fail "promote v6: $(cat p6.err)"
"$KILN" models audit conc --store st > audit.txt
grep -q "conc v6 .*each on its own test rows: the candidate's test rows to score production on cannot be had (production's training rows cannot be had (source 'conc': changed.csv changed since the run (BLAKE2b [0-9a-f]\{12\}, the run read [0-9a-f]\{12\})), so the candidate's test rows may hold rows production was fitted on)" audit.txt ||
    fail "production's training rows: $(grep 'conc v6' audit.txt)"

# v7: the same file as production (v6), another split: the test rows v6
# was fitted on are left out (they would flatter production)
"$KILN" models promote conc 7 --stage production --margin 100 --store st > /dev/null 2> p7.err ||
    fail "promote v7: $(cat p7.err)"
"$KILN" models audit conc --store st | grep 'conc v7 ' > v7.txt || fail "no audit row of v7"
grep -q "both on [0-9]* of the candidate's 206 test rows, the [0-9]* others being rows production was fitted on (rebuilt from its spec, seed 9, data clean.csv at BLAKE2b [0-9a-f]\{12\}; production's from its spec, seed 8, data clean.csv at BLAKE2b [0-9a-f]\{12\})" v7.txt ||
    fail "the rows production was fitted on are not left out: $(cat v7.txt)"
$py - "$(cat v7.txt)" <<'PY' || fail "v7's rows: $(cat v7.txt)"
import re, sys
k, m = map(int, re.search(r"both on (\d+) of the candidate's 206 test rows, the (\d+) others", sys.argv[1]).groups())
assert k + m == 206 and 15 <= k <= 80, (k, m)  # about a fifth of them were v6's test rows too
print(f"v7 against v6: {k} of its 206 test rows unseen by v6 ({m} left out)")
PY
echo "models gate rows: ok"
