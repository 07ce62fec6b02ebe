#!/bin/bash
# A write interrupted by SIGINT, SIGTERM or SIGHUP removes its temporary
# file, leaves the target as it was (absent, or its old contents), and the
# process dies of the signal (exit status 128 + signal), as shells expect.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
set -m # background jobs keep SIGINT (without job control bash ignores it there)
rows=2000000
[ -n "${KILN_SANITIZED:-}" ] && rows=400000
"$KILN" --quiet demo --dataset churn --out "$W/d" --rows $rows > /dev/null
echo "old contents" > "$W/kept.csv"

# interrupt SIGNAL TARGET: start a conversion to TARGET, send the signal
# once its temporary file exists, and check what is left.
interrupt() {
    local sig=$1 target=$2 before
    before=$(cat "$target" 2> /dev/null || true)
    "$KILN" --quiet convert "$W/d/demo.csv" "$target" & local pid=$!
    local seen=0
    for _ in $(seq 1 3000); do
        if compgen -G "$target.tmp.*" > /dev/null; then seen=1; break; fi
        kill -0 $pid 2> /dev/null || break
        sleep 0.01
    done
    [ $seen = 1 ] || fail "$sig: the temporary file of $target never appeared"
    kill -s "$sig" $pid
    local rc=0
    wait $pid || rc=$?
    local want=$((128 + $(kill -l "$sig")))
    [ $rc = $want ] || fail "$sig: exit status $rc, expected $want"
    compgen -G "$target.tmp.*" > /dev/null && fail "$sig: $(ls "$target".tmp.*) left behind"
    [ "$(cat "$target" 2> /dev/null || true)" = "$before" ] || fail "$sig: $target changed"
}
interrupt INT "$W/out.jsonl"
interrupt TERM "$W/out.arff"
interrupt HUP "$W/kept.csv"
[ "$(cat "$W/kept.csv")" = "old contents" ] || fail "the old file was replaced"
ls "$W" | grep -q tmp && fail "temporary files left: $(ls "$W")"
echo "signals: temporary files removed on INT, TERM and HUP; targets untouched"
