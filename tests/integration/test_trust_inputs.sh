#!/bin/bash
# Inputs that must never give silently wrong results, end to end with the
# real binary: YAML anchors, aliases and merge keys in schemas and prep specs
# mean what the expanded file means (and bad ones fail at file:line:column);
# schema inference records the levels of every text column that is not free
# text, and says which columns it left open; long option values (--types,
# step columns, schema types) are taken whole; describe's table escapes and
# cuts values but stays aligned, and flags infinities; validate's exit codes
# tell violations, usage errors and unreadable input apart.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
cd "$W"

# ---- 1. YAML anchors, aliases, merge keys ----
printf 'a,b,c,d\n1,x,5,p\n2,y,-1,q\n3,zz,4,p\n4,x,0,r\n' > d.csv
cat > alias.yaml <<'YAML'
version: 1
on_violation: &policy fail
columns:
  - &num {name: a, type: numeric, min: &lo 0, max: 2}
  - name: b
    type: categorical
    categories: &cats [x, y]
  - <<: *num
    name: c
  - name: d
    <<: [{type: categorical, categories: *cats}, {type: numeric, required: true}]
    on_violation: *policy
  - {name: e, type: numeric, required: false, min: *lo, max: &lo 10}
  - {name: f, type: numeric, required: false, max: *lo}
YAML
cat > expanded.yaml <<'YAML'
version: 1
on_violation: fail
columns:
  - {name: a, type: numeric, min: 0, max: 2}
  - {name: b, type: categorical, categories: [x, y]}
  - {name: c, type: numeric, min: 0, max: 2}
  - {name: d, type: categorical, categories: [x, y], required: true, on_violation: fail}
  - {name: e, type: numeric, required: false, min: 0, max: 10}
  - {name: f, type: numeric, required: false, max: 10}
YAML
rc=0; "$KILN" --json validate d.csv --schema alias.yaml > alias.json || rc=$?
[ "$rc" = 1 ] || fail "validate with the aliased schema exited $rc"
rc=0; "$KILN" --json validate d.csv --schema expanded.yaml > expanded.json || rc=$?
[ "$rc" = 1 ] || fail "validate with the expanded schema exited $rc"
$py - alias.json expanded.json <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
va, vb = a["violations"], b["violations"]
assert va == vb, (va, vb)
rules = {(v["column"], v["rule"]) for v in va}
# the merged rules of c and d are there, not empty values
assert ("c", "max") in rules and ("c", "min") in rules and ("d", "categories") in rules, rules
PY

# a prep spec with an anchored source and an aliased step setting
printf 'a,b,c\n1,x,5\n2,y,-1\n3,zz,4\n' > src.csv
cat > spec_alias.yaml <<'YAML'
sources:
  main: &src {file: src.csv}
  copy: *src
frame: {from: main, union: [copy]}
steps:
  - standard_scaler: &cols {columns: [a, c]}
  - minmax_scaler:
      <<: *cols
output: out_alias.csv
YAML
cat > spec_expanded.yaml <<'YAML'
sources:
  main: {file: src.csv}
  copy: {file: src.csv}
frame: {from: main, union: [copy]}
steps:
  - standard_scaler: {columns: [a, c]}
  - minmax_scaler: {columns: [a, c]}
output: out_expanded.csv
YAML
"$KILN" -q prep spec_alias.yaml > /dev/null 2>&1 || fail "prep with the aliased spec failed"
"$KILN" -q prep spec_expanded.yaml > /dev/null 2>&1 || fail "prep with the expanded spec failed"
cmp -s out_alias.csv out_expanded.csv || fail "aliased spec wrote $(cat out_alias.csv)"
[ "$(wc -l < out_alias.csv)" = 7 ] || fail "the union of the aliased sources is missing"

# an undefined alias, a cycle and a second document fail with file:line:column
printf 'version: 1\ncolumns:\n  - {name: a, type: numeric, min: *nowhere}\n' > undefined.yaml
rc=0; "$KILN" validate d.csv --schema undefined.yaml 2> err.txt || rc=$?
[ "$rc" = 3 ] || fail "undefined alias exited $rc"
grep -q "undefined.yaml:3:35: alias \*nowhere has no anchor &nowhere" err.txt || fail "$(cat err.txt)"
printf 'version: 1\ncolumns: &c\n  - {name: a, type: numeric, x: *c}\n' > cycle.yaml
rc=0; "$KILN" validate d.csv --schema cycle.yaml 2> err.txt || rc=$?
[ "$rc" = 3 ] && grep -q "cycle.yaml:3:33: alias \*c is inside the node" err.txt || fail "$(cat err.txt)"
printf 'sources: {main: {file: src.csv}}\noutput: o.csv\n---\nsources: {}\n' > two.yaml
rc=0; "$KILN" prep two.yaml 2> err.txt || rc=$?
[ "$rc" != 0 ] && grep -q "two.yaml:3:1: a second YAML document" err.txt || fail "$(cat err.txt)"

