#!/bin/bash
# Training progress: a line on a terminal for fits longer than about a second
# (round / tree / iteration, elapsed, estimated time left), nothing when
# stderr is not a terminal or with --quiet, and the same events as JSON Lines
# with --log-format json; short fits stay silent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
data=$KILN_TEST_DATA/lending_club.csv
# a fit of a few seconds; the sanitizer build's is several times slower, so
# fewer rounds last as long there
rounds=600 trees=800
if sanitized; then rounds=150 trees=200; fi
long=(train --data "$data" --target Class --model gbdt --param n_estimators=$rounds
      --param max_leaves=63 --test-size 0 --out "$W/m.kmd")

# on a terminal (script(1) gives the command a pseudo-terminal)
script -qec "$(printf '%q ' "$KILN" "${long[@]}")" "$W/tty.txt" > /dev/null ||
    fail "gbdt under a terminal failed: $(tail -3 "$W/tty.txt")"
tr '\r' '\n' < "$W/tty.txt" | grep -Eq "^gbdt: round [0-9]+ of $rounds, "'[0-9.]+ s, about [0-9.]+ s left' ||
    fail "no progress line on a terminal: $(tr '\r' '\n' < "$W/tty.txt" | head -5)"
script -qec "$(printf '%q ' "$KILN" --quiet "${long[@]}")" "$W/quiet.txt" > /dev/null
grep -q 'round' "$W/quiet.txt" && fail "--quiet still shows progress"

# not a terminal: no progress line
"$KILN" "${long[@]}" 2> "$W/err" > /dev/null
grep -q 'round' "$W/err" && fail "progress written where stderr is not a terminal"

# JSON Lines: events with done/total/elapsed/remaining, increasing, ending at the total
"$KILN" --log-format json "${long[@]}" 2> "$W/log.jsonl" > /dev/null
$py - "$W/log.jsonl" "$rounds" <<'PY' || fail "JSON progress events: $(head -3 "$W/log.jsonl")"
import json, sys
ev = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "progress"]
assert len(ev) >= 2, ev
total = int(sys.argv[2])
assert all(e["task"] == "gbdt" and e["unit"] == "round" and e["total"] == total for e in ev), ev
assert [e["done"] for e in ev] == sorted(e["done"] for e in ev), ev
assert all(e["elapsed_s"] >= 1.0 and e["remaining_s"] >= 0 for e in ev), ev
assert ev[-1].get("last") and ev[-1]["done"] == total, ev[-1]
assert all("ts" in e and e["level"] == "info" for e in ev)
PY
"$KILN" --quiet --log-format json "${long[@]}" 2> "$W/q.jsonl" > /dev/null
grep -q progress "$W/q.jsonl" && fail "--quiet still logs progress events"

# a forest grows its trees in parallel: one reporter, counts up to the total
"$KILN" --log-format json train --data "$KILN_TEST_DATA/lending_club.csv" --target Class \
    --ignore term,sub_grade,addr_state,verification_status,emp_length --model random_forest \
    --param n_estimators=$trees --test-size 0 --out "$W/f.kmd" 2> "$W/f.jsonl" > /dev/null
$py - "$W/f.jsonl" "$trees" <<'PY' || fail "forest progress events: $(grep progress "$W/f.jsonl" | head -3)"
import json, sys
ev = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "progress"]
assert ev and ev[-1]["task"] == "random_forest" and ev[-1]["unit"] == "tree", ev
assert ev[-1]["done"] == int(sys.argv[2]) and ev[-1].get("last"), ev[-1]
PY

# a short fit says nothing
"$KILN" --log-format json train --data "$data" --target Class --model gbdt \
    --param n_estimators=5 --out "$W/s.kmd" 2> "$W/s.jsonl" > /dev/null
grep -q progress "$W/s.jsonl" && fail "a short fit reported progress"
echo "progress: terminal line, quiet, JSON events, forest, short fits silent"
