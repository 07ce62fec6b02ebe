#!/bin/bash
# profile_summary.sh FILE: the calls that KILN_TEST_PROFILE=FILE recorded
# (tests/tools/profile_call.sh), summed: kiln and py calls, wall seconds,
# CPU seconds (a $py script answered by the warm python runs in the
# server's process: its CPU is not counted, its wall is), and the 8 longest.
set -euo pipefail
f=${1:?usage: profile_summary.sh FILE}
awk '{ n[$1]++; w[$1] += $2; c[$1] += $3 }
    END { for (t in n) printf "%-5s %4d calls  wall %8.2f s  cpu %8.2f s\n", t, n[t], w[t], c[t] }' "$f"
echo "longest:"
sort -k2,2 -g -r "$f" | head -n 8 | cut -c 1-150