# ---- 2, 3. schema infer: levels of every text column, open columns named, --json ----
$py - <<'PY'
import random
random.seed(7)
with open("levels.csv", "w") as f:
    f.write("id,code,comment,x\n")
    for i in range(500):
        f.write(f"ID{i:05d},C{i % 51:02d},note {random.random():.12f},{i % 7}\n")
PY
"$KILN" schema infer levels.csv -o levels.yaml 2> infer.txt
grep -q "categories: \['C00', 'C01'" levels.yaml || fail "the 51-level column has no categories"
[ "$(grep -o "'C[0-9]*'" levels.yaml | sort -u | wc -l)" = 51 ] || fail "not 51 levels"
grep -q "# free text / identifier: 500 distinct of 500 values" levels.yaml || fail "no comment"
grep -q "column 'id' has no category rule: free text / identifier" infer.txt || fail "$(cat infer.txt)"
grep -q "column 'comment' has no category rule" infer.txt || fail "$(cat infer.txt)"
grep -q "column 'code'" infer.txt && fail "code reported as unconstrained"
"$KILN" validate levels.csv --schema levels.yaml > /dev/null || fail "levels.csv fails its own schema"
sed 's/^ID00007,C07,/ID00007,C99,/' levels.csv > bad_code.csv
rc=0; "$KILN" validate bad_code.csv --schema levels.yaml > bad_code.txt || rc=$?
[ "$rc" = 1 ] || fail "an invalid code passed validation (exit $rc)"
grep -q "code .*categories .*1 row .*(row 8)" bad_code.txt || fail "$(cat bad_code.txt)"
"$KILN" --json schema infer levels.csv -o levels2.yaml > infer.json 2> /dev/null
$py - infer.json levels.yaml levels2.yaml <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["command"] == "schema infer" and d["rows"] == 500, d
cols = {c["name"]: c for c in d["schema"]["columns"]}
assert len(cols["code"]["categories"]) == 51 and "categories" not in cols["id"], cols
assert cols["id"]["unique"] is True
open_cols = {u["column"]: u["reason"] for u in d["unconstrained"]}
assert set(open_cols) == {"id", "comment"}, open_cols
assert "500 distinct of 500 values" in open_cols["id"]
assert open(sys.argv[2]).read().split("\n", 1)[1] == open(sys.argv[3]).read().split("\n", 1)[1]
PY
"$KILN" --json schema infer levels.csv 2> /dev/null | $py -c 'import json, sys; json.load(sys.stdin)' ||
    fail "schema infer --json without -o is not JSON"

# ---- 4. long option values: 70 columns, --types over 2 KB ----
$py - <<'PY'
names = [f"measurement_from_sensor_number_{j:02d}_in_plant_seven" for j in range(70)]
with open("wide.csv", "w") as f:
    f.write(",".join(names) + "\n")
    for i in range(30):
        f.write(",".join(f"{(i * 7 + j) % 13:05d}" for j in range(70)) + "\n")
with open("wide_num.csv", "w") as f:  # numbers (leading zeros make codes text)
    f.write(",".join(names) + "\n")
    for i in range(30):
        f.write(",".join(f"{(i * 7 + j) % 13}" for j in range(70)) + "\n")
with open("types.txt", "w") as f:
    f.write(",".join(f"{n}:categorical" for n in names))
with open("scale.txt", "w") as f:
    f.write("standard_scaler:columns=" + ",".join(names[:60]))
with open("wide_schema.yaml", "w") as f:
    f.write("version: 1\ncolumns:\n")
    for n in names:
        f.write(f"  - {{name: {n}, type: categorical}}\n")
PY
[ "$(wc -c < types.txt)" -gt 2048 ] || fail "--types is not over 2 KB"
"$KILN" --json describe wide.csv --types "$(cat types.txt)" > wide.json ||
    fail "describe with a long --types failed"
