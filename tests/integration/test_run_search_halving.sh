#!/bin/bash
# A spec's search: takes halving's resource and eta as kiln tune's --resource
# and --eta do: rows (a seeded random share of each fold's training rows on a
# lower rung; wine is sorted by class) or an integer parameter (max_iter),
# with the top rung's value in the run's chosen parameters; bad values are
# errors at the spec's line and column before any data is read.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cp "$KILN_TEST_DATA/wine.csv" "$W/"
cd "$W"
spec() { # FILE SOURCE SEARCH-LINES
    printf 'sources:\n  rows: {file: %s}\ntarget: class\nsteps:\n  - standard_scaler\n' "$2" > "$1"
    printf 'model:\n  name: logistic_regression\n  search:\n    strategy: halving\n' >> "$1"
    printf '    trials: 9\n%s\n    space: {C: {log: [0.01, 10]}}\nseed: 2\n' "$3" >> "$1"
}
spec rows.yaml wine.csv '    resource: rows
    eta: 3'
"$KILN" -q --json run rows.yaml --no-store --out rows.kiln > rows.json 2> err ||
    fail "halving over rows in a spec: $(cat err)"
spec iter.yaml wine.csv '    resource: max_iter'
"$KILN" -q --json run iter.yaml --no-store --out iter.kiln > iter.json 2> err ||
    fail "halving over max_iter in a spec: $(cat err)"
$py - rows.json iter.json << 'PY' || fail "halving's rungs in a spec"
import json, sys
rows, it = (json.load(open(p))["search"] for p in sys.argv[1:])
res = sorted({round(t["resource"], 6) for t in rows["trials"]})
assert res == [round(1 / 9, 6), round(1 / 3, 6), 1.0], res
assert all(t["status"] == "ok" for t in rows["trials"]), rows["trials"]
res = sorted({t["resource"] for t in it["trials"]})
assert res == [11, 33, 100], res  # max_iter's default 100 on the top rung
assert it["best"]["params"]["max_iter"] == "100", it["best"]  # chosen: the top rung's
assert "max_iter" not in rows["best"]["params"], rows["best"]
PY
# the summary ranks only the top rung's trials (the candidates): a lower rung's
# trial scoring as well or better is no candidate, and was listed above the best
"$KILN" -q run iter.yaml --no-store --out iter2.kiln > iter.txt 2> err || fail "$(cat err)"
grep -A5 '^search ' iter.txt | grep '^  trial ' > listed || fail "no trials listed: $(cat iter.txt)"
head -1 listed | grep -q '<- best$' || fail "the first trial listed is not the best: $(cat listed)"
if grep -v 'resource 100)' listed; then fail "a lower rung's trial ranked: $(cat listed)"; fi
grep -q '^  (12 trials on a smaller resource than 100 not ranked' iter.txt ||
    fail "no word on the lower rungs: $(cat iter.txt)"
bad() { # SEARCH-LINES MESSAGE
    spec bad.yaml nowhere.csv "$1"
    expect "$2" 1 "$KILN" run bad.yaml --no-store --out b.kiln
}
bad '    resource: C' "bad.yaml:11:15: resource: 'C' is not an integer parameter of logistic_regression"
bad '    eta: 1' "bad.yaml:11:10: eta: 1 is outside \[1.5, 100\]"
sed 's/strategy: halving/strategy: random/' rows.yaml | sed 's/wine.csv/nowhere.csv/' > bad.yaml
expect "bad.yaml:11:15: resource goes with strategy: halving" 1 \
    "$KILN" run bad.yaml --no-store --out b.kiln
spec bad.yaml nowhere.csv '    resource: max_iter'
sed -i 's/space: {C: {log: \[0.01, 10\]}}/space: {C: {log: [0.01, 10]}, max_iter: {int: [50, 200]}}/' bad.yaml
expect "bad.yaml:12:35: max_iter is halving's resource" 1 "$KILN" run bad.yaml --no-store --out b.kiln
echo "spec search halving: ok"
