#!/bin/bash
# Hyperband (kiln tune --strategy hyperband, a spec's strategy: hyperband):
# brackets s = s_max..0 of successive halving over n_estimators, bracket s
# starting ceil((s_max + 1) / (s + 1) * eta^s) configurations at R / eta^s,
# s_max = floor(log_eta R) bounded by floor(log_eta --trials); within a bracket
# the best ceil(n / eta) of a rung go on. The counts and resources are checked
# against that formula, the best is the best at R over all brackets and is
# refitted; the same JSON (less timings) on 1 and 2 jobs; bad input fails
# before the data is read.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
data=$KILN_TEST_DATA/wine.csv
printf 'learning_rate: {log: [0.02, 0.3]}\nmax_leaves: {int: [4, 32]}\n' > "$W/space.yaml"
tune=(tune --data "$data" --target class --model gbdt --space "$W/space.yaml" --folds 3 --seed 4
    --strategy hyperband)
# R = 9, eta 3: s_max 2 (--trials 40 would allow 3); then R = 20, eta 2 (R
# would allow 4): --trials 4 bounds s_max to 2
for j in 1 2; do
    "$KILN" -q --threads 2 --json "${tune[@]}" --param n_estimators=9 --trials 40 --jobs $j \
        --out "$W/best$j.kiln" > "$W/hb$j.json" 2> "$W/err" ||
        fail "hyperband, --jobs $j: $(cat "$W/err")"
done
"$KILN" -q --json "${tune[@]}" --param n_estimators=20 --eta 2 --trials 4 > "$W/hb_eta2.json" \
    2> "$W/err" || fail "hyperband, eta 2: $(cat "$W/err")"
$py - "$W/hb1.json" "$W/hb2.json" "$W/hb_eta2.json" << 'PY' || fail "hyperband's brackets"
import json, math, sys
a, b, c = (json.load(open(p)) for p in sys.argv[1:])

def expected(R, eta, trials):
    """(bracket, rung, resource, count) in run order, from Li et al.'s formula."""
    s_max = min(math.floor(math.log(R) / math.log(eta) + 1e-9),
                math.floor(math.log(trials) / math.log(eta) + 1e-9))
    out = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * eta ** s - 1e-9)
        for r in range(s + 1):
            out.append((s, r, round(R * eta ** (r - s)), n))
            n = math.ceil(n / eta)
    return out

def check(j, R, eta, trials):
    t = j["trials"]
    assert j["strategy"] == "hyperband", j["strategy"]
    assert [x["trial"] for x in t] == list(range(len(t))), "trial ids"
    assert all(x["status"] == "ok" for x in t), [x["status"] for x in t]
    got, i = [], 0
    while i < len(t):  # runs of the same (bracket, rung), in order
        k = i
        while k < len(t) and (t[k]["bracket"], t[k]["rung"]) == (t[i]["bracket"], t[i]["rung"]):
            k += 1
        res = {x["resource"] for x in t[i:k]}
        assert len(res) == 1, res
        got.append((t[i]["bracket"], t[i]["rung"], res.pop(), k - i))
        i = k
    want = expected(R, eta, trials)
    assert got == want, (got, want)
    # within a bracket, the next rung's configurations are the rung's best
    key = lambda x: tuple(sorted(x["params"].items()))
    start = 0
    for n, (s, r, _, count) in enumerate(want):
        rung = t[start:start + count]
        if r < s:
            best = sorted(rung, key=lambda x: (-x["score"], x["trial"]))[:want[n + 1][3]]
            nxt = t[start + count:start + count + want[n + 1][3]]
            assert sorted(map(key, best)) == sorted(map(key, nxt)), (s, r)
        start += count
    # brackets draw different configurations
    first = [key(x) for x in t if x["rung"] == 0]
    assert len(set(first)) == len(first), "a configuration repeats across brackets"
    # the best at the largest resource, over all brackets
    top = [x for x in t if x["resource"] == R]
    best = max(top, key=lambda x: (x["score"], -x["trial"]))
    assert j["best"]["trial"] == best["trial"], (j["best"]["trial"], best["trial"])
    assert j["best"]["resource"] == R, j["best"]
    assert len({x["bracket"] for x in top}) == want[0][0] + 1, "every bracket reaches R"

check(a, 9, 3, 40)
check(c, 20, 2, 4)
assert len(a["trials"]) == 23 and len(c["trials"]) == 15, (len(a["trials"]), len(c["trials"]))
# the refit of the best: scored once on the held-out rows
assert a["test"]["rows"] == 36 and 0.8 < a["test"]["score"] <= 1, a["test"]

