#!/bin/bash
# profile_test.sh BUILD NAME...: runs each integration test NAME (test_x or x)
# by hand against BUILD's kiln, one at a time, and prints where its time went:
# total wall and CPU seconds (user+sys of the whole test), and those of its
# kiln calls and its $py calls (tests/tools/profile_call.sh). No warm python
# answers here (KILN_PYREF is unset): each $py script pays its own imports
# (about 1 CPU second for scikit-learn), so the py share is an upper bound.
# BUILD's CMakeCache says whether it is a sanitizer build.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: profile_test.sh BUILD NAME...}" && pwd)
shift
san=0
grep -q '^KILN_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" && san=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-28s %8s %8s | %5s %8s %8s | %5s %8s %8s\n' test wall cpu kiln wall cpu py wall cpu
for name in "$@"; do
    name=test_${name#test_}
    prof=$out/$name.prof
    : > "$prof"
    rc=0
    env -u KILN_PYREF KILN="$build/kiln" KILN_TEST_DATA="$root/tests/data" KILN_SANITIZED=$san \
        METRICS_PROBE="$build/tests/metrics_probe" STORE_FILL="$build/tests/store_fill" KILN_TEST_PROFILE="$prof" \
        /usr/bin/time -f '%e %U %S' -o "$out/$name.time" \
        bash "$root/tests/integration/$name.sh" > "$out/$name.log" 2>&1 || rc=$?
    read -r wall user sys < <(tail -n 1 "$out/$name.time")
    awk -v n="$name" -v w="$wall" -v c="$(echo "$user + $sys" | bc)" -v rc="$rc" '
        { k[$1]++; kw[$1] += $2; kc[$1] += $3 }
        END { printf "%-28s %8.1f %8.1f | %5d %8.1f %8.1f | %5d %8.1f %8.1f%s\n", n, w, c,
              k["kiln"], kw["kiln"], kc["kiln"], k["py"], kw["py"], kc["py"], rc == 0 ? "" : "  (exit " rc ")" }' "$prof"
    if [ -n "${PROFILE_KEEP:-}" ]; then cp "$prof" "$PROFILE_KEEP/$name.$(basename "$build").prof"; fi
done
