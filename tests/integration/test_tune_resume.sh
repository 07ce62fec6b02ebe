#!/bin/bash
# A kiln tune stopped by SIGINT keeps its finished trials: it reports them
# (exit 130) and its --trials-file holds one JSON line per trial; --resume
# continues the search from that file, runs only the missing trials (on
# another --jobs count too) and ends with the trials of an uninterrupted
# run; a larger --trials extends it. A line cut short by a kill -9 is dropped; a file of another search
# is refused.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"

printf 'learning_rate: {log: [0.01, 0.3]}\nmax_leaves: {int: [4, 64]}\n' > "$W/space.yaml"
args=(--data "$DATA/concrete.csv" --target compressive_strength --model gbdt --folds 3 --seed 5
      --space "$W/space.yaml" --strategy tpe --param n_estimators=60)
strip() { # the trials without their timings
    $py -c '
import json, sys
j = json.load(sys.stdin)
print(json.dumps([{k: v for k, v in t.items() if k not in ("seconds", "cpu_seconds", "cost")} for t in j["trials"]]))'
}
"$KILN" tune "${args[@]}" --trials 16 --json 2>/dev/null | strip > "$W/whole"

"$KILN" tune "${args[@]}" --trials 16 --trials-file "$W/t.jsonl" > "$W/out" 2> "$W/err" &
pid=$!
for _ in $(seq 600); do
    [ -f "$W/t.jsonl" ] && [ "$(wc -l < "$W/t.jsonl")" -ge 4 ] && break
    sleep 0.05
done
kill -INT $pid
rc=0; wait $pid || rc=$?
[ "$rc" = 130 ] || fail "SIGINT: rc $rc, $(cat "$W/err")"
grep -q "stopped: interrupted after" "$W/out" || fail "no report of the finished trials: $(cat "$W/out")"
done_lines=$(($(wc -l < "$W/t.jsonl") - 1))
[ "$done_lines" -ge 3 ] && [ "$done_lines" -lt 16 ] || fail "$done_lines trials in the file"
cp "$W/t.jsonl" "$W/first.jsonl"
printf '{"trial": 99, "params": {"learn' >> "$W/t.jsonl" # a kill -9 mid-write

"$KILN" tune "${args[@]}" --trials 16 --resume "$W/t.jsonl" --jobs 2 --json 2>/dev/null > "$W/resumed.json"
strip < "$W/resumed.json" > "$W/resumed"
cmp -s "$W/whole" "$W/resumed" || fail "resumed trials differ from an uninterrupted run"
[ "$(wc -l < "$W/t.jsonl")" = 17 ] || fail "the file has $(wc -l < "$W/t.jsonl") lines, not 1 + 16"
head -c "$(stat -c %s "$W/first.jsonl")" "$W/t.jsonl" | cmp -s - "$W/first.jsonl" ||
    fail "the earlier trials' lines changed"
# the earlier trials were not run again: their timings are the file's
$py - "$W/first.jsonl" "$W/resumed.json" <<'PY' || fail "earlier trials ran again"
import json, sys
first = [json.loads(l) for l in open(sys.argv[1])][1:]
resumed = {t["trial"]: t for t in json.load(open(sys.argv[2]))["trials"]}
for t in first:
    assert resumed[t["trial"]]["seconds"] == t["seconds"], t["trial"]
    assert resumed[t["trial"]]["cost"] == t["cost"], t["trial"]
PY
$py -c 'import json, sys; assert json.load(sys.stdin)["best"]["verdict"]["evidence"]' \
    < "$W/resumed.json" || fail "no verdict for the best trial after a resume"
# a larger budget extends a TPE search: the first 16 trials stay as they were
"$KILN" tune "${args[@]}" --resume "$W/t.jsonl" --trials 18 --json 2>/dev/null | strip > "$W/more"
$py - "$W/whole" "$W/more" <<'PY' || fail "extending the search changed its trials"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert len(b) == 18 and b[:16] == a, (len(b))
PY
expect "written by another search (its seed differs)" 1 "$KILN" tune "${args[@]/#5/6}" \
    --trials 16 --resume "$W/t.jsonl"
echo OK
