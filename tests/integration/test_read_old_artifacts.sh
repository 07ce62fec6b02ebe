#!/bin/bash
# Things fitted before Kiln recorded its reader settings read new data as
# they did then (the missing tokens of that time, KN_READ_MISSING_V1), in
# every command that reads data for them: the outputs of kiln at commit
# b11dd55 (main before the pandas-like missing tokens were merged) kept in
# tests/data (na_tokens_v1.*, see its README) are what this kiln gives:
# predict (test_missing_defaults.sh), eval, monitor check (--data and
# --reference) with the old artifact, and transform with an old steps file.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(cd "$(dirname "$0")/../data" && pwd)"
cd "$W"
cp "$D/na_tokens.csv" na_tokens.csv
same_json() { # same_json OLD NEW: equal but for the stage records and the model's path, numbers to 1e-9
    $py - "$1" "$2" <<'PY'
import json, math, sys
def same(a, b, at):
    if isinstance(a, dict) and isinstance(b, dict):
        keys = (set(a) | set(b)) - {"stages", "model_file", "model"}  # where the tree is checked out
        for k in keys:
            assert k in a and k in b, (at, k)
            same(a[k], b[k], f"{at}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), (at, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{at}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (at, a, b)
    else:
        assert a == b, (at, a, b)
same(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), "")
PY
}
"$KILN" -q --json eval --model "$D/na_tokens_v1.kiln" --data na_tokens.csv --no-intervals \
    > eval.json 2> e.err || { cat e.err; fail "eval with the old artifact"; }
same_json "$D/na_tokens_v1.eval.json" eval.json || fail "eval: the old artifact's scores changed"
rc=0
"$KILN" -q --json monitor check --model "$D/na_tokens_v1.kiln" --data na_tokens.csv \
    --reference na_tokens.csv > check.json 2> c.err || rc=$?
[ "$rc" -le 1 ] || { cat c.err; fail "monitor check with the old artifact"; }
same_json "$D/na_tokens_v1.check.json" check.json || fail "monitor check: the old artifact's figures changed"
"$KILN" -q transform "$D/na_tokens_v1.kst" na_tokens.csv t.csv 2> t.err ||
    { cat t.err; fail "transform with the old steps file"; }
cmp -s t.csv "$D/na_tokens_v1.transform.csv" ||
    { diff t.csv "$D/na_tokens_v1.transform.csv" | head; fail "transform: the old steps' output changed"; }
"$KILN" inspect "$D/na_tokens_v1.kst" | grep -q "^reader: *not recorded (a steps file before format 4" ||
    { "$KILN" inspect "$D/na_tokens_v1.kst"; fail "inspect: the old steps file's reader"; }
# a steps file saved now records the settings: x's n/a and the like are missing
"$KILN" -q prep na_tokens.csv p.csv --step ordinal_encoder --target y --save new.kst
"$KILN" -q transform new.kst na_tokens.csv t2.csv
cmp -s p.csv t2.csv || fail "transform with a new steps file differs from prep"
head -1 p.csv | grep -q '^x,z,status,y$' || fail "new steps: columns"
cmp -s t2.csv "$D/na_tokens_v1.transform.csv" && fail "new steps read x as the old ones did"
echo "ok"
