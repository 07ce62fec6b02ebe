#!/bin/bash
# $py (tests/tools/pyref_client.py) behaves as python3 does, whether the warm
# python of the ctest fixture answers it or a fresh one: arguments, standard
# input and output, working folder, environment, exit codes, a signal passed
# on, and a file left unclosed by the script still written in full.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$W"
if [ -n "${KILN_PYREF:-}" ] && [ ! -S "$KILN_PYREF" ]; then
    fail "KILN_PYREF=$KILN_PYREF: no warm python there (the ctest fixture pyref_start)"
fi

out=$(MY_VAR=seen $py - a 'b c' <<'PY'
import os, sys
print(sys.argv, os.getcwd(), os.environ["MY_VAR"], os.environ["OMP_NUM_THREADS"], __name__)
PY
)
[ "$out" = "['-', 'a', 'b c'] $(pwd -P) seen 1 __main__" ] || fail "script from stdin: $out"
[ "$(echo 'x y' | $py -c 'import sys; print(sys.stdin.read().split(), sys.argv[1:])' q)" = \
    "['x', 'y'] ['q']" ] || fail "-c with standard input"
printf 'import sys\nprint(sys.argv[1:], __name__)\n' > s.py
[ "$($py s.py 1 2)" = "['1', '2'] __main__" ] || fail "a script file"
rc=0
$py -c 'import sys; sys.exit(3)' || rc=$?
[ $rc = 3 ] || fail "sys.exit(3) gave $rc"
rc=0
$py -c 'raise ValueError("boom")' 2> err || rc=$?
[ $rc = 1 ] && grep -q "ValueError: boom" err || fail "an exception: rc $rc, $(cat err)"
rc=0
$py -c 'import sys; sys.exit("a message")' 2> err || rc=$?
[ $rc = 1 ] && grep -q "a message" err || fail "sys.exit(str): rc $rc"
# a file the script never closes is complete once it has ended
$py - big.csv <<'PY'
import csv, sys
w = csv.writer(open(sys.argv[1], "w", newline=""))
for i in range(20000): w.writerow([i, i * i])
PY
[ "$(wc -l < big.csv)" = 20000 ] || fail "an unclosed file lost lines: $(wc -l < big.csv)"
# a signal to $py reaches the script
$py -c 'import time; open("started", "w").close(); time.sleep(60)' &
pid=$!
for _ in $(seq 100); do [ -e started ] && break; sleep 0.05; done
kill "$pid"
rc=0
wait "$pid" || rc=$?
[ $rc = 143 ] || fail "SIGTERM: rc $rc"
echo "pyref: \$py behaves as python3"