def strip(j):  # less what the clock decides
    if isinstance(j, dict):
        return {k: strip(v) for k, v in j.items()
                if k not in ("seconds", "cpu_seconds", "cost", "stages")}
    if isinstance(j, list):
        return [strip(v) for v in j]
    return j
assert strip(a) == strip(b), "1 and 2 jobs differ"
PY
# the saved refit predicts as the best pipeline: the same on both runs
for j in 1 2; do
    "$KILN" -q predict --model "$W/best$j.kiln" --data "$data" --out "$W/p$j.csv" 2> "$W/err" ||
        fail "predict with the refitted best: $(cat "$W/err")"
done
cmp -s "$W/p1.csv" "$W/p2.csv" || fail "the refits of 1 and 2 jobs predict differently"
[ "$(wc -l < "$W/p1.csv")" = 179 ] || fail "predictions of the refitted best"

# the first search stopped early (--max-time) and resumed: the same trials and best
small=("${tune[@]}" --param n_estimators=9 --trials 40)
"$KILN" -q --json "${small[@]}" --max-time 0.01 --trials-file "$W/t.jsonl" > /dev/null \
    2> "$W/err" || fail "hyperband with a trials file: $(cat "$W/err")"
[ "$(wc -l < "$W/t.jsonl")" -lt 24 ] || fail "--max-time did not stop the search early"
"$KILN" -q --json "${small[@]}" --resume "$W/t.jsonl" > "$W/resumed.json" 2> "$W/err" ||
    fail "hyperband resumed: $(cat "$W/err")"
$py - "$W/resumed.json" "$W/hb1.json" << 'PY' || fail "hyperband resumed differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
key = lambda j: [(t["trial"], t["bracket"], t["rung"], t["params"], t["score"])
                 for t in j["trials"]]
assert len(a["trials"]) == 23 and key(a) == key(b), (key(a), key(b))
assert a["best"]["trial"] == b["best"]["trial"], (a["best"], b["best"])
PY

# a spec's search: strategy hyperband, the best's n_estimators chosen at R
cat > "$W/spec.yaml" << EOF
sources:
  rows: {file: $data}
target: class
model:
  name: gbdt
  params: {n_estimators: 9}
  search:
    strategy: hyperband
    trials: 3
    cv: 3
    space: {learning_rate: {log: [0.02, 0.3]}}
seed: 2
EOF
"$KILN" -q --json run "$W/spec.yaml" --no-store --out "$W/spec.kiln" > "$W/run.json" \
    2> "$W/err" || fail "hyperband in a spec: $(cat "$W/err")"
$py - "$W/run.json" << 'PY' || fail "hyperband in a spec: $(head -c 600 "$W/run.json")"
import json, sys
s = json.load(open(sys.argv[1]))["search"]
t = s["trials"]
runs = [(x["bracket"], x["rung"], x["resource"]) for x in t]
# s_max 1 (trials 3 = 3^1): brackets 3 at 3, then 1 at 9; 2 at 9
want = [(1, 0, 3)] * 3 + [(1, 1, 9)] + [(0, 0, 9)] * 2
assert runs == want, runs
assert s["best"]["params"]["n_estimators"] == "9", s["best"]
PY

# bad input: a clear error before the data is read (nowhere.csv does not exist)
bad=(tune --data "$W/nowhere.csv" --target class --model gbdt --strategy hyperband)
expect "eta 1: must be between 1.5 and 100" 2 "$KILN" "${bad[@]}" --space "$W/space.yaml" --eta 1
expect "resource max_iter: not an integer parameter of gbdt" 2 "$KILN" "${bad[@]}" \
    --space "$W/space.yaml" --resource max_iter
printf 'n_estimators: {int: [5, 50]}\n' > "$W/grown.yaml"
expect "n_estimators is hyperband's resource" 2 "$KILN" "${bad[@]}" --space "$W/grown.yaml"
expect "prune goes with random, grid and tpe; hyperband" 2 "$KILN" "${bad[@]}" \
    --space "$W/space.yaml" --prune
sed -e 's|file: .*}|file: nowhere.csv}|' -e 's/    cv: 3/    eta: 1/' "$W/spec.yaml" > "$W/bad.yaml"
expect "bad.yaml:10:10: eta: 1 is outside \[1.5, 100\]" 1 \
    "$KILN" run "$W/bad.yaml" --no-store --out "$W/b.kiln"
sed -e 's|file: .*}|file: nowhere.csv}|' -e 's/    cv: 3/    resource: C/' "$W/spec.yaml" \
    > "$W/bad.yaml"
expect "resource: 'C' is not an integer parameter of gbdt" 1 \
    "$KILN" run "$W/bad.yaml" --no-store --out "$W/b.kiln"
echo "tune hyperband: ok"
