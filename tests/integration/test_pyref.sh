#!/bin/bash
# $py (tests/tools/py; pyref_client.py behind it) behaves as python3 does,
# whether the warm python of the ctest fixture answers it (scripts that import numpy, pandas,
# scipy, scikit-learn, ...) or a fresh one (any other script, or no fixture):
# arguments, standard input and output, working folder, environment, exit
# codes, a signal passed on, and a file left unclosed still written in full.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$W"
if [ -n "${KILN_PYREF:-}" ] && [ ! -S "$KILN_PYREF" ]; then
    fail "KILN_PYREF=$KILN_PYREF: no warm python there (the ctest fixture pyref_start)"
fi
for path in light heavy; do
    imp=""
    [ $path = heavy ] && imp="import numpy"
    out=$(printf '%s\nimport os, sys\nprint(sys.argv, os.getcwd(), os.environ["MY_VAR"], os.environ["OMP_NUM_THREADS"], __name__)\n' "$imp" |
        MY_VAR=seen $py - a 'b c')
    [ "$out" = "['-', 'a', 'b c'] $(pwd -P) seen 1 __main__" ] || fail "$path: script from stdin: $out"
    [ "$(echo 'x y' | $py -c "$imp
import sys; print(sys.stdin.read().split(), sys.argv[1:])" q)" = "['x', 'y'] ['q']" ] ||
        fail "$path: -c with standard input"
    printf '%s\nimport sys\nprint(sys.argv[1:], __name__)\n' "$imp" > s.py
    [ "$($py s.py 1 2)" = "['1', '2'] __main__" ] || fail "$path: a script file"
    rc=0
    $py -c "$imp
import sys; sys.exit(3)" || rc=$?
    [ $rc = 3 ] || fail "$path: sys.exit(3) gave $rc"
    rc=0
    $py -c "$imp
raise ValueError('boom')" 2> err || rc=$?
    [ $rc = 1 ] && grep -q "ValueError: boom" err || fail "$path: an exception: rc $rc, $(cat err)"
    rc=0
    $py -c "$imp
import sys; sys.exit('a message')" 2> err || rc=$?
    [ $rc = 1 ] && grep -q "a message" err || fail "$path: sys.exit(str): rc $rc"
    # a file the script never closes is complete once it has ended
    printf '%s\nimport csv, sys\nw = csv.writer(open(sys.argv[1], "w", newline=""))\nfor i in range(20000): w.writerow([i, i * i])\n' "$imp" |
        $py - big.csv
    [ "$(wc -l < big.csv)" = 20000 ] || fail "$path: an unclosed file lost lines: $(wc -l < big.csv)"
    # a signal to $py reaches the script
    rm -f started
    $py -c "$imp
import time; open('started', 'w').close(); time.sleep(60)" &
    pid=$!
    for _ in $(seq 200); do [ -e started ] && break; sleep 0.05; done
    kill "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ $rc = 143 ] || fail "$path: SIGTERM: rc $rc"
done
# under ctest, a heavy script (from stdin, -c or a file) is answered by the
# warm python (pandas already imported), a light one by a fresh python3
if [ -n "${KILN_PYREF:-}" ]; then
    warm='import sys
warm = "pandas" in sys.modules
import numpy
print(warm)'
    printf '%s\n' "$warm" > warm.py
    [ "$(echo "$warm" | $py -)$($py -c "$warm")$($py warm.py)" = TrueTrueTrue ] ||
        fail "a heavy script was not answered by the warm python"
    # numpy named later in an import's list, or after a ';' (tools/py)
    listed='import json, sys, numpy as np
print("pandas" in sys.modules)'
    [ "$(echo "$listed" | $py -)$($py -c "$listed")$($py -c 'import sys; import scipy; print("pandas" in sys.modules)')" = TrueTrueTrue ] ||
        fail "a script importing numpy after other modules was not answered by the warm python"
    [ "$(printf 'import sys\nprint("pandas" in sys.modules)\n' | $py -)" = False ] ||
        fail "a light script went to the warm python"
fi
echo "pyref: \$py behaves as python3 (light and heavy scripts)"