$py - wide.json <<'PY'
import json, sys
cols = json.load(open(sys.argv[1]))["profile"]["column_profiles"]
assert len(cols) == 70 and all(c["type"] == "categorical" for c in cols), [c["type"] for c in cols]
assert cols[0]["top"][0]["value"].startswith("000"), cols[0]["top"]  # leading zeros kept
PY
"$KILN" -q prep wide_num.csv wide_scaled.csv --step "$(cat scale.txt)" > /dev/null 2>&1 ||
    fail "a step with 60 columns (over 2 KB of columns=) failed"
# a 70-column schema declares its types to the reader whole: codes stay text
"$KILN" validate wide.csv --schema wide_schema.yaml > wide.txt 2>&1 ||
    fail "the 70-column schema's types were not all declared: $(cat wide.txt)"

# ---- 5. describe's table: escaped, cut with an ellipsis, aligned; infinities flagged ----
$py - <<'PY'
import csv
with open("odd.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["a_column_name_much_longer_than_the_table_allows_for_names", "v", "tab\tname"])
    vals = ["two\nlines", "plain", "é" * 40, "a\tb", "plain", "z"]
    nums = ["inf", "1", "-inf", "2", "inf", "3"]
    for i in range(6):
        w.writerow([vals[i], nums[i], i])
PY
"$KILN" describe odd.csv > odd.txt
$py - odd.txt <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
head = next(i for i, l in enumerate(lines) if l.startswith("column "))
table = lines[head:head + 4]
# one line per column (the newline in a value did not break a row) and the
# type column starts at the same character on every row
starts = [l.index(t) for l, t in zip(table[1:], ["categorical", "numeric", "numeric"])]
assert len(set(starts)) == 1 and starts[0] == table[0].index("type"), table
assert table[1].startswith("a_column_name_much_long\u2026 "), table[1]
assert "two\\nlines" in table[1] and "\u00e9" * 19 + "\u2026" in table[1], table[1]
assert table[3].startswith("tab\\tname "), table[3]
assert "[3 inf]" in table[2], table[2]
text = "\n".join(lines)
assert "column 'v' has 3 infinite values" in text, text
PY
"$KILN" --json describe odd.csv > odd.json
$py - odd.json <<'PY'
import json, sys
cols = json.load(open(sys.argv[1]))["profile"]["column_profiles"]
assert cols[0]["name"] == "a_column_name_much_longer_than_the_table_allows_for_names"
tops = {t["value"] for t in cols[0]["top"]}
assert "two\nlines" in tops and "\u00e9" * 40 in tops and "a\tb" in tops, tops
assert cols[1]["infinite"] == 3 and cols[2]["name"] == "tab\tname", cols[1]
PY

# ---- 6. validate's exit codes: 0 clean, 1 violations, 2 usage, 3 unreadable ----
"$KILN" help validate > help.txt
grep -q "1  a rule failed" help.txt && grep -q "2  usage error" help.txt &&
    grep -q "3  DATA or the schema cannot be used" help.txt || fail "help: $(cat help.txt)"
"$KILN" validate levels.csv --schema levels.yaml > /dev/null || fail "clean data did not exit 0"
code() { local rc=0; "$KILN" "$@" > /dev/null 2>&1 || rc=$?; echo "$rc"; }
[ "$(code validate bad_code.csv --schema levels.yaml)" = 1 ] || fail "violations: not 1"
[ "$(code validate levels.csv --schema levels.yaml --colour red)" = 2 ] || fail "unknown option: not 2"
[ "$(code validate levels.csv --schema levels.yaml --on-violation maybe)" = 2 ] || fail "bad value: not 2"
[ "$(code validate levels.csv)" = 2 ] || fail "missing --schema: not 2"
[ "$(code validate no_such.csv --schema levels.yaml)" = 3 ] || fail "missing data: not 3"
[ "$(code validate levels.csv --schema no_such.yaml)" = 3 ] || fail "missing schema: not 3"
printf 'columns:\n  - {name: a, type: numeric, colour: red}\n' > bad_schema.yaml
[ "$(code validate levels.csv --schema bad_schema.yaml)" = 3 ] || fail "bad schema: not 3"
printf 'id,code,comment,x\nID1,C01,"unterminated,1\n' > broken.csv
[ "$(code validate broken.csv --schema levels.yaml)" = 3 ] || fail "malformed data: not 3"
echo "ok"
