#!/bin/bash
# Identifiers stay exact: integers beyond 2^53 (int64 columns), 19-digit IDs,
# codes with leading zeros and integers beyond int64 (text) come out of every
# reader and writer byte for byte (CSV, .kfr, JSON Lines, ARFF, a SQLite file
# made here with python3's sqlite3), and dedupe and joins on such keys are
# exact: 9007199254740992 and 9007199254740993 are two keys, not one.
set -euo pipefail
KILN=${KILN:?path to the kiln binary}
. "$(dirname "$0")/lib.sh"
cd "$W"

cat > ids.csv <<'CSV'
id,code,big,amount
9007199254740993,00123,123456789012345678901234,1.5
9007199254740992,0123,98765432109876543210,2
1234567890123456789,0,1,3
-9223372036854775807,007,2,4
12,12,3,5
9007199254740994,,,
CSV

# CSV -> CSV, CSV -> .kfr -> CSV, CSV -> JSONL -> CSV, CSV -> ARFF -> CSV: the same bytes
"$KILN" -q convert ids.csv same.csv
cmp ids.csv same.csv || fail "CSV round trip: $(cat same.csv)"
for fmt in kfr jsonl arff; do
    "$KILN" -q convert ids.csv "ids.$fmt"
    "$KILN" -q convert "ids.$fmt" "back-$fmt.csv"
    cmp ids.csv "back-$fmt.csv" || fail "$fmt round trip: $(cat "back-$fmt.csv")"
done
"$KILN" describe ids.csv --json > d.json
$py - <<'PY'
import json
d = json.load(open("d.json"))
cols = {c["name"]: c for c in d["profile"]["column_profiles"]}
assert cols["id"]["type"] == "int64", cols["id"]
assert cols["id"]["distinct"] == 6, cols["id"]
assert cols["id"]["max"] == 1234567890123456789 and cols["id"]["min"] == -9223372036854775807, cols["id"]
assert cols["code"]["type"] == "categorical" and cols["big"]["type"] == "categorical", cols
assert cols["amount"]["type"] == "numeric", cols["amount"]
PY
# the JSONL text itself: IDs as JSON integers, codes as strings
grep -qx '{"id":9007199254740993,"code":"00123","big":"123456789012345678901234","amount":1.5}' ids.jsonl ||
    fail "JSONL text: $(head -1 ids.jsonl)"

# JSON Lines and ARFF written by hand (not by kiln) read exactly
cat > hand.jsonl <<'JSON'
{"id": 9007199254740993, "code": "00123", "n": 1}
{"id": 9007199254740992, "code": "0123", "n": 2}
{"id": 1234567890123456789, "code": "7", "n": 3}
JSON
"$KILN" -q convert hand.jsonl hand.csv
printf 'id,code,n\n9007199254740993,00123,1\n9007199254740992,0123,2\n1234567890123456789,7,3\n' > want.csv
cmp want.csv hand.csv || fail "JSONL reader: $(cat hand.csv)"
cat > hand.arff <<'ARFF'
@relation ids
@attribute id integer
@attribute code numeric
@attribute x real
@data
9007199254740993,00123,1.5
9007199254740992,0123,2
1234567890123456789,5,3
ARFF
"$KILN" -q convert hand.arff harff.csv
printf 'id,code,x\n9007199254740993,00123,1.5\n9007199254740992,0123,2\n1234567890123456789,5,3\n' > want.csv
cmp want.csv harff.csv || fail "ARFF reader: $(cat harff.csv)"

# a real SQLite file: INTEGER IDs beyond 2^53, TEXT codes with leading zeros
$py - <<'PY'
import sqlite3
db = sqlite3.connect("ids.db")
db.execute("CREATE TABLE customers (id INTEGER, code TEXT, credit REAL)")
db.executemany("INSERT INTO customers VALUES (?, ?, ?)", [
    (12, "00123", 1.5), (9007199254740992, "0123", 2.0), (9007199254740993, "123", 2.5),
    (1234567890123456789, "007", None), (-9223372036854775807, "7", 4.0)])
db.commit()
PY
cat > sql.yaml <<'YAML'
sources:
  customers:
    sqlite: SELECT * FROM customers
    path: ids.db
output: sql.csv
YAML
"$KILN" -q prep sql.yaml
cat > want.csv <<'CSV'
id,code,credit
12,00123,1.5
9007199254740992,0123,2
9007199254740993,123,2.5
1234567890123456789,007,
-9223372036854775807,7,4
CSV
cmp want.csv sql.csv || fail "SQLite source: $(cat sql.csv)"

# dedupe by such keys keeps distinct IDs: only the real duplicate goes
cat > dup.csv <<'CSV'
id,v
9007199254740992,a
9007199254740993,b
9007199254740993,c
9007199254740994,d
CSV
"$KILN" --json prep dup.csv dedup.csv --dedupe > dd.json
printf 'id,v\n9007199254740992,a\n9007199254740993,b\n9007199254740993,c\n9007199254740994,d\n' > want.csv
cmp want.csv dedup.csv || fail "dedupe on all columns: $(cat dedup.csv)"
cat > dd.yaml <<'YAML'
sources:
  rows:
    file: dup.csv
dedupe: {keys: [id]}
output: dd-key.csv
YAML
"$KILN" -q prep dd.yaml
printf 'id,v\n9007199254740992,a\n9007199254740993,b\n9007199254740994,d\n' > want.csv
cmp want.csv dd-key.csv || fail "dedupe by id: $(cat dd-key.csv)"
# codes: 00123, 0123 and 123 are three codes
printf 'code,v\n00123,a\n0123,b\n123,c\n00123,d\n' > codes.csv
cat > dc.yaml <<'YAML'
sources:
  rows:
    file: codes.csv
dedupe: {keys: [code]}
output: dc.csv
YAML
"$KILN" -q prep dc.yaml
printf 'code,v\n00123,a\n0123,b\n123,c\n' > want.csv
cmp want.csv dc.csv || fail "dedupe by code: $(cat dc.csv)"

# joins: orders (CSV) with customers (SQLite) on the ID; no fan-out, no false match
cat > orders.csv <<'CSV'
order,customer
1,9007199254740993
2,9007199254740992
3,1234567890123456789
4,1234567890123456788
CSV
cat > join.yaml <<'YAML'
sources:
  customers:
    sqlite: SELECT id, code FROM customers
    path: ids.db
  orders:
    file: orders.csv
frame:
  from: orders
  join:
    - {with: customers, on: [customer], right_on: [id], how: left}
output: joined.csv
YAML
"$KILN" -q prep join.yaml
cat > want.csv <<'CSV'
order,customer,code
1,9007199254740993,123
2,9007199254740992,0123
3,1234567890123456789,007
4,1234567890123456788,
CSV
cmp want.csv joined.csv || fail "join on IDs: $(cat joined.csv)"
echo OK
