#!/bin/bash
# --memory-limit: what 'kiln help memory' states holds. Under a limit a
# command either completes with its peak RSS within the limit + the input
# file's size + 48 MB, or fails with an out-of-memory error naming its stage
# and leaves no output; the stage records give Kiln's own peak, never above
# the limit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$KILN" --quiet demo --dataset churn --out "$W/d" --rows 300000 > /dev/null
in=$W/d/demo.csv
size=$(stat -c %s "$in")
limit=$((300 * 1024 * 1024))
check() { # peak RSS and accounted peak of a --json run's stages
    $py - "$W/out.json" "$limit" "$size" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); limit, size = int(sys.argv[2]), int(sys.argv[3])
for s in d["stages"]:
    assert s["peak_alloc_bytes"] <= limit, s
    assert s["peak_rss_bytes"] <= limit + size + 48 * 2**20, (s, limit, size)
PY
}
runs=("describe $in"
      "convert $in $W/x.kfr"
      "train --data $in --target churned --ignore signup --model gbdt --test-size 0 --out $W/m.kmd"
      "cv --data $in --target churned --ignore signup,plan,region,country --model logistic_regression --step simple_imputer --step standard_scaler --folds 3")
for r in "${runs[@]}"; do
    # shellcheck disable=SC2086
    "$KILN" --json --memory-limit 300M $r > "$W/out.json" 2> "$W/err" || fail "$r: $(cat "$W/err")"
    if [ -z "${KILN_SANITIZED:-}" ]; then # (ASan's shadow memory is resident too)
        check || fail "$r: beyond the bound of 'kiln help memory'"
    fi
done

# too small a limit: a clear error naming the stage, nothing written
rc=0
"$KILN" --memory-limit 8M convert "$in" "$W/y.kfr" 2> "$W/err" || rc=$?
[ $rc = 1 ] || fail "8M limit: exit $rc"
grep -qi "memory" "$W/err" && grep -q "read" "$W/err" || fail "8M limit: $(cat "$W/err")"
[ ! -e "$W/y.kfr" ] && ! compgen -G "$W/y.kfr.tmp*" > /dev/null || fail "8M limit: output left"
grep -q "Not counted" <<< "$("$KILN" help memory)" || fail "kiln help memory"
echo "memory limit: bound held on 4 commands; small limit refused cleanly"
