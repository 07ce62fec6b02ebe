#!/bin/bash
# A seed makes kiln tune reproducible: the same trials with the same
# results, in the same order, on 1 or 2 jobs (trials at a time), for
# random search and for TPE (whose proposals depend on the trials before
# their batch, not on which finished first); another seed gives other
# trials.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"

cat > "$W/space.yaml" <<'Y'
learning_rate: {log: [0.01, 0.3]}
max_leaves: {int: [4, 48]}
subsample: {uniform: [0.5, 1]}
Y
run() { # STRATEGY JOBS SEED
    "$KILN" tune --data "$DATA/vehicle.csv" --target Class --model gbdt --folds 3 --seed "$3" \
        --space "$W/space.yaml" --strategy "$1" --trials 14 --param n_estimators=15 \
        --jobs "$2" --json 2>/dev/null |
        $py -c '
import json, sys
j = json.load(sys.stdin)
for t in j["trials"]:
    for k in ("seconds", "cpu_seconds", "cost"):
        del t[k]
print(json.dumps({"trials": j["trials"], "best": j["best"]["trial"], "test": j["test"]}, sort_keys=True))'
}
for s in random tpe; do
    run $s 1 3 > "$W/$s.1"
    run $s 2 3 > "$W/$s.2"
    cmp -s "$W/$s.1" "$W/$s.2" || fail "$s: --jobs 1 and --jobs 2 differ: $(diff "$W/$s.1" "$W/$s.2" | head -c 600)"
done
cmp -s "$W/random.1" "$W/tpe.1" && fail "tpe proposed the same trials as random search"
run random 1 4 > "$W/other"
cmp -s "$W/random.1" "$W/other" && fail "seeds 3 and 4 gave the same trials"
echo OK
