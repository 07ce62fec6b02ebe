#!/bin/bash
# Two messages that named nothing useful: a BLOB cell of a SQLite source
# showed as '' ("column 'z', row 5: '' is not a number"); `kiln select`
# printed "select: select: k=5 is more than the 3 candidate columns" without
# saying that the text columns are not candidates.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
KILN=${KILN:?set KILN to the kiln binary}
D="$(cd "$(dirname "$0")/../data" && pwd)"
cd "$W"
$py - <<'PY'
import sqlite3
db = sqlite3.connect("sq.db")
db.execute("CREATE TABLE t (x REAL, z REAL, note TEXT)")
rows = [(1.0, 2.0, "a"), (2.0, 3.5, "b"), (3.0, 1.0, "c"), (4.0, 0.5, "d")]
db.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
db.execute("INSERT INTO t VALUES (5.0, ?, 'e')", (bytes([0, 1, 2, 255]),))
db.execute("INSERT INTO t VALUES (6.0, 1.5, ?)", (b"plain text",))
db.commit()
PY
cat > sq.yaml <<'YAML'
sources:
  t:
    sqlite: SELECT * FROM t
    path: sq.db
output: sq.csv
YAML
if "$KILN" -q prep sq.yaml 2> sq.err; then fail "a BLOB in a REAL column was read"; fi
grep -q "column 'z', row 5: a BLOB of 4 bytes (x'000102ff'), binary data, not a value Kiln reads; convert it in the query (hex(z), CAST(z AS TEXT))" sq.err ||
    { cat sq.err; fail "the BLOB message"; }
# a BLOB of UTF-8 text in a text column reads as that text
sed -i 's/SELECT \* FROM t/SELECT x, note FROM t/' sq.yaml
"$KILN" -q prep sq.yaml 2> sq2.err || { cat sq2.err; fail "a text BLOB"; }
grep -q '^6,plain text$' sq.csv || { cat sq.csv; fail "the text BLOB's value"; }
# kiln select: one prefix, and the text columns named as not candidates
if "$KILN" select --data "$D/cps1985.csv" --target wage --method f_test --k 5 > s.out 2> s.err; then
    fail "k=5 of 3 candidates was taken"
fi
grep -q "^kiln: error: select: k=5 is more than the 3 candidate columns: give k=3 or less; 7 other features (first: 'ethnicity') are not candidates (by default the numeric features: encode text columns first" s.err ||
    { cat s.err; fail "the select message"; }
! grep -q "select: select:" s.err || fail "the prefix is doubled"
echo "ok"
