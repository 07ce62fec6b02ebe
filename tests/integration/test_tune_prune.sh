#!/bin/bash
# kiln tune --prune: the median rule stops trials whose running mean after
# a fold is worse than the median of the smaller-numbered trials' at that
# fold. On a space with a clearly bad region (tiny learning rates) some
# trials are pruned, each listed with the folds it ran and scored by their
# mean; the best trial is the one the unpruned search finds (on this seed);
# the trials are the same on 1 and 2 jobs, for random search and TPE; a
# search resumed from its trials file ends as the uninterrupted one.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"

cat > "$W/space.yaml" <<'Y'
learning_rate: {log: [0.0001, 0.5]}
max_leaves: {int: [2, 31]}
Y
run() { # OUT STRATEGY JOBS TRIALS [ARGS...]
    local out=$1 strategy=$2 jobs=$3 trials=$4
    shift 4
    "$KILN" tune --data "$DATA/vehicle.csv" --target Class --model gbdt --folds 5 --seed 3 \
        --space "$W/space.yaml" --strategy "$strategy" --trials "$trials" \
        --param n_estimators=20 --jobs "$jobs" --json "$@" > "$W/$out.json" 2>"$W/$out.err" ||
        fail "$out: kiln tune failed: $(tail -3 "$W/$out.err")"
    $py - "$W/$out.json" > "$W/$out" <<'P'
import json, sys
j = json.load(open(sys.argv[1]))
for t in j["trials"]:
    for k in ("seconds", "cpu_seconds", "cost"):
        del t[k]
print(json.dumps({"trials": j["trials"], "best": j["best"]["trial"]}, sort_keys=True))
P
}
# The sanitizer build skips the second run of a search on 2 jobs beside 1
# (the release build compares them; searches on 2 jobs run there too).
run full random 2 20
run p1 random 1 20 --prune
if ! sanitized; then
    run p2 random 2 20 --prune
    cmp -s "$W/p1" "$W/p2" || fail "random --prune: --jobs 1 and 2 differ: $(diff "$W/p1" "$W/p2" | head -c 600)"
fi
$py - "$W/full.json" "$W/p1.json" <<'P' || fail "pruned search: see above"
import json, sys
full, pr = (json.load(open(p)) for p in sys.argv[1:3])
by = {t["trial"]: t for t in full["trials"]}
pruned = [t for t in pr["trials"] if t["status"] == "pruned"]
assert all(t["status"] == "ok" for t in full["trials"]), "a trial pruned without --prune"
assert 3 <= len(pruned) < 15, f"{len(pruned)} of 20 trials pruned"
for t in pr["trials"]:
    f = t["folds"]
    full_f = by[t["trial"]]["folds"]
    assert f == full_f[:len(f)], f"trial {t['trial']}: fold scores {f} vs {full_f}"
    assert abs(t["score"] - sum(f) / len(f)) < 1e-12, t
    if t["status"] == "pruned":
        assert 1 <= len(f) < 5, t
        # pruned by the rule: its running mean after its last fold is worse
        # than the median of the smaller trials' that ran that fold
        k = len(f)
        ref = sorted(sum(u["folds"][:k]) / k for u in pr["trials"]
                     if u["trial"] < t["trial"] and len(u["folds"]) >= k)
        n = len(ref)
        med = ref[n // 2] if n % 2 else (ref[n // 2 - 1] + ref[n // 2]) / 2
        assert n >= 5 and sum(f) / k < med, (t["trial"], sum(f) / k, med, n)
    else:
        assert len(f) == 5 and t["score"] == by[t["trial"]]["score"], t
assert pr["best"]["trial"] == full["best"]["trial"], (pr["best"]["trial"], full["best"]["trial"])
P
grep -q 'pruned after' <("$KILN" tune --data "$DATA/vehicle.csv" --target Class --model gbdt \
    --folds 5 --seed 3 --space "$W/space.yaml" --trials 7 --param n_estimators=20 --prune 2>&1) ||
    fail "the trials table does not show a pruned trial"
run t1 tpe 1 12 --prune
if ! sanitized; then
    run t2 tpe 2 12 --prune
    cmp -s "$W/t1" "$W/t2" || fail "tpe --prune: --jobs 1 and 2 differ: $(diff "$W/t1" "$W/t2" | head -c 600)"
fi
grep -q '"pruned"' "$W/t1" || fail "tpe --prune pruned nothing"
# resume: 10 trials, then on to 20, as the uninterrupted search
run r1 random 2 10 --prune --trials-file "$W/trials.jsonl"
run r2 random 2 20 --prune --resume "$W/trials.jsonl"
$py - "$W/r2" "$W/p1" <<'P' || fail "a resumed --prune search differs from the uninterrupted one"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
strip = lambda j: [{k: v for k, v in t.items() if k not in ("train", "verdict", "seconds", "cpu_seconds", "cost")} for t in j["trials"]]
assert strip(a) == strip(b), (strip(a), strip(b))
P
"$KILN" tune --data "$DATA/vehicle.csv" --target Class --model gbdt --folds 5 --seed 3 \
    --space "$W/space.yaml" --trials 20 --param n_estimators=20 --resume "$W/trials.jsonl" \
    > /dev/null 2>"$W/noprune.err" && fail "resuming a --prune search without --prune worked"
grep -q -- '--prune' "$W/noprune.err" || fail "no hint to --prune: $(cat "$W/noprune.err")"
echo OK
