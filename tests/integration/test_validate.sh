#!/bin/bash
# kiln schema infer / kiln validate end to end with the real binary: a schema
# inferred from concrete.csv accepts it; a copy with planted bad rows is
# reported rule by rule, and no row is lost: rows read = kept + skipped +
# quarantined by the reader + dropped + quarantined by the schema, with the
# kept and quarantined rows counted in the files written.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
DATA=${KILN_TEST_DATA:?tests/data}
. "$(dirname "$0")/lib.sh"
lines() { wc -l < "$1" | tr -d ' '; }

"$KILN" -q schema infer "$DATA/concrete.csv" -o "$W/schema.yaml"
grep -q "name: 'cement'" "$W/schema.yaml" || fail "schema lacks cement"
"$KILN" validate "$DATA/concrete.csv" --schema "$W/schema.yaml" > "$W/clean.txt" ||
    fail "the data the schema came from does not validate"
grep -q "0 violations" "$W/clean.txt" || fail "clean report: $(cat "$W/clean.txt")"

# a contract: ages 1..365 days, water below 250, strength present
cat > "$W/contract.yaml" <<'YAML'
version: 1
on_violation: quarantine
columns:
  - {name: cement, type: numeric, min: 0}
  - {name: water, type: numeric, max: 250, on_violation: drop}
  - {name: age, type: numeric, min: 1, max: 365}
  - {name: compressive_strength, type: numeric, max_missing: 0}
YAML
# plant: 2 malformed rows (reader), 3 over-age, 2 missing strength, 4 too wet
$py - "$DATA/concrete.csv" "$W/planted.csv" <<'PY'
import sys
rows = open(sys.argv[1]).read().splitlines()
head, body = rows[0], rows[1:]
cols = head.split(",")
age, water, strength = cols.index("age"), cols.index("water"), cols.index("compressive_strength")
def edit(i, j, v):
    r = body[i].split(","); r[j] = v; body[i] = ",".join(r)
for i in (10, 20, 30): edit(i, age, "400")
for i in (40, 50): edit(i, strength, "")
for i in (60, 70, 80, 90): edit(i, water, "300")
body[100] = body[100] + ",extra"          # ragged
edit(110, age, "twelve")                  # not a number
open(sys.argv[2], "w").write("\n".join([head] + body) + "\n")
PY
rc=0
"$KILN" validate "$W/planted.csv" --schema "$W/contract.yaml" --on-bad-rows quarantine \
    --quarantine "$W/bad.csv" --rejects "$W/invalid.csv" --out "$W/kept.csv" --json \
    > "$W/v.json" || rc=$?
[ "$rc" = 0 ] || fail "validate with drop/quarantine policies exited $rc"
$py - "$W/v.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = {(x["column"], x["rule"]): x for x in d["violations"]}
assert v[("age", "max")]["count"] == 3 and v[("age", "max")]["example_rows"][0] == 11, v
assert v[("compressive_strength", "missing")]["count"] == 2, v
assert v[("water", "max")]["count"] == 4 and v[("water", "max")]["policy"] == "drop", v
assert d["rows_dropped"] == 4 and d["rows_quarantined"] == 5, d
r = d["read"]
assert r["rows_read"] == 1030 and r["rows_quarantined"] == 2, r
assert r["rows_read"] == d["rows_kept"] + r["rows_skipped"] + r["rows_quarantined"] \
    + d["rows_dropped"] + d["rows_quarantined"], d
PY
# the files hold what the report says
[ "$(lines "$W/kept.csv")" = $((1030 - 2 - 4 - 5 + 1)) ] || fail "kept.csv has $(lines "$W/kept.csv") lines"
[ "$(lines "$W/invalid.csv")" = 6 ] || fail "invalid.csv has $(lines "$W/invalid.csv") lines"
[ "$(lines "$W/bad.csv")" = 3 ] || fail "bad.csv has $(lines "$W/bad.csv") lines"
grep -q "age max: value above the maximum 365" "$W/invalid.csv" || fail "invalid.csv reason"
grep -q "twelve" "$W/bad.csv" || fail "bad.csv keeps the row verbatim"

# default policy fail: exit 1 with the rules listed; usage errors exit 2
sed -i 's/^on_violation: quarantine/on_violation: fail/' "$W/contract.yaml"
rc=0
"$KILN" validate "$W/planted.csv" --schema "$W/contract.yaml" --on-bad-rows skip > "$W/f.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "violations with policy fail exited $rc"
grep -q "age .*max .*3 rows .*(rows 11, 21, 31) \[fail\]" "$W/f.txt" || fail "report: $(cat "$W/f.txt")"
rc=0
"$KILN" validate "$W/planted.csv" > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "missing --schema exited $rc"
printf 'columns:\n  - {name: a, type: numeric, colour: red}\n' > "$W/bad.yaml"
rc=0
"$KILN" validate "$W/planted.csv" --schema "$W/bad.yaml" 2> "$W/e.txt" || rc=$?
[ "$rc" = 3 ] && grep -q "bad.yaml:2:30: unknown column key 'colour'" "$W/e.txt" ||
    fail "bad schema: rc $rc, $(cat "$W/e.txt")"
echo "validate: all passed"
