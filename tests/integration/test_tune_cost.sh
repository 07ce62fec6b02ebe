#!/bin/bash
# kiln tune's cost estimate and --max-cost: each trial's cost is its CPU
# hours at the core-hour price (the memory price set to 0 here), the
# search's cost their sum; a budget of a quarter of a full search's cost
# stops it early, after the trial whose cost reached the budget.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"

cat > "$W/space.yaml" <<'Y'
learning_rate: {log: [0.01, 0.5]}
max_leaves: {int: [2, 31]}
Y
export KILN_PRICE_CORE_HOUR=1000 KILN_PRICE_GB_HOUR=0
run() { # OUT [ARGS...]
    local out=$1
    shift
    "$KILN" tune --data "$DATA/vehicle.csv" --target Class --model gbdt --folds 3 --seed 1 \
        --space "$W/space.yaml" --trials 12 --param n_estimators=20 --json "$@" \
        > "$W/$out.json" 2>"$W/$out.err" || fail "$out: kiln tune failed: $(tail -3 "$W/$out.err")"
}
run full --jobs 1
budget=$($py -c 'import json, sys; print(json.load(open(sys.argv[1]))["cost"] / 4)' "$W/full.json")
run cut --jobs 1 --max-cost "$budget"
$py - "$W/full.json" "$W/cut.json" "$budget" <<'P' || fail "cost: see above"
import json, sys
full, cut = (json.load(open(p)) for p in sys.argv[1:3])
budget = float(sys.argv[3])
for j in (full, cut):
    for t in j["trials"]:
        assert t["cpu_seconds"] > 0, t
        assert abs(t["cost"] - t["cpu_seconds"] / 3600 * 1000) < 1e-12, t
    assert abs(j["cost"] - sum(t["cost"] for t in j["trials"])) < 1e-9, j["cost"]
assert full["stopped"] == "no" and len(full["trials"]) == 12, full["stopped"]
costs = [t["cost"] for t in cut["trials"]]
assert cut["stopped"] == "max-cost", cut["stopped"]
assert 1 <= len(costs) < 12, len(costs)
assert sum(costs[:-1]) < budget <= sum(costs), (costs, budget)
P
# (captured first: grep -q ends the pipe early, and pipefail would see kiln's SIGPIPE)
grep -q -- '--max-cost USD' <<< "$("$KILN" tune --help 2>&1)" || fail "kiln tune --help does not name --max-cost"
echo OK
