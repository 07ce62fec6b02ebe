#!/bin/bash
# kiln tune's time budget and its thread accounting:
#   - --max-time starts no trial after the limit (the first trial always
#     runs): 500 trials asked, a few run, the output and --json say why
#     (the space holds 160 configurations, fewer than 500: the reason given
#     is still the time, not "no more distinct configurations");
#   - --jobs above --threads is capped at the threads (each trial's folds on
#     its one thread), said in an info line, with the results of --jobs 1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
data=$KILN_TEST_DATA/wine.csv
printf 'max_depth: {int: [1, 8]}\nmin_samples_leaf: {int: [1, 20]}\n' > "$W/space.yaml"
tune=(tune --data "$data" --target class --model decision_tree --space "$W/space.yaml"
    --folds 3 --seed 4 --test-fraction 0)
"$KILN" "${tune[@]}" --trials 500 --max-time 0.001 > "$W/time.txt" 2> /dev/null ||
    fail "--max-time: $(cat "$W/time.txt")"
n=$(sed -n 's/^stopped: --max-time reached after \([0-9]*\) trials$/\1/p' "$W/time.txt")
[ -n "$n" ] && [ "$n" -ge 1 ] && [ "$n" -lt 500 ] || fail "--max-time not said: $(tail -3 "$W/time.txt")"
"$KILN" -q --json "${tune[@]}" --trials 500 --max-time 0.001 > "$W/time.json"
$py -c 'import json, sys; j = json.load(open(sys.argv[1])); assert j["stopped"] == "max-time" and 1 <= len(j["trials"]) < 500, j["stopped"]' \
    "$W/time.json" || fail "--max-time in --json"
# jobs capped at the threads, same trials and scores as one job
"$KILN" --threads 2 -q --json "${tune[@]}" --trials 6 --jobs 1 > "$W/j1.json"
"$KILN" --threads 2 --json "${tune[@]}" --trials 6 --jobs 4 > "$W/j4.json" 2> "$W/j4.err"
grep -q "4 trials at a time would oversubscribe 2 threads: running 2" "$W/j4.err" ||
    fail "--jobs 4 on 2 threads: $(grep -v 'trial [0-9]*:' "$W/j4.err" | head -5)"
$py - "$W/j1.json" "$W/j4.json" << 'PY' || fail "--jobs 4 differs from --jobs 1"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
key = lambda j: [(t["trial"], t["params"], t["score"], t["folds"]) for t in j["trials"]]
assert key(a) == key(b), (key(a), key(b))
PY
echo "tune budgets: ok"
