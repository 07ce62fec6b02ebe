#!/bin/bash
# ref_cached (lib.sh): a reference script's output is kept and given back
# while its text, its input files' bytes, its other arguments and the Python
# libraries stay the same, and recomputed when any of them changes; a failed
# script leaves nothing kept; a folder as an argument is refused;
# KILN_REF_CACHE=off keeps nothing past the test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$W"
export KILN_REF_CACHE=$W/kept
export PROBE=$W/runs # each run of the script adds a line here (not part of the key)
: > "$PROBE"
script='import os, sys
open(os.environ["PROBE"], "a").write("run\n")
print(open(sys.argv[1]).read().strip().upper(), sys.argv[2])'
runs() { wc -l < "$PROBE"; }
echo "first" > in.txt
check() { # want output, want runs, args...
    local want=$1 n=$2 got
    shift 2
    got=$(ref_cached "$@" <<< "$script" 2> err) || fail "ref_cached $*: $(cat err)"
    [ "$got" = "$want" ] || fail "ref_cached $*: '$got', not '$want'"
    [ "$(runs)" = "$n" ] || fail "ref_cached $*: the script ran $(runs) times, not $n"
}
check "FIRST a" 1 in.txt a
check "FIRST a" 1 in.txt a # kept
grep -q "reference output kept in $W/kept/" err || fail "a kept output is not announced: $(cat err)"
check "FIRST b" 2 in.txt b   # another argument
cp in.txt moved.txt
check "FIRST a" 2 moved.txt a # the same bytes elsewhere: kept
echo "second" > in.txt
check "SECOND a" 3 in.txt a # the file changed
script="$script  # another text"
check "SECOND a" 4 in.txt a # the script changed
# the libraries are part of the key
[ -s "$W/ref-cache.libs" ] || fail "no record of the libraries' versions"
grep -q '^numpy ' "$W/ref-cache.libs" || fail "numpy's version is not in the key: $(cat "$W/ref-cache.libs")"
echo "numpy 0.0 elsewhere" >> "$W/ref-cache.libs"
check "SECOND a" 5 in.txt a
# a failed script: its status, nothing kept
rc=0
ref_cached in.txt c <<< 'import sys; print("partial"); sys.exit(3)' > out 2> /dev/null || rc=$?
[ $rc = 3 ] || fail "a failed script gave status $rc"
[ "$(ls kept | wc -l)" = 5 ] || fail "a failed script's output was kept: $(ls kept)"
# a folder is refused
rc=0
(ref_cached "$W" a <<< "$script") > /dev/null 2> err || rc=$?
[ $rc != 0 ] && grep -q "is a folder: pass the files the script reads" err || fail "a folder argument: rc $rc, $(cat err)"
# off: nothing kept past the test, but the same inputs twice still run once
export KILN_REF_CACHE=off
check "SECOND d" 6 in.txt d
check "SECOND d" 6 in.txt d
[ -d "$W/ref-cache" ] || fail "KILN_REF_CACHE=off: no per-test folder"
echo "ref_cached: ok"
