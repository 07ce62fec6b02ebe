#!/bin/bash
# kiln tune --seed with --time-series and --groups: taken (it seeds the
# search), the same seed gives the same trials, another seed other trials,
# and the folds stay unshuffled: a trial's fold scores are kiln cv's with
# the same parameters and split. kiln cv itself still refuses the pair.
set -u
. "$(dirname "$0")/lib.sh"
K=${KILN:?}
D=${KILN_TEST_DATA:?}
cd "$W" || exit 1
printf 'learning_rate: {log: [0.01, 0.3]}\nmax_depth: {int: [2, 6]}\n' > space.yaml

tune() { # SEED SPLIT-OPTION...
    local seed=$1; shift
    $K --json tune --data "$D/cps1985.csv" --target wage --model gbdt --param n_estimators=10 \
        --space space.yaml --trials 4 --folds 3 --test-fraction 0 --seed "$seed" "$@" 2> err.txt ||
        fail "tune --seed $seed $*: $(cat err.txt)"
}
for split in "--time-series" "--groups occupation"; do
    # shellcheck disable=SC2086
    tune 5 $split > a.json
    # shellcheck disable=SC2086
    tune 5 $split > b.json
    # shellcheck disable=SC2086
    tune 6 $split > c.json
    $py - a.json b.json c.json > params.txt <<'PY' || fail "$split: seeds: $(head -c 800 a.json)"
import json, sys
a, b, c = ([(t["params"], t["score"], t["folds"]) for t in json.load(open(p))["trials"]]
           for p in sys.argv[1:])
assert a == b, "the same seed gave other trials"
assert [x[0] for x in a] != [x[0] for x in c], "seeds 5 and 6 gave the same trials"
print(a[0][0]["learning_rate"], a[0][0]["max_depth"], json.dumps(a[0][2]))
PY
    read -r lr depth folds < params.txt
    # shellcheck disable=SC2086
    $K --json cv --data "$D/cps1985.csv" --target wage --model gbdt --param n_estimators=10 \
        --param learning_rate="$lr" --param max_depth="$depth" --folds 3 $split > cv.json 2> err.txt ||
        fail "cv $split: $(cat err.txt)"
    $py - cv.json "$folds" <<'PY' || fail "$split: the seeded search shuffled the folds"
import json, sys
cv = [f["rmse"] for f in json.load(open(sys.argv[1]))["folds"]]
tr = json.loads(sys.argv[2])
assert len(cv) == len(tr) and all(abs(x - y) < 1e-9 for x, y in zip(cv, tr)), (cv, tr)
PY
done
# kiln cv has no search: its --seed there is still a usage error
expect "time-series folds are not shuffled: drop --seed" 2 \
    $K cv --data "$D/cps1985.csv" --target wage --model gbdt --folds 3 --time-series --seed 5
echo OK
